package expr

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// PRINTF(format[, obj]*) is Flink's PrintfFunction: java.util.Formatter
// with Locale.US over the arguments as Flink hands them to it, its
// internal data structures. So a STRING is a StringData (only %s, %b and
// %h take it), a DECIMAL a DecimalData (%s prints it plain), a DATE an
// Integer of days, a TIME an Integer of milliseconds, a TIMESTAMP or
// TIMESTAMP_LTZ a TimestampData (%s prints LocalDateTime.toString), an
// INTERVAL an Integer of months or a Long of milliseconds. A NULL
// argument prints "null" (%b: "false"). A format Java's Formatter
// refuses (unknown conversion, flags it does not take, a conversion the
// argument's class does not take, a missing argument) makes the result
// NULL, as Flink 2.2 documents.
//
// Not covered: the date/time conversions %t/%T, %a, and %h of a STRING,
// DECIMAL or TIMESTAMP (Java hashes Flink's internal classes); those give
// NULL. BYTES, ARRAY, MAP and ROW arguments are refused: Java prints
// their object identity.

// jArg is one argument as the Java object Flink passes.
type jArg struct {
	kind  jKind
	i     int64   // jInt: the value; jBool: 0 or 1
	bits  int     // jInt: 8, 16, 32 or 64
	f     float64 // jFloat
	f32   bool    // jFloat: a Float
	s     string  // jStr, jOther: String.valueOf
	hash  int32   // jInt, jFloat, jBool: hashCode
	hashK bool    // hash is known
}

type jKind uint8

const (
	jNull jKind = iota
	jBool
	jInt
	jFloat
	jStr   // StringData
	jOther // DecimalData, TimestampData: toString only
)

var errFormat = errors.New("invalid format")

func printfFuncs() []*Func {
	return []*Func{{
		Name: "PRINTF",
		Doc:  "PRINTF(format[, obj]*): the string java.util.Formatter (Locale.US) makes of format and the arguments as Flink passes them (see sql/expr/printf.go); NULL if format is NULL or Java's Formatter refuses it.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) < 1 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			out := append([]Expr{}, args...)
			t0 := args[0].Type()
			switch {
			case isNullT(t0):
				out[0] = coerce(args[0], tString)
			case !t0.IsString():
				return nil, row.Type{}, cannotApply(f, args)
			}
			for i, a := range args[1:] {
				switch t := a.Type(); t.Root {
				case row.TypeNull:
					out[i+1] = coerce(a, tString)
				case row.TypeBinary, row.TypeVarBinary, row.TypeArray, row.TypeMap, row.TypeMultiset, row.TypeRow:
					return nil, row.Type{}, fmtErr("expr: PRINTF: an argument of type %s prints as a Java object identity in Flink; not supported", t)
				}
			}
			return out, tString, nil
		},
		build: func(s *site) (Evaluator, error) {
			types := s.argTypes[1:]
			format, objs := s.args[0], s.args[1:]
			buf := make([]jArg, len(objs))
			var b strings.Builder
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				fv, err := format(ctx, in)
				if err != nil || fv.IsNull() {
					return row.Value{}, err
				}
				for i, ev := range objs {
					v, err := ev(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					buf[i] = toJArg(v, types[i])
				}
				b.Reset()
				if err := javaFormat(&b, fv.Str(), buf); err != nil {
					if err == errFormat {
						return row.Value{}, nil
					}
					return row.Value{}, s.wrap(err)
				}
				return row.Str(b.String()), nil
			}, nil
		},
	}}
}

