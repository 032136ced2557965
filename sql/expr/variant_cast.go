package expr

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
)

// CAST and TRY_CAST from VARIANT, as Flink defines them (FLINK-37925 for
// the scalar targets, FLINK-37926 for ARRAY, ROW and MAP; Flink's
// VariantCastUtils and the VariantTo*CastRule classes): a cast never
// reinterprets the stored value. One kind is not read as another (a
// string does not reach a number, a DOUBLE does not reach a DECIMAL) and
// a number is never wrapped or rounded to fit: an integer target takes
// any numeric kind whose value is integral and in range, FLOAT and DOUBLE
// take any numeric kind (failing only past their range), DECIMAL takes an
// integer or a DECIMAL that fits the precision and scale exactly. A
// character target renders the scalar as a regular cast of its kind
// would (a string unquoted, TRUE/FALSE), an array as [e1, e2] and an
// object as {k1=v1, k2=v2}, strings unquoted at every depth and a nested
// null as NULL; JSON_STRING is the way to JSON. A constructed target
// imposes a schema: ARRAY<T> needs an array, ROW<..> and MAP<STRING, V>
// an object; each element, field or value casts by these same rules; a
// JSON null in it is SQL NULL for a nullable type and an error for a NOT
// NULL one, except a VARIANT element, field or value, which is the
// identity and keeps the variant null. A ROW matches fields by name (case
// sensitive), fails on an absent field and drops fields it does not name.
// A top-level JSON null casts to SQL NULL. TRY_CAST gives NULL for the
// whole value on any failure.

// canCastFromVariant is Flink's cast matrix from VARIANT: BOOLEAN, the
// numbers, CHAR/VARCHAR, BINARY/VARBINARY, DATE, TIME, TIMESTAMP,
// TIMESTAMP_LTZ, VARIANT itself, and ARRAY, ROW and MAP (with a character
// string key) of types castable from VARIANT.
func canCastFromVariant(to row.Type) bool {
	switch to.Root {
	case row.TypeBoolean, row.TypeVariant, row.TypeDate, row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ:
		return true
	case row.TypeArray:
		return canCastFromVariant(*to.Elem)
	case row.TypeMap:
		return to.Elem.IsString() && canCastFromVariant(*to.Value)
	case row.TypeRow:
		for _, f := range to.Fields {
			if !canCastFromVariant(f.Type) {
				return false
			}
		}
		return true
	}
	return to.IsNumeric() || to.IsString() || to.IsBinary()
}

// variantTarget names a target type in the errors (nullability left out).
// An integer target is named by its type root, as Flink's
// VariantToPrimitiveCastRule passes getTypeRoot().name() to
// VariantCastUtils.toIntegral: INT is INTEGER there.
func variantTarget(to row.Type) string {
	if to.Root == row.TypeInt {
		return "INTEGER"
	}
	return to.WithNullable(true).String()
}

// variantValue renders a variant's value in the overflow and precision
// errors as Flink's messages do: Java's toString of the stored number, so
// a DECIMAL prints as BigDecimal.toString (scientific below 1E-6: 1E-8),
// not toPlainString.
func variantValue(enc string) string {
	u, scale, ok := row.VariantDecimalOf(enc)
	if !ok {
		return row.VariantJSON(enc)
	}
	return javaBigDecimalString(u, scale)
}

