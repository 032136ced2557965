// Package weirtest drives Weir operators and small pipelines
// deterministically, for tests: push records and watermarks into inputs,
// move processing time by hand, and read what reached the outputs — on the
// test's goroutine, with no sleeps and no races.
//
//	h := weirtest.New(weir.Options{})
//	in := weirtest.NewInput[Payment](h)
//	out := weirtest.Capture(h, myPipeline(in.Stream()))
//	h.Start(t)
//	in.Push(p, 1000)
//	in.Watermark(2000)
//	got := out.Values()
//
// Every call runs the job until no operator can make progress, so after it
// returns every consequence of the call is visible in the outputs. Any
// parallelism and any topology work; inputs run with parallelism 1.
//
// The job runs on weir.Stepper: every task runs the engine's own task loop
// (records, watermarks, barriers, timers and checkpoint messages take the
// path they take under Execute), one non-blocking iteration at a time, on
// the test's goroutine. Processing time is a fake clock that moves only
// with SetProcessingTime.
//
// # Snapshot and restore
//
// With checkpointing on (Options.Checkpoints with an Interval and a Dir;
// the interval itself is not used: a harness checkpoints only when asked),
// Snapshot takes a checkpoint through the real barrier path, as Flink's
// operator test harness snapshots (OneInputStreamOperatorTestHarness
// snapshot / initializeState): the coordinator triggers it, the inputs
// emit barriers, every task aligns them and snapshots its operators, the
// checkpoint is written and every task is told it completed (two-phase
// commit sinks commit). Restore starts a new harness from it, at the same
// or another parallelism and state backend:
//
//	snap, _ := h.Snapshot()
//	h2 := weirtest.Restore(weir.Options{Parallelism: 3, Checkpoints: ...}, snap)
//	in2 := weirtest.NewInput[Payment](h2) // the same pipeline, built again
//	out2 := weirtest.Capture(h2, myPipeline(in2.Stream()))
//	h2.Start(t)
//
// Operators are matched by uid, or by name and position, as for any
// restore: build the same pipeline in the same order. Nothing waits on the
// wall clock; a snapshot that cannot complete (a barrier that does not
// reach every task) is an error, not a hang.
package weirtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/weirstream/weir"
)

// Harness owns the environment and the stepwise execution of a test job.
type Harness struct {
	env     *weir.Environment
	stepper *weir.Stepper
	err     error
	// start is the processing time the job starts at.
	start int64
}

// New returns a harness whose environment has opts. Processing time starts
// at 0 unless set with SetProcessingTime.
func New(opts weir.Options) *Harness {
	return &Harness{env: weir.NewEnvironment(opts)}
}

// Restore returns a harness whose job starts from snapshot s (taken by
// Snapshot of another harness) with opts: another parallelism, state
// backend or checkpoint directory may be given; opts.Restore is replaced
// by s. Processing time starts where it was when s was taken. Build the
// same pipeline on it, then Start it.
func Restore(opts weir.Options, s Snapshot) *Harness {
	opts.Restore = s.Path
	return &Harness{env: weir.NewEnvironment(opts), start: s.ProcessingTime}
}

// Snapshot is a completed checkpoint of a harness's job.
type Snapshot struct {
	// ID is the checkpoint's id.
	ID int64
	// Path is the checkpoint's directory (Options.Restore accepts it).
	Path string
	// ProcessingTime is the harness's processing time when it was taken.
	ProcessingTime int64
}

// Snapshot runs the job until quiet, then takes a checkpoint through the
// barrier path and returns it once it completed: every task acknowledged
// it, it is written, and every operator was told it completed (sinks
// committed). The job goes on. It needs checkpointing on (see the package
// documentation); a checkpoint that cannot complete is an error. Snapshots
// are checkpoints: a later one discards those beyond
// Options.Checkpoints.Retained (default 1).
func (h *Harness) Snapshot() (Snapshot, error) {
	if h.stepper == nil {
		return Snapshot{}, fmt.Errorf("weirtest: harness not started")
	}
	if h.err != nil {
		return Snapshot{}, h.err
	}
	id, path, err := h.stepper.Checkpoint()
	if err != nil {
		if !errors.Is(err, weir.ErrNoCheckpointing) {
			h.err = err
		}
		return Snapshot{}, fmt.Errorf("weirtest: snapshot: %w", err)
	}
	return Snapshot{ID: id, Path: path, ProcessingTime: h.stepper.ProcessingTime()}, nil
}

