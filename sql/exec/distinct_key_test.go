package exec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// TestDistinctKeyState: the key of a shared DISTINCT entry has the schema
// and the bytes of the string key the state held before, in both
// directions (a snapshot of string keys decodes to keys that encode the
// same bytes, and a key built from a row encodes the bytes the string key
// of that row was), and the in-memory form depends on the bytes alone: a
// key decoded from a snapshot equals the key the same row builds.
func TestDistinctKeyState(t *testing.T) {
	if got, want := codec.Schema[distinctKey](), codec.Schema[string](); got != want {
		t.Fatalf("schema %q, want the old layout's %q", got, want)
	}
	oldC, newC := codec.Must[string](), codec.Must[distinctKey]()
	check := func(name string, b []byte, built distinctKey) {
		t.Helper()
		oldEnc := oldC.Append([]byte("p"), string(b))
		newEnc := newC.Append([]byte("p"), built)
		if string(oldEnc) != string(newEnc) {
			t.Fatalf("%s: encoding %x, want the old layout's %x", name, newEnc, oldEnc)
		}
		d, n, err := newC.Decode(oldEnc[1:])
		if err != nil || n != len(oldEnc)-1 {
			t.Fatalf("%s: decode: %v (%d bytes)", name, err, n)
		}
		if d != built {
			t.Fatalf("%s: decoded %+v, built from the row %+v", name, d, built)
		}
		s, _, err := oldC.Decode(newEnc[1:])
		if err != nil || s != string(b) {
			t.Fatalf("%s: the old codec decodes %q (%v), want %q", name, s, err, b)
		}
	}
	// Keys as the views build them from rows.
	views := []struct {
		args  []int
		types []row.Type
	}{
		{[]int{0}, []row.Type{row.BigInt()}},
		{[]int{0}, []row.Type{row.IntType()}},
		{[]int{1}, []row.Type{row.String()}},
		{[]int{0, 1}, []row.Type{row.BigInt(), row.String()}},
		{[]int{2}, []row.Type{row.TimestampType(3)}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ints := []int64{0, 1, -1, 63, -64, 64, -65, math.MaxInt64, math.MinInt64, 1 << 40}
	strs := []string{"", "a", "\x00", "\x01\x02"}
	typed := 0
	// 130 views: indexes from 128 on take two bytes and are never typed.
	for vi := range 130 {
		vt := views[vi%len(views)]
		v := newDistinctGroupView(nil, vi, vt.args, vt.types)
		for range 40 {
			args := make([]row.Value, len(v.types))
			for i, ty := range v.types {
				switch {
				case rng.IntN(6) == 0:
					// NULL
				case ty.Root == row.TypeVarChar || ty.Root == row.TypeChar:
					args[i] = row.Str(strs[rng.IntN(len(strs))])
				case ty.Root == row.TypeTimestamp:
					args[i] = row.Timestamp(ints[rng.IntN(len(ints))]/2, 0)
				default:
					args[i] = row.Int(ints[rng.IntN(len(ints))])
				}
			}
			var b []byte
			b = append(b, v.prefix...)
			for i, x := range args {
				b = appendNullable(b, x, v.types[i])
			}
			built := v.keyOf(args)
			check("row", b, built)
			if len(built.s) == 1 {
				typed++
			}
		}
	}
	if typed == 0 {
		t.Fatal("no key in the typed form")
	}
	// Bytes no row builds: non-canonical varints, trailing bytes, a
	// non-canonical index; they stay in the bytes form.
	for _, b := range [][]byte{
		{0, 1, 0x80, 0}, {0, 1, 2, 5}, {0x80, 0, 1, 2}, {5, 1}, {5, 0}, {0, 2, 2},
	} {
		k, ok := distinctKeyOf(b)
		if !ok || len(k.s) == 1 {
			t.Fatalf("%x: key %+v (%v), want the bytes form", b, k, ok)
		}
		check("bytes", b, k)
	}
	// Too short for any key.
	if _, _, err := newC.Decode(oldC.Append(nil, "\x03")); err == nil {
		t.Fatal("a one-byte key decoded")
	}
}
