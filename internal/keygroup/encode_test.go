package keygroup

import (
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// Key shapes for the equivalence test: every scalar kind and width, named
// types, nesting, arrays of scalars, of structs and of arrays, unexported
// and blank fields, padding, empty parts, strings long enough to outgrow
// the encoder's buffer.
type (
	myInt   int16
	myStr   string
	scalars struct {
		S   string
		B   bool
		I   int
		I8  int8
		I16 int16
		I32 int32
		I64 int64
		U   uint
		U8  uint8
		U16 uint16
		U32 uint32
		U64 uint64
		P   uintptr
		F32 float32
		F64 float64
		N   myInt
		M   myStr
	}
	inner struct {
		A int8
		B string
		C [3]float32
	}
	nested struct {
		X     int32
		In    inner
		Arr   [2]inner
		Grid  [2][3]int16
		Empty struct{}
		None  [0]int64
		One   [1]inner
		Bools [5]bool
		Tail  uint8
	}
	unexported struct {
		a string
		_ int32
		b float64
		c [2]uint16
	}
	strIntInt struct {
		S string
		A int64
		B int32
	}
	wide struct {
		Strs [40]string
		Ints [70]int64
	}
)

var specialF64 = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
	math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0x7ff0000000000001),
	math.Float64frombits(0xfff8000000000000), math.SmallestNonzeroFloat64, math.MaxFloat64}

var specialF32 = []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
	math.Float32frombits(0x7fc00001), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000),
	math.SmallestNonzeroFloat32, math.MaxFloat32}

func genF64() *rapid.Generator[float64] {
	return rapid.OneOf(rapid.Float64(), rapid.SampledFrom(specialF64),
		rapid.Custom(func(t *rapid.T) float64 { return math.Float64frombits(rapid.Uint64().Draw(t, "bits")) }))
}

func genF32() *rapid.Generator[float32] {
	return rapid.OneOf(rapid.Float32(), rapid.SampledFrom(specialF32),
		rapid.Custom(func(t *rapid.T) float32 { return math.Float32frombits(rapid.Uint32().Draw(t, "bits")) }))
}

func genStr() *rapid.Generator[string] {
	return rapid.OneOf(rapid.String(), rapid.StringN(0, 600, -1),
		rapid.Custom(func(t *rapid.T) string { return strings.Repeat("x", rapid.IntRange(0, 2000).Draw(t, "n")) }))
}

func genInner(t *rapid.T) inner {
	return inner{A: rapid.Int8().Draw(t, "a"), B: genStr().Draw(t, "b"),
		C: [3]float32{genF32().Draw(t, "c0"), genF32().Draw(t, "c1"), genF32().Draw(t, "c2")}}
}

func genScalars(t *rapid.T) scalars {
	return scalars{
		S: genStr().Draw(t, "s"), B: rapid.Bool().Draw(t, "b"),
		I: rapid.Int().Draw(t, "i"), I8: rapid.Int8().Draw(t, "i8"), I16: rapid.Int16().Draw(t, "i16"),
		I32: rapid.Int32().Draw(t, "i32"), I64: rapid.Int64().Draw(t, "i64"),
		U: rapid.Uint().Draw(t, "u"), U8: rapid.Uint8().Draw(t, "u8"), U16: rapid.Uint16().Draw(t, "u16"),
		U32: rapid.Uint32().Draw(t, "u32"), U64: rapid.Uint64().Draw(t, "u64"), P: rapid.Uintptr().Draw(t, "p"),
		F32: genF32().Draw(t, "f32"), F64: genF64().Draw(t, "f64"),
		N: myInt(rapid.Int16().Draw(t, "n")), M: myStr(genStr().Draw(t, "m")),
	}
}

func genNested(t *rapid.T) nested {
	var n nested
	n.X = rapid.Int32().Draw(t, "x")
	n.In = genInner(t)
	n.Arr = [2]inner{genInner(t), genInner(t)}
	for i := range n.Grid {
		for j := range n.Grid[i] {
			n.Grid[i][j] = rapid.Int16().Draw(t, "g")
		}
	}
	n.One[0] = genInner(t)
	for i := range n.Bools {
		n.Bools[i] = rapid.Bool().Draw(t, "bool")
	}
	n.Tail = rapid.Uint8().Draw(t, "tail")
	return n
}

func genUnexported(t *rapid.T) unexported {
	return unexported{a: genStr().Draw(t, "a"), b: genF64().Draw(t, "b"),
		c: [2]uint16{rapid.Uint16().Draw(t, "c0"), rapid.Uint16().Draw(t, "c1")}}
}

func genWide(t *rapid.T) wide {
	var w wide
	for i := range w.Strs {
		w.Strs[i] = rapid.StringN(0, 20, -1).Draw(t, "s")
	}
	for i := range w.Ints {
		w.Ints[i] = rapid.Int64().Draw(t, "i")
	}
	return w
}

