package exec

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestAttachedWindowRescaleRestore takes a checkpoint of the attached
// window aggregation (two phases, windows open, local buffers full at the
// barrier) at one parallelism and backend and restores it at another
// parallelism on the other backend: the results are the uninterrupted
// run's, each window once.
func TestAttachedWindowRescaleRestore(t *testing.T) {
	types, err := parseTypes("STRING, TIMESTAMP(3), TIMESTAMP(3), BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := parseAgg("SUM($3)")
	if err != nil {
		t.Fatal(err)
	}
	count, err := parseAgg("COUNT(*)")
	if err != nil {
		t.Fatal(err)
	}
	spec := AttachedWindowAggSpec{InputTypes: types, WindowStart: 1, WindowEnd: 2, GroupKeys: []int{0},
		Aggs: []AggCall{sum, count}, UID: "cascade"}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	build := func(h *weirtest.Harness, twoPhase bool) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		in := weirtest.NewInput[row.Row](h)
		var out weir.Stream[row.Row]
		var err error
		if twoPhase {
			local, err2 := AttachedLocalWindowAggregate(in.Stream(), spec)
			if err2 != nil {
				t.Fatal(err2)
			}
			out, err = AttachedGlobalWindowAggregate(local, spec)
		} else {
			out, err = AttachedWindowAggregate(in.Stream(), spec)
		}
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out)
		h.Start(t)
		return in, o
	}
	// TUMBLE windows of 2 s, 7 keys, several rows per key and window; a
	// watermark fires each window after the next one's rows.
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	type step struct {
		r  row.Row
		wm int64
	}
	var steps []step
	for w := range 10 {
		start := base + int64(w)*2000
		for k := range 7 {
			for j := range (w+k)%4 + 1 {
				steps = append(steps, step{r: row.Of(row.Str(string(rune('a'+k))), row.Timestamp(start, 0), row.Timestamp(start+2000, 0), row.Int(int64(w*100+k*10+j)))})
			}
		}
		if w >= 1 {
			steps = append(steps, step{wm: start - 1})
		}
	}
	push := func(in *weirtest.Input[row.Row], steps []step) {
		t.Helper()
		for _, s := range steps {
			if len(s.r.Fields) == 0 {
				if err := in.Watermark(s.wm); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := in.Push(s.r, s.r.Fields[2].Millis()-1); err != nil {
				t.Fatal(err)
			}
		}
	}
	collect := func(o *weirtest.Output[row.Row], got *[]string) {
		for _, r := range o.Take() {
			*got = append(*got, row.FormatRow(r, outTypes))
		}
	}
	var want []string
	{
		h := weirtest.New(weir.Options{})
		in, o := build(h, false)
		push(in, steps)
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		collect(o, &want)
	}
	slices.Sort(want)
	if len(want) != 7*10 {
		t.Fatalf("%d rows, want %d", len(want), 7*10)
	}
	cut := len(steps)/2 + 5 // rows of an open window buffered in the local phase
	for _, c := range []struct {
		p1, p2     int
		b1, b2     string
		two1, two2 bool
	}{
		{2, 3, weir.StateHeap, weir.StatePebble, true, true},
		{3, 1, weir.StatePebble, weir.StateHeap, true, false},
		{1, 4, weir.StateHeap, weir.StatePebble, false, true},
	} {
		opts := weir.Options{Parallelism: c.p1, StateBackend: c.b1, Pebble: pebble.New(), StateDir: t.TempDir(),
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
		var got []string
		h := weirtest.New(opts)
		in, o := build(h, c.two1)
		push(in, steps[:cut])
		snap, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		collect(o, &got)
		ropts := opts
		ropts.Parallelism, ropts.StateBackend, ropts.StateDir = c.p2, c.b2, t.TempDir()
		ropts.AllowNonRestoredState = true // the capture sink's generated uid
		h2 := weirtest.Restore(ropts, snap)
		in2, o2 := build(h2, c.two2)
		push(in2, steps[cut:])
		if err := in2.End(); err != nil {
			t.Fatal(err)
		}
		collect(o2, &got)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v:\n%q\nwant\n%q", c, got, want)
		}
	}
}
