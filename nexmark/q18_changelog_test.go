package nexmark

import (
	"context"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/weirtest"
)

// q18Model is q18 per pair, row by row: the kept bid of every pair and
// every row the operator must emit, in order, per pair.
type q18Model struct {
	kept  map[BidderAuction]Bid
	pairs []BidderAuction // in order of first bid
	rows  map[BidderAuction][]Q18Row
}

// q18ModelAfterFixture returns the model of q18's state in q18Fixture:
// the last bid of every pair of the first half of topJoinEvents as
// 0d98c66 chose it (later time, then higher price, then the greater extra
// string), no rows yet.
func q18ModelAfterFixture(events []Event) *q18Model {
	m := &q18Model{kept: map[BidderAuction]Bid{}, rows: map[BidderAuction][]Q18Row{}}
	for _, b := range refBids(events) {
		k := BidderAuction{b.Bidder, b.Auction}
		cur, ok := m.kept[k]
		if !ok {
			m.pairs = append(m.pairs, k)
		}
		if !ok || b.DateTime > cur.DateTime || b.DateTime == cur.DateTime &&
			(b.Price > cur.Price || b.Price == cur.Price && b.Extra > cur.Extra) {
			m.kept[k] = *b
		}
	}
	return m
}

// push applies bids as q18 does now: a bid replaces the kept one, and is
// emitted, if it comes after it (q18Order: the restored extra counts by
// its fingerprint).
func (m *q18Model) push(events []Event) {
	for _, b := range refBids(events) {
		k := BidderAuction{b.Bidder, b.Auction}
		if cur, ok := m.kept[k]; ok && !q18Order(b).after(q18Order(&cur)) {
			continue
		}
		m.kept[k] = *b
		m.rows[k] = append(m.rows[k], Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra})
	}
}

// probes returns, for the given pairs, three bids against the kept one:
// a millisecond older at a higher price (never replaces it), the kept bid
// again (equal in all: never replaces it), and a tie of time and price
// with extra+tag (replaces it if its fingerprint is greater).
func (m *q18Model) probes(pairs []BidderAuction, tag string) []Event {
	var out []Event
	for _, k := range pairs {
		b := m.kept[k]
		older, same, tie := b, b, b
		older.DateTime--
		older.Price++
		older.Extra = "older" + tag
		tie.Extra += tag
		out = append(out, Event{Type: BidEvent, Bid: &older}, Event{Type: BidEvent, Bid: &same}, Event{Type: BidEvent, Bid: &tie})
	}
	return out
}

// q18Rows collects q18's rows through a sink named as q18's (so that
// q18Fixture, which has that sink's state, restores into the job).
type q18Rows struct {
	mu   sync.Mutex
	rows []Q18Row
}

func captureQ18(in *weirtest.Input[Event]) *q18Rows {
	c := &q18Rows{}
	q18Stream(in.Stream()).SinkTo(weir.SinkFunc[Q18Row](func(_ context.Context, r Q18Row, _ int64) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.rows = append(c.rows, r)
		return nil
	})).Name("q18Sink")
	return c
}

// checkChangelog requires the rows of outs, per pair in order, to be the
// model's.
func checkChangelog(t *testing.T, m *q18Model, outs ...*q18Rows) {
	t.Helper()
	got := map[BidderAuction][]Q18Row{}
	n := 0
	for _, o := range outs {
		for _, r := range o.rows {
			k := BidderAuction{r.Bidder, r.Auction}
			got[k] = append(got[k], r)
			n++
		}
	}
	want := 0
	bad := 0
	for k, rows := range m.rows {
		want += len(rows)
		g := got[k]
		same := len(g) == len(rows)
		for i := 0; same && i < len(g); i++ {
			same = g[i] == rows[i]
		}
		if !same {
			if bad++; bad <= 5 {
				t.Errorf("pair %v: rows\n%+v\nwant\n%+v", k, g, rows)
			}
		}
	}
	if n != want || bad > 0 {
		t.Errorf("%d rows, want %d; %d pairs differ", n, want, bad)
	}
}

// TestQ18RestoredChangelog restores q18Fixture (state "last" of 0d98c66)
// on both backends at parallelism 1 and 3 and compares every row q18
// emits, per pair and in order, with a model that starts from the
// fixture's last bids (ties chosen by 0d98c66's order): probes (an older
// bid, the kept bid again, a tie) for every second pair of the first
// half, then a quarter of the events; a snapshot (some pairs moved to
// "lastTie", the others still in "last") restored at parallelism 2 on
// either backend (Pebble to Pebble restores its native files); probes
// for every pair of the first half, moved or not, then the rest of the
// events. A restored pair that was lost (in the
// restore, in the second snapshot, or by a subtask that did not look for
// it) emits the older probe; one whose fingerprint came from the wrong
// extra breaks its tie the wrong way.
func TestQ18RestoredChangelog(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	three := half + (len(events)-half)/2
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, par := range []int{1, 3} {
			for _, then := range []string{weir.StateHeap, weir.StatePebble} {
				t.Run(backend+"/p"+string(rune('0'+par))+"/then-"+then, func(t *testing.T) {
					m := q18ModelAfterFixture(events[:half])
					var every2 []BidderAuction
					for i, k := range m.pairs {
						if i%2 == 0 {
							every2 = append(every2, k)
						}
					}
					first := append(m.probes(every2, "-a"), events[half:three]...)
					m.push(first)
					second := append(m.probes(m.pairs, "-b"), events[three:]...)
					m.push(second)

					opts := restoreOptions(t, backend, par)
					h := weirtest.Restore(opts, fixtureCopy(t, q18Fixture))
					in := weirtest.NewInput[Event](h)
					outA := captureQ18(in)
					h.Start(t)
					pushEvents(t, in, first)
					snap, err := h.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					opts.Parallelism = 2
					opts.StateBackend = then
					h2 := weirtest.Restore(opts, snap)
					in2 := weirtest.NewInput[Event](h2)
					outB := captureQ18(in2)
					h2.Start(t)
					pushEvents(t, in2, second)
					if err := in2.End(); err != nil {
						t.Fatal(err)
					}
					checkChangelog(t, m, outA, outB)
				})
			}
		}
	}
}
