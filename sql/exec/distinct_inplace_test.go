package exec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDistinctSetsModel runs random puts, in-place changes and removes on
// distinctSets next to a Go map, and checks every entry, a copy (which
// must not change with the original) and an encode/decode round trip.
func TestDistinctSetsModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newDistinctSets()
	model := map[distinctKey][]int64{}
	key := func() distinctKey {
		if r.IntN(4) == 0 {
			return distinctKey{s: string([]byte{byte(r.IntN(2)), 0})} // a NULL argument
		}
		if r.IntN(3) == 0 {
			k, _ := distinctKeyOf([]byte{2, 1, 1, byte('a' + r.IntN(20))}) // a one-byte string
			return k
		}
		if r.IntN(50) == 0 {
			return distinctKey{s: typedMarks[r.IntN(2)], n: math.MinInt64} // intTable's empty mark
		}
		return distinctKey{s: typedMarks[r.IntN(2)], n: int64(r.IntN(300)) - 100}
	}
	check := func(s *distinctSets, model map[distinctKey][]int64) {
		t.Helper()
		if s.len() != len(model) {
			t.Fatalf("len %d, want %d", s.len(), len(model))
		}
		for k, want := range model {
			got, ok := s.get(k, nil)
			if !ok || !slices.Equal(got, want) {
				t.Fatalf("get %q %d = %v %v, want %v", k.s, k.n, got, ok, want)
			}
		}
		n := 0
		s.each(func(k distinctKey, c []int64) {
			n++
			if !slices.Equal(c, model[k]) {
				t.Fatalf("each %v = %v, want %v", k, c, model[k])
			}
		})
		if n != len(model) {
			t.Fatalf("each saw %d entries, want %d", n, len(model))
		}
	}
	var frozen *distinctSets
	var frozenModel map[distinctKey][]int64
	for i := range 20000 {
		k := key()
		switch op := r.IntN(10); {
		case op < 5:
			c, ok := s.get(k, nil)
			if !ok {
				c = make([]int64, 2)
			}
			c[r.IntN(2)]++
			s.put(k, c)
			model[k] = slices.Clone(c)
		case op < 8:
			s.remove(k)
			delete(model, k)
		case op < 9 && r.IntN(3) == 0:
			// Counts that do not fit an intTable entry.
			c := []int64{math.MaxInt32 + int64(r.IntN(3)), math.MinInt32 - int64(r.IntN(2))}
			s.put(k, c)
			model[k] = c
		default:
			c := []int64{int64(r.IntN(5)), int64(r.IntN(5)), 7}
			s.put(k, c)
			model[k] = c
		}
		if i%1000 == 0 {
			check(s, model)
			if frozen != nil {
				check(frozen, frozenModel)
			}
			frozen = s.CopyState()
			frozenModel = map[distinctKey][]int64{}
			for k, c := range model {
				frozenModel[k] = slices.Clone(c)
			}
			var d distinctSets
			enc := s.AppendState(nil)
			n, err := d.DecodeState(enc)
			if err != nil || n != len(enc) {
				t.Fatalf("decode: %d of %d bytes, %v", n, len(enc), err)
			}
			check(&d, model)
		}
	}
	check(s, model)
}
