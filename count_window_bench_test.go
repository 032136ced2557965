package weir

import (
	"log/slog"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

// BenchmarkCountWindowTrigger counts records per key in count windows of
// 10 over 100k keys (a global window with a purging count trigger: the
// trigger's state is read and written on every record).
func BenchmarkCountWindowTrigger(b *testing.B) {
	out := &countingOutput{}
	ws := CountWindow(KeyedStream[int64, benchEvent]{key: func(e benchEvent) int64 { return e.Key }}, 10)
	op := &windowOp[int64, benchEvent, window.GlobalWindow, int64]{
		forwardOp: forwardOp[int64]{out: &outputs[int64]{main: out}},
		cfg:       ws,
		key:       func(e benchEvent) int64 { return e.Key },
		make: func(op *windowOp[int64, benchEvent, window.GlobalWindow, int64]) (windowContents[benchEvent, window.GlobalWindow], error) {
			var agg state.AggregateFunction[benchEvent, int64, int64] = countAgg{}
			return aggregateContents(op, agg, func(w window.GlobalWindow, v int64) error {
				return op.out.main.ProcessElement(v, w.MaxTimestamp())
			}), nil
		},
	}
	octx := &runtime.OperatorContext{
		Name: "count", Parallelism: 1, MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 128},
		Time: runtime.NewTimerQueue(runtime.WallClock{}), Logger: slog.New(slog.DiscardHandler),
		Metrics: &runtime.OperatorMetrics{},
	}
	if err := op.Open(octx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := op.ProcessElement(benchEvent{Key: int64(i % benchKeys)}, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if b.N >= 10*benchKeys && out.n < benchKeys {
		b.Fatalf("%d results for %d records", out.n, b.N)
	}
}