// Stepper returns the stepper running the job (nil before Start), for what
// the harness does not wrap: savepoints, for one.
func (h *Harness) Stepper() *weir.Stepper { return h.stepper }

// Env returns the environment on which to build the pipeline under test.
func (h *Harness) Env() *weir.Environment { return h.env }

// Start builds and opens the job; call it after the pipeline is built. It
// fails the test on error and closes the job when the test ends.
func (h *Harness) Start(t testing.TB) {
	t.Helper()
	st, err := h.env.Stepwise(context.Background(), h.start)
	if err != nil {
		t.Fatalf("weirtest: start: %v", err)
	}
	h.stepper = st
	t.Cleanup(func() { _ = st.Close() })
}

// StartErr is Start for callers that want the error.
func (h *Harness) StartErr() error {
	st, err := h.env.Stepwise(context.Background(), h.start)
	if err != nil {
		return err
	}
	h.stepper = st
	return nil
}

func (h *Harness) run() error {
	if h.stepper == nil {
		return fmt.Errorf("weirtest: harness not started")
	}
	if h.err != nil {
		return h.err
	}
	h.err = h.stepper.Run()
	return h.err
}

// SetProcessingTime moves processing time to ms (milliseconds) and fires
// due processing-time timers.
func (h *Harness) SetProcessingTime(ms int64) error {
	if h.stepper == nil {
		return fmt.Errorf("weirtest: harness not started")
	}
	if h.err != nil {
		return h.err
	}
	h.err = h.stepper.SetProcessingTime(ms)
	return h.err
}

// ProcessingTime returns the current processing time.
func (h *Harness) ProcessingTime() int64 { return h.stepper.ProcessingTime() }

// Finished reports whether the job ended: every input ended and every
// operator finished.
func (h *Harness) Finished() bool { return h.stepper != nil && h.stepper.Finished() }

// Err returns the job's failure, if any.
func (h *Harness) Err() error { return h.err }

type itemKind uint8

const (
	itemRecord itemKind = iota
	itemWatermark
	itemIdle
	itemEnd
)

type item[T any] struct {
	kind itemKind
	v    T
	ts   int64
}

// Input is a source whose records the test pushes.
type Input[T any] struct {
	h      *Harness
	stream weir.Stream[T]
	queue  []item[T]
	ended  bool
	// avail tells the reader that items were pushed (the source task
	// polls again only then, as it would for a real source).
	avail chan struct{}
}

// NewInput adds an input of type T to the job.
func NewInput[T any](h *Harness) *Input[T] {
	in := &Input[T]{h: h, avail: make(chan struct{}, 1)}
	in.stream = weir.FromSource[T](h.env, pushSource[T]{in}, weir.NoWatermarks[T](), "TestInput").SetParallelism(1)
	return in
}

// Stream returns the input's records as a stream.
func (in *Input[T]) Stream() weir.Stream[T] { return in.stream }

func (in *Input[T]) push(it item[T]) error {
	if in.ended {
		return fmt.Errorf("weirtest: input already ended")
	}
	in.queue = append(in.queue, it)
	select {
	case in.avail <- struct{}{}:
	default: // already signalled
	}
	return in.h.run()
}

// Push sends a record with event timestamp ts (weir.NoTimestamp for none)
// and runs the job until quiet.
func (in *Input[T]) Push(v T, ts int64) error {
	return in.push(item[T]{kind: itemRecord, v: v, ts: ts})
}

// Watermark sends a watermark and runs the job until quiet.
func (in *Input[T]) Watermark(wm int64) error { return in.push(item[T]{kind: itemWatermark, ts: wm}) }

