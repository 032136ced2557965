package row

import (
	"math"
	"math/big"
	"unsafe"
)

// Value is one field of a row. Which member holds the datum is fixed by the
// field's Type (see the package documentation); the zero Value is NULL.
//
// A Value is three words with one pointer: rows are slices of Values, so
// their size is what every operator copies and the garbage collector scans.
// Only strings, ARRAYs, ROWs, wide DECIMALs and MAPs hold a pointer: a
// scalar's p is nil, so storing one into a row (a slab of fields) gives
// the garbage collector's write barrier and its scan of the row nothing
// to look up, and NULL is told by the tag alone.
type Value struct {
	// p is the data of a non-empty string (tag tagStr), the first element
	// of a non-empty ARRAY's or ROW's fields (tagSlice), a *big.Int
	// (tagBig) or a *MapData (tagMap); nil otherwise.
	p unsafe.Pointer
	// i is the integer datum of a scalar, or the length of a string or
	// slice.
	i int64
	// tag says what the Value holds: tagNull (0, the zero Value) for NULL.
	tag uint32
	// nano is a timestamp's sub-millisecond part, 0..999999.
	nano int32
}

// The tags of a Value; the zero Value is NULL.
const (
	tagNull uint32 = iota
	tagScalar
	tagStr
	tagSlice
	tagBig
	tagMap
)

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
		return Value{i: 1, tag: tagScalar}
	}
	return Value{tag: tagScalar}
}

// Int makes a TINYINT, SMALLINT, INT or BIGINT, a DATE (days since the
// epoch), a TIME (nanoseconds of the day), an interval (months or
// milliseconds) or a compact DECIMAL (the unscaled value).
func Int(i int64) Value { return Value{i: i, tag: tagScalar} }

// Float makes a FLOAT or DOUBLE.
func Float(f float64) Value { return Value{i: int64(math.Float64bits(f)), tag: tagScalar} }

// Str makes a CHAR, VARCHAR or STRING.
func Str(s string) Value {
	if len(s) == 0 {
		return Value{tag: tagStr}
	}
	return Value{p: unsafe.Pointer(unsafe.StringData(s)), i: int64(len(s)), tag: tagStr}
}

// Bytes makes a BINARY, VARBINARY or BYTES from a copy of b.
func Bytes(b []byte) Value { return Str(string(b)) }

// BytesString makes a binary value whose bytes are those of s (no copy).
func BytesString(s string) Value { return Str(s) }

// Timestamp makes a TIMESTAMP or TIMESTAMP_LTZ from epoch milliseconds and
// the nanoseconds within the millisecond (0..999999), as Flink's
// TimestampData.
func Timestamp(millis int64, nanoOfMilli int32) Value {
	return Value{i: millis, tag: tagScalar, nano: nanoOfMilli}
}

// TimestampNanos makes a timestamp from nanoseconds since the epoch.
func TimestampNanos(ns int64) Value {
	ms := floorDiv(ns, 1e6)
	return Timestamp(ms, int32(ns-ms*1e6))
}

// BigDecimal makes a DECIMAL of precision > 18 from its unscaled value
// (which is not copied and must not be modified afterwards). An unscaled
// value that fits an int64 is held inline, as BigDecimalInt64's.
func BigDecimal(unscaled *big.Int) Value {
	if unscaled == nil {
		return Value{}
	}
	if unscaled.IsInt64() {
		return BigDecimalInt64(unscaled.Int64())
	}
	return Value{p: unsafe.Pointer(unscaled), tag: tagBig}
}

// BigDecimalInt64 makes a DECIMAL of precision > 18 from an unscaled value
// that fits an int64, without a big.Int: Int() returns it and BigInt()
// nil (DecimalUnscaled and DecimalInt64 read either form).
func BigDecimalInt64(unscaled int64) Value { return Int(unscaled) }

// Array makes an ARRAY from its elements (not copied).
func Array(elems []Value) Value { return slice(elems) }

// Nested makes a ROW value from its fields (not copied).
func Nested(fields []Value) Value { return slice(fields) }

func slice(elems []Value) Value {
	if len(elems) == 0 {
		return Value{tag: tagSlice}
	}
	return Value{p: unsafe.Pointer(unsafe.SliceData(elems)), i: int64(len(elems)), tag: tagSlice}
}

// Map makes a MAP from parallel keys and values (not copied).
func Map(keys, values []Value) Value {
	return Value{p: unsafe.Pointer(&MapData{Keys: keys, Values: values}), tag: tagMap}
}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.tag == tagNull }

// Int returns the integer datum (see the package documentation for which
// types hold one).
func (v Value) Int() int64 {
	if v.tag != tagScalar {
		return 0
	}
	return v.i
}

// Bool returns the BOOLEAN datum.
func (v Value) Bool() bool { return v.Int() != 0 }

// Float returns the FLOAT or DOUBLE datum.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.Int())) }

// Str returns the string or binary datum.
func (v Value) Str() string {
	if v.tag != tagStr {
		return ""
	}
	return unsafe.String((*byte)(v.p), int(v.i))
}

// Millis returns a timestamp's epoch milliseconds.
func (v Value) Millis() int64 { return v.Int() }

// NanoOfMilli returns a timestamp's nanoseconds within the millisecond.
func (v Value) NanoOfMilli() int32 { return v.nano }

// UnixNanos returns a timestamp as nanoseconds since the epoch; ok is false
// if it does not fit in an int64 (before 1677 or after 2262).
func (v Value) UnixNanos() (ns int64, ok bool) {
	ms := v.Int()
	if ms > math.MaxInt64/1_000_000-1 || ms < math.MinInt64/1_000_000+1 {
		return 0, false
	}
	return ms*1e6 + int64(v.nano), true
}

// BigInt returns the unscaled value of a wide DECIMAL held as a big.Int,
// or nil if it is held inline (it fits an int64: Int()). DecimalUnscaled
// reads either form.
func (v Value) BigInt() *big.Int {
	if v.tag != tagBig {
		return nil
	}
	return (*big.Int)(v.p)
}

// Elems returns the elements of an ARRAY or the fields of a ROW value.
func (v Value) Elems() []Value {
	if v.tag != tagSlice {
		return nil
	}
	if v.i == 0 {
		return []Value{}
	}
	return unsafe.Slice((*Value)(v.p), int(v.i))
}

// MapOf returns the entries of a MAP.
func (v Value) MapOf() *MapData {
	if v.tag != tagMap {
		return nil
	}
	return (*MapData)(v.p)
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
