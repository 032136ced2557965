package row

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/weirstream/weir/codec"
)

// Codec encodes rows whose fields have the given types. It implements
// codec.Codec[Row] so rows can be kept in any Weir state backend. The
// encoding is: the kind (1 byte), the field count (uvarint), a NULL bitmap
// (one bit per field), then each non-NULL field (see AppendValue).
type Codec struct {
	types []Type
}

var _ codec.Codec[Row] = (*Codec)(nil)

// NewCodec returns a codec for rows of the given field types.
func NewCodec(types []Type) *Codec { return &Codec{types: types} }

// Schema describes the layout, for state compatibility checks: two codecs
// read each other's bytes exactly when their schemas are equal.
func (c *Codec) Schema() string {
	parts := make([]string, len(c.types))
	for i, t := range c.types {
		parts[i] = t.WithNullable(true).String()
	}
	return "row[" + strings.Join(parts, ", ") + "]"
}

// Len returns the number of fields of the codec's rows.
func (c *Codec) Len() int { return len(c.types) }

// Append appends the encoding of r.
func (c *Codec) Append(dst []byte, r Row) []byte {
	dst = append(dst, byte(r.Kind))
	if len(r.Fields) > len(c.types) {
		return appendFields(dst, r.Fields, func(i int) Type { return c.types[i] })
	}
	return c.appendFields(dst, r.Fields)
}

// appendFields is appendFields for the fields of a row of c: the same
// bytes, with the types read in place and the common scalars encoded
// inline, not through a per-field closure returning the Type by value.
func (c *Codec) appendFields(dst []byte, fields []Value) []byte {
	n := len(fields)
	dst = binary.AppendUvarint(dst, uint64(n))
	start := len(dst)
	for range (n + 7) / 8 {
		dst = append(dst, 0)
	}
	types := c.types[:n]
	for i := range fields {
		f := &fields[i]
		if f.IsNull() {
			dst[start+i/8] |= 1 << (i % 8)
			continue
		}
		t := &types[i]
		switch t.Root {
		case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeDate, TypeTime:
			dst = binary.AppendVarint(dst, f.i)
		case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary, TypeVariant:
			s := f.Str()
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		case TypeTimestamp, TypeTimestampLTZ:
			dst = binary.AppendVarint(dst, f.i)
			dst = binary.AppendUvarint(dst, uint64(f.NanoOfMilli()))
		default:
			dst = AppendValue(dst, *f, *t)
		}
	}
	return dst
}

// Decode decodes one row from the start of src.
func (c *Codec) Decode(src []byte) (Row, int, error) {
	if len(src) < 1 {
		return Row{}, 0, corrupt("row kind")
	}
	k := Kind(src[0])
	if k > Delete {
		return Row{}, 0, corrupt(fmt.Sprintf("row kind %d", k))
	}
	fields, n, err := c.decodeFields(src[1:])
	if err != nil {
		return Row{}, 0, err
	}
	return Row{Kind: k, Fields: fields}, n + 1, nil
}

func corrupt(what string) error { return fmt.Errorf("%w: row: %s", codec.ErrCorrupt, what) }

func appendFields(dst []byte, fields []Value, typ func(int) Type) []byte {
	n := len(fields)
	dst = binary.AppendUvarint(dst, uint64(n))
	start := len(dst)
	for range (n + 7) / 8 {
		dst = append(dst, 0)
	}
	for i, f := range fields {
		if f.IsNull() {
			dst[start+i/8] |= 1 << (i % 8)
			continue
		}
		dst = AppendValue(dst, f, typ(i))
	}
	return dst
}

// decodeFields is decodeFields for the fields of a row of c: the same
// rows and errors, with the types read in place and integers, strings and
// timestamps decoded inline, not through a per-field closure returning
// the Type by value.
func (c *Codec) decodeFields(src []byte) ([]Value, int, error) {
	n, off, bitmap, err := fieldsHeader(src, len(c.types))
	if err != nil {
		return nil, 0, err
	}
	fields := make([]Value, n)
	for i := range fields {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		t := &c.types[i]
		b := src[off:]
		switch t.Root {
		case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeDate, TypeTime:
			x, m := binary.Varint(b)
			if m <= 0 {
				return nil, 0, fmt.Errorf("field %d: %w", i, corrupt("integer"))
			}
			fields[i] = Int(x)
			off += m
			continue
		case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
			l, m := binary.Uvarint(b)
			if m <= 0 || l > uint64(len(b)-m) {
				return nil, 0, fmt.Errorf("field %d: %w", i, corrupt("string length"))
			}
			fields[i] = Str(string(b[m : m+int(l)]))
			off += m + int(l)
			continue
		}
		v, m, err := DecodeValue(b, *t)
		if err != nil {
			return nil, 0, fmt.Errorf("field %d: %w", i, err)
		}
		fields[i] = v
		off += m
	}
	return fields, off, nil
}

// fieldsHeader reads an encoded row's field count (which must be want,
// unless want < 0) and null bitmap; off is where the first field starts.
func fieldsHeader(src []byte, want int) (n, off int, bitmap []byte, err error) {
	n64, k := binary.Uvarint(src)
	if k <= 0 || (want >= 0 && n64 != uint64(want)) || n64 > uint64(len(src))*8 {
		return 0, 0, nil, corrupt(fmt.Sprintf("field count %d (want %d)", n64, want))
	}
	n = int(n64)
	off = k
	nb := (n + 7) / 8
	if len(src) < off+nb {
		return 0, 0, nil, corrupt("null bitmap")
	}
	return n, off + nb, src[off : off+nb], nil
}

