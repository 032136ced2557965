package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// config is one way to run a job: parallelism and state backend, and
// optionally a checkpoint after half the input from which a job with
// another configuration goes on.
type config struct {
	p       int
	backend string
	then    *config
	// fromPerWindow: the first job keeps HOP windows per window (the
	// layout before slicing); the restored one slices them.
	fromPerWindow bool
	// fromStateBacked: the first job keeps TUMBLE and HOP windows in
	// keyed state with per-key timers (the layout before the slice
	// table); toStateBacked: the restored one does.
	fromStateBacked, toStateBacked bool
	// memLimit bounds the slice table's entries (memWindowMaxEntries).
	memLimit int
}

func (c config) String() string {
	s := fmt.Sprintf("p%d-%s", c.p, c.backend)
	if c.fromPerWindow {
		s += "-perwindow"
	}
	if c.fromStateBacked {
		s += "-statebacked"
	}
	if c.toStateBacked {
		s += "-to-statebacked"
	}
	if c.memLimit > 0 {
		s += fmt.Sprintf("-memlimit%d", c.memLimit)
	}
	if c.then != nil {
		s += "-restore-" + c.then.String()
	}
	return s
}

var sameAnswerConfigs = []config{
	{p: 1, backend: weir.StateHeap},
	{p: 4, backend: weir.StateHeap},
	{p: 1, backend: weir.StatePebble},
	{p: 4, backend: weir.StatePebble},
	{p: 1, backend: weir.StateHeap, then: &config{p: 4, backend: weir.StatePebble}},
	{p: 4, backend: weir.StatePebble, then: &config{p: 2, backend: weir.StateHeap}},
	{p: 4, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}},
}

