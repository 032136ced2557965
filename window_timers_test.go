package weir

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/window"
)

// The window operator has one timer model (Flink's WindowOperator): per
// (key, window) an event-time timer at the window's end and one at its
// cleanup time, in the keyed timer service and in snapshots. The heap keeps
// end-of-window timers implicitly (the contents' namespaces index them) when
// nothing else can fire a window. These tests drive the operator on the heap
// and on Pebble over the same random input, take a snapshot at a random
// point and restore it into either backend, and require the same output as
// an uninterrupted run, and the same timers at every step.

type collectOutput struct{ lines []string }

func (c *collectOutput) ProcessElement(v string, ts int64) error {
	c.lines = append(c.lines, fmt.Sprintf("%s @%d", v, ts))
	return nil
}
func (c *collectOutput) ProcessWatermark(int64) error      { return nil }
func (c *collectOutput) ProcessWatermarkStatus(bool) error { return nil }

// timerCase is a window configuration under test.
type timerCase struct {
	name     string
	assigner window.Assigner[benchEvent, window.TimeWindow]
	lateness time.Duration
	// list keeps the records (a process function) instead of a count.
	list bool
	// trigger and evictor replace the defaults when set.
	trigger window.Trigger[benchEvent, window.TimeWindow]
	evictor window.Evictor[benchEvent, window.TimeWindow]
}

func timerCases() []timerCase {
	tumbling := window.TumblingEventTime[benchEvent](100 * time.Millisecond)
	sliding := window.SlidingEventTime[benchEvent](100*time.Millisecond, 50*time.Millisecond)
	session := window.EventTimeSession[benchEvent](30 * time.Millisecond)
	return []timerCase{
		{name: "tumbling", assigner: tumbling}, // the heap's implicit timers
		{name: "tumbling-lateness", assigner: tumbling, lateness: 120 * time.Millisecond},
		{name: "tumbling-list", assigner: tumbling, list: true},
		{name: "sliding", assigner: sliding},
		{name: "sliding-lateness", assigner: sliding, lateness: 70 * time.Millisecond},
		{name: "session", assigner: session},
		{name: "session-lateness", assigner: session, lateness: 50 * time.Millisecond},
		{name: "session-list", assigner: session, list: true},
		{name: "tumbling-count-trigger", assigner: tumbling, lateness: 40 * time.Millisecond,
			trigger: window.Count[benchEvent, window.TimeWindow](3)},
		{name: "sliding-purging-count-evictor", assigner: sliding, list: true,
			trigger: window.Purging[benchEvent, window.TimeWindow](window.Count[benchEvent, window.TimeWindow](4)),
			evictor: window.CountEvict[benchEvent, window.TimeWindow](2)},
		{name: "session-continuous", assigner: session, lateness: 20 * time.Millisecond,
			trigger: window.ContinuousEventTime[benchEvent, window.TimeWindow](15 * time.Millisecond)},
	}
}

type timerOp = windowOp[int64, benchEvent, window.TimeWindow, string]

// openTimerOp opens the window operator of c on a backend, restoring rs.
func openTimerOp(t *testing.T, c timerCase, backend string, rs *runtime.RestoreState) (*timerOp, *collectOutput) {
	t.Helper()
	out := &collectOutput{}
	ws := Window(KeyedStream[int64, benchEvent]{key: func(e benchEvent) int64 { return e.Key }}, c.assigner).
		AllowedLateness(c.lateness)
	if c.trigger != nil {
		ws = ws.Trigger(c.trigger)
	}
	if c.evictor != nil {
		ws = ws.Evictor(c.evictor)
	}
	op := &timerOp{
		forwardOp: forwardOp[string]{out: &outputs[string]{main: out}},
		cfg:       ws,
		key:       func(e benchEvent) int64 { return e.Key },
		make: func(op *timerOp) (windowContents[benchEvent, window.TimeWindow], error) {
			emit := func(w window.TimeWindow, n int64) error {
				return op.out.main.ProcessElement(fmt.Sprintf("k%d [%d,%d) n%d", op.kc.Key, w.Start, w.End, n), w.MaxTimestamp())
			}
			if c.list {
				return op.listContents(func(w window.TimeWindow, elems []window.Element[benchEvent]) error {
					return emit(w, int64(len(elems)))
				}), nil
			}
			var agg state.AggregateFunction[benchEvent, int64, int64] = countAgg{}
			return aggregateContents(op, agg, emit), nil
		},
	}
	octx := &runtime.OperatorContext{
		Name: "w", Parallelism: 1, MaxParallelism: 16, KeyGroups: keygroup.Range{Start: 0, End: 16},
		Time: runtime.NewTimerQueue(runtime.WallClock{}), Logger: slog.New(slog.DiscardHandler),
		Metrics: &runtime.OperatorMetrics{}, Checkpointing: true, Restore: rs,
		StateBackend: backend,
	}
	if backend == StatePebble {
		octx.StateDir, octx.StateEngine = t.TempDir(), pebble.New()
	}
	if err := op.Open(octx); err != nil {
		t.Fatal(err)
	}
	if err := op.AfterOpen(); err != nil {
		t.Fatal(err)
	}
	return op, out
}