func decodeFields(src []byte, want int, typ func(int) Type) ([]Value, int, error) {
	n, off, bitmap, err := fieldsHeader(src, want)
	if err != nil {
		return nil, 0, err
	}
	fields := make([]Value, n)
	for i := range fields {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		v, m, err := DecodeValue(src[off:], typ(i))
		if err != nil {
			return nil, 0, fmt.Errorf("field %d: %w", i, err)
		}
		fields[i] = v
		off += m
	}
	return fields, off, nil
}

// AppendValue appends the encoding of a non-NULL value of type t. Equal
// values (by their representation) encode to equal bytes, so the encoding
// also serves as a grouping key.
func AppendValue(dst []byte, v Value, t Type) []byte {
	switch t.Root {
	case TypeBoolean:
		return append(dst, byte(v.i&1))
	case TypeFloat, TypeDouble:
		return binary.LittleEndian.AppendUint64(dst, uint64(v.i))
	case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary, TypeVariant:
		dst = binary.AppendUvarint(dst, uint64(len(v.Str())))
		return append(dst, v.Str()...)
	case TypeTimestamp, TypeTimestampLTZ:
		dst = binary.AppendVarint(dst, v.i)
		return binary.AppendUvarint(dst, uint64(v.NanoOfMilli()))
	case TypeDecimal:
		if t.IsCompactDecimal() {
			return binary.AppendVarint(dst, v.i)
		}
		u := DecimalUnscaled(v, t)
		sign := byte(0)
		if u.Sign() < 0 {
			sign = 1
		}
		b := new(big.Int).Abs(u).Bytes()
		dst = append(dst, sign)
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		return append(dst, b...)
	case TypeArray:
		return appendFields(dst, v.Elems(), func(int) Type { return *t.Elem })
	case TypeRow:
		return appendFields(dst, v.Elems(), func(i int) Type { return t.Fields[i].Type })
	case TypeMap, TypeMultiset:
		m := v.MapOf()
		dst = appendFields(dst, m.Keys, func(int) Type { return *t.Elem })
		return appendFields(dst, m.Values, func(int) Type { return *t.Value })
	}
	return binary.AppendVarint(dst, v.i)
}

// DecodeValue decodes one non-NULL value of type t from the start of src.
func DecodeValue(src []byte, t Type) (Value, int, error) {
	switch t.Root {
	case TypeBoolean:
		if len(src) < 1 || src[0] > 1 {
			return Value{}, 0, corrupt("boolean")
		}
		return Bool(src[0] == 1), 1, nil
	case TypeFloat, TypeDouble:
		if len(src) < 8 {
			return Value{}, 0, corrupt("double")
		}
		return Float(math.Float64frombits(binary.LittleEndian.Uint64(src))), 8, nil
	case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
		l, k := binary.Uvarint(src)
		if k <= 0 || l > uint64(len(src)-k) {
			return Value{}, 0, corrupt("string length")
		}
		return Str(string(src[k : k+int(l)])), k + int(l), nil
	case TypeVariant:
		l, k := binary.Uvarint(src)
		if k <= 0 || l > uint64(len(src)-k) {
			return Value{}, 0, corrupt("variant length")
		}
		enc := string(src[k : k+int(l)])
		if err := ValidateVariant(enc); err != nil {
			return Value{}, 0, err
		}
		return Variant(enc), k + int(l), nil
	case TypeTimestamp, TypeTimestampLTZ:
		ms, k := binary.Varint(src)
		if k <= 0 {
			return Value{}, 0, corrupt("timestamp")
		}
		ns, k2 := binary.Uvarint(src[k:])
		if k2 <= 0 || ns > 999999 {
			return Value{}, 0, corrupt("timestamp nanos")
		}
		return Timestamp(ms, int32(ns)), k + k2, nil
	case TypeDecimal:
		if t.IsCompactDecimal() {
			break
		}
		if len(src) < 1 || src[0] > 1 {
			return Value{}, 0, corrupt("decimal sign")
		}
		l, k := binary.Uvarint(src[1:])
		if k <= 0 || l > uint64(len(src)-1-k) {
			return Value{}, 0, corrupt("decimal length")
		}
		u := new(big.Int).SetBytes(src[1+k : 1+k+int(l)])
		if src[0] == 1 {
			u.Neg(u)
		}
		return BigDecimal(u), 1 + k + int(l), nil
	case TypeArray:
		f, n, err := decodeFields(src, -1, func(int) Type { return *t.Elem })
		if err != nil {
			return Value{}, 0, err
		}
		return Array(f), n, nil
	case TypeRow:
		f, n, err := decodeFields(src, len(t.Fields), func(i int) Type { return t.Fields[i].Type })
		if err != nil {
			return Value{}, 0, err
		}
		return Nested(f), n, nil
	case TypeMap, TypeMultiset:
		keys, n, err := decodeFields(src, -1, func(int) Type { return *t.Elem })
		if err != nil {
			return Value{}, 0, err
		}
		vals, m, err := decodeFields(src[n:], len(keys), func(int) Type { return *t.Value })
		if err != nil {
			return Value{}, 0, err
		}
		return Map(keys, vals), n + m, nil
	}
	i, k := binary.Varint(src)
	if k <= 0 {
		return Value{}, 0, corrupt("integer")
	}
	return Int(i), k, nil
}

// AppendKey appends a grouping key made of the given fields of r: two rows
// give equal keys exactly when those fields are equal in representation
// (NULL equals NULL, as in GROUP BY). types[i] is the type of fields[idx[i]].
func AppendKey(dst []byte, r Row, idx []int, types []Type) []byte {
	for j, i := range idx {
		f := r.Fields[i]
		if f.IsNull() {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		dst = AppendValue(dst, f, types[j])
	}
	return dst
}
