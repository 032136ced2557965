package exec

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestWindowMemFiringOrder: after a restore, the keys restored with window
// state go on on the state-backed path (timers) while new keys use the
// slice table; after a cap, some keys move into state. One watermark that
// fires several windows, and the end of input, must emit them in
// ascending order of their end across both paths (as the state-backed
// path and Flink's window operators do, by timer), with the rows of the
// state-backed path. TUMBLE and HOP, one and two phases.
func TestWindowMemFiringOrder(t *testing.T) {
	const min = int64(60_000)
	in := []row.Type{row.TimestampType(3), row.String(), row.BigInt()}
	r := func(ts int64, k string) memScript {
		return memScript{step: step{r: row.Of(row.Timestamp(ts, 0), row.Str(k), row.Int(1)), ts: ts}}
	}
	wm := func(ts int64) memScript { return memScript{step: step{wm: ts}} }
	snap := memScript{snap: true}
	// a and b have windows in state at the snapshot: after the restore
	// they run on the state-backed path; c and d are new (slice table).
	// The watermark to 100 min fires the windows ending 10..60 at once,
	// the end of input the rest.
	script := []memScript{
		r(1*min, "a"), r(2*min, "b"), wm(30 * time.Second.Milliseconds()), snap,
		r(3*min, "c"), r(12*min, "d"), r(15*min, "c"), r(25*min, "a"), r(33*min, "d"), r(47*min, "b"),
		r(55*min, "c"), wm(100 * min),
		r(101*min, "d"), r(115*min, "a"), r(118*min, "c"), r(125*min, "b"),
	}
	// Past the cap of 3 entries (the fourth key) a, b, c and d move into
	// state and stay on the state-backed path; e and f are new.
	capScript := []memScript{
		r(1*min, "a"), r(2*min, "b"), r(3*min, "c"), r(4*min, "d"),
		r(15*min, "e"), r(25*min, "a"), r(35*min, "f"), r(38*min, "b"), wm(100 * min),
		r(101*min, "e"), r(115*min, "c"), r(118*min, "f"),
	}
	isWm := func(s memScript) bool { return s.wm == 100*min }
	noWm := slices.DeleteFunc(slices.Clone(script), isWm)
	for _, c := range []struct {
		name   string
		w      Window
		two    bool
		limit  int
		script []memScript
	}{
		{name: "tumble-restore", w: Tumble(10 * time.Minute), script: script},
		{name: "hop-restore", w: Hop(10*time.Minute, 20*time.Minute), script: script},
		{name: "twophase-tumble-restore", w: Tumble(10 * time.Minute), two: true, script: script},
		{name: "twophase-hop-restore", w: Hop(10*time.Minute, 30*time.Minute), two: true, script: script},
		// Without the watermark, the end of input (the final watermark)
		// fires everything, the state-backed keys' windows by timer.
		{name: "tumble-restore-end", w: Tumble(10 * time.Minute), script: noWm},
		{name: "hop-restore-end", w: Hop(10*time.Minute, 20*time.Minute), script: noWm},
		{name: "tumble-cap", w: Tumble(10 * time.Minute), limit: 3, script: capScript},
		{name: "hop-cap", w: Hop(10*time.Minute, 20*time.Minute), limit: 3, script: capScript},
		{name: "twophase-hop-cap", w: Hop(10*time.Minute, 20*time.Minute), two: true, limit: 3, script: capScript},
	} {
		t.Run(c.name, func(t *testing.T) {
			script := c.script
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
			want, wantR := runMemScript(t, cf, cf, script, agg(ref))
			got, gotR := runMemScript(t, cf, cf, script, agg(spec))
			runs := map[string][2][]row.Row{"uninterrupted": {got, want}}
			for i := range gotR {
				runs[fmt.Sprintf("restored %d", i)] = [2][]row.Row{gotR[i], wantR[i]}
			}
			for name, gw := range runs {
				g, w := gw[0], gw[1]
				if gs, ws := sortedRows(g, outTypes), sortedRows(w, outTypes); !slices.Equal(gs, ws) {
					t.Fatalf("%s: slice table emitted\n%v\nstate-backed path\n%v", name, gs, ws)
				}
				nt := len(outTypes)
				for i := 1; i < len(g); i++ {
					if g[i].Fields[nt-2].Millis() < g[i-1].Fields[nt-2].Millis() {
						var all []string
						for _, r := range g {
							all = append(all, row.FormatRow(r, outTypes))
						}
						t.Fatalf("%s: row %d: window end of %s after %s; all:\n%v", name, i, row.FormatRow(g[i], outTypes), row.FormatRow(g[i-1], outTypes), all)
					}
				}
			}
		})
	}
}