// canonicalSnapshot snapshots op in canonical form (as a savepoint), which
// every backend restores, and closes it.
func canonicalSnapshot(t *testing.T, op *timerOp) *runtime.RestoreState {
	t.Helper()
	snap, err := op.backend.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	put := func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }
	if err := snap.Write(put); err != nil {
		t.Fatal(err)
	}
	if snap.Native != nil {
		if err := snap.Native.Canonical(put); err != nil {
			t.Fatal(err)
		}
		if err := snap.Native.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if err := op.CloseState(); err != nil {
		t.Fatal(err)
	}
	return &runtime.RestoreState{CheckpointID: 1, Keyed: groups}
}

// timerSet lists op's timers, implicit ones included, sorted.
func timerSet(op *timerOp) []string {
	var s []string
	op.timers.ForEachTimer(func(processing bool, ts int64, key int64, w window.TimeWindow) {
		s = append(s, fmt.Sprintf("%v %d k%d [%d,%d)", processing, ts, key, w.Start, w.End))
	})
	slices.Sort(s)
	return s
}

// timerStep is a record (Key, TS) or, with wm set, a watermark at TS.
type timerStep struct {
	benchEvent
	wm bool
}

// timerInput is random out-of-order input: records up to 60ms behind the
// watermark (some late, some within lateness), watermarks rising.
func timerInput(seed uint64, n int) []timerStep {
	r := rand.New(rand.NewPCG(seed, 1))
	var steps []timerStep
	wm := int64(-1)
	for i := 0; i < n; i++ {
		if r.IntN(8) == 0 {
			wm += int64(r.IntN(40))
			steps = append(steps, timerStep{benchEvent{TS: wm}, true})
			continue
		}
		ts := wm + int64(r.IntN(120)) - 60
		if ts < 0 {
			ts = 0
		}
		steps = append(steps, timerStep{benchEvent{Key: int64(r.IntN(5)), TS: ts}, false})
	}
	return append(steps, timerStep{benchEvent{TS: runtime.MaxWatermark}, true})
}

