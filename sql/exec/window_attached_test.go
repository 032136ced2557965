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

// TestAttachedWindowPhasesRestore takes a checkpoint of the attached
// window aggregation with windows open in one and in two phases and
// restores it into the other: the global phase keeps the one-phase
// operator's key, state and timers under the same uid, so the results
// are the uninterrupted run's.
func TestAttachedWindowPhasesRestore(t *testing.T) {
	types, err := parseTypes("STRING, TIMESTAMP(3), TIMESTAMP(3), BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	maxv, err := parseAgg("MAX($3)")
	if err != nil {
		t.Fatal(err)
	}
	count, err := parseAgg("COUNT(*)")
	if err != nil {
		t.Fatal(err)
	}
	spec := AttachedWindowAggSpec{InputTypes: types, WindowStart: 1, WindowEnd: 2, GroupKeys: []int{0},
		Aggs: []AggCall{maxv, count}, UID: "cascade"}
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
	// Rows of HOP windows (4 s every 2 s) of keys k0..k4, in the order a
	// window aggregation emits them: a window's rows, then the watermark
	// that fires it.
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	type step struct {
		r  row.Row
		wm int64 // a watermark instead of a row when r has no fields
	}
	var steps []step
	for w := range 12 {
		start := base + int64(w)*2000
		end := start + 4000
		for k := range 5 {
			for j := range w%3 + k%2 + 1 {
				steps = append(steps, step{r: row.Of(row.Str(string(rune('a'+k))), row.Timestamp(start, 0), row.Timestamp(end, 0), row.Int(int64(w*10+k*3+j)))})
			}
		}
		if w >= 1 {
			steps = append(steps, step{wm: end - 2000 - 1}) // fires the previous window
		}
	}
	push := func(t *testing.T, in *weirtest.Input[row.Row], steps []step) {
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
		push(t, in, steps)
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		collect(o, &want)
	}
	slices.Sort(want)
	if len(want) != 5*12 {
		t.Fatalf("%d rows, want %d: %q", len(want), 5*12, want)
	}
	cut := len(steps)/2 + 3 // between a window's rows and its watermark
	for _, c := range [][2]bool{{false, true}, {true, false}, {true, true}} {
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			opts := weir.Options{Parallelism: 2, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			var got []string
			h := weirtest.New(opts)
			in, o := build(h, c[0])
			push(t, in, steps[:cut])
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			collect(o, &got)
			// The capture sink has no uid (its generated one moves with
			// the local operator); the cascade's state must restore, or
			// its open windows are missing from the results.
			ropts := opts
			ropts.AllowNonRestoredState = true
			h2 := weirtest.Restore(ropts, snap)
			in2, o2 := build(h2, c[1])
			push(t, in2, steps[cut:])
			if err := in2.End(); err != nil {
				t.Fatal(err)
			}
			collect(o2, &got)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("two-phase %v then %v on %s:\n%q\nwant\n%q", c[0], c[1], backend, got, want)
			}
		}
	}
}
