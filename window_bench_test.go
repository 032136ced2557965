package weir

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

type benchEvent struct {
	Key int64
	TS  int64
}

type countAgg struct{}

func (countAgg) CreateAccumulator() int64                   { return 0 }
func (countAgg) Add(acc int64, _ benchEvent) (int64, error) { return acc + 1, nil }
func (countAgg) Result(acc int64) (int64, error)            { return acc, nil }
func (countAgg) Merge(a, b int64) (int64, error)            { return a + b, nil }

type countingOutput struct{ n int64 }

func (c *countingOutput) ProcessElement(int64, int64) error { c.n++; return nil }
func (c *countingOutput) ProcessWatermark(int64) error      { return nil }
func (c *countingOutput) ProcessWatermarkStatus(bool) error { return nil }

const benchKeys = 100_000

// benchTS spreads records so that each 1s window holds 10 records per key:
// one millisecond per 1000 records.
func benchTS(i int) int64 { return int64(i / 1000) }

// BenchmarkTumblingWindowCount counts records per key in 1s tumbling
// event-time windows over 100k keys: "operator" drives the window operator
// directly (the per-record cost of the window code), "pipeline" runs a job
// from a source through a key-partitioned exchange to a discarding sink.
func BenchmarkTumblingWindowCount(b *testing.B) {
	b.Run("operator", func(b *testing.B) {
		op, out, err := newCountWindowOp(0)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			ts := benchTS(i)
			if err := op.ProcessElement(benchEvent{Key: int64(i % benchKeys), TS: ts}, ts); err != nil {
				b.Fatal(err)
			}
			if i%100_000 == 99_999 {
				if err := op.ProcessWatermark(ts - 1); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := op.ProcessWatermark(runtime.MaxWatermark); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if b.N >= benchKeys && out.n < benchKeys {
			b.Fatalf("%d results for %d records", out.n, b.N)
		}
	})
	b.Run("pipeline", func(b *testing.B) {
		env := NewEnvironment(Options{})
		src := FromSource[benchEvent](env, benchSource(b.N), ForMonotonousTimestamps[benchEvent](), "bench")
		ks := KeyBy(src, func(e benchEvent) int64 { return e.Key })
		var agg state.AggregateFunction[benchEvent, int64, int64] = countAgg{}
		counts := WindowAggregate(Window(ks,
			window.TumblingEventTime[benchEvent](time.Second)), agg)
		counts.SinkTo(SinkFunc[int64](func(context.Context, int64, int64) error { return nil }))
		b.ReportAllocs()
		b.ResetTimer()
		if err := env.Execute(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

// newCountWindowOp returns an opened window operator counting records per
// key in 1s tumbling event-time windows, and the output it counts into.
func newCountWindowOp(lateness time.Duration) (*windowOp[int64, benchEvent, window.TimeWindow, int64], *countingOutput, error) {
	out := &countingOutput{}
	ws := Window(KeyedStream[int64, benchEvent]{key: func(e benchEvent) int64 { return e.Key }},
		window.TumblingEventTime[benchEvent](time.Second)).
		AllowedLateness(lateness)
	var contents *incContents[int64, benchEvent, window.TimeWindow, int64]
	op := &windowOp[int64, benchEvent, window.TimeWindow, int64]{
		forwardOp: forwardOp[int64]{out: &outputs[int64]{main: out}},
		cfg:       ws,
		key:       func(e benchEvent) int64 { return e.Key },
		make: func(op *windowOp[int64, benchEvent, window.TimeWindow, int64]) (windowContents[benchEvent, window.TimeWindow], error) {
			var agg state.AggregateFunction[benchEvent, int64, int64] = countAgg{}
			c := aggregateContents(op, agg, func(w window.TimeWindow, v int64) error {
				return op.out.main.ProcessElement(v, w.MaxTimestamp())
			})
			contents, _ = c.(*incContents[int64, benchEvent, window.TimeWindow, int64])
			return c, nil
		},
	}
	octx := &runtime.OperatorContext{
		Name: "count", Parallelism: 1, MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 128},
		Time: runtime.NewTimerQueue(runtime.WallClock{}), Logger: slog.New(slog.DiscardHandler),
		Metrics: &runtime.OperatorMetrics{},
	}
	if err := op.Open(octx); err != nil {
		return nil, nil, err
	}
	if contents == nil {
		return nil, nil, errors.New("window contents are not incremental")
	}
	return op, out, nil
}

// TestWindowStateAndTimersPerWindow checks, inside the operator, that an
// incremental window keeps one accumulator and at most two timers per key
// and window (not per record), and that both are gone after the cleanup
// time.
func TestWindowStateAndTimersPerWindow(t *testing.T) {
	for _, lateness := range []time.Duration{0, 500 * time.Millisecond} {
		op, out, err := newCountWindowOp(lateness)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			ts := int64(i) * 2 // windows [0,1000) and [1000,2000)
			if err := op.ProcessElement(benchEvent{Key: int64(i % 10)}, ts); err != nil {
				t.Fatal(err)
			}
		}
		// Without allowed lateness the windows' timers are implicit (fired
		// from the contents' namespaces); with it, a timer at the window end
		// and one at the cleanup time per key and window.
		wantTimers := 0
		if lateness > 0 {
			wantTimers = 40
		}
		if n := accumulators(op); n != 20 {
			t.Fatalf("lateness %v: %d accumulators, want 20 (10 keys x 2 windows)", lateness, n)
		}
		if n := op.timers.NumEventTimers(); n != wantTimers {
			t.Fatalf("lateness %v: %d timers, want %d", lateness, n, wantTimers)
		}
		// Implicit or not, the operator has the timers of Flink's model:
		// without lateness one per key and window (at its end, which is
		// also its cleanup time), with it two.
		all := 0
		op.timers.ForEachTimer(func(bool, int64, int64, window.TimeWindow) { all++ })
		if wantAll := 20 + wantTimers/2; all != wantAll {
			t.Fatalf("lateness %v: %d timers in the model, want %d", lateness, all, wantAll)
		}
		if err := op.ProcessWatermark(999); err != nil {
			t.Fatal(err)
		}
		if out.n != 10 {
			t.Fatalf("lateness %v: %d results after the first window, want 10", lateness, out.n)
		}
		wantLeft := 10
		if lateness > 0 {
			wantLeft = 20 // the fired window is kept for late records
		}
		if n := accumulators(op); n != wantLeft {
			t.Fatalf("lateness %v: %d accumulators after the first window fired, want %d", lateness, n, wantLeft)
		}
		if err := op.ProcessWatermark(1999 + lateness.Milliseconds()); err != nil {
			t.Fatal(err)
		}
		if n := accumulators(op); n != 0 || op.timers.NumEventTimers() != 0 {
			t.Fatalf("lateness %v: %d accumulators and %d timers after cleanup, want none", lateness, n, op.timers.NumEventTimers())
		}
		if out.n != 20 {
			t.Fatalf("lateness %v: %d results, want 20", lateness, out.n)
		}
	}
}

// accumulators counts the window operator's (key, window) accumulators,
// in its window table or its heap state.
func accumulators(op *windowOp[int64, benchEvent, window.TimeWindow, int64]) int {
	if op.table != nil {
		n := 0
		op.table.each(func(int64, int, window.TimeWindow) { n++ })
		return n
	}
	if c, ok := op.contents.(*incContents[int64, benchEvent, window.TimeWindow, int64]); ok {
		return c.v.(interface{ Len() int }).Len()
	}
	return -1
}

type benchSource int

func (n benchSource) CreateReader(SourceContext) (SourceReader[benchEvent], error) {
	return &benchReader{n: int(n)}, nil
}

type benchReader struct{ i, n int }

func (r *benchReader) Poll(_ context.Context, out *SourceOutput[benchEvent]) (PollStatus, error) {
	for k := 0; k < 1024 && r.i < r.n; k++ {
		ts := benchTS(r.i)
		out.CollectWithTimestamp(benchEvent{Key: int64(r.i % benchKeys), TS: ts}, ts)
		r.i++
	}
	if r.i >= r.n {
		return EndOfInput, nil
	}
	return MoreAvailable, nil
}

func (r *benchReader) Close() error { return nil }

// BenchmarkWindowSnapshotCapture measures the part of a checkpoint that
// runs on the task's goroutine (the capture) for 1s tumbling windows over
// 100k keys on the heap, two windows open: "timers" lists the heap's
// implicit end timers to the snapshot (one timer model: the snapshot holds
// what Pebble's would), "no-timers" leaves them out (as before).
func BenchmarkWindowSnapshotCapture(b *testing.B) {
	for _, listed := range []bool{true, false} {
		name := "timers"
		if !listed {
			name = "no-timers"
		}
		b.Run(name, func(b *testing.B) {
			op, _, err := newCountWindowOp(0)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 2 * benchKeys {
				ts := int64(i / benchKeys * 1000)
				if err := op.ProcessElement(benchEvent{Key: int64(i % benchKeys)}, ts); err != nil {
					b.Fatal(err)
				}
			}
			if !listed {
				op.timers.SetImplicitEventTimers(nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				snap, err := op.backend.Snapshot()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := snap.Write(func(int, []byte) {}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