// toJArg makes v of type t the Java object Flink's PrintfFunction sees.
func toJArg(v row.Value, t row.Type) jArg {
	if v.IsNull() {
		return jArg{kind: jNull}
	}
	switch t.Root {
	case row.TypeBoolean:
		a := jArg{kind: jBool, hashK: true, hash: 1237}
		if v.Bool() {
			a.i, a.hash = 1, 1231
		}
		return a
	case row.TypeTinyInt:
		return jInt64(v.Int(), 8)
	case row.TypeSmallInt:
		return jInt64(v.Int(), 16)
	case row.TypeInt, row.TypeDate, row.TypeIntervalYearMonth:
		return jInt64(v.Int(), 32)
	case row.TypeTime:
		return jInt64(v.Int()/1e6, 32) // Flink's TIME is an Integer of milliseconds
	case row.TypeBigInt, row.TypeIntervalDayTime:
		return jInt64(v.Int(), 64)
	case row.TypeFloat:
		f := float32(v.Float())
		bits := math.Float32bits(f)
		if f != f {
			bits = 0x7fc00000
		}
		return jArg{kind: jFloat, f: float64(f), f32: true, hashK: true, hash: int32(bits)}
	case row.TypeDouble:
		f := v.Float()
		bits := math.Float64bits(f)
		if f != f {
			bits = 0x7ff8000000000000
		}
		return jArg{kind: jFloat, f: f, hashK: true, hash: int32(bits ^ bits>>32)}
	case row.TypeChar, row.TypeVarChar:
		return jArg{kind: jStr, s: v.Str()}
	case row.TypeDecimal:
		return jArg{kind: jOther, s: row.DecimalString(v, t)}
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return jArg{kind: jOther, s: localDateTimeString(v)}
	}
	return jArg{kind: jOther, s: row.Format(v, t)}
}

func jInt64(i int64, bits int) jArg {
	h := int32(i)
	if bits == 64 {
		h = int32(i ^ int64(uint64(i)>>32))
	}
	return jArg{kind: jInt, i: i, bits: bits, hashK: true, hash: h}
}

// localDateTimeString prints a timestamp (UTC wall clock of its instant,
// as Flink's TimestampData) as Java's LocalDateTime.toString: seconds
// only when they or the nanoseconds are not zero, the fraction in groups
// of three digits.
func localDateTimeString(v row.Value) string {
	t := time.UnixMilli(v.Millis()).UTC()
	nanos := int64(t.Nanosecond()) + int64(v.NanoOfMilli())
	var b strings.Builder
	y := t.Year()
	switch {
	case y > 9999:
		b.WriteByte('+')
		b.WriteString(strconv.Itoa(y))
	case y < 0:
		b.WriteString("-" + leftPad(strconv.Itoa(-y), 4))
	default:
		b.WriteString(leftPad(strconv.Itoa(y), 4))
	}
	b.WriteString(t.Format("-01-02T15:04"))
	if t.Second() != 0 || nanos != 0 {
		b.WriteString(t.Format(":05"))
		if nanos != 0 {
			d := strconv.FormatInt(nanos+1e9, 10)[1:]
			switch {
			case nanos%1e6 == 0:
				d = d[:3]
			case nanos%1e3 == 0:
				d = d[:6]
			}
			b.WriteString("." + d)
		}
	}
	return b.String()
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// spec is one parsed format specifier.
type spec struct {
	flags     string
	width     int // -1: none
	precision int // -1: none
	conv      byte
	upper     bool
}

func (p *spec) has(f byte) bool { return strings.IndexByte(p.flags, f) >= 0 }

// javaFormat writes java.util.Formatter's output of format over args to b,
// or returns errFormat where Java throws.
func javaFormat(b *strings.Builder, format string, args []jArg) error {
	ordinary, last := 0, -1
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			j := strings.IndexByte(format[i:], '%')
			if j < 0 {
				j = len(format) - i
			}
			b.WriteString(format[i : i+j])
			i += j
			continue
		}
		// %[argument_index$][flags][width][.precision]conversion
		i++
		var p spec
		p.width, p.precision = -1, -1
		explicit, relative := -1, false
		// An argument index is digits followed by '$'.
		j := i
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j < len(format) && format[j] == '$' && j > i {
			n, err := strconv.Atoi(format[i:j])
			if err != nil || n < 1 {
				return errFormat
			}
			explicit = n - 1
			i = j + 1
		}
		for i < len(format) && strings.IndexByte("-#+ 0,(<", format[i]) >= 0 {
			if format[i] == '<' {
				relative = true
			} else {
				if strings.IndexByte(p.flags, format[i]) >= 0 {
					return errFormat // DuplicateFormatFlagsException
				}
				p.flags += string(format[i])
			}
			i++
		}
		j = i
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j > i {
			n, err := strconv.Atoi(format[i:j])
			if err != nil {
				return errFormat
			}
			if n > maxResultChars {
				return fmtErr("width %d: the result would be longer than %d characters", n, maxResultChars)
			}
			p.width = n
			i = j
		}
		if i < len(format) && format[i] == '.' {
			i++
			j = i
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
			if j == i {
				return errFormat
			}
			n, err := strconv.Atoi(format[i:j])
			if err != nil {
				return errFormat
			}
			if n > maxResultChars {
				return fmtErr("precision %d: the result would be longer than %d characters", n, maxResultChars)
			}
			p.precision = n
			i = j
		}
		if i >= len(format) {
			return errFormat // UnknownFormatConversionException: '%'
		}
		p.conv = format[i]
		i++
		if p.conv >= 'A' && p.conv <= 'Z' && p.conv != 'A' {
			switch p.conv {
			case 'B', 'H', 'S', 'C', 'X', 'E', 'G', 'T':
				p.upper = true
				p.conv += 'a' - 'A'
			}
		}
		if (p.has('-') || p.has('0')) && p.width < 0 {
			return errFormat // MissingFormatWidthException
		}
		if p.has('-') && p.has('0') {
			return errFormat // IllegalFormatFlagsException
		}
		if p.has('+') && p.has(' ') {
			return errFormat
		}
		switch p.conv {
		case '%':
			if p.precision >= 0 || strings.Trim(p.flags, "-") != "" {
				return errFormat
			}
			padSpec(b, "%", p)
			continue
		case 'n':
			if p.flags != "" || p.width >= 0 || p.precision >= 0 {
				return errFormat
			}
			b.WriteByte('\n')
			continue
		}
		var a jArg
		switch {
		case relative:
			if last < 0 || last >= len(args) {
				return errFormat // MissingFormatArgumentException
			}
			a = args[last]
		case explicit >= 0:
			if explicit >= len(args) {
				return errFormat
			}
			a, last = args[explicit], explicit
		default:
			if ordinary >= len(args) {
				return errFormat
			}
			a, last = args[ordinary], ordinary
			ordinary++
		}
		if err := formatOne(b, p, a); err != nil {
			return err
		}
	}
	return nil
}

