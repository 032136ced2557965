package exec

import (
	"math"
	"testing"
	"time"
)

// TestDedupRowTimeBatchEndsAsFlinkAssigner checks the watermarks that end
// an event-time mini-batch of the deduplication against Flink's
// RowTimeMiniBatchAssginerOperator: it starts from watermark 0 with the
// next batch end at interval-1, and after forwarding watermark w waits
// for the end of w's interval (start+interval-1), or the one after when w
// is that end. Its Javadoc: with interval 5 and watermarks 0..21, only 4,
// 9, 14 and 19 go on.
func TestDedupRowTimeBatchEndsAsFlinkAssigner(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		wms      []int64
		want     []int64 // the watermarks that end a batch
	}{
		{"javadoc", 5 * time.Millisecond, seq(0, 21), []int64{4, 9, 14, 19}},
		{"jumps", 5 * time.Millisecond, []int64{3, 8, 9, 10, 13, 14, 30}, []int64{8, 9, 14, 30}},
		{"end of an interval", 10 * time.Millisecond, []int64{9, 10, 18, 19}, []int64{9, 19}},
		// Flink's current watermark starts at 0 and the first end is
		// interval-1, so with 1 ms any watermark, even a negative one,
		// ends the first batch; the next end is then 1.
		{"one millisecond", time.Millisecond, []int64{-7, -3, 0, 1, 1, 2}, []int64{-7, 1, 2}},
		{"negative", 5 * time.Millisecond, []int64{-20, -1, 3, 4}, []int64{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &dedupFn{spec: DedupSpec{RowTime: true, MiniBatch: MiniBatch{Interval: tc.interval, Size: 1000}}}
			f.mb = &dedupBundle{rows: map[string]*heldRow{}, wm: math.MinInt64} // as Open
			f.mb.count = 1                                                      // a row held: a batch end flushes
			var got []int64
			for _, wm := range tc.wms {
				if f.FlushesOnWatermark(wm) {
					got = append(got, wm)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("batch ends at %v, want %v (Flink's assigner)", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("batch ends at %v, want %v (Flink's assigner)", got, tc.want)
				}
			}
		})
	}
}

func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}
