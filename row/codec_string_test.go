package row

import (
	"errors"
	"math/big"
	"testing"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/codec"
)

// within reports whether s's bytes lie inside src's.
func within(s, src string) bool {
	if len(s) == 0 {
		return true
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(src)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(src))
}

// TestDecodeString: DecodeString reads what Decode reads, and its
// top-level string fields share the encoding's bytes (it fails if they
// are copied).
func TestDecodeString(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		types, r := genRow(t)
		c := NewCodec(types)
		enc := string(c.Append(nil, r)) + "tail"
		want, wn, err := c.Decode([]byte(enc))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		got, gn, err := c.DecodeString(enc)
		if err != nil {
			t.Fatalf("DecodeString: %v", err)
		}
		if gn != wn || got.Kind != want.Kind || !EqualRows(got, want, types) {
			t.Fatalf("DecodeString = %s (%d bytes), Decode = %s (%d bytes)", FormatRow(got, types), gn, FormatRow(want, types), wn)
		}
		for i, ty := range types {
			switch ty.Root {
			case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
				if !got.Fields[i].IsNull() && !within(got.Fields[i].Str(), enc) {
					t.Fatalf("field %d: string copied, not shared with the encoding", i)
				}
			}
		}
	})
}

// TestDecodeStringShares: a VARCHAR field of a decoded row points into
// the encoding.
func TestDecodeStringShares(t *testing.T) {
	types := []Type{BigInt(), String(), VarChar(10)}
	c := NewCodec(types)
	enc := string(c.Append(nil, Of(Int(7), Str("hello"), Str("w"))))
	r, _, err := c.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fields[0].Int() != 7 || r.Fields[1].Str() != "hello" || r.Fields[2].Str() != "w" {
		t.Fatalf("decoded %v", r.Fields)
	}
	if !within(r.Fields[1].Str(), enc) || !within(r.Fields[2].Str(), enc) {
		t.Fatal("strings copied")
	}
}

// FuzzDecodeString: on any input DecodeString fails as Decode does (an
// error wrapping codec.ErrCorrupt) or reads the same row.
func FuzzDecodeString(f *testing.F) {
	types := []Type{BigInt(), String(), DecimalType(30, 2), TimestampType(9),
		ArrayType(MapType(String(), Double())), RowType(Col("a", Boolean())), BytesType()}
	c := NewCodec(types)
	f.Add(c.Append(nil, Of(Int(1), Str("x"), BigDecimal(big.NewInt(-5)), Timestamp(1, 2),
		Array([]Value{Map([]Value{Str("k")}, []Value{Float(1)})}), Nested([]Value{Bool(true)}), Str("b"))))
	f.Add([]byte{0, 7, 0x7f})
	f.Add([]byte{0, 7, 0, 2, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wn, werr := c.Decode(b)
		got, gn, gerr := c.DecodeString(string(b))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("Decode error %v, DecodeString error %v", werr, gerr)
		}
		if gerr != nil {
			if !errors.Is(gerr, codec.ErrCorrupt) {
				t.Fatalf("error %v does not wrap codec.ErrCorrupt", gerr)
			}
			return
		}
		if gn != wn || !EqualRows(got, want, types) {
			t.Fatalf("DecodeString differs from Decode")
		}
		// DecodeStringInto over a dst holding other values: the same row,
		// NULLs included, in dst.
		dst := make([]Value, len(types)+1)
		for i := range dst {
			dst[i] = Str("old")
		}
		into, in, ierr := c.DecodeStringInto(dst, string(b))
		if ierr != nil || in != wn || !EqualRows(into, want, types) || &into.Fields[0] != &dst[0] {
			t.Fatalf("DecodeStringInto: %v, %d bytes, error %v; want %v, %d", into, in, ierr, want, wn)
		}
	})
}
