package codec

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

type (
	flatNamed   string
	flatScalars struct {
		B    bool
		I    int
		I8   int8
		I16  int16
		I32  int32
		I64  int64
		U    uint
		U8   uint8
		U16  uint16
		U32  uint32
		U64  uint64
		P    uintptr
		F32  float32
		F64  float64
		S    string
		N    flatNamed
		skip int    `weir:"-"`
		Skip string `weir:"-"`
		_    int32
	}
	flatInner struct {
		A int8
		S string
		F [2]float32
	}
	flatNested struct {
		X     int32
		In    flatInner
		Arr   [3]flatInner
		Grid  [2][2]uint16
		Empty struct{}
		None  [0]string
		One   [1]flatInner
		Tail  bool
	}
	window struct{ Start, End int64 }
)

// referenceFor is For without the flat programs: the reflection-based
// codec, whose bytes are the format.
func referenceFor[T any](t *testing.T) Codec[T] {
	t.Helper()
	enc, dec, err := compile(reflect.TypeOf((*T)(nil)).Elem(), map[reflect.Type]bool{})
	if err != nil {
		t.Fatal(err)
	}
	return &reflectCodec[T]{enc: enc, dec: dec}
}

func f64() *rapid.Generator[float64] {
	return rapid.OneOf(rapid.Float64(), rapid.SampledFrom([]float64{math.Copysign(0, -1), math.NaN(), math.Inf(-1)}),
		rapid.Custom(func(t *rapid.T) float64 { return math.Float64frombits(rapid.Uint64().Draw(t, "bits")) }))
}

func f32() *rapid.Generator[float32] {
	return rapid.Custom(func(t *rapid.T) float32 { return math.Float32frombits(rapid.Uint32().Draw(t, "bits")) })
}

func genFlatInner(t *rapid.T) flatInner {
	return flatInner{rapid.Int8().Draw(t, "a"), rapid.String().Draw(t, "s"), [2]float32{f32().Draw(t, "f0"), f32().Draw(t, "f1")}}
}

// checkFlat checks that T gets a flat codec that writes the reference's
// bytes, and that both decode any bytes (valid, truncated or random) to the
// same value, length and error.
func checkFlat[T any](t *testing.T, gen func(*rapid.T) T) {
	t.Helper()
	c, err := For[T]()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*flatCodec[T]); !ok {
		t.Fatalf("%T is not a flat codec", c)
	}
	ref := referenceFor[T](t)
	same := func(t *rapid.T, src []byte) {
		v, n, err := c.Decode(src)
		rv, rn, rerr := ref.Decode(src)
		if (err == nil) != (rerr == nil) || (err != nil && err.Error() != rerr.Error()) {
			t.Fatalf("decode %x: error %v, reference %v", src, err, rerr)
		}
		if err != nil {
			return
		}
		// Compared through their encodings: NaN != NaN.
		if n != rn || !bytes.Equal(c.Append(nil, v), ref.Append(nil, rv)) {
			t.Fatalf("decode %x: %#v (%d bytes), reference %#v (%d bytes)", src, v, n, rv, rn)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		v := gen(t)
		got, want := c.Append([]byte("p"), v), ref.Append([]byte("p"), v)
		if !bytes.Equal(got, want) {
			t.Fatalf("%#v: encoded %x, reference %x", v, got, want)
		}
		same(t, got[1:])
		same(t, got[1:rapid.IntRange(1, len(got)).Draw(t, "cut")])
		same(t, rapid.SliceOf(rapid.Byte()).Draw(t, "random"))
	})
}

