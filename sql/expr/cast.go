package expr

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// NewCast resolves CAST(e AS t). It fails when Flink's cast matrix has no
// rule from e's type to t. The result is nullable when e is, or when the
// conversion can yield NULL (a DECIMAL that does not fit).
func NewCast(e Expr, t row.Type) (Expr, error) { return newCast(e, t, false) }

// NewTryCast resolves TRY_CAST(e AS t): like CAST, but a failing
// conversion yields NULL; the result is always nullable.
func NewTryCast(e Expr, t row.Type) (Expr, error) { return newCast(e, t, true) }

func newCast(e Expr, t row.Type, try bool) (Expr, error) {
	from := e.Type()
	if _, ok := e.(*Symbol); ok || !CanCast(from, t) {
		return nil, fmt.Errorf("expr: Cast function cannot convert value of type %s to type %s",
			from.WithNullable(true), t.WithNullable(true))
	}
	t.TimeAttr = row.NoTimeAttr
	t.Nullable = from.Nullable || try || castMayYieldNull(from, t)
	if l, ok := e.(*Literal); ok && l.Value.IsNull() {
		return &Literal{T: t.WithNullable(true)}, nil
	}
	return &Cast{Arg: e, T: t, Try: try}, nil
}

// castMayYieldNull reports whether a cast can give NULL for a non-NULL
// input: a DECIMAL target too narrow for every source value (Flink yields
// NULL on DECIMAL overflow), element casts inside constructed types.
func castMayYieldNull(from, to row.Type) bool {
	if from.Root == row.TypeVariant && to.Root != row.TypeVariant {
		return true // a JSON null
	}
	switch to.Root {
	case row.TypeDecimal:
		intDigits := to.Precision - to.Scale
		switch {
		case from.Root == row.TypeBoolean:
			return intDigits < 1
		case from.IsInteger():
			return integerDecimalPrecision(from.Root) > intDigits
		case from.Root == row.TypeDecimal:
			fi := from.Precision - from.Scale
			if to.Scale >= from.Scale {
				return fi > intDigits
			}
			return fi >= intDigits // rounding may carry into a new digit
		}
		return true
	}
	return false
}

