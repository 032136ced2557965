package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// memScript is a step of TestWindowMemAgainstStateBacked: a row, a
// watermark, a snapshot (the job goes on) or the end of input.
type memScript struct {
	step
	snap bool
}

// runMemScript runs script through build under c; snapshots are taken
// where the script says and the job continues. It returns the rows
// emitted, and the rows emitted by a job restored (under restore) from
// each snapshot and fed the rest of the script.
func runMemScript(t *testing.T, c config, restore config, script []memScript, build func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)) ([]row.Row, [][]row.Row) {
	t.Helper()
	start := func(h *weirtest.Harness) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		in := weirtest.NewInput[row.Row](h)
		s, err := build(in.Stream())
		if err != nil {
			t.Fatal(err)
		}
		out := weirtest.Capture(h, s)
		h.Start(t)
		return in, out
	}
	play := func(in *weirtest.Input[row.Row], s memScript) {
		var err error
		switch {
		case s.wm > 0:
			err = in.Watermark(s.wm)
		default:
			err = in.Push(s.r, s.ts)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	h := weirtest.New(c.options(t))
	in, out := start(h)
	lastSnap := -1
	for i, s := range script {
		if s.snap {
			lastSnap = i
		}
	}
	lastWm := int64(0)
	var restored [][]row.Row
	for i, s := range script {
		if !s.snap {
			if s.wm > 0 {
				lastWm = s.wm
			}
			play(in, s)
			continue
		}
		sn, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if i != lastSnap {
			continue
		}
		// Restore the last snapshot (the others are discarded,
		// Checkpoints.Retained 1) and feed it the rest.
		before := slices.Clone(out.Values())
		h2 := weirtest.Restore(restore.options(t), sn)
		in2, out2 := start(h2)
		if lastWm > 0 {
			if err := in2.Watermark(lastWm); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range script[i+1:] {
			if !s.snap {
				play(in2, s)
			}
		}
		if err := in2.End(); err != nil {
			t.Fatal(err)
		}
		restored = append(restored, append(before, out2.Values()...))
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	all := out.Values()
	return all, restored
}

func sortedRows(rs []row.Row, types []row.Type) []string {
	var s []string
	for _, r := range rs {
		s = append(s, row.FormatRow(r, types))
	}
	slices.Sort(s)
	return s
}

// TestWindowMemAgainstStateBacked runs adversarial scripts through the
// slice table and through the state-backed path (the code before it):
// snapshots taken mid-window after which the job goes on (two in a row,
// and one right before a watermark jump that fires many windows), late
// rows, HOP windows with a table cap that moves some keys into state,
// TIMESTAMP_LTZ windows in a zone with DST transitions, and the end of
// input; and the restore of the last snapshot at another parallelism and
// backend. Both paths must emit the same rows; the slice table emits the
// windows of one watermark in order of their end.
func TestWindowMemAgainstStateBacked(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // sql/expr embeds the zone database (time/tzdata)
	}
	// The fall-back night 2026-10-25 01:00 UTC (03:00 CEST -> 02:00 CET)
	// and the spring-forward 2026-03-29 01:00 UTC.
	bases := map[string]int64{
		"fallback": time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC).UnixMilli(),
		"spring":   time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC).UnixMilli(),
	}
	type tc struct {
		name  string
		w     Window
		ltz   bool
		limit int
		base  string
		two   bool // LocalWindowAggregate + GlobalWindowAggregate
	}
	cases := []tc{
		{name: "tumble", w: Tumble(10 * time.Minute), base: "fallback"},
		{name: "hop", w: Hop(10*time.Minute, 30*time.Minute), base: "fallback"},
		{name: "hop-cap", w: Hop(10*time.Minute, 30*time.Minute), limit: 9, base: "fallback"},
		{name: "tumble-cap", w: Tumble(15 * time.Minute), limit: 5, base: "spring"},
		{name: "twophase-tumble", w: Tumble(10 * time.Minute), base: "fallback", two: true},
		{name: "twophase-hop-cap", w: Hop(10*time.Minute, 30*time.Minute), limit: 9, base: "spring", two: true},
	}
	for _, zone := range []string{"fallback", "spring"} {
		w1 := Tumble(30 * time.Minute)
		w1.Zone = berlin
		w2 := Hop(15*time.Minute, time.Hour)
		w2.Zone = berlin
		cases = append(cases, tc{name: "ltz-tumble-" + zone, w: w1, ltz: true, base: zone},
			tc{name: "ltz-hop-" + zone, w: w2, ltz: true, base: zone},
			tc{name: "ltz-hop-cap-" + zone, w: w2, ltz: true, limit: 6, base: zone})
	}
	for ci, c := range cases {
		tsType := row.TimestampType(3)
		if c.ltz {
			tsType = row.TimestampLTZType(3)
		}
		in := []row.Type{tsType, row.String(), row.BigInt()}
		for _, seed := range []uint64{uint64(ci + 1)} {
			rng := rand.New(rand.NewPCG(seed, 7))
			base := bases[c.base]
			var script []memScript
			maxTS, wm := base, int64(0)
			for i := range 300 {
				ts := base + int64(i)*40_000 - int64(rng.IntN(20*60_000))
				if rng.IntN(10) == 0 && wm > 0 {
					ts = wm - int64(rng.IntN(3))*1 // exactly at / just before the watermark: late or not
				}
				script = append(script, memScript{step: step{r: row.Of(row.Timestamp(ts, 0), row.Str(fmt.Sprintf("k%d", rng.IntN(7))), row.Int(int64(rng.IntN(50)))), ts: ts}})
				maxTS = max(maxTS, ts)
				switch rng.IntN(40) {
				case 0:
					script = append(script, memScript{snap: true})
				case 1:
					script = append(script, memScript{snap: true}, memScript{snap: true})
				case 2:
					// A watermark jump firing many windows, just after a
					// snapshot.
					script = append(script, memScript{snap: true})
					wm = maxTS + int64(rng.IntN(90*60_000))
					maxTS = wm
					script = append(script, memScript{step: step{wm: wm}})
				}
				if i%13 == 12 && maxTS-5*60_000 > wm {
					wm = maxTS - 5*60_000
					script = append(script, memScript{step: step{wm: wm}})
				}
			}
			// A snapshot right before the end of input.
			script = append(script, memScript{snap: true})
			spec := WindowAggSpec{InputTypes: in, TimeCol: 0, Window: c.w, GroupKeys: []int{1}, UID: "wagg",
				Aggs: []AggCall{Call(CountStar), Call(Sum, 2)}, memLimit: c.limit}
			outTypes, err := spec.OutputTypes()
			if err != nil {
				t.Fatal(err)
			}
			ref := spec
			ref.stateBacked = true
			agg := func(s weir.Stream[row.Row], spec WindowAggSpec) (weir.Stream[row.Row], error) {
				if !c.two {
					return WindowAggregate(s, spec)
				}
				l, err := LocalWindowAggregate(s, spec)
				if err != nil {
					return l, err
				}
				return GlobalWindowAggregate(l, spec)
			}
			// One configuration per case (the whole matrix took two
			// minutes of CI under -race): every third case runs on Pebble
			// at parallelism 2 (restored into the heap at 1), the others
			// on the heap at 1 (restored into Pebble at 3).
			cfs := []struct{ c, r config }{
				{config{p: 1, backend: weir.StateHeap}, config{p: 3, backend: weir.StatePebble}},
				{config{p: 2, backend: weir.StatePebble}, config{p: 1, backend: weir.StateHeap}},
			}
			k := 0
			if ci%3 == 2 {
				k = 1
			}
			for _, cf := range cfs[k : k+1] {
				t.Run(fmt.Sprintf("%s/seed%d/%s", c.name, seed, cf.c.String()), func(t *testing.T) {
					want, wantR := runMemScript(t, cf.c, cf.r, script, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
						return agg(s, ref)
					})
					got, gotR := runMemScript(t, cf.c, cf.r, script, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
						return agg(s, spec)
					})
					if len(want) == 0 {
						t.Fatal("no windows fired")
					}
					if g, w := sortedRows(got, outTypes), sortedRows(want, outTypes); !slices.Equal(g, w) {
						t.Fatalf("slice table emitted (%d rows)\n%v\nstate-backed path (%d rows)\n%v", len(g), g, len(w), w)
					}
					for i := range wantR {
						if g, w := sortedRows(gotR[i], outTypes), sortedRows(wantR[i], outTypes); !slices.Equal(g, w) {
							t.Fatalf("restored: slice table emitted (%d rows)\n%v\nstate-backed path (%d rows)\n%v", len(g), g, len(w), w)
						}
					}
					if cf.c.p == 1 {
						// One subtask: window ends ascend, across the
						// slice table and the keys the cap moved into
						// state (TestWindowMemFiringOrder: after a
						// restore).
						nt := len(outTypes)
						for i := 1; i < len(got); i++ {
							if got[i].Fields[nt-2].Millis() < got[i-1].Fields[nt-2].Millis() {
								t.Fatalf("row %d: window end %s after %s", i, row.FormatRow(got[i], outTypes), row.FormatRow(got[i-1], outTypes))
							}
						}
					}
				})
			}
		}
	}
}