// javaBigDecimalString is Java's BigDecimal.toString for an unscaled
// value and a scale >= 0: plain unless the adjusted exponent (the
// position of the first digit) is below -6, then d.dddE-n.
func javaBigDecimalString(u *big.Int, scale int) string {
	digits := new(big.Int).Abs(u).String()
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	adjusted := len(digits) - 1 - scale
	if scale == 0 || adjusted >= -6 {
		if scale == 0 {
			return sign + digits
		}
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		k := len(digits) - scale
		return sign + digits[:k] + "." + digits[k:]
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "E" + strconv.Itoa(adjusted)
}

func variantCastErr(enc string, to row.Type) error {
	return fmt.Errorf("expr: CAST: Cannot cast a VARIANT %s value to %s. A VARIANT cast does not change the type of the stored value, so cast it to its own type first and then convert with a regular cast.",
		row.VariantKindOf(enc), variantTarget(to))
}

func variantOverflow(value string, to row.Type) error {
	return fmt.Errorf("expr: CAST: Casting the VARIANT value %s to %s overflowed.", value, variantTarget(to))
}

func variantLossy(value string, to row.Type) error {
	return fmt.Errorf("expr: CAST: Casting the VARIANT value %s to %s would lose precision. Cast it to a type that holds the value exactly first, then narrow if needed.",
		value, variantTarget(to))
}

func variantWrongShape(enc string, to row.Type, required string) error {
	return fmt.Errorf("expr: CAST: Cannot cast a VARIANT %s value to %s because the target requires %s. Only a variant array casts to ARRAY and only a variant object casts to ROW, STRUCTURED, or MAP.",
		row.VariantKindOf(enc), variantTarget(to), required)
}

// castFromVariant returns the cast of a non-NULL VARIANT value to to. A
// top-level JSON null gives errCastNull (SQL NULL), except for a VARIANT
// target.
func castFromVariant(to row.Type) castFn {
	if to.Root == row.TypeVariant {
		return identity
	}
	inner := castVariantValue(to)
	return func(ctx *EvalContext, v row.Value) (row.Value, error) {
		if row.VariantKindOf(v.Str()) == row.VariantNull {
			return row.Value{}, errCastNull
		}
		return inner(ctx, v.Str())
	}
}

// variantCast casts a variant that is not a JSON null.
type variantCast func(ctx *EvalContext, enc string) (row.Value, error)

// castVariantValue builds the cast of a non-null variant to to.
func castVariantValue(to row.Type) variantCast {
	switch {
	case to.Root == row.TypeVariant:
		return func(_ *EvalContext, enc string) (row.Value, error) { return row.Variant(enc), nil }
	case to.IsString():
		fit := fitString(to)
		return func(_ *EvalContext, enc string) (row.Value, error) {
			s := string(appendVariantSQL(nil, enc))
			if fit != nil {
				s = fit(s)
			}
			return row.Str(s), nil
		}
	case to.Root == row.TypeBoolean:
		return func(_ *EvalContext, enc string) (row.Value, error) {
			switch row.VariantKindOf(enc) {
			case row.VariantTrue:
				return row.Bool(true), nil
			case row.VariantFalse:
				return row.Bool(false), nil
			}
			return row.Value{}, variantCastErr(enc, to)
		}
	case to.IsInteger():
		lo, hi := intRange(to.Root)
		return func(_ *EvalContext, enc string) (row.Value, error) {
			x, err := variantIntegral(enc, to)
			if err != nil {
				return row.Value{}, err
			}
			if x < lo || x > hi {
				// Flink reports the value read as a long: 3e2 is 300.
				return row.Value{}, variantOverflow(strconv.FormatInt(x, 10), to)
			}
			return row.Int(x), nil
		}
	case to.Root == row.TypeFloat || to.Root == row.TypeDouble:
		f32 := to.Root == row.TypeFloat
		return func(_ *EvalContext, enc string) (row.Value, error) {
			f, err := variantApprox(enc, to, f32)
			if err != nil {
				return row.Value{}, err
			}
			return row.Float(f), nil
		}
	case to.Root == row.TypeDecimal:
		return func(_ *EvalContext, enc string) (row.Value, error) { return variantToDecimal(enc, to) }
	case to.Root == row.TypeArray:
		return castVariantArray(to)
	case to.Root == row.TypeRow:
		return castVariantRow(to)
	case to.Root == row.TypeMap:
		return castVariantMap(to)
	}
	// BINARY, DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ: only from a variant of
	// that kind, which JSON never produces.
	return func(_ *EvalContext, enc string) (row.Value, error) { return row.Value{}, variantCastErr(enc, to) }
}

// variantIntegral reads a numeric variant as an int64 without rounding:
// a DOUBLE or DECIMAL must be integral (else the cast would lose
// precision) and within int64 (else it overflows).
func variantIntegral(enc string, to row.Type) (int64, error) {
	if x, ok := row.VariantInt(enc); ok {
		return x, nil
	}
	if f, ok := row.VariantFloat(enc); ok {
		// Below 2^63 in magnitude the conversion is exact; NaN fails too.
		if !(math.Abs(f) < 1<<63) {
			return 0, variantOverflow(variantValue(enc), to)
		}
		if math.Trunc(f) != f {
			return 0, variantLossy(variantValue(enc), to)
		}
		return int64(f), nil
	}
	if u, scale, ok := row.VariantDecimalOf(enc); ok {
		q, r := new(big.Int).QuoRem(u, pow10(scale), new(big.Int))
		if r.Sign() != 0 {
			return 0, variantLossy(variantValue(enc), to)
		}
		if !q.IsInt64() {
			return 0, variantOverflow(variantValue(enc), to)
		}
		return q.Int64(), nil
	}
	return 0, variantCastErr(enc, to)
}

// variantApprox reads any numeric variant as a DOUBLE (or FLOAT): digits
// may go, a magnitude past the type's range fails.
func variantApprox(enc string, to row.Type, f32 bool) (float64, error) {
	var f float64
	if x, ok := row.VariantInt(enc); ok {
		f = float64(x)
		if f32 {
			f = float64(float32(x))
		}
	} else if d, ok := row.VariantFloat(enc); ok {
		f = d
		if f32 {
			f = float64(float32(d))
		}
	} else if u, scale, ok := row.VariantDecimalOf(enc); ok {
		r := new(big.Rat).SetFrac(u, pow10(scale))
		if f32 {
			g, _ := r.Float32()
			f = float64(g)
		} else {
			f, _ = r.Float64()
		}
	} else {
		return 0, variantCastErr(enc, to)
	}
	if math.IsInf(f, 0) {
		return 0, variantOverflow(variantValue(enc), to)
	}
	return f, nil
}

// variantToDecimal reads an integer or DECIMAL variant as to: the
// integral digits must fit (else it overflows), then trailing zeros may be
// added to reach the scale, but no digit is dropped (else the cast would
// lose precision).
func variantToDecimal(enc string, to row.Type) (row.Value, error) {
	var u *big.Int
	scale := 0
	if x, ok := row.VariantInt(enc); ok {
		u = big.NewInt(x)
	} else if d, s, ok := row.VariantDecimalOf(enc); ok {
		u, scale = d, s
	} else {
		return row.Value{}, variantCastErr(enc, to)
	}
	// The integral digits are checked first, as Flink's toDecimal does, so
	// a value too long on both sides overflows rather than losing
	// precision. (Flink counts an integral zero as one digit; Weir does
	// not, so 0 fits DECIMAL(2, 2).)
	if ip := new(big.Int).Quo(new(big.Int).Abs(u), pow10(scale)); ip.Sign() != 0 && len(ip.String()) > to.Precision-to.Scale {
		return row.Value{}, variantOverflow(variantValue(enc), to)
	}
	switch {
	case to.Scale > scale:
		u = new(big.Int).Mul(u, pow10(to.Scale-scale))
	case to.Scale < scale:
		q, r := new(big.Int).QuoRem(u, pow10(scale-to.Scale), new(big.Int))
		if r.Sign() != 0 {
			return row.Value{}, variantLossy(variantValue(enc), to)
		}
		u = q
	}
	v, ok := row.DecimalFromUnscaled(u, to)
	if !ok {
		return row.Value{}, variantOverflow(variantValue(enc), to)
	}
	return v, nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// castVariantArray: the variant must be an array; each element casts to
// the element type.
func castVariantArray(to row.Type) variantCast {
	elem := castVariantValue(*to.Elem)
	keepNull := to.Elem.Root == row.TypeVariant
	nullable := to.Elem.Nullable
	return func(ctx *EvalContext, enc string) (row.Value, error) {
		elems, ok := row.VariantElems(enc)
		if !ok {
			return row.Value{}, variantWrongShape(enc, to, "an array")
		}
		out := make([]row.Value, len(elems))
		for i, e := range elems {
			if row.VariantKindOf(e) == row.VariantNull && !keepNull {
				if !nullable {
					return row.Value{}, fmt.Errorf("expr: CAST: Cannot cast a VARIANT null array element to a NOT NULL element type.")
				}
				continue
			}
			r, err := elem(ctx, e)
			if err != nil {
				return row.Value{}, err
			}
			out[i] = r
		}
		return row.Array(out), nil
	}
}

// castVariantRow: the variant must be an object; each field of the target
// is looked up by name and cast to its type.
func castVariantRow(to row.Type) variantCast {
	fields := make([]variantCast, len(to.Fields))
	for i, f := range to.Fields {
		fields[i] = castVariantValue(f.Type)
	}
	return func(ctx *EvalContext, enc string) (row.Value, error) {
		if row.VariantKindOf(enc) != row.VariantObject {
			return row.Value{}, variantWrongShape(enc, to, "an object")
		}
		out := make([]row.Value, len(fields))
		for i, f := range to.Fields {
			fv, ok := row.VariantField(enc, f.Name)
			if !ok {
				return row.Value{}, fmt.Errorf("expr: CAST: Cannot cast the VARIANT object to %s because the field '%s' is not present in the VARIANT.", variantTarget(to), f.Name)
			}
			if row.VariantKindOf(fv) == row.VariantNull && f.Type.Root != row.TypeVariant {
				if !f.Type.Nullable {
					return row.Value{}, fmt.Errorf("expr: CAST: Cannot cast the VARIANT object to %s because the field '%s' is a VARIANT null and the target does not accept NULL.", variantTarget(to), f.Name)
				}
				continue
			}
			r, err := fields[i](ctx, fv)
			if err != nil {
				return row.Value{}, err
			}
			out[i] = r
		}
		return row.Nested(out), nil
	}
}

// castVariantMap: the variant must be an object; each key (fitted to the
// key type) maps to its value cast to the value type. Keys that a
// shorter key type makes equal keep the last value, as Flink's map does.
func castVariantMap(to row.Type) variantCast {
	val := castVariantValue(*to.Value)
	keepNull := to.Value.Root == row.TypeVariant
	nullable := to.Value.Nullable
	fit := fitString(*to.Elem)
	return func(ctx *EvalContext, enc string) (row.Value, error) {
		names, vals, ok := row.VariantFields(enc)
		if !ok {
			return row.Value{}, variantWrongShape(enc, to, "an object")
		}
		keys := make([]row.Value, 0, len(names))
		out := make([]row.Value, 0, len(names))
		var seen map[string]int
		for i, name := range names {
			var r row.Value
			if row.VariantKindOf(vals[i]) == row.VariantNull && !keepNull {
				if !nullable {
					return row.Value{}, fmt.Errorf("expr: CAST: Cannot cast a VARIANT null object value to a NOT NULL map value type.")
				}
			} else {
				var err error
				if r, err = val(ctx, vals[i]); err != nil {
					return row.Value{}, err
				}
			}
			if fit != nil {
				name = fit(name)
				if seen == nil {
					seen = make(map[string]int, len(names))
				}
				if j, dup := seen[name]; dup {
					out[j] = r
					continue
				}
				seen[name] = len(keys)
			}
			keys = append(keys, row.Str(name))
			out = append(out, r)
		}
		return row.Map(keys, out), nil
	}
}

// appendVariantSQL appends a variant's rendering by CAST to a character
// string: a scalar as a regular cast of its kind renders it (a string
// unquoted, TRUE/FALSE, a DOUBLE as Java's Double.toString, a DECIMAL as
// toPlainString), an array as [e1, e2], an object as {k1=v1, k2=v2} (keys
// ascending), a nested JSON null as NULL.
func appendVariantSQL(b []byte, enc string) []byte {
	switch row.VariantKindOf(enc) {
	case row.VariantNull:
		return append(b, "NULL"...)
	case row.VariantTrue:
		return append(b, "TRUE"...)
	case row.VariantFalse:
		return append(b, "FALSE"...)
	case row.VariantString:
		s, _ := row.VariantStr(enc)
		return append(b, s...)
	case row.VariantArray:
		elems, _ := row.VariantElems(enc)
		b = append(b, '[')
		for i, e := range elems {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendVariantSQL(b, e)
		}
		return append(b, ']')
	case row.VariantObject:
		keys, vals, _ := row.VariantFields(enc)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, k...)
			b = append(b, '=')
			b = appendVariantSQL(b, vals[i])
		}
		return append(b, '}')
	}
	if x, ok := row.VariantInt(enc); ok {
		return strconv.AppendInt(b, x, 10)
	}
	// DOUBLE and DECIMAL print as in JSON (Java's Double.toString and
	// BigDecimal.toPlainString).
	return row.AppendVariantJSON(b, enc)
}
