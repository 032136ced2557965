package nexmark

import (
	"math/rand/v2"
	"testing"
)

// TestIDSetAgainstMap ors random masks into an idSet and a Go map (ids
// small, clustered, negative and beyond 2^56, which do not fit a slot),
// through growth, and requires the same masks back, also after an
// AppendState/DecodeState round trip of a distinctAcc holding the set.
func TestIDSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s idSet
	model := map[int64]uint8{}
	for i := range 50000 {
		var id int64
		switch r.IntN(4) {
		case 0:
			id = r.Int64N(100)
		case 1:
			id = int64(i) << 20
		case 2:
			id = -r.Int64N(1000) - 1
		default:
			id = idFits + r.Int64N(1000)
		}
		m := uint8(1) << r.IntN(8)
		if got, want := s.or(id, m), model[id]; got != want {
			t.Fatalf("or(%d): old mask %#x, want %#x", id, got, want)
		}
		model[id] |= m
	}
	check := func(what string, s *idSet) {
		t.Helper()
		if s.len() != len(model) {
			t.Fatalf("%s: %d ids, want %d", what, s.len(), len(model))
		}
		seen := 0
		s.each(func(id int64, m uint8) {
			seen++
			if model[id] != m {
				t.Fatalf("%s: id %d mask %#x, want %#x", what, id, m, model[id])
			}
		})
		if seen != len(model) {
			t.Fatalf("%s: each gave %d ids, want %d", what, seen, len(model))
		}
	}
	check("set", &s)
	a := distinctAcc{DistinctStats: DistinctStats{Minute: "12:34", Bids: Counts3{1, 2, 3, 4}, Auctions: Counts3{-5, 6, 7, 8}}, ids: s}
	enc := a.AppendState([]byte{9})
	var b distinctAcc
	n, err := b.DecodeState(enc[1:])
	if err != nil || n != len(enc)-1 {
		t.Fatalf("decode: %d bytes of %d, %v", n, len(enc)-1, err)
	}
	if b.DistinctStats != a.DistinctStats {
		t.Fatalf("decoded stats %+v, want %+v", b.DistinctStats, a.DistinctStats)
	}
	check("decoded", &b.ids)
	for _, cut := range []int{0, 1, len(enc) / 2, len(enc) - 2} {
		var c distinctAcc
		if _, err := c.DecodeState(enc[1 : 1+cut]); err == nil {
			t.Fatalf("decoding %d of %d bytes: no error", cut, len(enc)-1)
		}
	}
}
