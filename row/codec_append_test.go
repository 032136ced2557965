package row

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// TestCodecAppendSameBytes: Codec.Append writes, after whatever dst
// holds, the bytes of the generic per-field encoder, for rows of any
// types (the scalars Append encodes inline included), with fewer fields
// than the codec has types, and with extra NULL fields.
func TestCodecAppendSameBytes(t *testing.T) {
	scalars := []Root{TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeDate, TypeTime,
		TypeChar, TypeVarChar, TypeBinary, TypeVarBinary, TypeTimestamp, TypeTimestampLTZ,
		TypeBoolean, TypeFloat, TypeIntervalYearMonth}
	rapid.Check(t, func(t *rapid.T) {
		types, r := genRow(t)
		// Roots genType does not draw, with values of their representation.
		for range rapid.IntRange(0, 4).Draw(t, "extra") {
			ty := Type{Root: rapid.SampledFrom(scalars).Draw(t, "root"), Nullable: true, Precision: 3}
			var v Value
			switch ty.Root {
			case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
				v = Str(rapid.String().Draw(t, "s"))
			case TypeTimestamp, TypeTimestampLTZ:
				v = Timestamp(rapid.Int64().Draw(t, "ms"), rapid.Int32Range(0, 999999).Draw(t, "ns"))
			case TypeBoolean:
				v = Bool(rapid.Bool().Draw(t, "b"))
			case TypeFloat:
				v = Float(rapid.Float64().Draw(t, "f"))
			default:
				v = Int(rapid.Int64().Draw(t, "i"))
			}
			if rapid.IntRange(0, 5).Draw(t, "null") == 0 {
				v = Null()
			}
			types, r.Fields = append(types, ty), append(r.Fields, v)
		}
		switch rapid.IntRange(0, 2).Draw(t, "shape") {
		case 1: // fewer fields than types
			r.Fields = r.Fields[:rapid.IntRange(0, len(r.Fields)).Draw(t, "n")]
		case 2: // extra NULL fields
			for range rapid.IntRange(1, 3).Draw(t, "nulls") {
				r.Fields = append(r.Fields, Null())
			}
		}
		c := NewCodec(types)
		prefix := []byte(rapid.String().Draw(t, "prefix"))
		want := appendFields(append(bytes.Clone(prefix), byte(r.Kind)), r.Fields, func(i int) Type { return types[i] })
		got := c.Append(bytes.Clone(prefix), r)
		if !bytes.Equal(got, want) {
			t.Fatalf("Append = %x, want %x", got, want)
		}
	})
}

// FuzzCodecDecodeSame: Codec.Decode reads any bytes as the generic
// per-field decoder does: the same row and length, or the same error.
func FuzzCodecDecodeSame(f *testing.F) {
	types := []Type{BigInt(), String(), TimestampType(3), {Root: TypeSmallInt, Nullable: true}, DateType(),
		{Root: TypeChar, Nullable: true, Precision: 3}, BytesType(), DecimalType(30, 2), Double(),
		ArrayType(String()), RowType(Col("a", BigInt()))}
	c := NewCodec(types)
	f.Add(c.Append(nil, Of(Int(-7), Str("x"), Timestamp(1, 2), Int(3), Int(19000), Str("abc"), Str("\x00\xff"),
		Null(), Float(1.5), Array([]Value{Str("e")}), Nested([]Value{Int(9)}))))
	f.Add(c.Append(nil, Of(Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null())))
	f.Add([]byte{0, 11, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gn, gerr := c.Decode(b)
		var want Row
		var wn int
		var werr error
		if len(b) < 1 || Kind(b[0]) > Delete {
			werr = errors.New("kind")
		} else {
			var fields []Value
			fields, wn, werr = decodeFields(b[1:], len(types), func(i int) Type { return types[i] })
			want, wn = Row{Kind: Kind(b[0]), Fields: fields}, wn+1
		}
		if (gerr != nil) != (werr != nil) {
			t.Fatalf("Decode error %v, generic %v", gerr, werr)
		}
		if gerr != nil {
			if werr.Error() != "kind" && gerr.Error() != werr.Error() {
				t.Fatalf("Decode error %q, generic %q", gerr, werr)
			}
			return
		}
		if gn != wn || got.Kind != want.Kind || !EqualRows(got, want, types) {
			t.Fatalf("Decode = %s (%d bytes), generic %s (%d bytes)", FormatRow(got, types), gn, FormatRow(want, types), wn)
		}
	})
}
