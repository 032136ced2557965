package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// BenchmarkTumblingParallelism runs scenario b's pipeline at parallelism 1
// and 2 and reports CPU time per record (user+system, whole process), the
// figure that decides parallel scaling on a shared machine: two cores give
// the parallelism-1 rate times 2 × (cpu/rec at 1) ÷ (cpu/rec at 2) at most.
//
//	go test -run '^$' -bench TumblingParallelism -benchtime 5000000x ./bench
func BenchmarkTumblingParallelism(b *testing.B) {
	for _, c := range []struct {
		p     int
		drift time.Duration
	}{{1, 0}, {2, 0}, {1, tumblingDrift}, {2, tumblingDrift}, {2, 3 * tumblingDrift}} {
		p := c.p
		b.Run(fmt.Sprintf("drift=%s/p=%d", c.drift, p), func(b *testing.B) {
			opts := WithDefaults(weir.Options{Parallelism: p})
			n := int64(b.N)
			var got Checksum
			m, err := Measure(n, func() error {
				var err error
				got, err = tumblingAligned(context.Background(), n, opts, c.drift)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			if got.Records == 0 {
				b.Fatal("no output")
			}
			b.ReportMetric(float64(m.CPU.Nanoseconds())/float64(n), "cpu-ns/rec")
			b.ReportMetric(float64(m.Wall.Nanoseconds())/float64(n), "wall-ns/rec")
			b.ReportMetric(m.AllocsPerRecord(), "allocs/rec")
			b.ReportMetric(float64(got.Records)/float64(n), "out/rec")
		})
	}
}
