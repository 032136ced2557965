package expr

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/weirstream/weir/row"
)

// typeFuncs holds TYPEOF and Flink's string tests IS_ALPHA, IS_DECIMAL
// and IS_DIGIT (FlinkSqlOperatorTable; documented by Confluent's Flink
// as conditional functions).
func typeFuncs() []*Func {
	return []*Func{
		{Name: "TYPEOF", Doc: "TYPEOF(input[, force_serializable]): the logical type of input as a string, Flink's LogicalType.asSummaryString (\"INT NOT NULL\", \"STRING\", \"TIMESTAMP(3) *ROWTIME*\"); with force_serializable TRUE (a BOOLEAN literal) its asSerializableString (\"VARCHAR(2147483647)\", \"TIMESTAMP(3) WITH LOCAL TIME ZONE\"), NULL for a type that has none (CHAR(0) of an empty literal). The value does not depend on input's value.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 1 || len(args) > 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				for _, a := range args {
					if _, ok := a.(*Symbol); ok {
						return nil, row.Type{}, cannotApply(f, args)
					}
				}
				if len(args) == 2 {
					l, ok := args[1].(*Literal)
					if !ok || l.T.Root != row.TypeBoolean {
						return nil, row.Type{}, fmt.Errorf("expr: TYPEOF: the second argument (force_serializable) must be a BOOLEAN literal, got %s", args[1].Type())
					}
				}
				// The input keeps its type: TYPEOF(NULL) is "NULL".
				return args, tString, nil
			},
			build: func(s *site) (Evaluator, error) {
				force := false
				if len(s.argExprs) == 2 {
					l := s.argExprs[1].(*Literal)
					force = !l.Value.IsNull() && l.Value.Bool()
				}
				var v row.Value
				if force {
					if str, ok := serializableTypeString(s.argTypes[0]); ok {
						v = row.Str(str)
					}
				} else {
					v = row.Str(s.argTypes[0].String())
				}
				return func(*EvalContext, []row.Value) (row.Value, error) { return v, nil }, nil
			}},
		stringTest("IS_ALPHA", "IS_ALPHA(x): TRUE if x is a non-empty character string whose characters are all letters (Java's Character.isLetter, per UTF-16 unit); FALSE otherwise, also for NULL and numbers.",
			func(row.Type) bool { return false }, isAlphaJava),
		stringTest("IS_DECIMAL", "IS_DECIMAL(x): TRUE if x is a number, or a non-empty character string Java's Long.parseLong or Double.parseDouble reads (\"-12\", \" 1.5e3 \", \"NaN\", \"1d\", \"0x1p4\"); FALSE otherwise, also for NULL.",
			func(row.Type) bool { return true }, func(s string) bool { return javaParsesLong(s) || javaParsesDouble(s) }),
		stringTest("IS_DIGIT", "IS_DIGIT(x): TRUE if x is a TINYINT, SMALLINT, INT or BIGINT, or a non-empty character string whose characters are all digits (Java's Character.isDigit, per UTF-16 unit: no sign, no point); FALSE otherwise, also for NULL and DECIMAL/FLOAT/DOUBLE.",
			func(t row.Type) bool { return t.IsInteger() }, isDigitJava),
	}
}

// stringTest builds one of Flink's IS_ALPHA/IS_DECIMAL/IS_DIGIT
// (SqlFunctionUtils): a character string or a number in, BOOLEAN NOT
// NULL out; NULL is FALSE. num tells the answer for a numeric type.
func stringTest(name, doc string, num func(row.Type) bool, str func(string) bool) *Func {
	return &Func{Name: name, Doc: doc,
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			out, err := checkArgs(f, args, 1, param{ok: func(t row.Type) bool { return t.IsString() || t.IsNumeric() }, def: tString})
			if err != nil {
				return nil, row.Type{}, err
			}
			return out, tBoolean.NotNull(), nil
		},
		build: func(s *site) (Evaluator, error) {
			a0, t := s.args[0], s.argTypes[0]
			if !t.IsString() {
				ans := row.Bool(num(t))
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := a0(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					if v.IsNull() {
						return row.Bool(false), nil
					}
					return ans, nil
				}, nil
			}
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := a0(ctx, in)
				if err != nil {
					return row.Value{}, err
				}
				if v.IsNull() {
					return row.Bool(false), nil
				}
				return row.Bool(str(v.Str())), nil
			}, nil
		}}
}

// isAlphaJava is commons-lang's StringUtils.isAlpha on a non-empty
// string: every UTF-16 unit a letter (a supplementary character's
// surrogates are not).
func isAlphaJava(s string) bool { return everyUTF16Unit(s, unicode.IsLetter) }

// isDigitJava is commons-lang's StringUtils.isNumeric on a non-empty
// string: every UTF-16 unit a decimal digit (Unicode Nd).
func isDigitJava(s string) bool { return everyUTF16Unit(s, unicode.IsDigit) }