// padSpec writes s justified in p's width.
func padSpec(b *strings.Builder, s string, p spec) {
	n := p.width - utf8.RuneCountInString(s)
	if n > 0 && !p.has('-') {
		b.WriteString(strings.Repeat(" ", n))
	}
	b.WriteString(s)
	if n > 0 && p.has('-') {
		b.WriteString(strings.Repeat(" ", n))
	}
}

func upper(s string, p spec) string {
	if p.upper {
		return strings.ToUpper(s)
	}
	return s
}

func formatOne(b *strings.Builder, p spec, a jArg) error {
	switch p.conv {
	case 'b', 'h', 's':
		// General conversions: '-' only ('#' needs Formattable).
		if strings.Trim(p.flags, "-") != "" {
			return errFormat
		}
		var s string
		switch p.conv {
		case 'b':
			s = "true"
			if a.kind == jNull || (a.kind == jBool && a.i == 0) {
				s = "false"
			}
		case 'h':
			if a.kind == jNull {
				s = "null"
			} else if !a.hashK {
				return errFormat // hash of Flink's internal class: not reproduced
			} else {
				s = strconv.FormatUint(uint64(uint32(a.hash)), 16)
			}
		default:
			s = javaString(a)
		}
		if p.precision >= 0 {
			if r := []rune(s); len(r) > p.precision {
				s = string(r[:p.precision])
			}
		}
		padSpec(b, upper(s, p), p)
		return nil
	case 'c':
		if strings.Trim(p.flags, "-") != "" || p.precision >= 0 {
			return errFormat
		}
		var s string
		switch a.kind {
		case jNull:
			s = "null"
		case jInt:
			if a.bits == 64 || a.i < 0 || a.i > utf8.MaxRune || (a.i >= 0xD800 && a.i <= 0xDFFF) {
				return errFormat
			}
			s = string(rune(a.i))
		default:
			return errFormat
		}
		padSpec(b, upper(s, p), p)
		return nil
	case 'd', 'o', 'x':
		if p.precision >= 0 {
			return errFormat // IllegalFormatPrecisionException
		}
		if a.kind == jNull {
			padSpec(b, "null", p)
			return nil
		}
		if a.kind != jInt {
			return errFormat // IllegalFormatConversionException
		}
		if p.conv == 'd' {
			if p.has('#') {
				return errFormat
			}
			neg := a.i < 0
			digits := strconv.FormatUint(absU(a.i), 10)
			if p.has(',') {
				digits = group(digits)
			}
			writeNumber(b, p, neg, digits)
			return nil
		}
		if strings.ContainsAny(p.flags, "+ ,(") {
			return errFormat // FormatFlagsConversionMismatchException
		}
		u := uint64(a.i)
		if a.bits < 64 {
			u &= 1<<a.bits - 1
		}
		base, prefix := 16, "0x"
		if p.conv == 'o' {
			base, prefix = 8, "0"
		}
		digits := strconv.FormatUint(u, base)
		if p.has('#') {
			digits = prefix + digits
		}
		digits = upper(digits, p)
		if p.has('0') && len(digits) < p.width {
			// Zeros after the prefix.
			z := strings.Repeat("0", p.width-len(digits))
			if p.has('#') {
				pre := upper(prefix, p)
				digits = pre + z + digits[len(pre):]
			} else {
				digits = z + digits
			}
		}
		padSpec(b, digits, p)
		return nil
	case 'e', 'f', 'g':
		if a.kind == jNull {
			padSpec(b, "null", p)
			return nil
		}
		if a.kind != jFloat {
			return errFormat
		}
		if p.conv == 'e' && p.has(',') || p.conv == 'g' && p.has('#') {
			return errFormat
		}
		f := a.f
		if math.IsNaN(f) || math.IsInf(f, 0) {
			s := "NaN"
			neg := math.IsInf(f, -1)
			if math.IsInf(f, 0) {
				s = "Infinity"
			}
			var out string
			switch {
			case neg && p.has('('):
				out = "(" + s + ")"
			case neg:
				out = "-" + s
			case !math.IsNaN(f) && p.has('+'):
				out = "+" + s
			case !math.IsNaN(f) && p.has(' '):
				out = " " + s
			default:
				out = s
			}
			padSpec(b, upper(out, p), p)
			return nil
		}
		neg := math.Signbit(f)
		prec := p.precision
		if prec < 0 {
			prec = 6
		}
		var digits string
		switch p.conv {
		case 'f':
			digits = fixedJava(math.Abs(f), prec)
			if p.has(',') {
				digits = groupFixed(digits)
			}
		case 'e':
			digits = sciJava(math.Abs(f), prec)
		case 'g':
			if prec == 0 {
				prec = 1
			}
			x := math.Abs(f)
			r := sciJava(x, prec-1) // rounded to prec significant digits
			e, _ := strconv.Atoi(r[strings.IndexByte(r, 'e')+1:])
			if x == 0 || (e >= -4 && e < prec) {
				digits = fixedJava(x, prec-1-e)
				if x == 0 {
					digits = fixedJava(0, prec-1)
				}
				if p.has(',') {
					digits = groupFixed(digits)
				}
			} else {
				digits = r
			}
		}
		writeNumber(b, p, neg, upper(digits, p))
		return nil
	}
	return errFormat // UnknownFormatConversionException, or %t, %a
}

