package exec

import (
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// BenchmarkOverAggregate is COUNT(*), SUM OVER (PARTITION BY key ORDER BY
// ts frame) on event time over 10k keys (a key gets a row every 100 ms):
// ROWS 5 PRECEDING, RANGE INTERVAL '1' SECOND PRECEDING (about 10 rows
// per frame) and RANGE UNBOUNDED PRECEDING.
func BenchmarkOverAggregate(b *testing.B) {
	frames := []struct {
		name string
		spec OverAggSpec
	}{
		{"rows-5", OverAggSpec{Rows: true, Preceding: 5}},
		{"range-1s", OverAggSpec{Preceding: 1000}},
		{"range-unbounded", OverAggSpec{Unbounded: true}},
	}
	for _, f := range frames {
		b.Run(f.name, func(b *testing.B) {
			runBench(b, weir.StateHeap, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				spec := f.spec
				spec.InputTypes, spec.PartitionKeys, spec.TimeCol, spec.Aggs = benchTypes, []int{1}, 0, benchAggs
				return OverAggregate(s, spec)
			})
		})
	}
}
