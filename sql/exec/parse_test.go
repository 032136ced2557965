package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/row"
)

// splitTop splits s at the commas outside parentheses and brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" || len(out) > 0 {
		out = append(out, rest)
	}
	return out
}

// parseType parses the few type names the scripts use.
func parseType(s string) (row.Type, error) {
	s = strings.TrimSpace(s)
	notNull := false
	if strings.HasSuffix(s, " NOT NULL") {
		notNull, s = true, strings.TrimSuffix(s, " NOT NULL")
	}
	var t row.Type
	args := func() []int {
		i := strings.IndexByte(s, '(')
		var out []int
		for _, p := range splitTop(s[i+1 : len(s)-1]) {
			n, _ := strconv.Atoi(p)
			out = append(out, n)
		}
		return out
	}
	switch {
	case s == "BOOLEAN":
		t = row.Boolean()
	case s == "TINYINT":
		t = row.TinyInt()
	case s == "SMALLINT":
		t = row.SmallInt()
	case s == "INT":
		t = row.IntType()
	case s == "BIGINT":
		t = row.BigInt()
	case s == "FLOAT":
		t = row.FloatType()
	case s == "DOUBLE":
		t = row.Double()
	case s == "STRING":
		t = row.String()
	case strings.HasPrefix(s, "DECIMAL("):
		a := args()
		t = row.DecimalType(a[0], a[1])
	case strings.HasPrefix(s, "TIMESTAMP_LTZ("):
		t = row.TimestampLTZType(args()[0])
	case strings.HasPrefix(s, "TIMESTAMP("):
		t = row.TimestampType(args()[0])
	default:
		return row.Type{}, fmt.Errorf("unknown type %q", s)
	}
	if notNull {
		t = t.NotNull()
	}
	return t, nil
}

func parseTypes(s string) ([]row.Type, error) {
	var out []row.Type
	for _, p := range splitTop(s) {
		t, err := parseType(p)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// parseTime parses "2020-04-15 08:05[:00[.000]]" (UTC) or milliseconds.
func parseTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("bad time %q", s)
}

func parseValue(s string, t row.Type) (row.Value, error) {
	if s == "NULL" {
		return row.Null(), nil
	}
	switch t.Root {
	case row.TypeBoolean:
		return row.Bool(strings.EqualFold(s, "true")), nil
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		n, err := strconv.ParseInt(s, 10, 64)
		return row.Int(n), err
	case row.TypeFloat, row.TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		return row.Float(f), err
	case row.TypeDecimal:
		return row.ParseDecimal(s, t)
	case row.TypeVarChar, row.TypeChar:
		return row.Str(s), nil
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		ms, err := parseTime(s)
		return row.Timestamp(ms, 0), err
	}
	return row.Value{}, fmt.Errorf("cannot parse %v", t)
}

// parseRow parses "+I[a, 1, NULL]" into a row of the given types.
func parseRow(s string, types []row.Type) (row.Row, error) {
	s = strings.TrimSpace(s)
	if len(s) < 4 || s[2] != '[' || s[len(s)-1] != ']' {
		return row.Row{}, fmt.Errorf("bad row %q", s)
	}
	k, err := row.ParseKind(s[:2])
	if err != nil {
		return row.Row{}, err
	}
	parts := splitTop(s[3 : len(s)-1])
	if len(parts) != len(types) {
		return row.Row{}, fmt.Errorf("row %q has %d fields, want %d", s, len(parts), len(types))
	}
	r := row.Row{Kind: k, Fields: make([]row.Value, len(parts))}
	for i, p := range parts {
		if r.Fields[i], err = parseValue(p, types[i]); err != nil {
			return row.Row{}, fmt.Errorf("row %q field %d: %w", s, i, err)
		}
	}
	return r, nil
}

// parseAgg parses "SUM(DISTINCT $1) FILTER $3", "COUNT(*)", "LISTAGG($2, $3)".
func parseAgg(s string) (AggCall, error) {
	s = strings.TrimSpace(s)
	c := AggCall{Filter: NoFilter}
	if i := strings.Index(s, " FILTER $"); i >= 0 {
		n, err := strconv.Atoi(s[i+len(" FILTER $"):])
		if err != nil {
			return c, err
		}
		c.Filter, s = n, s[:i]
	}
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return c, fmt.Errorf("bad aggregate %q", s)
	}
	name, inner := s[:open], strings.TrimSpace(s[open+1:len(s)-1])
	if strings.HasPrefix(inner, "DISTINCT ") {
		c.Distinct, inner = true, strings.TrimPrefix(inner, "DISTINCT ")
	}
	if inner != "*" && inner != "" {
		for _, a := range splitTop(inner) {
			n, err := strconv.Atoi(strings.TrimPrefix(a, "$"))
			if err != nil {
				return c, fmt.Errorf("bad argument %q", a)
			}
			c.Args = append(c.Args, n)
		}
	}
	if u := testUDAF(name); u != nil {
		c.Func, c.UDF, c.UDFName = UserDefined, u, name
		return c, nil
	}
	f, err := ParseFunc(name, len(c.Args))
	if err != nil {
		return c, err
	}
	c.Func = f
	return c, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitTop(s) {
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(p, "$"))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseWindow parses "TUMBLE 10m", "TUMBLE 10m OFFSET 1m", "HOP 5m 10m",
// "CUMULATE 2m 10m", "SESSION 5m".
func parseWindow(s string) (Window, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return Window{}, fmt.Errorf("bad window %q", s)
	}
	var ds []time.Duration
	var off time.Duration
	for i := 1; i < len(f); i++ {
		if f[i] == "OFFSET" && i+1 < len(f) {
			d, err := time.ParseDuration(f[i+1])
			if err != nil {
				return Window{}, err
			}
			off = d
			break
		}
		d, err := time.ParseDuration(f[i])
		if err != nil {
			return Window{}, err
		}
		ds = append(ds, d)
	}
	var w Window
	switch {
	case f[0] == "TUMBLE" && len(ds) == 1:
		w = Tumble(ds[0])
	case f[0] == "HOP" && len(ds) == 2:
		w = Hop(ds[0], ds[1])
	case f[0] == "CUMULATE" && len(ds) == 2:
		w = Cumulate(ds[0], ds[1])
	case f[0] == "SESSION" && len(ds) == 1:
		w = Session(ds[0])
	default:
		return Window{}, fmt.Errorf("bad window %q", s)
	}
	return w.WithOffset(off), nil
}