// javaString is String.valueOf(arg).
func javaString(a jArg) string {
	switch a.kind {
	case jNull:
		return "null"
	case jBool:
		if a.i != 0 {
			return "true"
		}
		return "false"
	case jInt:
		return strconv.FormatInt(a.i, 10)
	case jFloat:
		if a.f32 {
			return row.JavaFloatString(a.f, 32)
		}
		return row.JavaFloatString(a.f, 64)
	}
	return a.s
}

func absU(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

// writeNumber writes digits with the sign flags, zero padding and width
// of p (Java's leadingSign/trailingSign and localizedMagnitude).
func writeNumber(b *strings.Builder, p spec, neg bool, digits string) {
	var pre, post string
	switch {
	case neg && p.has('('):
		pre, post = "(", ")"
	case neg:
		pre = "-"
	case p.has('+'):
		pre = "+"
	case p.has(' '):
		pre = " "
	}
	if p.has('0') {
		if n := p.width - len(pre) - len(post) - len(digits); n > 0 {
			digits = strings.Repeat("0", n) + digits
		}
	}
	padSpec(b, pre+digits+post, p)
}

// group inserts ',' every three digits of an integer's digits.
func group(d string) string {
	if len(d) <= 3 {
		return d
	}
	var b strings.Builder
	k := len(d) % 3
	if k > 0 {
		b.WriteString(d[:k])
	}
	for i := k; i < len(d); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d[i : i+3])
	}
	return b.String()
}