// CanCast reports whether Flink's explicit cast matrix allows CAST from
// one type to another (the "Casting" table of Flink's data types page):
// numbers among themselves and with BOOLEAN (numeric to BOOLEAN), strings
// to and from every scalar type, BYTES from/to strings (UTF-8), DATE, TIME,
// TIMESTAMP and TIMESTAMP_LTZ among each other (not TIME to DATE), ARRAY,
// MAP and ROW elementwise and to STRING.
func CanCast(from, to row.Type) bool {
	if from.Root == row.TypeNull {
		return true
	}
	fr, tr := from.Root, to.Root
	if fr == row.TypeVariant {
		return canCastFromVariant(to)
	}
	if tr == row.TypeVariant {
		return false // casting into VARIANT is not built
	}
	switch {
	case to.IsString():
		return true
	case from.IsString():
		switch tr {
		case row.TypeArray, row.TypeMap, row.TypeMultiset, row.TypeRow, row.TypeNull:
			return false
		}
		return true
	case from.IsNumeric() && (to.IsNumeric() || tr == row.TypeBoolean):
		return true
	case fr == row.TypeBoolean && (to.IsNumeric() || tr == row.TypeBoolean):
		return true
	case from.IsBinary() && to.IsBinary():
		return true
	case fr == row.TypeDate:
		return tr == row.TypeDate || to.IsTimestamp()
	case fr == row.TypeTime:
		return tr == row.TypeTime || to.IsTimestamp()
	case from.IsTimestamp():
		return tr == row.TypeDate || tr == row.TypeTime || to.IsTimestamp()
	case isInterval(from):
		return fr == tr
	case fr == row.TypeArray && tr == row.TypeArray:
		return CanCast(*from.Elem, *to.Elem)
	case fr == row.TypeMap && tr == row.TypeMap:
		return CanCast(*from.Elem, *to.Elem) && CanCast(*from.Value, *to.Value)
	case fr == row.TypeMultiset && tr == row.TypeMultiset:
		// Flink's MapToMapAndMultisetToMultisetCastRule: the elements.
		return CanCast(*from.Elem, *to.Elem)
	case fr == row.TypeRow && tr == row.TypeRow:
		if len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if !CanCast(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

type castFn func(ctx *EvalContext, v row.Value) (row.Value, error)

// errCastNull is returned by a castFn whose result is NULL without error
// (a DECIMAL overflow).
var errCastNull = fmt.Errorf("expr: cast yields NULL")

func compileCast(arg Evaluator, from, to row.Type, try bool) (Evaluator, error) {
	if from.Root == row.TypeNull {
		return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
			_, err := arg(ctx, in)
			return row.Value{}, err
		}, nil
	}
	fn := castFunc(from, to)
	if fn == nil {
		return nil, fmt.Errorf("expr: Cast function cannot convert value of type %s to type %s", from, to)
	}
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		v, err := arg(ctx, in)
		if err != nil || v.IsNull() {
			return row.Value{}, err
		}
		r, err := fn(ctx, v)
		if err != nil {
			if try || err == errCastNull {
				return row.Value{}, nil
			}
			return row.Value{}, err
		}
		return r, nil
	}, nil
}

func castErr(v string, to row.Type, why string) error {
	return fmt.Errorf("expr: CAST: cannot cast '%s' to %s: %s", v, to.WithNullable(true), why)
}

func castFunc(from, to row.Type) castFn {
	if !CanCast(from, to) {
		return nil
	}
	if from.Root == row.TypeVariant {
		return castFromVariant(to)
	}
	switch {
	case to.IsString():
		return castToString(from, to)
	case to.Root == row.TypeBoolean:
		if from.IsString() {
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				switch strings.ToLower(strings.TrimSpace(v.Str())) {
				case "true", "t", "yes", "y", "1":
					return row.Bool(true), nil
				case "false", "f", "no", "n", "0":
					return row.Bool(false), nil
				}
				return row.Value{}, castErr(v.Str(), to, "not a boolean")
			}
		}
		if from.Root == row.TypeBoolean {
			return identity
		}
		num := toFloat(from)
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Bool(num(v) != 0), nil }
	case to.IsInteger():
		return castToInteger(from, to)
	case to.Root == row.TypeFloat || to.Root == row.TypeDouble:
		f32 := to.Root == row.TypeFloat
		round := func(f float64) row.Value {
			if f32 {
				f = float64(float32(f))
			}
			return row.Float(f)
		}
		if from.IsString() {
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				f, ok := parseJavaDouble(v.Str())
				if !ok {
					return row.Value{}, castErr(v.Str(), to, "not a number")
				}
				return round(f), nil
			}
		}
		num := toFloat(from)
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return round(num(v)), nil }
	case to.Root == row.TypeDecimal:
		return castToDecimal(from, to)
	case to.Root == row.TypeDate:
		switch {
		case from.IsString():
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				d, ok := parseDateLenient(strings.TrimSpace(v.Str()))
				if !ok {
					return row.Value{}, castErr(v.Str(), to, "not a date")
				}
				return row.Int(d), nil
			}
		case from.Root == row.TypeDate:
			return identity
		case from.Root == row.TypeTimestamp:
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				return row.Int(floorDiv(v.Millis(), msPerDay)), nil
			}
		case from.Root == row.TypeTimestampLTZ:
			return func(ctx *EvalContext, v row.Value) (row.Value, error) {
				return row.Int(floorDiv(instantToWall(v.Millis(), ctx.loc()), msPerDay)), nil
			}
		}
	case to.Root == row.TypeTime:
		p := to.Precision
		switch {
		case from.IsString():
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				n, ok := parseTimeText(strings.TrimSpace(v.Str()))
				if !ok {
					return row.Value{}, castErr(v.Str(), to, "not a time")
				}
				return row.Int(truncNanos(n, p)), nil
			}
		case from.Root == row.TypeTime:
			return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Int(truncNanos(v.Int(), p)), nil }
		case from.Root == row.TypeTimestamp:
			return func(_ *EvalContext, v row.Value) (row.Value, error) {
				ms := v.Millis() - floorDiv(v.Millis(), msPerDay)*msPerDay
				return row.Int(truncNanos(ms*1e6+int64(v.NanoOfMilli()), p)), nil
			}
		case from.Root == row.TypeTimestampLTZ:
			return func(ctx *EvalContext, v row.Value) (row.Value, error) {
				w := instantToWall(v.Millis(), ctx.loc())
				ms := w - floorDiv(w, msPerDay)*msPerDay
				return row.Int(truncNanos(ms*1e6+int64(v.NanoOfMilli()), p)), nil
			}
		}
	case to.IsTimestamp():
		return castToTimestamp(from, to)
	case to.IsBinary():
		fit := fitBinary(to)
		// A string's bytes are its UTF-8 encoding (Flink since 1.15,
		// FLINK-27212), trimmed or zero-padded to the length.
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return fit(v.Str()), nil }
	case isInterval(to):
		return identity
	case to.Root == row.TypeArray:
		ef := castFunc(*from.Elem, *to.Elem)
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			src := v.Elems()
			out := make([]row.Value, len(src))
			for i, e := range src {
				if e.IsNull() {
					continue
				}
				r, err := ef(ctx, e)
				if err != nil && err != errCastNull {
					return row.Value{}, err
				}
				out[i] = r
			}
			return row.Array(out), nil
		}
	case to.Root == row.TypeMap:
		kf, vf := castFunc(*from.Elem, *to.Elem), castFunc(*from.Value, *to.Value)
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			m := v.MapOf()
			ks, vs := make([]row.Value, len(m.Keys)), make([]row.Value, len(m.Values))
			for i := range m.Keys {
				var err error
				if !m.Keys[i].IsNull() {
					if ks[i], err = kf(ctx, m.Keys[i]); err != nil && err != errCastNull {
						return row.Value{}, err
					}
				}
				if !m.Values[i].IsNull() {
					if vs[i], err = vf(ctx, m.Values[i]); err != nil && err != errCastNull {
						return row.Value{}, err
					}
				}
			}
			return row.Map(ks, vs), nil
		}
	case to.Root == row.TypeMultiset:
		return castMultiset(castFunc(*from.Elem, *to.Elem), *to.Elem)
	case to.Root == row.TypeRow:
		fs := make([]castFn, len(to.Fields))
		for i := range fs {
			fs[i] = castFunc(from.Fields[i].Type, to.Fields[i].Type)
		}
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			src := v.Elems()
			out := make([]row.Value, len(fs))
			for i := range fs {
				if i >= len(src) || src[i].IsNull() {
					continue
				}
				r, err := fs[i](ctx, src[i])
				if err != nil && err != errCastNull {
					return row.Value{}, err
				}
				out[i] = r
			}
			return row.Nested(out), nil
		}
	}
	return nil
}

