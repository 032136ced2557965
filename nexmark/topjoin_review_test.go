package nexmark

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestQ9Q19EmittedRowsStayIntact runs q9 and q19 on the heap (q9's rows
// point into its per-auction arenas, q19's buffers change in place),
// taking snapshots between records, keeps the rows as Go values and,
// after the job, requires every row to still be what the auction and bid
// it names say: a later append to an arena, a new best bid or a snapshot
// must never change a row already emitted.
func TestQ9Q19EmittedRowsStayIntact(t *testing.T) {
	events := topJoinEvents(t)[:6000]
	auctionsByID := map[int64]*Auction{}
	type bidKey struct {
		auction, bidder, price int64
		at                     Time
	}
	bidsByKey := map[bidKey]*Bid{}
	for _, e := range events {
		switch e.Type {
		case AuctionEvent:
			auctionsByID[e.Auction.ID] = e.Auction
		case BidEvent:
			b := e.Bid
			bidsByKey[bidKey{b.Auction, b.Bidder, b.Price, b.DateTime}] = b
		}
	}
	h := weirtest.New(weir.Options{Parallelism: 2, StateBackend: weir.StateHeap,
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	in := weirtest.NewInput[Event](h)
	out9 := weirtest.Capture(h, weir.CoProcessKeyed(weir.ConnectKeyed(
		weir.KeyBy(auctions(in.Stream()), func(a *Auction) int64 { return a.ID }),
		weir.KeyBy(bids(in.Stream()), func(b *Bid) int64 { return b.Auction })), &q9Join{}))
	out19 := weirtest.Capture(h, weir.ProcessKeyed(weir.KeyBy(bids(in.Stream()), func(b *Bid) int64 { return b.Auction }), &q19Top{}))
	h.Start(t)
	for i, e := range events {
		if err := in.Push(e, e.Timestamp()); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			if _, err := h.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	rows9, rows19 := out9.Values(), out19.Values()
	if len(rows9) == 0 || len(rows19) == 0 {
		t.Fatalf("q9 %d rows, q19 %d rows: the test would prove nothing", len(rows9), len(rows19))
	}
	for _, r := range rows9 {
		a := auctionsByID[r.ID]
		b := bidsByKey[bidKey{r.Auction, r.Bidder, r.Price, r.BidDateTime}]
		if a == nil || b == nil {
			t.Fatalf("q9 row %+v names an unknown auction or bid", r)
		}
		want := Q9Row{a.ID, a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category, a.Extra,
			b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra}
		if r != want {
			t.Fatalf("q9 row changed after it was emitted:\n got %+v\nwant %+v", r, want)
		}
	}
	for _, r := range rows19 {
		b := bidsByKey[bidKey{r.Auction, r.Bidder, r.Price, r.DateTime}]
		if b == nil {
			t.Fatalf("q19 row %+v names an unknown bid", r)
		}
		if want := (Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra}); r.Q18Row != want {
			t.Fatalf("q19 row changed after it was emitted:\n got %+v\nwant %+v", r.Q18Row, want)
		}
	}
}

// TestTopJoinBackendHops restores topJoinFixture (old layout, p2) and
// hops Pebble p3 -> heap p1 -> Pebble p2 -> heap p3, a snapshot between
// each, so that every run restores keys left untouched in the other
// backend's q19 state (and q9's old states) by the runs before, with key
// groups split and merged; the rows of all runs, as upserts over the
// reference's tables of the first half, must give the reference's tables
// over all events.
func TestTopJoinBackendHops(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	fixture, err := filepath.Abs(topJoinFixture)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	q9, _ := Lookup("q9")
	q19, _ := Lookup("q19")
	hops := []struct {
		backend string
		par     int
	}{{weir.StatePebble, 3}, {weir.StateHeap, 1}, {weir.StatePebble, 2}, {weir.StateHeap, 3}}
	snap := weirtest.Snapshot{Path: dir}
	var r9s, r19s []any
	step := (len(events) - half) / len(hops)
	for i, hop := range hops {
		from, to := half+i*step, half+(i+1)*step
		if i == len(hops)-1 {
			to = len(events)
		}
		opts := weir.Options{Parallelism: hop.par, StateBackend: hop.backend, Pebble: pebble.New(), StateDir: t.TempDir(),
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
		h := weirtest.Restore(opts, snap)
		in, r9, r19 := topJoinJob(h)
		h.Start(t)
		pushEvents(t, in, events[from:to])
		if i == len(hops)-1 {
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
		} else {
			if snap, err = h.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
		r9s, r19s = append(r9s, r9), append(r19s, r19)
	}
	checkUpserted(t, q9, events, half, append([]any{"id"}, r9s...)...)
	checkUpserted(t, q19, events, half, append([]any{"auction", "rank_number"}, r19s...)...)
}
