package row

import (
	"math"
	"math/big"
	"testing"
	"unsafe"
)

// TestValueLayout guards the size rows are made of: three words, one of
// them a pointer (rows are copied and scanned by the GC per field).
func TestValueLayout(t *testing.T) {
	if n := unsafe.Sizeof(Value{}); n != 24 {
		t.Fatalf("Value is %d bytes, want 24", n)
	}
}

// TestValueAccessors checks that every accessor returns its zero for a
// value of another kind (the layout shares words between kinds), and that
// empty strings, arrays and rows are not NULL.
func TestValueAccessors(t *testing.T) {
	s := string([]byte("héllo")) // heap string
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	elems := []Value{Int(1), Str("x")}
	m := Map([]Value{Str("k")}, []Value{Int(2)})
	cases := []struct {
		name  string
		v     Value
		null  bool
		i     int64
		str   string
		nano  int32
		big   *big.Int
		elems int // -1: nil
		isMap bool
	}{
		{name: "null", v: Null(), null: true, elems: -1},
		{name: "int", v: Int(-7), i: -7, elems: -1},
		{name: "true", v: Bool(true), i: 1, elems: -1},
		{name: "str", v: Str(s), str: s, elems: -1},
		{name: "empty str", v: Str(""), elems: -1},
		{name: "bytes", v: Bytes([]byte{0, 1}), str: "\x00\x01", elems: -1},
		{name: "ts", v: Timestamp(-5, 999999), i: -5, nano: 999999, elems: -1},
		{name: "big", v: BigDecimal(big1), big: big1, elems: -1},
		{name: "big inline", v: BigDecimal(big.NewInt(-42)), i: -42, elems: -1},
		{name: "array", v: Array(elems), elems: 2},
		{name: "empty row", v: Nested(nil), elems: 0},
		{name: "map", v: m, elems: -1, isMap: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.v
			if v.IsNull() != c.null {
				t.Errorf("IsNull %v", v.IsNull())
			}
			if v.Int() != c.i || v.Millis() != c.i {
				t.Errorf("Int %d, want %d", v.Int(), c.i)
			}
			if v.Str() != c.str {
				t.Errorf("Str %q, want %q", v.Str(), c.str)
			}
			if v.NanoOfMilli() != c.nano {
				t.Errorf("NanoOfMilli %d, want %d", v.NanoOfMilli(), c.nano)
			}
			if v.BigInt() != c.big {
				t.Errorf("BigInt %v, want %v", v.BigInt(), c.big)
			}
			switch e := v.Elems(); {
			case c.elems < 0 && e != nil:
				t.Errorf("Elems %v, want nil", e)
			case c.elems >= 0 && (e == nil || len(e) != c.elems):
				t.Errorf("Elems %v, want %d elements", e, c.elems)
			}
			if (v.MapOf() != nil) != c.isMap {
				t.Errorf("MapOf %v", v.MapOf())
			}
		})
	}
	if e := Array(elems).Elems(); &e[0] != &elems[0] || cap(e) != len(elems) {
		t.Errorf("Elems does not share the slice it was made of, or its capacity exceeds its length")
	}
}

// TestScalarsHoldNoPointer checks that non-NULL values without data
// elsewhere (scalars, timestamps, inline decimals, empty strings, arrays and
// rows) keep nil in their pointer word: storing them into a row's fields
// then gives the garbage collector's write barrier and mark phase nothing
// to look up. NULL is the zero Value, told by its tag.
func TestScalarsHoldNoPointer(t *testing.T) {
	for name, v := range map[string]Value{
		"int": Int(-7), "zero": Int(0), "true": Bool(true), "false": Bool(false),
		"float": Float(1.5), "ts": Timestamp(-5, 999999), "inline decimal": BigDecimal(big.NewInt(-42)),
		"empty str": Str(""), "empty bytes": Bytes(nil), "empty array": Array(nil), "empty row": Nested([]Value{}),
	} {
		if v.p != nil {
			t.Errorf("%s: pointer word %p, want nil", name, v.p)
		}
		if v.IsNull() {
			t.Errorf("%s: IsNull", name)
		}
	}
	if v := Null(); !v.IsNull() || v != (Value{}) {
		t.Errorf("Null() = %#v, want the zero Value", v)
	}
	if Str("x").p == nil || Array([]Value{Int(1)}).p == nil {
		t.Error("a non-empty string or array holds no pointer to its data")
	}
}

// TestWideDecimalInline checks that a wide DECIMAL held inline (it fits an
// int64) and one held as a big.Int are the same value: equal, same
// encoding, same text; and that decoding gives the inline form back.
func TestWideDecimalInline(t *testing.T) {
	typ := DecimalType(38, 2)
	for _, u := range []int64{0, 1, -1, 12345, math.MaxInt64, math.MinInt64} {
		inline := BigDecimalInt64(u)
		held := Value{p: unsafe.Pointer(big.NewInt(u)), tag: tagBig} // the old form
		if inline.BigInt() != nil || held.BigInt() == nil {
			t.Fatalf("%d: forms not as built", u)
		}
		if Compare(inline, held, typ) != 0 || DecimalUnscaled(inline, typ).Int64() != u {
			t.Errorf("%d: inline and big.Int forms differ", u)
		}
		if a, b := AppendValue(nil, inline, typ), AppendValue(nil, held, typ); string(a) != string(b) {
			t.Errorf("%d: encodings differ: %x, %x", u, a, b)
		}
		if a, b := DecimalString(inline, typ), DecimalString(held, typ); a != b {
			t.Errorf("%d: text %q, %q", u, a, b)
		}
		if x, ok := DecimalInt64(held, typ); !ok || x != u {
			t.Errorf("%d: DecimalInt64 of the big.Int form: %d, %v", u, x, ok)
		}
		dec, _, err := DecodeValue(AppendValue(nil, held, typ), typ)
		if err != nil || dec.BigInt() != nil || dec.Int() != u {
			t.Errorf("%d: decoded %v (%v)", u, dec, err)
		}
	}
	over := new(big.Int).Lsh(big.NewInt(1), 70)
	if v := BigDecimal(over); v.BigInt() != over {
		t.Errorf("a value beyond int64 is not held as its big.Int")
	}
	if _, ok := DecimalInt64(BigDecimal(over), typ); ok {
		t.Errorf("DecimalInt64 of 2^70 reports a fit")
	}
}

// TestSlab checks that carved field slices are fresh, capped, and never
// overlap, across allocations.
func TestSlab(t *testing.T) {
	var s Slab
	var got [][]Value
	for i := range 10 {
		v := s.Take(3, 4)
		if len(v) != 3 || cap(v) != 3 {
			t.Fatalf("take %d: len %d cap %d, want 3 and 3", i, len(v), cap(v))
		}
		for _, x := range v {
			if !x.IsNull() {
				t.Fatalf("take %d: a field is not NULL", i)
			}
		}
		for j := range v {
			v[j] = Int(int64(i))
		}
		got = append(got, v)
	}
	for i, v := range got {
		for _, x := range v {
			if x.Int() != int64(i) {
				t.Fatalf("row %d was overwritten by a later take: %v", i, v)
			}
		}
	}
	if v := s.Take(50, 0); len(v) != 50 {
		t.Fatalf("a take wider than the allocation size: len %d", len(v))
	}
}
