package exec

import (
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
		return distinctKey{s: typedMarks[r.IntN(2)], n: int64(r.IntN(300)) - 100}
	}
	check := func(s *distinctSets, model map[distinctKey][]int64) {
		t.Helper()
		if s.len() != len(model) {
			t.Fatalf("len %d, want %d", s.len(), len(model))
		}
		for k, want := range model {
			got, ok := s.get(k)
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
			c, ok := s.get(k)
			if !ok {
				c = make([]int64, 2)
			}
			c[r.IntN(2)]++
			s.put(k, c)
			model[k] = slices.Clone(c)
		case op < 8:
			s.remove(k)
			delete(model, k)
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

// TestDistinctSetsChunks checks entries across chunks of counts: entries
// of more counts than a chunk holds (a chunk of their own) between small
// ones, changed in place, removed until compacted, and copied.
func TestDistinctSetsChunks(t *testing.T) {
	s := newDistinctSets()
	model := map[distinctKey][]int64{}
	for i := range 3000 {
		n := 3
		if i%500 == 7 {
			n = countsChunk + 300
		}
		k := distinctKey{s: typedMarks[i%2], n: int64(i)}
		c := make([]int64, n)
		c[n-1] = int64(i)
		s.put(k, c)
		model[k] = c
		if got, ok := s.get(k); ok {
			got[0]++ // in place
			s.put(k, got)
			model[k][0]++
		}
		if i%3 == 0 {
			old := distinctKey{s: typedMarks[(i/2)%2], n: int64(i / 2)}
			s.remove(old)
			delete(model, old)
		}
	}
	if len(s.counts) < 3 {
		t.Fatalf("%d chunks: the entries fit in one", len(s.counts))
	}
	cp := s.CopyState()
	for _, x := range []*distinctSets{s, cp} {
		if x.len() != len(model) {
			t.Fatalf("len %d, want %d", x.len(), len(model))
		}
		for k, want := range model {
			if got, ok := x.get(k); !ok || !slices.Equal(got, want) {
				t.Fatalf("get %d: %v %v, want %d counts ending %d", k.n, len(got), ok, len(want), want[len(want)-1])
			}
		}
	}
	// The copy shares no counts.
	for k := range model {
		c, _ := cp.get(k)
		c[0] = -1
		if got, _ := s.get(k); got[0] == -1 {
			t.Fatal("the copy shares its counts")
		}
	}
}
