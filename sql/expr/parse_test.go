package expr

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// A tiny RexNode-style reader for tests: "+($0, 1)", "CAST($3 AS INT)",
// "IS NULL($4)", "EXTRACT(YEAR, $6)", "CASE(=($0, 1), 'a', 'b')",
// literals 1, 1.5, 1e3, 'x', NULL, TRUE, DATE '...', TIME '...',
// TIMESTAMP '...', INTERVAL '1' DAY, X'00ff'; a bare word is a Symbol.

type testParser struct {
	s    string
	i    int
	cols []row.Type
}

func parseTestExpr(s string, cols []row.Type) (Expr, error) {
	p := &testParser{s: s, cols: cols}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("trailing text %q", p.s[p.i:])
	}
	return e, nil
}

func (p *testParser) ws() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *testParser) peek(t string) bool {
	p.ws()
	return strings.HasPrefix(p.s[p.i:], t)
}

func (p *testParser) eat(t string) error {
	if !p.peek(t) {
		return fmt.Errorf("expected %q at %q", t, p.s[p.i:])
	}
	p.i += len(t)
	return nil
}

func (p *testParser) quoted() (string, error) {
	if err := p.eat("'"); err != nil {
		return "", err
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == '\'' {
			if p.i < len(p.s) && p.s[p.i] == '\'' {
				b.WriteByte('\'')
				p.i++
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
	return "", fmt.Errorf("unterminated string")
}

func (p *testParser) word() string {
	p.ws()
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || (p.s[j] >= 'A' && p.s[j] <= 'Z') || (p.s[j] >= 'a' && p.s[j] <= 'z') || (p.s[j] >= '0' && p.s[j] <= '9')) {
		j++
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

func (p *testParser) args() ([]Expr, error) {
	if err := p.eat("("); err != nil {
		return nil, err
	}
	var out []Expr
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unterminated argument list")
	}
	if p.peek(")") {
		p.i++
		return out, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.peek(")") {
			p.i++
			return out, nil
		}
		if err := p.eat(","); err != nil {
			return nil, err
		}
	}
}

func (p *testParser) expr() (Expr, error) {
	p.ws()
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "$"):
		p.i++
		w := p.word()
		n, err := strconv.Atoi(w)
		if err != nil || n >= len(p.cols) {
			return nil, fmt.Errorf("bad column $%s", w)
		}
		return Ref(n, p.cols[n]), nil
	case strings.HasPrefix(rest, "'"):
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return StringLiteral(s), nil
	case strings.HasPrefix(rest, "X'"):
		p.i++
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		b := make([]byte, len(s)/2)
		for k := range b {
			v, _ := strconv.ParseUint(s[2*k:2*k+2], 16, 8)
			b[k] = byte(v)
		}
		return BinaryLiteral(b), nil
	case len(rest) > 0 && (rest[0] >= '0' && rest[0] <= '9' || (rest[0] == '-' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9')):
		j := p.i + 1
		for j < len(p.s) && strings.ContainsRune("0123456789.eE-", rune(p.s[j])) {
			if p.s[j] == '-' && p.s[j-1] != 'e' && p.s[j-1] != 'E' {
				break
			}
			j++
		}
		text := p.s[p.i:j]
		p.i = j
		if strings.HasPrefix(text, "-") {
			// A negative literal: unary minus over the literal, folded.
			l, err := NumericLiteral(text[1:])
			if err != nil {
				return nil, err
			}
			e, err := NewCall("-", l)
			if err != nil {
				return nil, err
			}
			return Fold(e)
		}
		return NumericLiteral(text)
	}
	// A name: an operator or words up to '(' or a delimiter.
	j := p.i
	for j < len(p.s) && !strings.ContainsRune("(),'", rune(p.s[j])) {
		j++
	}
	name := strings.TrimSpace(p.s[p.i:j])
	if first, _, multi := strings.Cut(name, " "); multi && first != "IS" && first != "NOT" && first != "SIMILAR" {
		name = "" // not an operator name: a literal keyword follows
	}
	if j < len(p.s) && p.s[j] == '(' && name != "" {
		p.i = j
		up := strings.ToUpper(name)
		if up == "CAST" || up == "TRY_CAST" {
			p.eat("(")
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			// AS <type up to the matching ')'>
			if err := p.eat("AS"); err != nil {
				return nil, err
			}
			depth, k := 0, p.i
			for ; k < len(p.s); k++ {
				if p.s[k] == '(' || p.s[k] == '<' {
					depth++
				}
				if p.s[k] == '>' {
					depth--
				}
				if p.s[k] == ')' {
					if depth == 0 {
						break
					}
					depth--
				}
			}
			if k >= len(p.s) {
				return nil, fmt.Errorf("unterminated CAST")
			}
			t, err := parseTestType(strings.TrimSpace(p.s[p.i:k]))
			if err != nil {
				return nil, err
			}
			p.i = k + 1
			if up == "CAST" {
				return NewCast(e, t)
			}
			return NewTryCast(e, t)
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		if up == "CASE" {
			var ws, ts []Expr
			for k := 0; k+1 < len(args); k += 2 {
				ws, ts = append(ws, args[k]), append(ts, args[k+1])
			}
			var el Expr
			if len(args)%2 == 1 {
				el = args[len(args)-1]
			}
			return NewCase(ws, ts, el)
		}
		return NewCall(name, args...)
	}
	w := p.word()
	switch strings.ToUpper(w) {
	case "NULL":
		return NullLit(), nil
	case "TRUE":
		return BoolLiteral(true), nil
	case "FALSE":
		return BoolLiteral(false), nil
	case "DATE", "TIME", "TIMESTAMP":
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(w) {
		case "DATE":
			return ParseDate(s)
		case "TIME":
			return ParseTime(s)
		}
		return ParseTimestamp(s)
	case "INTERVAL":
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		k := p.i
		for k < len(p.s) && p.s[k] != ',' && p.s[k] != ')' && !strings.HasPrefix(p.s[k:], " AS ") {
			k++
		}
		q := p.s[p.i:k]
		p.i = k
		return ParseInterval(s, q)
	case "":
		return nil, fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	return Sym(w), nil
}

// parseTestType reads a Flink type name.
func parseTestType(s string) (row.Type, error) {
	s = strings.TrimSpace(s)
	notNull := false
	if strings.HasSuffix(s, " NOT NULL") {
		notNull, s = true, strings.TrimSuffix(s, " NOT NULL")
	}
	switch s {
	case "INTERVAL DAY(2) TO SECOND(3)":
		return row.IntervalDayTime().WithNullable(!notNull), nil
	case "INTERVAL YEAR(2) TO MONTH":
		return row.IntervalYearMonth().WithNullable(!notNull), nil
	}
	name, argText, hasArgs := strings.Cut(s, "(")
	var nums []int
	if hasArgs {
		for _, a := range strings.Split(strings.TrimSuffix(argText, ")"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(a))
			if err != nil {
				return row.Type{}, fmt.Errorf("bad type %q", s)
			}
			nums = append(nums, n)
		}
	}
	arg := func(i, def int) int {
		if i < len(nums) {
			return nums[i]
		}
		return def
	}
	var t row.Type
	switch {
	case strings.HasPrefix(s, "ARRAY<"):
		e, err := parseTestType(strings.TrimSuffix(strings.TrimPrefix(s, "ARRAY<"), ">"))
		if err != nil {
			return row.Type{}, err
		}
		t = row.ArrayType(e)
	case strings.HasPrefix(s, "MAP<"):
		in := strings.TrimSuffix(strings.TrimPrefix(s, "MAP<"), ">")
		k, v, _ := strings.Cut(in, ",")
		kt, err1 := parseTestType(k)
		vt, err2 := parseTestType(v)
		if err1 != nil || err2 != nil {
			return row.Type{}, fmt.Errorf("bad type %q", s)
		}
		t = row.MapType(kt, vt)
	default:
		switch strings.TrimSpace(name) {
		case "BOOLEAN":
			t = row.Boolean()
		case "TINYINT":
			t = row.TinyInt()
		case "SMALLINT":
			t = row.SmallInt()
		case "INT", "INTEGER":
			t = row.IntType()
		case "BIGINT":
			t = row.BigInt()
		case "FLOAT":
			t = row.FloatType()
		case "DOUBLE":
			t = row.Double()
		case "DECIMAL":
			t = row.DecimalType(arg(0, 10), arg(1, 0))
		case "CHAR":
			t = row.Char(arg(0, 1))
		case "VARCHAR":
			t = row.VarChar(arg(0, 1))
		case "STRING":
			t = row.String()
		case "BINARY":
			t = row.Binary(arg(0, 1))
		case "VARBINARY":
			t = row.VarBinary(arg(0, 1))
		case "BYTES":
			t = row.BytesType()
		case "DATE":
			t = row.DateType()
		case "TIME":
			t = row.TimeType(arg(0, 0))
		case "TIMESTAMP":
			t = row.TimestampType(arg(0, 6))
		case "TIMESTAMP_LTZ":
			t = row.TimestampLTZType(arg(0, 6))
		default:
			return row.Type{}, fmt.Errorf("unknown type %q", s)
		}
	}
	if notNull {
		t = t.NotNull()
	}
	return t, nil
}

// The test input row.
func testInput(t testing.TB) ([]row.Type, []row.Value) {
	ts, err := ParseTimestamp("2021-09-24 12:34:56.123")
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := row.ParseDecimal("12.34", row.DecimalType(10, 2))
	date, _ := ParseDate("2021-09-24")
	cols := []struct {
		t row.Type
		v row.Value
	}{
		{row.IntType(), row.Int(42)},           // $0
		{row.BigInt(), row.Int(10000000000)},   // $1
		{row.Double(), row.Float(2.5)},         // $2
		{row.String(), row.Str("Hello World")}, // $3
		{row.IntType(), row.Null()},            // $4
		{row.String(), row.Null()},             // $5
		{row.TimestampType(3), ts.Value},       // $6
		{row.DecimalType(10, 2), dec},          // $7
		{row.Boolean(), row.Bool(true)},        // $8
		{row.Boolean(), row.Null()},            // $9
		{row.DateType(), date.Value},           // $10
		{row.TimestampLTZType(3), ts.Value},    // $11: 2021-09-24 12:34:56.123Z
		{row.ArrayType(row.IntType()), row.Array([]row.Value{row.Int(1), row.Int(2), row.Int(3)})},                                        // $12
		{row.MapType(row.String(), row.IntType()), row.Map([]row.Value{row.Str("a"), row.Str("b")}, []row.Value{row.Int(1), row.Int(2)})}, // $13
		{row.BytesType(), row.Bytes([]byte{0, 1})}, // $14
		{row.Double(), row.Null()},                 // $15
		{row.BigInt(), row.Null()},                 // $16
		{row.String(), row.Str(`{"a":{"b":[10,"x",true,null,{"c":1.5}]},"s":"str"}`)}, // $17
		{row.TimestampType(9), row.Timestamp(ts.Value.Millis(), 456789)},              // $18
		{row.String(), row.Str("2021-09-24 12:34:56")},                                // $19
	}
	types := make([]row.Type, len(cols))
	vals := make([]row.Value, len(cols))
	for i, c := range cols {
		types[i], vals[i] = c.t, c.v
	}
	return types, vals
}

// evalCase runs one test expression: the formatted result (with the
// session zone), the result type, or "ERROR: ..." for resolution or
// runtime errors.
func evalCase(t testing.TB, src string, loc *time.Location) (val, typ string) {
	types, vals := testInput(t)
	e, err := parseTestExpr(src, types)
	if err != nil {
		return "ERROR: " + err.Error(), ""
	}
	ctx := &EvalContext{Location: loc, Now: time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC)}
	v, err := Eval(ctx, e, vals)
	if err != nil {
		return "ERROR: " + err.Error(), e.Type().String()
	}
	if v.IsNull() && !e.Type().Nullable {
		t.Errorf("%s: NULL result of NOT NULL type %s", src, e.Type())
	}
	if loc == nil {
		loc = time.UTC
	}
	return row.FormatIn(v, e.Type(), loc), e.Type().String()
}