func runTimerStep(t *testing.T, op *timerOp, s timerStep) {
	t.Helper()
	var err error
	if s.wm {
		err = op.ProcessWatermark(s.TS)
	} else {
		err = op.ProcessElement(s.benchEvent, s.TS)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// outputAfter is the output of each step, sorted within the step (keys fire
// in any order at one time).
func stepOutput(out *collectOutput, from int) string {
	l := slices.Clone(out.lines[from:])
	slices.Sort(l)
	return strings.Join(l, "; ")
}

// TestWindowTimersSameOnBothBackends: the heap (implicit end timers where
// it can) and Pebble (every timer registered) hold the same timers and emit
// the same output after every step.
func TestWindowTimersSameOnBothBackends(t *testing.T) {
	for _, c := range timerCases() {
		t.Run(c.name, func(t *testing.T) {
			steps := timerInput(7, 1500)
			hop, hout := openTimerOp(t, c, StateHeap, nil)
			pop, pout := openTimerOp(t, c, StatePebble, nil)
			defer pop.CloseState()
			for i, s := range steps {
				hn, pn := len(hout.lines), len(pout.lines)
				runTimerStep(t, hop, s)
				runTimerStep(t, pop, s)
				if h, p := stepOutput(hout, hn), stepOutput(pout, pn); h != p {
					t.Fatalf("step %d %+v: output\nheap:   %s\npebble: %s", i, s, h, p)
				}
				if diff := cmp.Diff(timerSet(hop), timerSet(pop)); diff != "" {
					t.Fatalf("step %d %+v: timers differ (-heap +pebble):\n%s", i, s, diff)
				}
			}
			if len(hout.lines) == 0 {
				t.Fatal("no output")
			}
		})
	}
}

// TestWindowSnapshotRestoreAcrossBackends: a snapshot taken at any point on
// either backend and restored into either gives the output of an
// uninterrupted run, with no window fired twice or lost.
func TestWindowSnapshotRestoreAcrossBackends(t *testing.T) {
	backends := []string{StateHeap, StatePebble}
	for _, c := range timerCases() {
		t.Run(c.name, func(t *testing.T) {
			steps := timerInput(11, 800)
			ref, refOut := openTimerOp(t, c, StateHeap, nil)
			var want []string
			for _, s := range steps {
				n := len(refOut.lines)
				runTimerStep(t, ref, s)
				want = append(want, stepOutput(refOut, n))
			}
			r := rand.New(rand.NewPCG(3, 3))
			for _, from := range backends {
				for _, to := range backends {
					for range 3 {
						restoreRun(t, c, steps, want, from, to, r)
					}
				}
			}
		})
	}
}

// restoreRun runs steps on backend from, snapshots right before a random
// watermark step, restores into backend to and runs the rest, checking the
// restored timers and each step's output against want.
func restoreRun(t *testing.T, c timerCase, steps []timerStep, want []string, from, to string, r *rand.Rand) {
	t.Helper()
	// Snapshot right before a watermark: the watermark is not part of a
	// snapshot (as in Flink), the input brings it back after a restore.
	at := r.IntN(len(steps))
	for !steps[at].wm {
		at++
	}
	op, out := openTimerOp(t, c, from, nil)
	for i, s := range steps {
		if i == at {
			before := timerSet(op)
			rs := canonicalSnapshot(t, op)
			op, out = openTimerOp(t, c, to, rs)
			if diff := cmp.Diff(before, timerSet(op)); diff != "" {
				t.Fatalf("%s -> %s at step %d: restored timers differ (-before +after):\n%s", from, to, at, diff)
			}
		}
		n := len(out.lines)
		runTimerStep(t, op, s)
		if got := stepOutput(out, n); got != want[i] {
			t.Fatalf("%s -> %s, snapshot at step %d: step %d %+v:\n got: %s\nwant: %s", from, to, at, i, s, got, want[i])
		}
	}
	if err := op.CloseState(); err != nil {
		t.Fatal(err)
	}
}

// TestWindowRestoreSnapshotWithoutTimers: a snapshot the heap wrote before
// its implicit end timers were listed to snapshots (tumbling windows, no
// allowed lateness: contents but no timers) restores on either backend
// with every window firing once.
func TestWindowRestoreSnapshotWithoutTimers(t *testing.T) {
	c := timerCases()[0]
	steps := timerInput(5, 600)
	ref, refOut := openTimerOp(t, c, StateHeap, nil)
	for _, s := range steps {
		runTimerStep(t, ref, s)
	}
	want := slices.Clone(refOut.lines)
	slices.Sort(want)
	for _, to := range []string{StateHeap, StatePebble} {
		op, out := openTimerOp(t, c, StateHeap, nil)
		at := len(steps) / 2
		for _, s := range steps[:at] {
			runTimerStep(t, op, s)
		}
		if !op.implicit {
			t.Fatal("tumbling windows without lateness do not take the heap's implicit path")
		}
		if op.table != nil {
			op.table.flush() // what the table's implicit timers do in a snapshot
		}
		op.timers.SetImplicitEventTimers(nil) // the old writer
		if got := timerSet(op); len(got) != 0 {
			t.Fatalf("timers in the old snapshot: %q", got)
		}
		lines := slices.Clone(out.lines)
		wm := runtime.MinWatermark
		for _, s := range steps[:at] {
			if s.wm {
				wm = s.TS
			}
		}
		op, out = openTimerOp(t, c, to, canonicalSnapshot(t, op))
		runTimerStep(t, op, timerStep{benchEvent{TS: wm}, true})
		for _, s := range steps[at:] {
			runTimerStep(t, op, s)
		}
		got := append(lines, out.lines...)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("restored on %s: output differs from an uninterrupted run (-want +got):\n%s", to, diff)
		}
		if err := op.CloseState(); err != nil {
			t.Fatal(err)
		}
	}
}
