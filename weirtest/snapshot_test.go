package weirtest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// sumFn emits the running sum of its key at every event, the sum at an
// event-time timer 1000 ms after the key's first event, and "pt:<key>=sum"
// at a processing-time timer 500 ms after it: keyed state and both kinds
// of timer must survive a snapshot.
type sumFn struct{ sum state.Value[int] }

func (f *sumFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.sum = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (f *sumFn) ProcessElement(ctx *weir.KeyedContext[string, string], e event) error {
	s, ok := f.sum.Value()
	if !ok {
		ctx.RegisterEventTimeTimer(ctx.Timestamp() + 1000)
		ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 500)
	}
	s += e.N
	f.sum.Update(s)
	ctx.Collect(fmt.Sprintf("%s:%d", ctx.Key(), s))
	return nil
}

func (f *sumFn) OnTimer(ctx *weir.KeyedContext[string, string], ts int64) error {
	s, _ := f.sum.Value()
	if ctx.TimeDomain() == weir.ProcessingTime {
		ctx.Collect(fmt.Sprintf("pt:%s=%d@%d", ctx.Key(), s, ts))
		return nil
	}
	ctx.Collect(fmt.Sprintf("et:%s=%d@%d", ctx.Key(), s, ts))
	return nil
}

// step is one thing a script does to a harness.
type step struct {
	e    event
	ts   int64 // push e at ts
	wm   int64 // or send watermark wm (when > 0)
	proc int64 // or move processing time to proc (when > 0)
}

func (s step) do(h *weirtest.Harness, in *weirtest.Input[event]) error {
	switch {
	case s.wm > 0:
		return in.Watermark(s.wm)
	case s.proc > 0:
		return h.SetProcessingTime(s.proc)
	default:
		return in.Push(s.e, s.ts)
	}
}

// script interleaves records of several keys with watermarks and
// processing time, so that every cut point has timers pending.
func script() []step {
	var out []step
	keys := []string{"a", "b", "c", "d", "e"}
	for i := 0; i < 40; i++ {
		out = append(out, step{e: event{keys[(i*3)%len(keys)], i + 1}, ts: int64(i) * 100})
		if i%4 == 3 {
			out = append(out, step{wm: int64(i)*100 - 150})
		}
		if i%7 == 6 {
			out = append(out, step{proc: int64(i) * 60})
		}
	}
	return out
}

type pipeline struct {
	in  *weirtest.Input[event]
	out *weirtest.Output[string]
}

func build(h *weirtest.Harness) pipeline {
	in := weirtest.NewInput[event](h)
	out := weirtest.Capture(h, weir.ProcessKeyed[string, event, string](
		weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &sumFn{}).UID("sums"))
	return pipeline{in, out}
}

func checkpointed(t *testing.T, p int, backend string) weir.Options {
	return weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

// TestSnapshotRestoreEqualsUninterrupted cuts a script at every point:
// snapshot there, go on a little (what a crash then loses), restore a new
// harness from the snapshot (at another parallelism, on another backend),
// play the rest. What the first harness emitted up to the snapshot plus
// what the restored one emitted must be exactly the output of an
// uninterrupted run.
func TestSnapshotRestoreEqualsUninterrupted(t *testing.T) {
	sc := script()
	run := func(h *weirtest.Harness, p pipeline, steps []step) {
		t.Helper()
		for _, s := range steps {
			must(t, s.do(h, p.in))
		}
	}
	h := weirtest.New(weir.Options{Parallelism: 2})
	p := build(h)
	h.Start(t)
	run(h, p, sc)
	must(t, p.in.End())
	want := p.out.Values()
	slices.Sort(want)
	if len(want) < 40 {
		t.Fatalf("uninterrupted run: only %d results", len(want))
	}

	variants := []struct {
		p1, p2             int
		backend1, backend2 string
	}{
		{2, 2, weir.StateHeap, weir.StateHeap},
		{2, 3, weir.StateHeap, weir.StateHeap},
		{3, 1, weir.StateHeap, weir.StatePebble},
		{1, 2, weir.StatePebble, weir.StateHeap},
	}
	for _, v := range variants {
		every := 5
		if v.backend1 == weir.StatePebble || v.backend2 == weir.StatePebble {
			every = 13 // Pebble takes longer to open
		}
		for cut := 0; cut <= len(sc); cut += every {
			name := fmt.Sprintf("%d-%s_to_%d-%s_at_%d", v.p1, v.backend1, v.p2, v.backend2, cut)
			t.Run(name, func(t *testing.T) {
				h1 := weirtest.New(checkpointed(t, v.p1, v.backend1))
				p1 := build(h1)
				h1.Start(t)
				run(h1, p1, sc[:cut])
				snap, err := h1.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				got := p1.out.Take()
				// Lost in the crash: the restored harness plays it again.
				run(h1, p1, sc[cut:min(cut+4, len(sc))])

				h2 := weirtest.Restore(checkpointed(t, v.p2, v.backend2), snap)
				p2 := build(h2)
				h2.Start(t)
				run(h2, p2, sc[cut:])
				must(t, p2.in.End())
				if !h2.Finished() {
					t.Fatal("restored job not finished after its input ended")
				}
				got = append(got, p2.out.Values()...)
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("snapshot at step %d, restored (-uninterrupted +got):\n%s", cut, diff)
				}
			})
		}
	}
}

// committer is a two-phase-commit sink: records become visible when the
// checkpoint that staged them completes.
type committer struct {
	mu        sync.Mutex
	committed []string
}

type commitWriter struct {
	c   *committer
	buf []string
}

