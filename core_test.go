package weir_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/window"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// An error in one operator cancels every subtask and is returned from
// Execute with the operator's name; no goroutine outlives Execute.
func TestOperatorErrorCancelsJob(t *testing.T) {
	for _, p := range []int{1, 4} {
		env := weir.NewEnvironment(weir.Options{Parallelism: p})
		// An endless source: the job can only end by the error.
		src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
		boom := errors.New("boom")
		keyed := weir.KeyBy(src, func(i int) int { return i % 16 })
		out := weir.TryMap(keyed.Stream().Rebalance(), func(i int) (int, error) {
			if i == 100_000 {
				return 0, boom
			}
			return i, nil
		}).Name("explode")
		out.SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
		err := env.Execute(context.Background())
		if !errors.Is(err, boom) {
			t.Fatalf("p=%d: Execute = %v, want boom", p, err)
		}
		if !strings.Contains(err.Error(), `operator "explode"`) {
			t.Fatalf("p=%d: error does not name the operator: %v", p, err)
		}
	}
}

// Canceling the context stops an unbounded job and Execute reports it.
func TestCancelStopsUnboundedJob(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	weir.KeyBy(src, func(i int) int { return i }).Stream().SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
		if seen.Add(1) == 50_000 {
			cancel()
		}
		return nil
	}))
	err := env.Execute(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want context.Canceled", err)
	}
}

// Canceled while its sources are blocked on full exchanges (they answer
// the exchange's own cancellation error, the sinks context.Canceled: which
// task ends first is a race), the job still reports context.Canceled, so
// that a caller (weir run) can tell a cancel from a failure.
func TestCancelUnderBackpressureReportsCanceled(t *testing.T) {
	for i := range 30 {
		env := weir.NewEnvironment(weir.Options{Parallelism: 2, BatchSize: 1, ChannelCapacity: 1})
		src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
		ctx, cancel := context.WithCancel(context.Background())
		var seen atomic.Int64
		weir.KeyBy(src, func(i int) int { return i }).Stream().SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
			if seen.Add(1) == 2_000 {
				cancel()
			}
			return nil
		}))
		if err := env.Execute(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Execute = %v, want context.Canceled", i, err)
		}
	}
}

// Backpressure: a sink that consumes slowly never lets the source run more
// than the exchange capacity ahead; nothing is dropped.
func TestBackpressureBoundsInFlight(t *testing.T) {
	const n = 200_000
	opts := weir.Options{Parallelism: 1, BatchSize: 64, ChannelCapacity: 2}
	env := weir.NewEnvironment(opts)
	var produced, consumed, maxAhead atomic.Int64
	src := weir.FromSource[int](env, &boundedCounter{n: n, produced: &produced}, weir.NoWatermarks[int](), "counter")
	weir.KeyBy(src, func(i int) int { return i }).Stream().SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
		c := consumed.Add(1)
		if ahead := produced.Load() - c; ahead > maxAhead.Load() {
			maxAhead.Store(ahead)
		}
		return nil
	}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if consumed.Load() != n {
		t.Fatalf("consumed %d of %d", consumed.Load(), n)
	}
	// In flight at most: the writer's batch, the channel's batches, the
	// batch being delivered, and one poll of the source (1024).
	limit := int64(64 + 2*64 + 64 + 1024)
	if maxAhead.Load() > limit {
		t.Fatalf("source ran %d records ahead of the sink, limit %d", maxAhead.Load(), limit)
	}
}

type counter struct{}

func (counter) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	return &counterReader{next: ctx.Subtask, step: ctx.Parallelism}, nil
}

type counterReader struct{ next, step int }

func (r *counterReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for i := 0; i < 1024; i++ {
		out.Collect(r.next)
		r.next += r.step
	}
	return weir.MoreAvailable, nil
}

func (r *counterReader) Close() error { return nil }

type boundedCounter struct {
	n        int
	produced *atomic.Int64
}

func (b *boundedCounter) CreateReader(weir.SourceContext) (weir.SourceReader[int], error) {
	return &boundedReader{b: b}, nil
}

type boundedReader struct {
	b    *boundedCounter
	next int
}

func (r *boundedReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for i := 0; i < 1024 && r.next < r.b.n; i++ {
		r.b.produced.Add(1)
		out.Collect(r.next)
		r.next++
	}
	if r.next == r.b.n {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

func (r *boundedReader) Close() error { return nil }

// A panic in user code fails the job with an error (and the stack), naming
// the task, instead of crashing the process.
func TestPanicFailsJob(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
	weir.Map(weir.KeyBy(src, func(i int) int { return i % 5 }).Stream(), func(i int) int {
		if i == 5000 {
			var m map[string]int
			m["boom"] = i // nil map write: a runtime panic
		}
		return i
	}).Name("fragile").SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	err := env.Execute(context.Background())
	var p *runtime.PanicError
	if !errors.As(err, &p) {
		t.Fatalf("Execute = %v, want a PanicError", err)
	}
	if !strings.Contains(err.Error(), "fragile") || !strings.Contains(err.Error(), "assignment to entry in nil map") {
		t.Fatalf("error does not name the task and the panic: %.300s", err)
	}
}

// quietReader emits its records in one poll, then has nothing more (and
// never signals): only the periodic watermark can move event time on.
type quietReader struct {
	values []int
	polls  int
	never  chan struct{}
}

// Poll emits the first record, then at once (before the watermark interval
// passed) the others, then nothing.
func (r *quietReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	r.polls++
	switch r.polls {
	case 1:
		out.CollectWithTimestamp(r.values[0], int64(r.values[0]))
		return weir.MoreAvailable, nil
	case 2:
		for _, v := range r.values[1:] {
			out.CollectWithTimestamp(v, int64(v))
		}
	}
	return weir.NothingAvailable, nil
}

func (r *quietReader) Available() <-chan struct{} { return r.never }
func (r *quietReader) Close() error               { return nil }

type quietSource []int

func (q quietSource) CreateReader(weir.SourceContext) (weir.SourceReader[int], error) {
	return &quietReader{values: q, never: make(chan struct{})}, nil
}

// A source that goes quiet still emits its watermark on the periodic
// timer, so event-time windows fire without more input.
func TestQuietSourceWatermarkAdvances(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: 10 * time.Millisecond})
	src := weir.FromSource[int](env, quietSource{100, 1100, 2100, 3100}, weir.ForMonotonousTimestamps[int](), "quiet")
	counts := weir.WindowAggregate(weir.Window(weir.KeyBy(src, func(int) int { return 0 }), window.TumblingEventTime[int](time.Second)), evIntSum{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got atomic.Int64
	counts.SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
		// Windows [0,1s), [1s,2s), [2s,3s) can fire: the watermark is
		// 3099 once the records were seen.
		if got.Add(1) == 3 {
			cancel()
		}
		return nil
	}))
	err := env.Execute(ctx)
	if got.Load() != 3 || !errors.Is(err, context.Canceled) {
		t.Fatalf("%d windows fired (want 3), Execute = %v", got.Load(), err)
	}
}