// Flat types encode and decode exactly as the reflection-based codec does:
// state written before flat codecs existed restores unchanged.
func TestFlatCodecMatchesReference(t *testing.T) {
	t.Run("scalars", func(t *testing.T) {
		checkFlat(t, func(t *rapid.T) flatScalars {
			return flatScalars{
				B: rapid.Bool().Draw(t, "b"), I: rapid.Int().Draw(t, "i"), I8: rapid.Int8().Draw(t, "i8"),
				I16: rapid.Int16().Draw(t, "i16"), I32: rapid.Int32().Draw(t, "i32"), I64: rapid.Int64().Draw(t, "i64"),
				U: rapid.Uint().Draw(t, "u"), U8: rapid.Uint8().Draw(t, "u8"), U16: rapid.Uint16().Draw(t, "u16"),
				U32: rapid.Uint32().Draw(t, "u32"), U64: rapid.Uint64().Draw(t, "u64"), P: rapid.Uintptr().Draw(t, "p"),
				F32: f32().Draw(t, "f32"), F64: f64().Draw(t, "f64"), S: rapid.String().Draw(t, "s"),
				N: flatNamed(rapid.String().Draw(t, "n")),
			}
		})
	})
	t.Run("nested", func(t *testing.T) {
		checkFlat(t, func(t *rapid.T) flatNested {
			return flatNested{X: rapid.Int32().Draw(t, "x"), In: genFlatInner(t),
				Arr:  [3]flatInner{genFlatInner(t), genFlatInner(t), genFlatInner(t)},
				Grid: [2][2]uint16{{rapid.Uint16().Draw(t, "g"), 2}, {3, rapid.Uint16().Draw(t, "h")}},
				One:  [1]flatInner{genFlatInner(t)}, Tail: rapid.Bool().Draw(t, "tail")}
		})
	})
	t.Run("window", func(t *testing.T) {
		checkFlat(t, func(t *rapid.T) window { return window{rapid.Int64().Draw(t, "s"), rapid.Int64().Draw(t, "e")} })
	})
	t.Run("int32", func(t *testing.T) { checkFlat(t, func(t *rapid.T) int32 { return rapid.Int32().Draw(t, "v") }) })
	t.Run("int8", func(t *testing.T) { checkFlat(t, func(t *rapid.T) int8 { return rapid.Int8().Draw(t, "v") }) })
	t.Run("uint16", func(t *testing.T) { checkFlat(t, func(t *rapid.T) uint16 { return rapid.Uint16().Draw(t, "v") }) })
	t.Run("bool", func(t *testing.T) { checkFlat(t, func(t *rapid.T) bool { return rapid.Bool().Draw(t, "v") }) })
	t.Run("float32", func(t *testing.T) { checkFlat(t, func(t *rapid.T) float32 { return f32().Draw(t, "v") }) })
	t.Run("named", func(t *testing.T) {
		checkFlat(t, func(t *rapid.T) flatNamed { return flatNamed(rapid.String().Draw(t, "v")) })
	})
	t.Run("array", func(t *testing.T) {
		checkFlat(t, func(t *rapid.T) [4]int16 {
			return [4]int16{rapid.Int16().Draw(t, "a"), rapid.Int16().Draw(t, "b"), 0, -1}
		})
	})
	t.Run("empty", func(t *testing.T) { checkFlat(t, func(*rapid.T) struct{} { return struct{}{} }) })
}

// Types with a part the flat programs do not handle keep the reflection
// codec.
func TestNonFlatTypesKeepReflectionCodec(t *testing.T) {
	type withTime struct {
		A int
		T time.Time
	}
	type withSlice struct {
		A [2]int
		S []string
	}
	type withPointer struct{ P *int }
	for _, c := range []any{Must[withTime](), Must[withSlice](), Must[withPointer](), Must[time.Time](), Must[[]int]()} {
		if strings.HasPrefix(reflect.TypeOf(c).String(), "*codec.flatCodec") {
			t.Errorf("%T is a flat codec", c)
		}
	}
}

// Flat codecs encode without allocating and decode allocating only strings.
func TestFlatCodecAllocs(t *testing.T) {
	c := Must[window]()
	buf := make([]byte, 0, 64)
	w := window{1000, 2000}
	if n := testing.AllocsPerRun(100, func() { buf = c.Append(buf[:0], w) }); n != 0 {
		t.Fatalf("Append: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { w, _, _ = c.Decode(buf) }); n != 0 {
		t.Fatalf("Decode: %v allocations", n)
	}
}

func BenchmarkCodecStruct(b *testing.B) {
	type key struct {
		S string
		A int64
		B int32
	}
	k := key{"account-42", 7, 9}
	for _, c := range []struct {
		name string
		c    Codec[key]
	}{{"flat", Must[key]()}, {"reflect", referenceFor[key](&testing.T{})}} {
		b.Run(c.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for i := 0; i < b.N; i++ {
				k.A = int64(i)
				buf = c.c.Append(buf[:0], k)
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			buf := c.c.Append(nil, k)
			for i := 0; i < b.N; i++ {
				if _, _, err := c.c.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	w := window{1000, 2000}
	for _, c := range []struct {
		name string
		c    Codec[window]
	}{{"flat", Must[window]()}, {"reflect", referenceFor[window](&testing.T{})}} {
		b.Run(c.name+"/window-append", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for i := 0; i < b.N; i++ {
				w.End = int64(i)
				buf = c.c.Append(buf[:0], w)
			}
		})
		b.Run(c.name+"/window-decode", func(b *testing.B) {
			b.ReportAllocs()
			buf := c.c.Append(nil, w)
			for i := 0; i < b.N; i++ {
				if _, _, err := c.c.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
