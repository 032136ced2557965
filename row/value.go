package row

import (
	"math"
	"math/big"
)

// Value is one field of a row. Which member holds the datum is fixed by the
// field's Type (see the package documentation); the zero Value is NULL.
type Value struct {
	i int64
	s string
	// p is nil for NULL, present{} for a non-NULL scalar, nanoOfMilli for
	// a timestamp with a sub-millisecond part, *big.Int for a wide
	// DECIMAL, []Value for ARRAY and ROW, *MapData for MAP.
	p any
}

// present marks a non-NULL scalar; it has no size, so storing it in p
// allocates nothing.
type present struct{}

// nanoOfMilli is the sub-millisecond part of a timestamp, 1..999999.
type nanoOfMilli int32

// MapData is the datum of a MAP: parallel key and value slices, keys
// distinct, in insertion order.
type MapData struct {
	Keys, Values []Value
}

// Null is the NULL value of any type (the zero Value).
func Null() Value { return Value{} }

// Bool makes a BOOLEAN.
func Bool(b bool) Value {
	if b {
		return Value{i: 1, p: present{}}
	}
	return Value{p: present{}}
}

// Int makes a TINYINT, SMALLINT, INT or BIGINT, a DATE (days since the
// epoch), a TIME (nanoseconds of the day), an interval (months or
// milliseconds) or a compact DECIMAL (the unscaled value).
func Int(i int64) Value { return Value{i: i, p: present{}} }

// Float makes a FLOAT or DOUBLE.
func Float(f float64) Value { return Value{i: int64(math.Float64bits(f)), p: present{}} }

// Str makes a CHAR, VARCHAR or STRING.
func Str(s string) Value { return Value{s: s, p: present{}} }

// Bytes makes a BINARY, VARBINARY or BYTES from a copy of b.
func Bytes(b []byte) Value { return Value{s: string(b), p: present{}} }

// BytesString makes a binary value whose bytes are those of s (no copy).
func BytesString(s string) Value { return Value{s: s, p: present{}} }

// Timestamp makes a TIMESTAMP or TIMESTAMP_LTZ from epoch milliseconds and
// the nanoseconds within the millisecond (0..999999), as Flink's
// TimestampData.
func Timestamp(millis int64, nanoOfMilli int32) Value {
	if nanoOfMilli == 0 {
		return Value{i: millis, p: present{}}
	}
	return Value{i: millis, p: nanoOfMilliValue(nanoOfMilli)}
}

func nanoOfMilliValue(n int32) any { return nanoOfMilli(n) }

// TimestampNanos makes a timestamp from nanoseconds since the epoch.
func TimestampNanos(ns int64) Value {
	ms := floorDiv(ns, 1e6)
	return Timestamp(ms, int32(ns-ms*1e6))
}

// BigDecimal makes a DECIMAL of precision > 18 from its unscaled value
// (which is not copied and must not be modified afterwards).
func BigDecimal(unscaled *big.Int) Value { return Value{p: unscaled} }

// Array makes an ARRAY from its elements (not copied).
func Array(elems []Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{p: elems}
}

// Nested makes a ROW value from its fields (not copied).
func Nested(fields []Value) Value {
	if fields == nil {
		fields = []Value{}
	}
	return Value{p: fields}
}

// Map makes a MAP from parallel keys and values (not copied).
func Map(keys, values []Value) Value { return Value{p: &MapData{Keys: keys, Values: values}} }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.p == nil }

// Int returns the integer datum (see the package documentation for which
// types hold one).
func (v Value) Int() int64 { return v.i }

// Bool returns the BOOLEAN datum.
func (v Value) Bool() bool { return v.i != 0 }

// Float returns the FLOAT or DOUBLE datum.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.i)) }

// Str returns the string or binary datum.
func (v Value) Str() string { return v.s }

// Millis returns a timestamp's epoch milliseconds.
func (v Value) Millis() int64 { return v.i }

// NanoOfMilli returns a timestamp's nanoseconds within the millisecond.
func (v Value) NanoOfMilli() int32 {
	if n, ok := v.p.(nanoOfMilli); ok {
		return int32(n)
	}
	return 0
}

// UnixNanos returns a timestamp as nanoseconds since the epoch; ok is false
// if it does not fit in an int64 (before 1677 or after 2262).
func (v Value) UnixNanos() (ns int64, ok bool) {
	if v.i > math.MaxInt64/1_000_000-1 || v.i < math.MinInt64/1_000_000+1 {
		return 0, false
	}
	return v.i*1e6 + int64(v.NanoOfMilli()), true
}

// BigInt returns the unscaled value of a wide DECIMAL.
func (v Value) BigInt() *big.Int {
	b, _ := v.p.(*big.Int)
	return b
}

// Elems returns the elements of an ARRAY or the fields of a ROW value.
func (v Value) Elems() []Value {
	e, _ := v.p.([]Value)
	return e
}

// MapOf returns the entries of a MAP.
func (v Value) MapOf() *MapData {
	m, _ := v.p.(*MapData)
	return m
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Row is one changelog entry: a kind and the fields of the row.
type Row struct {
	Kind   Kind
	Fields []Value
}

// New returns an insert row of n NULL fields.
func New(n int) Row { return Row{Fields: make([]Value, n)} }

// Of returns an insert row of the given fields (not copied).
func Of(fields ...Value) Row { return Row{Fields: fields} }

// Clone returns a copy of r whose field slice is its own (the values
// themselves are immutable and shared).
func (r Row) Clone() Row {
	f := make([]Value, len(r.Fields))
	copy(f, r.Fields)
	return Row{Kind: r.Kind, Fields: f}
}

// WithKind returns r with another kind (sharing the fields).
func (r Row) WithKind(k Kind) Row { r.Kind = k; return r }