func (c config) options(t *testing.T) weir.Options {
	return weir.Options{Parallelism: c.p, StateBackend: c.backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

// step is a row pushed at a timestamp, or a watermark (wm > 0).
type step struct {
	r  row.Row
	ts int64
	wm int64
}

// runSteps runs the steps through the operator built by build, under c,
// and returns every row it emitted.
func runSteps(t *testing.T, c config, steps []step, build func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)) []row.Row {
	t.Helper()
	return runStepsRebuilt(t, c, steps, build, build)
}

// runStepsRebuilt is runSteps whose restored job (c.then) is built by
// rebuild: an operator restoring the snapshot of an earlier version.
func runStepsRebuilt(t *testing.T, c config, steps []step, build, rebuild func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)) []row.Row {
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
	play := func(in *weirtest.Input[row.Row], steps []step) {
		for _, s := range steps {
			var err error
			if s.wm > 0 {
				err = in.Watermark(s.wm)
			} else {
				err = in.Push(s.r, s.ts)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	h := weirtest.New(c.options(t))
	in, out := start(h)
	if c.then == nil {
		play(in, steps)
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		return out.Values()
	}
	half := len(steps) / 2
	play(in, steps[:half])
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got := out.Values()
	h2 := weirtest.Restore(c.then.options(t), snap)
	build = rebuild
	in2, out2 := start(h2)
	// Watermarks are not part of checkpoints (in Flink neither): the
	// restored job's sources emit theirs again. Re-send the last one, as
	// a source with a watermark strategy would, so that the rows after
	// the restore meet the watermark they met in an uninterrupted run.
	for i := half - 1; i >= 0; i-- {
		if steps[i].wm > 0 {
			if err := in2.Watermark(steps[i].wm); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	play(in2, steps[half:])
	if err := in2.End(); err != nil {
		t.Fatal(err)
	}
	return append(got, out2.Values()...)
}

// materialize applies a changelog to a table keyed by the first nkeys
// columns and returns the table's rows, printed and sorted. A -U or -D
// must remove exactly the row present.
func materialize(t *testing.T, log []row.Row, types []row.Type, nkeys int) []string {
	t.Helper()
	table := map[string]string{}
	for _, r := range log {
		key := row.FormatRow(row.Row{Fields: r.Fields[:nkeys]}, types)
		full := row.FormatRow(r.WithKind(row.Insert), types)
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			table[key] = full
		default:
			if table[key] != full {
				t.Fatalf("%s retracts %s, but the table holds %q", row.FormatRow(r, types), key, table[key])
			}
			delete(table, key)
		}
	}
	out := make([]string, 0, len(table))
	for _, v := range table {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// TestGroupAggSameAnswer runs a random changelog (inserts, and
// retractions of rows inserted before) through GroupAggregate under every
// configuration and compares the materialised result with a batch
// computation over the rows that remain.
func TestGroupAggSameAnswer(t *testing.T) {
	spec, steps, outTypes, want := groupAggRandomChangelog(t)
	groupAggFinalTable(t, spec, steps, outTypes, want)
}

// groupAggRandomChangelog returns the GroupAggregate of
// TestGroupAggSameAnswer, its random input and the final table it must
// give.
func groupAggRandomChangelog(t *testing.T) (spec GroupAggSpec, steps []step, outTypes []row.Type, want []string) {
	t.Helper()
	in := []row.Type{row.String(), row.IntType(), row.String()}
	spec = GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{
			{Func: CountStar, Filter: NoFilter},
			{Func: Sum, Args: []int{1}, Filter: NoFilter},
			{Func: Max, Args: []int{1}, Filter: NoFilter},
			{Func: Count, Args: []int{2}, Distinct: true, Filter: NoFilter},
		}}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	var live []row.Row
	for range 600 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			steps = append(steps, retractRandom(rng, &live))
			continue
		}
		v := row.Value{}
		if rng.IntN(8) != 0 {
			v = row.Int(int64(rng.IntN(100) - 20))
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(17))), v, row.Str(fmt.Sprintf("s%d", rng.IntN(4))))
		live = append(live, r)
		steps = append(steps, step{r: r, ts: weir.NoTimestamp})
	}

	// The batch answer over the rows still present.
	type agg struct {
		n, sum, nonNull int64
		max             int64
		hasMax          bool
		distinct        map[string]bool
	}
	groups := map[string]*agg{}
	for _, r := range live {
		k := r.Fields[0].Str()
		g := groups[k]
		if g == nil {
			g = &agg{distinct: map[string]bool{}}
			groups[k] = g
		}
		g.n++
		if v := r.Fields[1]; !v.IsNull() {
			g.nonNull++
			g.sum += v.Int()
			if !g.hasMax || v.Int() > g.max {
				g.max, g.hasMax = v.Int(), true
			}
		}
		g.distinct[r.Fields[2].Str()] = true
	}
	for k, g := range groups {
		sum, max := "NULL", "NULL"
		if g.nonNull > 0 {
			sum, max = fmt.Sprint(g.sum), fmt.Sprint(g.max)
		}
		want = append(want, fmt.Sprintf("+I[%s, %d, %s, %s, %d]", k, g.n, sum, max, len(g.distinct)))
	}
	slices.Sort(want)
	return spec, steps, outTypes, want
}

// TestWindowAggSameAnswer runs random out-of-order rows with periodic
// watermarks through WindowAggregate (TUMBLE and HOP) under every
// configuration and compares the emitted rows with a batch computation
// that drops the rows Flink drops as late.
func TestWindowAggSameAnswer(t *testing.T) {
	in := []row.Type{row.TimestampType(3), row.String(), row.BigInt()}
	const base = int64(1_700_000_000_000)
	rng := rand.New(rand.NewPCG(11, 13))
	type ev struct {
		ts  int64
		key string
		v   int64
	}
	var evs []ev
	var steps []step
	maxTS, wm := base, int64(0)
	var arrivedWM []int64 // the watermark each event met
	for i := range 800 {
		ts := base + int64(i)*50 - int64(rng.IntN(4000))
		e := ev{ts, fmt.Sprintf("k%d", rng.IntN(11)), int64(rng.IntN(50))}
		evs = append(evs, e)
		arrivedWM = append(arrivedWM, wm)
		steps = append(steps, step{r: row.Of(row.Timestamp(e.ts, 0), row.Str(e.key), row.Int(e.v)), ts: e.ts})
		maxTS = max(maxTS, ts)
		if i%25 == 24 {
			wm = maxTS - 2000
			steps = append(steps, step{wm: wm})
		}
	}
	// HOP without DISTINCT is sliced (window_slice.go); with it, kept per
	// window. TUMBLE and HOP without DISTINCT use the slice table
	// (window_mem.go).
	for _, c := range []struct {
		w        Window
		distinct bool
	}{{Tumble(time.Second), true}, {Hop(500*time.Millisecond, 2*time.Second), true},
		{Hop(500*time.Millisecond, 2*time.Second), false}, {Cumulate(250*time.Millisecond, time.Second), true},
		{Tumble(time.Second), false}} {
		w := c.w
		aggs := []AggCall{Call(CountStar), Call(Sum, 2)}
		if c.distinct {
			aggs = append(aggs, Call(Count, 2).WithDistinct())
		}
		spec := WindowAggSpec{InputTypes: in, TimeCol: 0, Window: w, GroupKeys: []int{1}, UID: "wagg", Aggs: aggs}
		outTypes, err := spec.OutputTypes()
		if err != nil {
			t.Fatal(err)
		}
		// windowsOf lists, by brute force over aligned boundaries, the
		// windows [start, end) that contain ts.
		windowsOf := func(ts int64) [][2]int64 {
			var out [][2]int64
			size := w.Size.Milliseconds()
			switch w.Kind {
			case TumbleWindow, HopWindow:
				slide := size
				if w.Kind == HopWindow {
					slide = w.Slide.Milliseconds()
				}
				for s := ts - size - slide; s <= ts; s++ {
					if s%slide == 0 && s <= ts && ts < s+size {
						out = append(out, [2]int64{s, s + size})
					}
				}
			case CumulateWindow:
				step, base := w.Step.Milliseconds(), ts-ts%size
				for e := base + step; e <= base+size; e += step {
					if ts < e {
						out = append(out, [2]int64{base, e})
					}
				}
			}
			return out
		}
		// Batch answer: the watermark each row met decides which of its
		// windows it still reaches.
		type acc struct {
			n, sum   int64
			distinct map[int64]bool
		}
		res := map[[3]any]*acc{}
		late := 0
		for i, e := range evs {
			// The row goes to its windows that have not fired; it is
			// late when none is left.
			var open [][2]int64
			for _, x := range windowsOf(e.ts) {
				if x[1]-1 > arrivedWM[i] {
					open = append(open, x)
				}
			}
			if len(open) == 0 {
				late++
				continue
			}
			for _, x := range open {
				k := [3]any{e.key, x[0], x[1]}
				if res[k] == nil {
					res[k] = &acc{distinct: map[int64]bool{}}
				}
				res[k].n++
				res[k].sum += e.v
				res[k].distinct[e.v] = true
			}
		}
		if late == 0 || late > len(evs)/4 {
			t.Fatalf("%v: %d of %d rows late; the input should exercise lateness a little", w, late, len(evs))
		}
		var want []string
		for k, a := range res {
			s, e := k[1].(int64), k[2].(int64)
			d := ""
			if c.distinct {
				d = fmt.Sprintf("%d, ", len(a.distinct))
			}
			nt := len(outTypes)
			want = append(want, fmt.Sprintf("+I[%s, %d, %d, %s%s, %s, %s]", k[0], a.n, a.sum, d,
				row.Format(row.Timestamp(s, 0), outTypes[nt-3]), row.Format(row.Timestamp(e, 0), outTypes[nt-2]),
				row.Format(row.Timestamp(e-1, 0), outTypes[nt-1])))
		}
		slices.Sort(want)
		name := w.String()
		if !c.distinct {
			name += "-sliced"
		}
		configs := sameAnswerConfigs
		if !c.distinct && w.Kind == HopWindow {
			// Also: a snapshot of the per-window layout (before slicing)
			// restored into the sliced one.
			configs = append(slices.Clone(configs), config{p: 2, backend: weir.StateHeap, fromPerWindow: true,
				then: &config{p: 3, backend: weir.StatePebble}})
		}
		if !c.distinct && w.Kind != CumulateWindow {
			// A snapshot of the state-backed layout (per-key slices or
			// windows and timers) restored into the slice table, and the
			// slice table's snapshot restored into the state-backed path.
			configs = append(slices.Clone(configs),
				config{p: 2, backend: weir.StateHeap, fromStateBacked: true, then: &config{p: 3, backend: weir.StatePebble}},
				config{p: 1, backend: weir.StatePebble, fromStateBacked: true, then: &config{p: 1, backend: weir.StateHeap}},
				config{p: 3, backend: weir.StateHeap, toStateBacked: true, then: &config{p: 2, backend: weir.StateHeap}},
				// The slice table moves into state when full.
				config{p: 1, backend: weir.StateHeap, memLimit: 7},
				config{p: 2, backend: weir.StatePebble, memLimit: 7, then: &config{p: 1, backend: weir.StateHeap, memLimit: 7}})
		}
		for _, c := range configs {
			t.Run(name+"/"+c.String(), func(t *testing.T) {
				perWindow := spec
				perWindow.perWindow = c.fromPerWindow
				perWindow.stateBacked = c.fromStateBacked
				perWindow.memLimit = c.memLimit
				restored := spec
				restored.stateBacked = c.toStateBacked
				if c.then != nil {
					restored.memLimit = c.then.memLimit
				}
				log := runStepsRebuilt(t, c, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					return WindowAggregate(s, perWindow)
				}, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					return WindowAggregate(s, restored)
				})
				var got []string
				for _, r := range log {
					got = append(got, row.FormatRow(r, outTypes))
				}
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("window results (-want +got):\n%s", strings.Join(strings.Split(diff, "\n")[:min(40, len(strings.Split(diff, "\n")))], "\n"))
				}
			})
		}
	}
}

