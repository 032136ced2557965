package weir_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/runtime"
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
		out.SinkTo(weir.SinkFunc[int](func(int, int64) error { return nil }))
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
	weir.KeyBy(src, func(i int) int { return i }).Stream().SinkTo(weir.SinkFunc[int](func(int, int64) error {
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

// Backpressure: a sink that consumes slowly never lets the source run more
// than the exchange capacity ahead; nothing is dropped.
func TestBackpressureBoundsInFlight(t *testing.T) {
	const n = 200_000
	opts := weir.Options{Parallelism: 1, BatchSize: 64, ChannelCapacity: 2}
	env := weir.NewEnvironment(opts)
	var produced, consumed, maxAhead atomic.Int64
	src := weir.FromSource[int](env, &boundedCounter{n: n, produced: &produced}, weir.NoWatermarks[int](), "counter")
	weir.KeyBy(src, func(i int) int { return i }).Stream().SinkTo(weir.SinkFunc[int](func(int, int64) error {
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
	}).Name("fragile").SinkTo(weir.SinkFunc[int](func(int, int64) error { return nil }))
	err := env.Execute(context.Background())
	var p *runtime.PanicError
	if !errors.As(err, &p) {
		t.Fatalf("Execute = %v, want a PanicError", err)
	}
	if !strings.Contains(err.Error(), "fragile") || !strings.Contains(err.Error(), "assignment to entry in nil map") {
		t.Fatalf("error does not name the task and the panic: %.300s", err)
	}
}