// everyUTF16Unit reports whether s is not empty and every UTF-16 unit of
// it satisfies is, as Java's per-char tests see it: the surrogates of a
// character beyond U+FFFF are neither letters nor digits.
func everyUTF16Unit(s string, is func(rune) bool) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0xFFFF || !is(r) {
			return false
		}
	}
	return true
}

// javaParsesLong reports whether Java's Long.parseLong(s) succeeds: an
// optional sign, then at least one decimal digit (any Unicode Nd digit,
// as Character.digit reads them), within the range of a long.
func javaParsesLong(s string) bool {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return false
	}
	var n uint64
	const limit = 1 << 63 // |Long.MIN_VALUE|
	for _, r := range s {
		if r > 0xFFFF || !unicode.IsDigit(r) {
			return false
		}
		d := uint64(digitValue(r))
		if n > (limit-d)/10 {
			return false
		}
		n = n*10 + d
	}
	return neg || n < limit
}

// digitValue is the value of the Unicode decimal digit r: Nd digits come
// in runs of ten starting at a zero.
func digitValue(r rune) int {
	z := r
	for z > 0 && unicode.IsDigit(z-1) && r-z < 9 {
		z--
	}
	return int(r - z)
}

// javaParsesDouble reports whether Java's Double.parseDouble(s)
// succeeds (FloatingDecimal.readJavaFormatString): surrounding
// characters up to U+0020 trimmed, an optional sign, then "NaN",
// "Infinity", a hexadecimal "0x<hex>[.<hex>]p[sign]<digits>" or decimal
// digits with an optional point and exponent, and an optional f/F/d/D
// suffix on the numeric forms.
func javaParsesDouble(s string) bool {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "NaN" || s == "Infinity" {
		return true
	}
	if s == "" {
		return false
	}
	if c := s[len(s)-1]; c == 'f' || c == 'F' || c == 'd' || c == 'D' {
		s = s[:len(s)-1]
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return javaHexFloat(s[2:])
	}
	i, digits := 0, 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isASCIIDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		return javaExponent(s[i+1:])
	}
	return i == len(s)
}

// javaHexFloat checks the part of a hexadecimal float after "0x": hex
// digits with an optional point (at least one digit), then the
// mandatory binary exponent.
func javaHexFloat(s string) bool {
	i, digits := 0, 0
	for i < len(s) && isHexDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isHexDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 || i >= len(s) || (s[i] != 'p' && s[i] != 'P') {
		return false
	}
	return javaExponent(s[i+1:])
}

// javaExponent checks an exponent after its letter: an optional sign and
// at least one decimal digit, to the end.
func javaExponent(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) {
			return false
		}
	}
	return true
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isASCIIDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// serializableTypeString is Flink's LogicalType.asSerializableString:
// the summary form without STRING/BYTES shorthands, with TIMESTAMP_LTZ
// spelled out and no time attribute markers. ok is false for the empty
// CHAR(0)/BINARY(0) of an empty literal, which has none.
func serializableTypeString(t row.Type) (string, bool) {
	var b strings.Builder
	if !writeSerializable(&b, t) {
		return "", false
	}
	return b.String(), true
}

func writeSerializable(b *strings.Builder, t row.Type) bool {
	switch t.Root {
	case row.TypeNull:
		b.WriteString("NULL")
		return true
	case row.TypeChar, row.TypeBinary, row.TypeVarChar, row.TypeVarBinary:
		if t.Precision == 0 {
			return false
		}
		name := map[row.Root]string{row.TypeChar: "CHAR", row.TypeBinary: "BINARY", row.TypeVarChar: "VARCHAR", row.TypeVarBinary: "VARBINARY"}[t.Root]
		fmt.Fprintf(b, "%s(%d)", name, t.Precision)
	case row.TypeTimestampLTZ:
		fmt.Fprintf(b, "TIMESTAMP(%d) WITH LOCAL TIME ZONE", t.Precision)
	case row.TypeTimestamp:
		fmt.Fprintf(b, "TIMESTAMP(%d)", t.Precision)
	case row.TypeArray:
		b.WriteString("ARRAY<")
		if !writeSerializable(b, *t.Elem) {
			return false
		}
		b.WriteByte('>')
	case row.TypeMultiset:
		b.WriteString("MULTISET<")
		if !writeSerializable(b, *t.Elem) {
			return false
		}
		b.WriteByte('>')
	case row.TypeMap:
		b.WriteString("MAP<")
		if !writeSerializable(b, *t.Elem) {
			return false
		}
		b.WriteString(", ")
		if !writeSerializable(b, *t.Value) {
			return false
		}
		b.WriteByte('>')
	case row.TypeRow:
		b.WriteString("ROW<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row.QuoteIdent(f.Name))
			b.WriteByte(' ')
			if !writeSerializable(b, f.Type) {
				return false
			}
		}
		b.WriteByte('>')
	default:
		// The other roots print the same in both forms.
		u := t
		u.Nullable, u.TimeAttr = true, row.NoTimeAttr
		b.WriteString(u.String())
	}
	if !t.Nullable {
		b.WriteString(" NOT NULL")
	}
	return true
}
