package nexmark

import (
	"testing"
)

// TestCopyStateSharesNothingChanged: the copies the heap backend hands out
// while a snapshot holds the original (state.Copier) change independently
// of it: a distinctAcc's ids (packed and, beyond 2^56, in the map) and
// counts, a q19 buffer's ranks.
func TestCopyStateSharesNothingChanged(t *testing.T) {
	a := &distinctAcc{DistinctStats: DistinctStats{Minute: "12:34", Bids: Counts3{1, 2, 3, 4}}}
	for id := range int64(100) {
		a.ids.or(id, 1)
	}
	a.ids.or(idFits+5, 2)
	want := string(a.AppendState(nil))
	c := a.CopyState()
	if string(c.AppendState(nil)) != want {
		t.Fatal("the copy differs from the original")
	}
	for id := range int64(1000) {
		c.ids.or(id, 4) // grows the copy's table; changes the masks
	}
	c.ids.or(idFits+5, 8)
	c.ids.or(idFits+6, 8)
	c.Bids.Total = 99
	c.Minute = "23:59"
	if string(a.AppendState(nil)) != want {
		t.Fatal("changing the copy changed the original distinctAcc")
	}
	// Also without growth: masks changed in the same table.
	c = a.CopyState()
	c.ids.or(3, 8)
	if string(a.AppendState(nil)) != want {
		t.Fatal("changing a mask of the copy changed the original distinctAcc")
	}

	b1, b2 := &Bid{Auction: 1, Price: 10}, &Bid{Auction: 1, Price: 20}
	r := &q19Ranks{b1}
	rc := r.CopyState()
	rc[0], rc[1] = b2, b1
	if r[0] != b1 || r[1] != nil {
		t.Fatal("changing the copy changed the original q19 buffer")
	}
}
