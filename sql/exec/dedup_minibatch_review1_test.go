package exec

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
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

// TestDedupProcTimeMiniBatchHoldsWatermarks: the processing-time
// mini-batch deduplication holds a watermark that comes while it holds
// rows, as the mini-batch aggregation and join do, and lets it go after
// the batch's rows at the interval's end: Flink's ProcTimeMiniBatchAssigner
// lets no input watermark pass the held rows, so a downstream event-time
// operator never sees those rows behind a watermark (late, and dropped).
func TestDedupProcTimeMiniBatchHoldsWatermarks(t *testing.T) {
	for _, keepLast := range []bool{false, true} {
		h := weirtest.New(weir.Options{})
		in := weirtest.NewInput[row.Row](h)
		s, err := Deduplicate(in.Stream(), DedupSpec{Types: []row.Type{row.String(), row.BigInt()}, Keys: []int{0}, KeepLast: keepLast,
			MiniBatch: MiniBatch{Interval: time.Second, Size: 100}})
		if err != nil {
			t.Fatal(err)
		}
		out := weirtest.Capture(h, s)
		h.Start(t)
		if err := h.SetProcessingTime(10_400); err != nil {
			t.Fatal(err)
		}
		push(t, in, kv(row.Insert, "a", 1))
		if err := in.Watermark(5); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(out.Watermarks(), 5) {
			t.Fatalf("keepLast=%v: watermark 5 went on while the row before it was held", keepLast)
		}
		if err := h.SetProcessingTime(11_000); err != nil {
			t.Fatal(err)
		}
		got := out.Take()
		if len(got) != 1 || got[0].Fields[1].Int() != 1 {
			t.Fatalf("keepLast=%v: rows at the interval's end %v, want the one row", keepLast, got)
		}
		if !slices.Contains(out.Watermarks(), 5) {
			t.Fatalf("keepLast=%v: watermark 5 did not go on at the batch's end: %v", keepLast, out.Watermarks())
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
}
