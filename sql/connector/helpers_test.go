package connector_test

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// parseType parses the few type spellings the tests use.
func parseType(s string) (row.Type, error) {
	s = strings.TrimSpace(s)
	up := strings.ToUpper(s)
	if strings.HasSuffix(up, " NOT NULL") {
		t, err := parseType(s[:len(s)-len(" NOT NULL")])
		return t.NotNull(), err
	}
	args := func(prefix string) []int {
		in := strings.TrimSuffix(strings.TrimPrefix(up, prefix+"("), ")")
		var out []int
		for _, p := range strings.Split(in, ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(p))
			out = append(out, n)
		}
		return out
	}
	switch {
	case strings.HasPrefix(up, "ARRAY<"):
		e, err := parseType(s[6 : len(s)-1])
		return row.ArrayType(e), err
	case strings.HasPrefix(up, "MULTISET<"):
		e, err := parseType(s[9 : len(s)-1])
		return row.MultisetType(e), err
	case strings.HasPrefix(up, "MAP<"):
		kv := splitTop(s[4 : len(s)-1])
		kt, err := parseType(kv[0])
		if err != nil {
			return row.Type{}, err
		}
		vt, err := parseType(kv[1])
		return row.MapType(kt, vt), err
	case strings.HasPrefix(up, "ROW<"):
		var fs []row.Field
		for _, f := range splitTop(s[4 : len(s)-1]) {
			n, ft, _ := strings.Cut(strings.TrimSpace(f), " ")
			t, err := parseType(ft)
			if err != nil {
				return row.Type{}, err
			}
			fs = append(fs, row.Field{Name: n, Type: t})
		}
		return row.Type{Root: row.TypeRow, Nullable: true, Fields: fs}, nil
	case strings.HasPrefix(up, "DECIMAL("):
		a := args("DECIMAL")
		return row.DecimalType(a[0], a[1]), nil
	case strings.HasPrefix(up, "TIMESTAMP_LTZ("):
		return row.TimestampLTZType(args("TIMESTAMP_LTZ")[0]), nil
	case strings.HasPrefix(up, "TIMESTAMP("):
		return row.TimestampType(args("TIMESTAMP")[0]), nil
	case strings.HasPrefix(up, "VARCHAR("):
		return row.VarChar(args("VARCHAR")[0]), nil
	case strings.HasPrefix(up, "CHAR("):
		return row.Char(args("CHAR")[0]), nil
	}
	switch up {
	case "BOOLEAN":
		return row.Boolean(), nil
	case "TINYINT":
		return row.TinyInt(), nil
	case "SMALLINT":
		return row.SmallInt(), nil
	case "INT":
		return row.IntType(), nil
	case "BIGINT":
		return row.BigInt(), nil
	case "FLOAT":
		return row.FloatType(), nil
	case "DOUBLE":
		return row.Double(), nil
	case "STRING":
		return row.String(), nil
	case "BYTES":
		return row.BytesType(), nil
	case "DATE":
		return row.DateType(), nil
	case "TIME":
		return row.TimeType(0), nil
	case "TIMESTAMP":
		return row.TimestampType(6), nil
	}
	return row.Type{}, fmt.Errorf("unknown type %q", s)
}

// splitTop splits s at the commas outside <> and ().
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseTable reads a table from test input: "name TYPE" column lines,
// "metadata name TYPE key" lines, and 'key' = 'value' option lines.
func parseTable(name, input string) (connector.Context, error) {
	ctx := connector.Context{Table: name, Options: map[string]string{}}
	for _, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "'") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return ctx, fmt.Errorf("bad option line %q", line)
			}
			ctx.Options[strings.Trim(strings.TrimSpace(k), "'")] = strings.Trim(strings.TrimSpace(v), "'")
			continue
		}
		if rest, ok := strings.CutPrefix(line, "metadata "); ok {
			f := strings.Fields(rest)
			t, err := parseType(f[1])
			if err != nil {
				return ctx, err
			}
			ctx.Metadata = append(ctx.Metadata, connector.MetadataColumn{Name: f[0], Type: t, Key: f[2]})
			continue
		}
		n, t, _ := strings.Cut(line, " ")
		typ, err := parseType(t)
		if err != nil {
			return ctx, err
		}
		ctx.Schema.Columns = append(ctx.Schema.Columns, row.Col(n, typ))
	}
	return ctx, nil
}