func identity(_ *EvalContext, v row.Value) (row.Value, error) { return v, nil }

const msPerDay = 86400000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// truncNanos truncates nanoseconds to p fractional second digits.
func truncNanos(n int64, p int) int64 {
	if p >= 9 {
		return n
	}
	m := int64(math.Pow10(9 - p))
	return n - n%m
}

// truncTimestamp truncates a timestamp to p fractional second digits, as
// Flink's TIMESTAMP(p) casts do.
func truncTimestamp(v row.Value, p int) row.Value {
	ms, nano := v.Millis(), int64(v.NanoOfMilli())
	switch {
	case p >= 9:
		return v
	case p >= 3:
		m := int64(math.Pow10(9 - p))
		return row.Timestamp(ms, int32(nano-nano%m))
	default:
		m := int64(math.Pow10(3 - p))
		return row.Timestamp(ms-((ms%m)+m)%m, 0)
	}
}

// instantToWall converts epoch millis to the wall clock of loc, as epoch
// millis of that wall time read in UTC.
func instantToWall(ms int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return ms
	}
	_, off := time.UnixMilli(ms).In(loc).Zone()
	return ms + int64(off)*1000
}

// wallToInstant is the inverse: the instant at which loc's clocks show the
// wall time ms (the earlier one in a DST overlap, as java.time does).
func wallToInstant(ms int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return ms
	}
	t := time.UnixMilli(ms).UTC()
	l := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	return l.UnixMilli()
}

func castToTimestamp(from, to row.Type) castFn {
	p := to.Precision
	ltz := to.Root == row.TypeTimestampLTZ
	switch {
	case from.IsString():
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			ms, nano, ok := parseTimestampText(strings.TrimSpace(v.Str()))
			if !ok {
				return row.Value{}, castErr(v.Str(), to, "not a timestamp")
			}
			if ltz {
				ms = wallToInstant(ms, ctx.loc())
			}
			return truncTimestamp(row.Timestamp(ms, nano), p), nil
		}
	case from.Root == row.TypeDate:
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			ms := v.Int() * msPerDay
			if ltz {
				ms = wallToInstant(ms, ctx.loc())
			}
			return row.Timestamp(ms, 0), nil
		}
	case from.Root == row.TypeTime:
		// Flink: TIME to TIMESTAMP is that time on 1970-01-01.
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			ns := v.Int()
			ms := ns / 1e6
			if ltz {
				ms = wallToInstant(ms, ctx.loc())
			}
			return truncTimestamp(row.Timestamp(ms, int32(ns%1e6)), p), nil
		}
	case from.Root == to.Root:
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return truncTimestamp(v, p), nil }
	case from.Root == row.TypeTimestamp: // to LTZ
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			return truncTimestamp(row.Timestamp(wallToInstant(v.Millis(), ctx.loc()), v.NanoOfMilli()), p), nil
		}
	default: // LTZ to TIMESTAMP
		return func(ctx *EvalContext, v row.Value) (row.Value, error) {
			return truncTimestamp(row.Timestamp(instantToWall(v.Millis(), ctx.loc()), v.NanoOfMilli()), p), nil
		}
	}
}

