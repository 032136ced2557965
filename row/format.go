package row

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Format prints a value of type t the way Flink's SQL client and print
// sink show it (Flink's CAST(... AS STRING) rules): TRUE/FALSE, numbers
// as Java prints them (DOUBLE 1.0, 1.0E10), DECIMAL with its scale,
// DATE 2020-04-15, TIME 10:00:00, TIMESTAMP(3) 2020-04-15 08:05:00.000,
// TIMESTAMP_LTZ in UTC (see FormatIn), intervals as +1 10:00:00.000 and
// +1-02, BYTES as x'0aff', ARRAY [1, 2], MAP {a=1, b=2}, ROW (1, a), and
// NULL as NULL.
func Format(v Value, t Type) string { return FormatIn(v, t, time.UTC) }

// FormatIn is Format with TIMESTAMP_LTZ values shown in loc (Flink's
// table.local-time-zone).
func FormatIn(v Value, t Type, loc *time.Location) string {
	var b strings.Builder
	appendFormat(&b, v, t, loc)
	return b.String()
}

func appendFormat(b *strings.Builder, v Value, t Type, loc *time.Location) {
	if v.IsNull() {
		b.WriteString("NULL")
		return
	}
	switch t.Root {
	case TypeBoolean:
		if v.Bool() {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case TypeFloat:
		b.WriteString(JavaFloatString(v.Float(), 32))
	case TypeDouble:
		b.WriteString(JavaFloatString(v.Float(), 64))
	case TypeDecimal:
		b.WriteString(DecimalString(v, t))
	case TypeChar, TypeVarChar:
		b.WriteString(v.Str())
	case TypeBinary, TypeVarBinary:
		b.WriteString("x'")
		b.WriteString(hex.EncodeToString([]byte(v.Str())))
		b.WriteByte('\'')
	case TypeDate:
		b.WriteString(FormatDate(v.i))
	case TypeTime:
		b.WriteString(FormatTime(v.i, t.Precision))
	case TypeTimestamp:
		b.WriteString(FormatTimestamp(v, t.Precision, time.UTC))
	case TypeTimestampLTZ:
		b.WriteString(FormatTimestamp(v, t.Precision, loc))
	case TypeIntervalYearMonth:
		m := v.i
		sign := "+"
		if m < 0 {
			sign, m = "-", -m
		}
		b.WriteString(sign + strconv.FormatInt(m/12, 10) + "-" + pad2(m%12))
	case TypeIntervalDayTime:
		ms := v.i
		sign := "+"
		if ms < 0 {
			sign, ms = "-", -ms
		}
		days := ms / 86400000
		b.WriteString(sign + strconv.FormatInt(days, 10) + " ")
		b.WriteString(FormatTime((ms%86400000)*1e6, 3))
	case TypeArray:
		b.WriteByte('[')
		for i, e := range v.Elems() {
			if i > 0 {
				b.WriteString(", ")
			}
			appendFormat(b, e, *t.Elem, loc)
		}
		b.WriteByte(']')
	case TypeMap, TypeMultiset:
		m := v.MapOf()
		b.WriteByte('{')
		for i := range m.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			appendFormat(b, m.Keys[i], *t.Elem, loc)
			b.WriteByte('=')
			appendFormat(b, m.Values[i], *t.Value, loc)
		}
		b.WriteByte('}')
	case TypeVariant:
		// Flink prints a VARIANT as its JSON text (Variant.toString).
		b.Write(AppendVariantJSON(nil, v.Str()))
	case TypeRow:
		b.WriteByte('(')
		for i, e := range v.Elems() {
			if i > 0 {
				b.WriteString(", ")
			}
			if i < len(t.Fields) {
				appendFormat(b, e, t.Fields[i].Type, loc)
			}
		}
		b.WriteByte(')')
	default:
		b.WriteString("?")
	}
}

// FormatRow prints a row as Flink's print sink does: "+I[1, abc, NULL]".
func FormatRow(r Row, types []Type) string {
	var b strings.Builder
	b.WriteString(r.Kind.String())
	b.WriteByte('[')
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(types) {
			appendFormat(&b, f, types[i], time.UTC)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// JavaFloatString prints f as Java's Double.toString (bits 64) or
// Float.toString (bits 32): the shortest digits that round-trip, plain
// for 1e-3 <= |f| < 1e7 ("1.0", "0.001"), else scientific ("1.0E7",
// "1.5E-4"); NaN, Infinity, -Infinity.
func JavaFloatString(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bits) // 1.5e-04
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// FormatDate prints days since the epoch as yyyy-MM-dd.
func FormatDate(days int64) string {
	return time.Unix(days*86400, 0).UTC().Format("2006-01-02")
}

// FormatTime prints nanoseconds of the day as HH:mm:ss with p fractional
// digits.
func FormatTime(nanos int64, p int) string {
	s := nanos / 1e9
	out := pad2(s/3600) + ":" + pad2(s/60%60) + ":" + pad2(s%60)
	return out + fraction(nanos%1e9, p)
}

// FormatTimestamp prints a timestamp in loc as yyyy-MM-dd HH:mm:ss with p
// fractional digits.
func FormatTimestamp(v Value, p int, loc *time.Location) string {
	t := time.UnixMilli(v.i).In(loc)
	frac := int64(t.Nanosecond()) + int64(v.NanoOfMilli())
	return t.Format("2006-01-02 15:04:05") + fraction(frac, p)
}

func fraction(nanos int64, p int) string {
	if p <= 0 {
		return ""
	}
	if p > 9 {
		p = 9
	}
	s := strconv.FormatInt(nanos+1e9, 10)[1:] // 9 digits, zero-padded
	return "." + s[:p]
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