// MarkIdle marks the input idle (it no longer holds back watermarks) until
// its next record.
func (in *Input[T]) MarkIdle() error { return in.push(item[T]{kind: itemIdle}) }

// End ends the input: the final watermark fires every event-time timer and
// window downstream, and operators finish once all inputs ended.
func (in *Input[T]) End() error {
	err := in.push(item[T]{kind: itemEnd})
	in.ended = true
	return err
}

type pushSource[T any] struct{ in *Input[T] }

func (p pushSource[T]) CreateReader(weir.SourceContext) (weir.SourceReader[T], error) {
	return &pushReader[T]{in: p.in}, nil
}

type pushReader[T any] struct{ in *Input[T] }

// Available is signalled by every push.
func (r *pushReader[T]) Available() <-chan struct{} { return r.in.avail }

func (r *pushReader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	q := r.in.queue
	for i, it := range q {
		switch it.kind {
		case itemRecord:
			out.CollectWithTimestamp(it.v, it.ts)
		case itemWatermark:
			out.EmitWatermark(it.ts)
		case itemIdle:
			out.MarkIdle()
		case itemEnd:
			r.in.queue = q[i+1:]
			return weir.EndOfInput, nil
		}
	}
	r.in.queue = q[:0]
	return weir.NothingAvailable, nil
}

// SnapshotState stores nothing: a snapshot is taken when the job is quiet,
// so every pushed item was read, and after a restore the test pushes what
// comes next.
func (r *pushReader[T]) SnapshotState(int64) ([][]byte, error) {
	if len(r.in.queue) > 0 {
		return nil, fmt.Errorf("weirtest: snapshot with %d pushed items not yet read", len(r.in.queue))
	}
	return nil, nil
}

func (r *pushReader[T]) Close() error { return nil }

// Record is a record that reached an output, with its timestamp.
type Record[T any] struct {
	Value T
	TS    int64
}

// Output captures what reaches the end of a stream.
type Output[T any] struct {
	mu         sync.Mutex
	records    []Record[T]
	watermarks []int64
	taken      int
}

// Capture adds a sink that records s.
func Capture[T any](h *Harness, s weir.Stream[T]) *Output[T] {
	o := &Output[T]{}
	s.SinkTo(captureSink[T]{o}).Name("TestOutput")
	return o
}

// Records returns every record so far, in arrival order.
func (o *Output[T]) Records() []Record[T] {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Record[T](nil), o.records...)
}

// Values returns the values of every record so far.
func (o *Output[T]) Values() []T {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]T, len(o.records))
	for i, r := range o.records {
		out[i] = r.Value
	}
	return out
}

// Take returns the values that arrived since the last Take.
func (o *Output[T]) Take() []T {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]T, 0, len(o.records)-o.taken)
	for _, r := range o.records[o.taken:] {
		out = append(out, r.Value)
	}
	o.taken = len(o.records)
	return out
}

// Watermarks returns the watermarks that reached the output (per subtask of
// the capturing sink, in arrival order).
func (o *Output[T]) Watermarks() []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int64(nil), o.watermarks...)
}

type captureSink[T any] struct{ o *Output[T] }

func (c captureSink[T]) CreateWriter(weir.SinkContext) (weir.SinkWriter[T], error) {
	return captureWriter[T](c), nil
}

type captureWriter[T any] struct{ o *Output[T] }

func (c captureWriter[T]) Write(_ context.Context, v T, ts int64) error {
	c.o.mu.Lock()
	c.o.records = append(c.o.records, Record[T]{v, ts})
	c.o.mu.Unlock()
	return nil
}

func (c captureWriter[T]) WriteWatermark(_ context.Context, wm int64) error {
	c.o.mu.Lock()
	c.o.watermarks = append(c.o.watermarks, wm)
	c.o.mu.Unlock()
	return nil
}

func (c captureWriter[T]) Flush(context.Context, bool) error { return nil }
func (c captureWriter[T]) Close() error                      { return nil }