func fitBinary(to row.Type) func(s string) row.Value {
	n := to.Precision
	pad := to.Root == row.TypeBinary
	return func(s string) row.Value {
		if len(s) > n {
			s = s[:n]
		} else if pad && len(s) < n {
			s += strings.Repeat("\x00", n-len(s))
		}
		return row.BytesString(s)
	}
}

// fitString truncates to n characters and pads CHAR with spaces.
func fitString(to row.Type) func(s string) string {
	n := to.Precision
	pad := to.Root == row.TypeChar
	if n >= row.MaxLength {
		return nil
	}
	return func(s string) string {
		c := utf8.RuneCountInString(s)
		if c > n {
			i, k := 0, 0
			for i = range s {
				if k == n {
					break
				}
				k++
			}
			s = s[:i]
		} else if pad && c < n {
			s += strings.Repeat(" ", n-c)
		}
		return s
	}
}

func castToString(from, to row.Type) castFn {
	fit := fitString(to)
	var f castFn
	switch {
	case from.IsString():
		if fit == nil {
			return identity
		}
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Str(fit(v.Str())), nil }
	case from.IsBinary():
		// The bytes decoded as UTF-8; bytes that are not valid UTF-8 fail
		// the cast (TRY_CAST gives NULL), as in Flink 2.4 (FLIP-568,
		// FLINK-39623); MAKE_VALID_UTF8 substitutes U+FFFD instead.
		f = func(_ *EvalContext, v row.Value) (row.Value, error) {
			s := v.Str()
			if !utf8.ValidString(s) {
				return row.Value{}, fmt.Errorf("expr: CAST: cannot cast x'%s' to %s: the bytes are not valid UTF-8 (MAKE_VALID_UTF8 replaces invalid sequences, TRY_CAST gives NULL)",
					hex.EncodeToString([]byte(s)), to.WithNullable(true))
			}
			return row.Str(s), nil
		}
	case from.Root == row.TypeTime:
		// Flink drops the fractional seconds of TIME (FLINK-17224).
		f = func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Str(row.FormatTime(v.Int(), 0)), nil }
	case from.Root == row.TypeTimestamp:
		p := from.Precision
		f = func(_ *EvalContext, v row.Value) (row.Value, error) {
			return row.Str(row.FormatTimestamp(v, p, time.UTC)), nil
		}
	default:
		f = func(ctx *EvalContext, v row.Value) (row.Value, error) {
			return row.Str(row.FormatIn(v, from, ctx.loc())), nil
		}
	}
	if fit == nil {
		return f
	}
	return func(ctx *EvalContext, v row.Value) (row.Value, error) {
		r, err := f(ctx, v)
		if err != nil {
			return r, err
		}
		return row.Str(fit(r.Str())), nil
	}
}

// toFloat reads a number (or BOOLEAN) of type t as a float64.
func toFloat(t row.Type) func(v row.Value) float64 {
	switch {
	case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
		return row.Value.Float
	case t.Root == row.TypeDecimal:
		if t.IsCompactDecimal() {
			// Via the decimal text, so that 0.1 reads as the double 0.1.
			return func(v row.Value) float64 {
				f, _ := strconv.ParseFloat(row.DecimalString(v, t), 64)
				return f
			}
		}
		return func(v row.Value) float64 { f, _ := row.DecimalRat(v, t).Float64(); return f }
	}
	return func(v row.Value) float64 { return float64(v.Int()) }
}

// javaLong converts a double to long as Java's (long) cast: truncation
// toward zero, NaN to 0, saturating at the int64 range.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// javaInt is Java's (int) cast of a double.
func javaInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int64(int32(f))
}

