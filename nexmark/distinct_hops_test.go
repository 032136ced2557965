package nexmark

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// hopsJob attaches q15 and q16 (as q15() and q16() build them) to the
// harness's input and captures their rows.
func hopsJob(h *weirtest.Harness) (*weirtest.Input[Event], *weirtest.Output[Q15Row], *weirtest.Output[Q16Row]) {
	in := weirtest.NewInput[Event](h)
	b := bids(in.Stream())
	q15 := weir.ProcessKeyed(weir.KeyBy(b, func(b *Bid) int64 { return dayNumber(b.DateTime) }), &q15Agg{}).Name("q15")
	q16 := weir.ProcessKeyed(weir.KeyBy(b, func(b *Bid) channelDayKey { return channelDayKey{b.Channel, dayNumber(b.DateTime)} }), &q16Agg{}).Name("q16")
	return in, weirtest.Capture(h, q15), weirtest.Capture(h, q16)
}

// TestDistinctRestoreHops runs q15 and q16 over the events in stages, each
// restored from a snapshot of the one before on another backend and/or
// parallelism (1 and 4, heap and Pebble: keys pass between the "distinct"
// layout and "stats"+"ids" several times, split across key groups and
// merged again). The short middle stages touch only some keys, so most keys
// cross several hops untouched, in whichever layout they were left, before
// the last stage updates them. The final table (each key's last row over
// all stages) must be the batch reference's over all events.
func TestDistinctRestoreHops(t *testing.T) {
	events := distinctEvents(t)
	n := len(events)
	cuts := []int{0, n * 40 / 100, n * 41 / 100, n * 42 / 100, n * 43 / 100, n}
	type stage struct {
		backend string
		par     int
	}
	plans := [][]stage{
		{{weir.StateHeap, 1}, {weir.StatePebble, 4}, {weir.StateHeap, 4}, {weir.StatePebble, 1}, {weir.StateHeap, 4}},
		{{weir.StatePebble, 4}, {weir.StateHeap, 1}, {weir.StateHeap, 4}, {weir.StatePebble, 4}, {weir.StateHeap, 1}},
		{{weir.StateHeap, 4}, {weir.StateHeap, 1}, {weir.StatePebble, 1}, {weir.StatePebble, 4}, {weir.StatePebble, 1}},
	}
	want15, want16 := mustEncode(t, refQ15(events)), mustEncode(t, refQ16(events))
	for _, plan := range plans {
		name := ""
		for _, s := range plan {
			name += fmt.Sprintf("%s%d-", s.backend, s.par)
		}
		t.Run(name[:len(name)-1], func(t *testing.T) {
			var rows15 []Q15Row
			var rows16 []Q16Row
			var snap weirtest.Snapshot
			for i, s := range plan {
				opts := weir.Options{Parallelism: s.par, StateBackend: s.backend, Pebble: pebble.New(), StateDir: t.TempDir(),
					Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				var h *weirtest.Harness
				if i == 0 {
					h = weirtest.New(opts)
				} else {
					h = weirtest.Restore(opts, snap)
				}
				in, o15, o16 := hopsJob(h)
				h.Start(t)
				pushEvents(t, in, events[cuts[i]:cuts[i+1]])
				if i < len(plan)-1 {
					var err error
					if snap, err = h.Snapshot(); err != nil {
						t.Fatal(err)
					}
				} else if err := in.End(); err != nil {
					t.Fatal(err)
				}
				rows15 = append(rows15, o15.Values()...)
				rows16 = append(rows16, o16.Values()...)
			}
			if d := diffRows(mustEncode(t, lastPerKey(func(r Q15Row) string { return r.Day })(rows15)), want15); d != "" {
				t.Errorf("q15: %s", d)
			}
			if d := diffRows(mustEncode(t, lastPerKey(func(r Q16Row) ChannelDay { return ChannelDay{r.Channel, r.Day} })(rows16)), want16); d != "" {
				t.Errorf("q16: %s", d)
			}
			if bids := len(refBids(events)); len(rows15) != bids || len(rows16) != bids {
				t.Errorf("rows: q15 %d, q16 %d, want one per bid: %d", len(rows15), len(rows16), bids)
			}
		})
	}
}