// checkSame fails if Hasher and the reflection-based reference disagree on
// a key drawn from gen.
func checkSame[K any](t *testing.T, gen func(*rapid.T) K) {
	t.Helper()
	got, want := Hasher[K](), referenceHasher[K]()
	rapid.Check(t, func(t *rapid.T) {
		k := gen(t)
		if g, w := got(k), want(k); g != w {
			t.Fatalf("key %#v: hash %#x, reference %#x", k, g, w)
		}
	})
}

// The compiled hasher of compound keys gives the hash the reflection-based
// one gave: key groups of existing checkpoints and savepoints stay put.
func TestCompiledHashMatchesReference(t *testing.T) {
	t.Run("scalars", func(t *testing.T) { checkSame(t, genScalars) })
	t.Run("nested", func(t *testing.T) { checkSame(t, genNested) })
	t.Run("unexported", func(t *testing.T) { checkSame(t, genUnexported) })
	t.Run("wide", func(t *testing.T) { checkSame(t, genWide) })
	t.Run("strIntInt", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) strIntInt {
			return strIntInt{genStr().Draw(t, "s"), rapid.Int64().Draw(t, "a"), rapid.Int32().Draw(t, "b")}
		})
	})
	t.Run("compound", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) compound {
			return compound{genStr().Draw(t, "a"), [2]int32{rapid.Int32().Draw(t, "b0"), rapid.Int32().Draw(t, "b1")}}
		})
	})
	t.Run("arrayOfStrings", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) [3]string {
			return [3]string{genStr().Draw(t, "a"), genStr().Draw(t, "b"), genStr().Draw(t, "c")}
		})
	})
	t.Run("byteArray", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) [16]byte {
			var a [16]byte
			copy(a[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "b"))
			return a
		})
	})
	t.Run("floats", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) struct {
			A float32
			B float64
		} {
			return struct {
				A float32
				B float64
			}{genF32().Draw(t, "a"), genF64().Draw(t, "b")}
		})
	})
	t.Run("empty", func(t *testing.T) {
		checkSame(t, func(*rapid.T) struct{} { return struct{}{} })
		checkSame(t, func(*rapid.T) [0]string { return [0]string{} })
	})
	// Basic kinds keep their own (unchanged) path; checked here too.
	t.Run("basic", func(t *testing.T) {
		checkSame(t, func(t *rapid.T) int32 { return rapid.Int32().Draw(t, "v") })
		checkSame(t, func(t *rapid.T) float32 { return genF32().Draw(t, "v") })
		checkSame(t, func(t *rapid.T) string { return genStr().Draw(t, "v") })
		checkSame(t, func(t *rapid.T) int8 { return rapid.Int8().Draw(t, "v") })
	})
}

// The unrolled hash of integer keys is xxhash of their 8 bytes.
func TestHash8IsXXHash(t *testing.T) {
	for _, v := range []uint64{0, 1, 12345, math.MaxUint64, 1 << 63} {
		if hash8(v) != referenceHash8(v) {
			t.Fatalf("hash8(%d) = %#x, want %#x", v, hash8(v), referenceHash8(v))
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Uint64().Draw(t, "v")
		if hash8(v) != referenceHash8(v) {
			t.Fatalf("hash8(%d) = %#x, want %#x", v, hash8(v), referenceHash8(v))
		}
	})
}

// A bool stored with a byte other than 0 or 1 (only unsafe code makes one)
// hashes as the reference reads it.
func TestCompiledHashOddBool(t *testing.T) {
	type k struct {
		A bool
		B uint8
	}
	var v k
	*(*uint8)(unsafePointer(&v.A)) = 2
	if g, w := Hasher[k]()(v), referenceHasher[k]()(v); g != w {
		t.Fatalf("hash %#x, reference %#x", g, w)
	}
}

// Compound keys hash without allocating.
func TestCompiledHashAllocs(t *testing.T) {
	h := Hasher[strIntInt]()
	k := strIntInt{"account-42", 7, 9}
	var sink uint64
	if n := testing.AllocsPerRun(100, func() { sink += h(k) }); n != 0 {
		t.Fatalf("%v allocations per hash", n)
	}
	hw := Hasher[wide]()
	var w wide
	for i := range w.Strs {
		w.Strs[i] = strings.Repeat("y", i)
	}
	if n := testing.AllocsPerRun(100, func() { sink += hw(w) }); n != 0 {
		t.Fatalf("%v allocations per hash of a key outgrowing the buffer", n)
	}
}

func BenchmarkHashStruct(b *testing.B) {
	k := strIntInt{"account-42", 7, 9}
	for _, c := range []struct {
		name string
		h    HashFunc[strIntInt]
	}{{"compiled", Hasher[strIntInt]()}, {"reflect", referenceHasher[strIntInt]()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for i := 0; i < b.N; i++ {
				k.A = int64(i)
				sink += c.h(k)
			}
			_ = sink
		})
	}
}

func BenchmarkHashUint64(b *testing.B) {
	for _, c := range []struct {
		name string
		h    HashFunc[uint64]
	}{{"unrolled", Hasher[uint64]()}, {"xxhash", referenceHasher[uint64]()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for i := 0; i < b.N; i++ {
				sink += c.h(uint64(i))
			}
			_ = sink
		})
	}
}