func intRange(r row.Root) (lo, hi int64) {
	switch r {
	case row.TypeTinyInt:
		return math.MinInt8, math.MaxInt8
	case row.TypeSmallInt:
		return math.MinInt16, math.MaxInt16
	case row.TypeInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// castToInteger: integers narrow by wrapping (Java's primitive casts, as
// Flink; FLINK-24420), DOUBLE/FLOAT truncate toward zero through Java's
// (int)/(long) cast, DECIMAL truncates, BOOLEAN is 1/0, and strings are
// parsed (a fraction is truncated; out of range is an error).
func castToInteger(from, to row.Type) castFn {
	wrap := wrapInt(to.Root)
	if wrap == nil {
		wrap = func(x int64) int64 { return x }
	}
	switch {
	case from.IsInteger() || from.Root == row.TypeBoolean:
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Int(wrap(v.Int())), nil }
	case from.Root == row.TypeFloat || from.Root == row.TypeDouble:
		if to.Root == row.TypeBigInt {
			return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Int(javaLong(v.Float())), nil }
		}
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.Int(wrap(javaInt(v.Float()))), nil }
	case from.Root == row.TypeDecimal:
		return func(_ *EvalContext, v row.Value) (row.Value, error) {
			r := row.DecimalRat(v, from)
			q := new(big.Int).Quo(r.Num(), r.Denom())
			return row.Int(wrap(q.Int64())), nil
		}
	case from.IsString():
		lo, hi := intRange(to.Root)
		return func(_ *EvalContext, v row.Value) (row.Value, error) {
			s := strings.TrimSpace(v.Str())
			i, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				r, ok := new(big.Rat).SetString(s)
				if !ok || strings.ContainsAny(s, "/") {
					return row.Value{}, castErr(v.Str(), to, "not a number")
				}
				q := new(big.Int).Quo(r.Num(), r.Denom())
				if !q.IsInt64() {
					return row.Value{}, castErr(v.Str(), to, "out of range")
				}
				i = q.Int64()
			}
			if i < lo || i > hi {
				return row.Value{}, castErr(v.Str(), to, "out of range")
			}
			return row.Int(i), nil
		}
	}
	return nil
}

func castToDecimal(from, to row.Type) castFn {
	fit := func(r *big.Rat) (row.Value, error) {
		v, ok := row.DecimalFromRat(r, to)
		if !ok {
			return row.Value{}, errCastNull
		}
		return v, nil
	}
	switch {
	case from.IsInteger() || from.Root == row.TypeBoolean:
		return func(_ *EvalContext, v row.Value) (row.Value, error) {
			if to.Scale < 19 {
				// Fast path without big numbers when it fits.
				x := v.Int()
				m := int64(1)
				for i := 0; i < to.Scale; i++ {
					m *= 10
				}
				if x < math.MaxInt64/m && x > math.MinInt64/m {
					if !to.IsCompactDecimal() {
						// A wide DECIMAL has room for any int64.
						return row.BigDecimalInt64(x * m), nil
					}
					if r, ok := row.DecimalFromInt64Unscaled(x*m, to); ok {
						return r, nil
					}
					return row.Value{}, errCastNull
				}
			}
			return fit(new(big.Rat).SetInt64(v.Int()))
		}
	case from.Root == row.TypeFloat || from.Root == row.TypeDouble:
		bits := 64
		if from.Root == row.TypeFloat {
			bits = 32
		}
		return func(_ *EvalContext, v row.Value) (row.Value, error) {
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return row.Value{}, errCastNull
			}
			r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, bits))
			return fit(r)
		}
	case from.Root == row.TypeDecimal:
		if from.Scale == to.Scale && to.Precision >= from.Precision {
			// Every value fits: only the representation may change.
			if from.IsCompactDecimal() && !to.IsCompactDecimal() {
				return func(_ *EvalContext, v row.Value) (row.Value, error) { return row.BigDecimalInt64(v.Int()), nil }
			}
			return func(_ *EvalContext, v row.Value) (row.Value, error) { return v, nil }
		}
		return func(_ *EvalContext, v row.Value) (row.Value, error) { return fit(row.DecimalRat(v, from)) }
	case from.IsString():
		return func(_ *EvalContext, v row.Value) (row.Value, error) {
			s := strings.TrimSpace(v.Str())
			r, ok := new(big.Rat).SetString(s)
			if !ok || strings.Contains(s, "/") {
				return row.Value{}, castErr(v.Str(), to, "not a number")
			}
			return fit(r)
		}
	}
	return nil
}

// parseJavaDouble parses a string as Java's Double.parseDouble: decimal
// or scientific, NaN, [+-]Infinity, optional d/f suffix, surrounding
// whitespace.
func parseJavaDouble(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity", "+Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if n := len(s); n > 1 && strings.ContainsRune("dDfF", rune(s[n-1])) {
		s = s[:n-1]
	}
	if s == "" || strings.ContainsAny(s, "xXpP_iInN") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
