package exec

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestWindowMemOrderReview: adversarial scripts for the interleaving of
// the slice table's windows with the timers of the keys on the
// state-backed path (window_mem_order.go), against the state-backed
// path. Each case is built so that a watermark (or the end of input)
// fires the table's last due window at the very time of a state-backed
// key's timer that fires before the table's own timers (it was
// registered earlier), so the extra timer lands in the bucket that is
// firing.
func TestWindowMemOrderReview(t *testing.T) {
	const min = int64(60_000)
	in := []row.Type{row.TimestampType(3), row.String(), row.BigInt()}
	r := func(ts int64, k string) memScript {
		return memScript{step: step{r: row.Of(row.Timestamp(ts, 0), row.Str(k), row.Int(1)), ts: ts}}
	}
	wm := func(ts int64) memScript { return memScript{step: step{wm: ts}} }
	snap := memScript{snap: true}
	// k has a slice in state at the snapshot (restored onto the
	// state-backed path); after the restore it gets rows in the next two
	// slices, and the watermark fires its windows ending 30 and 40 min.
	// j (slice table) then gets a row whose only window left ends at
	// 50 min, k's next timer: at the end of input k's timer (registered
	// before the table's, written at the final flush) fires first.
	restoreEnd := []memScript{
		r(25*min, "k"), wm(1), snap,
		r(35*min, "k"), r(45*min, "k"), wm(40 * min),
		r(25*min, "j"),
	}
	// The same with a watermark instead of the end of input: the
	// watermark to 50 min fires j's window (the table) and k's.
	restoreWm := append(slices.Clone(restoreEnd), wm(50*min), r(55*min, "j"), wm(200*min))
	// Past the cap (2 entries) a, b and c move into state with their
	// timers; d (table) gets a row in a's and b's current window.
	capEnd := []memScript{
		r(25*min, "a"), r(26*min, "b"), r(35*min, "a"), r(45*min, "a"), r(46*min, "b"), wm(40 * min),
		r(25*min, "d"),
	}
	for _, c := range []struct {
		name   string
		w      Window
		two    bool
		limit  int
		script []memScript
	}{
		{name: "hop-restore-end", w: Hop(10*time.Minute, 30*time.Minute), script: restoreEnd},
		{name: "hop-restore-wm", w: Hop(10*time.Minute, 30*time.Minute), script: restoreWm},
		{name: "twophase-hop-restore-end", w: Hop(10*time.Minute, 30*time.Minute), two: true, script: restoreEnd},
		{name: "tumble-restore-end", w: Tumble(10 * time.Minute), script: restoreEnd},
		{name: "hop-cap-end", w: Hop(10*time.Minute, 30*time.Minute), limit: 2, script: capEnd},
		{name: "twophase-hop-cap-end", w: Hop(10*time.Minute, 30*time.Minute), two: true, limit: 2, script: capEnd},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := WindowAggSpec{InputTypes: in, TimeCol: 0, Window: c.w, GroupKeys: []int{1}, UID: "wagg",
				Aggs: []AggCall{Call(CountStar)}, memLimit: c.limit}
			outTypes, err := spec.OutputTypes()
			if err != nil {
				t.Fatal(err)
			}
			ref := spec
			ref.stateBacked = true
			agg := func(spec WindowAggSpec) func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					if !c.two {
						return WindowAggregate(s, spec)
					}
					l, err := LocalWindowAggregate(s, spec)
					if err != nil {
						return l, err
					}
					return GlobalWindowAggregate(l, spec)
				}
			}
			cf := config{p: 1, backend: weir.StateHeap}
			want, wantR := runMemScript(t, cf, cf, c.script, agg(ref))
			got, gotR := runMemScript(t, cf, cf, c.script, agg(spec))
			runs := map[string][2][]row.Row{"uninterrupted": {got, want}}
			for i := range gotR {
				runs[fmt.Sprintf("restored %d", i)] = [2][]row.Row{gotR[i], wantR[i]}
			}
			for name, gw := range runs {
				g, w := gw[0], gw[1]
				if len(w) == 0 {
					t.Fatalf("%s: no windows fired", name)
				}
				if gs, ws := sortedRows(g, outTypes), sortedRows(w, outTypes); !slices.Equal(gs, ws) {
					t.Fatalf("%s: slice table emitted\n%v\nstate-backed path\n%v", name, gs, ws)
				}
				nt := len(outTypes)
				for i := 1; i < len(g); i++ {
					if g[i].Fields[nt-2].Millis() < g[i-1].Fields[nt-2].Millis() {
						t.Fatalf("%s: row %d: window end of %s after %s", name, i, row.FormatRow(g[i], outTypes), row.FormatRow(g[i-1], outTypes))
					}
				}
			}
		})
	}
}
