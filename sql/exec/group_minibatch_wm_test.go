package exec

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// TestGroupAggMiniBatchHoldsWatermarks: a watermark that comes while the
// mini-batch aggregation holds rows waits, and reaches the sink after the
// batch's changes, when the batch ends (at the interval's end, when it is
// full, before a checkpoint's barrier), one-phase and two-phase; with no
// row held it goes on at once. So no change goes out behind a watermark
// that passed its rows (Flink's bundle operators finish the bundle before
// a watermark goes on).
func TestGroupAggMiniBatchHoldsWatermarks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)
	}{
		{"one-phase", func(spec GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(s, spec) }
		}},
		{"two-phase", twoPhase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := weirtest.New(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
			in := weirtest.NewInput[row.Row](h)
			spec := GroupAggSpec{InputTypes: []row.Type{row.String(), row.BigInt()}, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
				Aggs:      []AggCall{{Func: CountStar, Filter: NoFilter}, {Func: Sum, Args: []int{1}, Filter: NoFilter}},
				MiniBatch: MiniBatch{Interval: time.Second, Size: 3}}
			s, err := tc.build(spec)(in.Stream())
			if err != nil {
				t.Fatal(err)
			}
			out := weirtest.Capture(h, s)
			h.Start(t)
			if err := h.SetProcessingTime(10_400); err != nil {
				t.Fatal(err)
			}
			watermark := func(wm int64) {
				t.Helper()
				if err := in.Watermark(wm); err != nil {
					t.Fatal(err)
				}
			}
			reached := func(wm int64) bool { return slices.Contains(out.Watermarks(), wm) }

			watermark(1)
			if !reached(1) {
				t.Fatalf("with no row held, watermark 1 did not go on: %v", out.Watermarks())
			}

			// The interval's end.
			push(t, in, kv(row.Insert, "a", 1))
			watermark(5)
			if reached(5) {
				t.Fatalf("watermark 5 reached the sink while the row before it was held: %v", out.Watermarks())
			}
			checkRows(t, "held", out.Take(), "")
			if err := h.SetProcessingTime(11_000); err != nil {
				t.Fatal(err)
			}
			checkRows(t, "at the interval's end", out.Take(), "+I[a, 1, 1]\n")
			if !reached(5) {
				t.Fatalf("watermark 5 did not go on at the batch's end: %v", out.Watermarks())
			}

			// A checkpoint's barrier.
			push(t, in, kv(row.Insert, "b", 2))
			watermark(7)
			watermark(8)
			if reached(7) || reached(8) {
				t.Fatalf("watermarks 7, 8 reached the sink while the row before them was held: %v", out.Watermarks())
			}
			if _, err := h.Snapshot(); err != nil {
				t.Fatal(err)
			}
			checkRows(t, "before the barrier", out.Take(), "+I[b, 1, 2]\n")
			if !reached(8) {
				t.Fatalf("watermark 8 did not go on before the barrier: %v", out.Watermarks())
			}

			// The final watermark.
			push(t, in, kv(row.Insert, "c", 3))
			watermark(9)
			watermark(weir.MaxWatermark)
			checkRows(t, "at the final watermark", out.Take(), "+I[c, 1, 3]\n")
			if wms := out.Watermarks(); wms[len(wms)-1] != weir.MaxWatermark || reached(9) {
				t.Fatalf("watermarks %v: want the final one last, 9 replaced by it", wms)
			}
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGroupAggMiniBatchFullBatchReleasesWatermark: a batch handled because
// it is full lets the watermark it held go on after its changes.
func TestGroupAggMiniBatchFullBatchReleasesWatermark(t *testing.T) {
	_, in, out := miniBatchHarness(t, weir.Options{}, nil, 2)
	push(t, in, kv(row.Insert, "a", 1))
	if err := in.Watermark(5); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(out.Watermarks(), 5) {
		t.Fatalf("watermark 5 reached the sink while the row before it was held: %v", out.Watermarks())
	}
	push(t, in, kv(row.Insert, "a", 2))
	checkRows(t, "the full batch", out.Take(), "+I[a, 2, 3]\n")
	if !slices.Contains(out.Watermarks(), 5) {
		t.Fatalf("watermark 5 did not go on after the full batch: %v", out.Watermarks())
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
}