func groupFixed(d string) string {
	i := strings.IndexByte(d, '.')
	if i < 0 {
		return group(d)
	}
	return group(d[:i]) + d[i:]
}

// javaDigits returns the shortest decimal digits of x >= 0 that read back
// as x (Java's FloatingDecimal, as Double.toString) and the decimal
// exponent: x = 0.d1d2d3... * 10^exp. Java's Formatter widens a Float to
// a double first, so its digits are the double's.
func javaDigits(x float64) (string, int) {
	if x == 0 {
		return "0", 1
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	digits := strings.Replace(mant, ".", "", 1)
	return digits, e + 1
}

// roundHalfUp rounds the digit string d (value 0.d * 10^exp) to keep
// digits before position n (n may be <= 0 or beyond len(d)); it returns
// the new digits and exponent.
func roundHalfUp(d string, exp, n int) (string, int) {
	if n >= len(d) {
		return d, exp
	}
	if n < 0 {
		return "0", exp
	}
	up := d[n] >= '5'
	out := []byte(d[:n])
	if up {
		i := n - 1
		for ; i >= 0; i-- {
			if out[i] == '9' {
				out[i] = '0'
				continue
			}
			out[i]++
			break
		}
		if i < 0 {
			out = append([]byte{'1'}, out...)
			exp++
		}
	}
	if len(out) == 0 {
		return "0", exp
	}
	return string(out), exp
}

// fixedJava is Java's %.<prec>f of x >= 0: the shortest digits of x
// rounded half up.
func fixedJava(x float64, prec int) string {
	d, exp := javaDigits(x)
	if x != 0 {
		d, exp = roundHalfUp(d, exp, exp+prec)
	}
	// Lay out 0.d * 10^exp with prec fraction digits.
	var intPart, frac string
	switch {
	case d == "0":
		intPart = "0"
	case exp <= 0:
		intPart = "0"
		frac = strings.Repeat("0", -exp) + d
	case exp >= len(d):
		intPart = d + strings.Repeat("0", exp-len(d))
	default:
		intPart, frac = d[:exp], d[exp:]
	}
	if len(frac) < prec {
		frac += strings.Repeat("0", prec-len(frac))
	} else {
		frac = frac[:prec]
	}
	if prec == 0 {
		return intPart
	}
	return intPart + "." + frac
}

// sciJava is Java's %.<prec>e of x >= 0.
func sciJava(x float64, prec int) string {
	d, exp := javaDigits(x)
	e := 0
	if x != 0 {
		d, exp = roundHalfUp(d, exp, prec+1)
		e = exp - 1
	}
	for len(d) < prec+1 {
		d += "0"
	}
	m := d[:1]
	if prec > 0 {
		m += "." + d[1:prec+1]
	}
	sign := "+"
	if e < 0 {
		sign, e = "-", -e
	}
	es := strconv.Itoa(e)
	if len(es) < 2 {
		es = "0" + es
	}
	return m + "e" + sign + es
}
