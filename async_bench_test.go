package weir_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
)

// BenchmarkAsync measures the async operator's own cost: one op is one
// input record, the function answers at once (v*2), and a plain Map doing
// the same work runs in the same benchmark for comparison. It reports
// records per second of CPU time (rec/s/core, all goroutines: the task and
// the workers), allocations per record, the Map's figures and the ratio.
//
//	go test -run '^$' -bench Async -benchtime 1000000x .
func BenchmarkAsync(b *testing.B) {
	for _, c := range []struct {
		name    string
		ordered bool
	}{{"Ordered", true}, {"Unordered", false}} {
		b.Run(c.name, func(b *testing.B) {
			n := int64(b.N)
			run := func(async bool) (int64, error) {
				env := weir.NewEnvironment(weir.Options{Parallelism: 1})
				src := weir.FromSource[int](env, &boundedCounter{n: int(n), produced: new(atomic.Int64)}, weir.NoWatermarks[int](), "numbers")
				var out weir.Stream[int]
				switch {
				case !async:
					out = weir.Map(src, func(v int) int { return v * 2 })
				case c.ordered:
					out = weir.OrderedWait(src, weir.AsyncFunc[int, int](immediate), weir.AsyncOptions{})
				default:
					out = weir.UnorderedWait(src, weir.AsyncFunc[int, int](immediate), weir.AsyncOptions{})
				}
				var sum int64
				out.SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error { sum += int64(v); return nil }))
				err := env.Execute(context.Background())
				return sum, err
			}
			b.StopTimer()
			var want int64
			plain, err := bench.Measure(n, func() error { var err error; want, err = run(false); return err })
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			var got int64
			async, err := bench.Measure(n, func() error { var err error; got, err = run(true); return err })
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if got != want {
				b.Fatalf("async sum %d, map sum %d", got, want)
			}
			b.ReportMetric(async.PerCoreSecond(), "rec/s/core")
			b.ReportMetric(async.AllocsPerRecord(), "allocs/rec")
			b.ReportMetric(plain.PerCoreSecond(), "map-rec/s/core")
			b.ReportMetric(plain.AllocsPerRecord(), "map-allocs/rec")
			b.ReportMetric(async.PerCoreSecond()/plain.PerCoreSecond(), "ratio")
		})
	}
}

// immediate is the trivial async function of the benchmark.
func immediate(_ context.Context, v int) ([]int, error) { return []int{v * 2}, nil }