// TestSessionWindowSameAnswer runs random out-of-order rows through a
// SESSION window aggregate under every configuration (session state and
// timers, merged and deleted, cross checkpoints, backends and rescaling)
// and compares with a direct simulation: sessions per key as a list,
// merged when they overlap or touch, fired when the watermark reaches
// their end - 1, a row late when its merged session would already have
// fired.
func TestSessionWindowSameAnswer(t *testing.T) {
	in := []row.Type{row.TimestampType(3), row.String(), row.BigInt()}
	const base, gap = int64(1_700_000_000_000), int64(300)
	spec := WindowAggSpec{InputTypes: in, TimeCol: 0, Window: Session(time.Duration(gap) * time.Millisecond),
		GroupKeys: []int{1}, UID: "sessions",
		Aggs: []AggCall{{Func: CountStar, Filter: NoFilter}, {Func: Sum, Args: []int{2}, Filter: NoFilter},
			{Func: Max, Args: []int{2}, Filter: NoFilter}}}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	type session struct{ start, end, n, sum, max int64 }
	open := map[string][]session{}
	var want []string
	emit := func(k string, s session) {
		want = append(want, fmt.Sprintf("+I[%s, %d, %d, %d, %s, %s, %s]", k, s.n, s.sum, s.max,
			row.Format(row.Timestamp(s.start, 0), outTypes[4]), row.Format(row.Timestamp(s.end, 0), outTypes[5]),
			row.Format(row.Timestamp(s.end-1, 0), outTypes[6])))
	}
	fire := func(wm int64) {
		for k, ss := range open {
			kept := ss[:0]
			for _, s := range ss {
				if s.end-1 <= wm {
					emit(k, s)
				} else {
					kept = append(kept, s)
				}
			}
			open[k] = kept
		}
	}
	rng := rand.New(rand.NewPCG(17, 19))
	var steps []step
	maxTS, wm := base, int64(0)
	late := 0
	for i := range 700 {
		ts := base + int64(i)*40 - int64(rng.IntN(2500))
		k, v := fmt.Sprintf("k%d", rng.IntN(23)), int64(rng.IntN(50))
		steps = append(steps, step{r: row.Of(row.Timestamp(ts, 0), row.Str(k), row.Int(v)), ts: ts})
		// Simulate.
		m := session{start: ts, end: ts + gap, n: 1, sum: v, max: v}
		var rest []session
		for _, s := range open[k] {
			if s.start <= m.end && m.start <= s.end {
				m = session{min(m.start, s.start), max(m.end, s.end), m.n + s.n, m.sum + s.sum, max(m.max, s.max)}
			} else {
				rest = append(rest, s)
			}
		}
		if wm != 0 && m.end-1 <= wm {
			late++
		} else {
			open[k] = append(rest, m)
		}
		maxTS = max(maxTS, ts)
		if i%20 == 19 {
			wm = maxTS - 1000
			steps = append(steps, step{wm: wm})
			fire(wm)
		}
	}
	fire(1 << 62)
	slices.Sort(want)
	if late == 0 || late > 700/4 {
		t.Fatalf("%d of 700 rows late; the input should exercise lateness a little", late)
	}
	t.Logf("%d rows late, %d sessions", late, len(want))
	for _, c := range sameAnswerConfigs {
		t.Run(c.String(), func(t *testing.T) {
			log := runSteps(t, c, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return WindowAggregate(s, spec)
			})
			var got []string
			for _, r := range log {
				got = append(got, row.FormatRow(r, outTypes))
			}
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("session results (-want +got):\n%s", diff)
			}
		})
	}
}

// retractRandom removes a random row from live and returns its retraction:
// a -D or a -U, at random.
func retractRandom(rng *rand.Rand, live *[]row.Row) step {
	i := rng.IntN(len(*live))
	r := (*live)[i]
	*live = append((*live)[:i], (*live)[i+1:]...)
	kind := row.Delete
	if rng.IntN(2) == 0 {
		kind = row.UpdateBefore
	}
	return step{r: r.WithKind(kind), ts: weir.NoTimestamp}
}

// groupAggFinalTable runs a GroupAggregate of spec over steps in every
// sameAnswerConfigs configuration and checks its final table is want.
func groupAggFinalTable(t *testing.T, spec GroupAggSpec, steps []step, outTypes []row.Type, want []string) {
	t.Helper()
	for _, c := range sameAnswerConfigs {
		t.Run(c.String(), func(t *testing.T) {
			log := runSteps(t, c, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, spec)
			})
			if diff := cmp.Diff(want, materialize(t, log, outTypes, 1)); diff != "" {
				t.Fatalf("final table (-want +got):\n%s", diff)
			}
		})
	}
}