func (c *committer) CreateWriter(weir.SinkContext) (weir.SinkWriter[string], error) {
	return &commitWriter{c: c}, nil
}

func (w *commitWriter) Write(_ context.Context, v string, _ int64) error {
	w.buf = append(w.buf, v)
	return nil
}
func (w *commitWriter) Flush(context.Context, bool) error { return nil }
func (w *commitWriter) Close() error                      { return nil }

func (w *commitWriter) PreCommit(context.Context, int64) ([][]byte, error) {
	items := [][]byte{[]byte(strings.Join(w.buf, ","))}
	w.buf = nil
	return items, nil
}

func (w *commitWriter) Commit(_ context.Context, items [][]byte) error {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	for _, it := range items {
		if len(it) > 0 {
			w.c.committed = append(w.c.committed, strings.Split(string(it), ",")...)
		}
	}
	return nil
}

func (c *committer) values() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.committed)
	slices.Sort(out)
	return out
}

// TestSnapshotCompletesThroughTheSinks: a snapshot is a checkpoint that
// completed, so a two-phase-commit sink commits what it staged before the
// barrier, and nothing after it; the final checkpoint at the end of the
// input commits the rest.
func TestSnapshotCompletesThroughTheSinks(t *testing.T) {
	c := &committer{}
	h := weirtest.New(checkpointed(t, 2, weir.StateHeap))
	in := weirtest.NewInput[event](h)
	weir.ProcessKeyed[string, event, string](weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &sumFn{}).
		SinkTo(c)
	h.Start(t)
	must(t, in.Push(event{"a", 1}, 10))
	must(t, in.Push(event{"b", 2}, 20))
	must(t, in.Push(event{"a", 3}, 30))
	if got := c.values(); len(got) != 0 {
		t.Fatalf("committed before any checkpoint: %v", got)
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID <= 0 || snap.Path == "" {
		t.Fatalf("snapshot = %+v", snap)
	}
	if diff := cmp.Diff([]string{"a:1", "a:4", "b:2"}, c.values()); diff != "" {
		t.Fatalf("committed at the snapshot (-want +got):\n%s", diff)
	}
	must(t, in.Push(event{"b", 5}, 40))
	if diff := cmp.Diff([]string{"a:1", "a:4", "b:2"}, c.values()); diff != "" {
		t.Fatalf("committed after the snapshot, before the next checkpoint (-want +got):\n%s", diff)
	}
	must(t, in.End())
	want := []string{"a:1", "a:4", "b:2", "b:7", "et:a=4@1010", "et:b=7@1020"}
	if diff := cmp.Diff(want, c.values()); diff != "" {
		t.Fatalf("committed at the end (-want +got):\n%s", diff)
	}
}

// TestSnapshotAlignsBarriersOfEveryInput takes snapshots of a job whose
// tasks read several channels (two inputs, a shuffle, no chaining): the
// checkpoint completes only if every barrier reaches every task. A task
// loop that skipped barriers would leave the checkpoint pending, and
// Snapshot fails then. The restored job must hold exactly the state from
// before the barrier: records pushed after the snapshot on either input
// are not in it.
func TestSnapshotAlignsBarriersOfEveryInput(t *testing.T) {
	opts := checkpointed(t, 2, weir.StateHeap)
	opts.DisableChaining = true
	opts.Checkpoints.Retained = 2 // the first snapshot must outlive the second
	build2 := func(h *weirtest.Harness) (*weirtest.Input[event], *weirtest.Input[event], *weirtest.Output[string]) {
		in1 := weirtest.NewInput[event](h)
		in2 := weirtest.NewInput[event](h)
		both := weir.Union(in1.Stream(), in2.Stream())
		out := weirtest.Capture(h, weir.ProcessKeyed[string, event, string](
			weir.KeyBy(both, func(e event) string { return e.Key }), &sumFn{}).UID("sums"))
		return in1, in2, out
	}
	h := weirtest.New(opts)
	in1, in2, out := build2(h)
	h.Start(t)
	must(t, in1.Push(event{"a", 1}, 10))
	must(t, in2.Push(event{"a", 10}, 10))
	must(t, in2.Push(event{"b", 100}, 10))
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// A second snapshot of the same job completes too.
	must(t, in1.Push(event{"b", 1000}, 20))
	if _, err := h.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if got := out.Values(); len(got) != 4 {
		t.Fatalf("outputs = %v", got)
	}

	opts = checkpointed(t, 3, weir.StateHeap)
	opts.DisableChaining = true
	h2 := weirtest.Restore(opts, snap)
	r1, r2, out2 := build2(h2)
	h2.Start(t)
	must(t, r1.Push(event{"a", 2}, 30))
	must(t, r2.Push(event{"b", 3}, 30))
	got := out2.Values()
	slices.Sort(got)
	if diff := cmp.Diff([]string{"a:13", "b:103"}, got); diff != "" {
		t.Fatalf("restored sums (-want +got):\n%s", diff)
	}
}

// TestSnapshotNeedsCheckpointing: without checkpointing on there is
// nothing to snapshot with.
func TestSnapshotNeedsCheckpointing(t *testing.T) {
	h := weirtest.New(weir.Options{})
	p := build(h)
	h.Start(t)
	must(t, p.in.Push(event{"a", 1}, 1))
	if _, err := h.Snapshot(); !errors.Is(err, weir.ErrNoCheckpointing) {
		t.Fatalf("Snapshot = %v, want ErrNoCheckpointing", err)
	}
	// The job goes on.
	must(t, p.in.Push(event{"a", 1}, 2))
	if diff := cmp.Diff([]string{"a:1", "a:2"}, p.out.Values()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
