package exec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// benchOp runs an operator on a harness at parallelism 1 (heap state) and
// pushes b.N rows made by next (input index, row, timestamp); a watermark
// follows every 100 rows when wm is set. The harness's per-push scheduling
// is part of the measured cost.
func benchJoinOp(b *testing.B, nIn int, build func([]weir.Stream[row.Row]) (weir.Stream[row.Row], error),
	next func(i int) (int, row.Row, int64), wm bool) {
	b.Helper()
	h := weirtest.New(weir.Options{Parallelism: 1})
	ins := make([]*weirtest.Input[row.Row], nIn)
	ss := make([]weir.Stream[row.Row], nIn)
	for i := range ins {
		ins[i] = weirtest.NewInput[row.Row](h)
		ss[i] = ins[i].Stream()
	}
	out, err := build(ss)
	if err != nil {
		b.Fatal(err)
	}
	o := weirtest.Capture(h, out)
	h.Start(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in, r, ts := next(i)
		if err := ins[in].Push(r, ts); err != nil {
			b.Fatal(err)
		}
		if wm && i%100 == 99 {
			for _, in := range ins {
				if err := in.Watermark(ts - 1000); err != nil {
					b.Fatal(err)
				}
			}
		}
		if i%1024 == 0 {
			o.Take()
		}
	}
}

var benchJoinTypes = []row.Type{row.BigInt(), row.String()}

func BenchmarkRegularJoin(b *testing.B) {
	spec := JoinSpec{Type: LeftJoin, LeftTypes: benchJoinTypes, RightTypes: benchJoinTypes, LeftKeys: []int{0}, RightKeys: []int{0}}
	benchJoinOp(b, 2, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return RegularJoin(s[0], s[1], spec) },
		func(i int) (int, row.Row, int64) {
			// 1000 keys, a few rows per key and side.
			return i % 2, row.Of(row.Int(int64(i/2%1000)), row.Str(fmt.Sprint(i%7))), 0
		}, false)
}

func BenchmarkIntervalJoin(b *testing.B) {
	types := []row.Type{row.BigInt(), row.TimestampType(3)}
	spec := IntervalJoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		LeftTime: 1, RightTime: 1, LowerBound: time.Second, UpperBound: time.Second}
	benchJoinOp(b, 2, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return IntervalJoin(s[0], s[1], spec) },
		func(i int) (int, row.Row, int64) {
			ts := int64(i) * 10
			return i % 2, row.Of(row.Int(int64(i%100)), row.Timestamp(ts, 0)), ts
		}, true)
}

func BenchmarkRankAppendOnly(b *testing.B) {
	spec := RankSpec{Types: benchJoinTypes, PartitionKeys: []int{1}, OrderBy: []OrderKey{{Col: 0, Desc: true, NullsLast: true}},
		RankStart: 1, RankEnd: 10, OutputRankNumber: true, GenerateUpdateBefore: true}
	benchJoinOp(b, 1, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return Rank(s[0], spec) },
		func(i int) (int, row.Row, int64) {
			return 0, row.Of(row.Int(int64(i*7919%100003)), row.Str(fmt.Sprint(i%50))), 0
		}, false)
}

func BenchmarkRankRetractable(b *testing.B) {
	spec := RankSpec{Types: benchJoinTypes, PartitionKeys: []int{1}, OrderBy: []OrderKey{{Col: 0}},
		RankStart: 1, RankEnd: 10, Updating: true, GenerateUpdateBefore: true}
	benchJoinOp(b, 1, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return Rank(s[0], spec) },
		func(i int) (int, row.Row, int64) {
			// Insert a row, and retract it 64 rows later.
			j := i / 2
			if i%2 == 1 && j >= 64 {
				j -= 64
				return 0, row.Row{Kind: row.Delete, Fields: []row.Value{row.Int(int64(j * 7919 % 100003)), row.Str(fmt.Sprint(j % 50))}}, 0
			}
			return 0, row.Of(row.Int(int64(j*7919%100003)), row.Str(fmt.Sprint(j%50))), 0
		}, false)
}

func BenchmarkDeduplicate(b *testing.B) {
	spec := DedupSpec{Types: benchJoinTypes, Keys: []int{1}, KeepLast: true, GenerateUpdateBefore: true, GenerateInsert: true}
	benchJoinOp(b, 1, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return Deduplicate(s[0], spec) },
		func(i int) (int, row.Row, int64) { return 0, row.Of(row.Int(int64(i)), row.Str(fmt.Sprint(i%1000))), 0 }, false)
}

// windowRow is a row of a 10-second tumbling window (window_start,
// window_end, key, value) for the window benchmarks.
func benchWindowRow(i int) (row.Row, int64) {
	ts := int64(i) * 10
	start := ts - ts%10_000
	return row.Of(row.Timestamp(start, 0), row.Timestamp(start+10_000, 0), row.Int(int64(i%100)), row.Int(int64(i*7919%1000))), ts
}

var benchWindowTypes = []row.Type{row.TimestampType(3), row.TimestampType(3), row.BigInt(), row.BigInt()}

func BenchmarkWindowRank(b *testing.B) {
	spec := WindowRankSpec{Types: benchWindowTypes, PartitionKeys: []int{2}, WindowStart: 0, WindowEnd: 1,
		OrderBy: []OrderKey{{Col: 3, Desc: true, NullsLast: true}}, RankStart: 1, RankEnd: 3, OutputRankNumber: true}
	benchJoinOp(b, 1, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return WindowRank(s[0], spec) },
		func(i int) (int, row.Row, int64) { r, ts := benchWindowRow(i); return 0, r, ts }, true)
}

func BenchmarkWindowDeduplicate(b *testing.B) {
	spec := WindowDedupSpec{Types: benchWindowTypes, Keys: []int{2}, WindowStart: 0, WindowEnd: 1, TimeCol: 0, KeepLast: true}
	benchJoinOp(b, 1, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return WindowDeduplicate(s[0], spec) },
		func(i int) (int, row.Row, int64) { r, ts := benchWindowRow(i); return 0, r, ts }, true)
}

func BenchmarkWindowJoin(b *testing.B) {
	spec := WindowJoinSpec{Type: FullJoin, LeftTypes: benchWindowTypes, RightTypes: benchWindowTypes, LeftKeys: []int{2}, RightKeys: []int{2},
		LeftWindowStart: 0, LeftWindowEnd: 1, RightWindowStart: 0, RightWindowEnd: 1}
	benchJoinOp(b, 2, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return WindowJoin(s[0], s[1], spec) },
		func(i int) (int, row.Row, int64) { r, ts := benchWindowRow(i); return i % 2, r, ts }, true)
}

// BenchmarkJoinSideBytesPerKey reports the live heap per join key of a
// list side (join_append.go) that keeps rows of about 60 encoded bytes:
// keys and the state's maps included, for 1 to 16 rows per key, with the
// kept values of the heap (join_kept.go) and with the list layout.
func BenchmarkJoinSideBytesPerKey(b *testing.B) {
	const keys = 50_000
	for _, perKey := range []int{1, 2, 4, 16} {
		for _, list := range []bool{false, true} {
			name := "kept"
			if list {
				name = "list"
			}
			b.Run(fmt.Sprintf("rows=%d/%s", perKey, name), func(b *testing.B) {
				for range b.N {
					h := weirtest.New(weir.Options{Parallelism: 1})
					l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
					spec := JoinSpec{Type: InnerJoin, LeftTypes: benchJoinTypes, RightTypes: benchJoinTypes,
						LeftKeys: []int{0}, RightKeys: []int{0}, LeftAppendOnly: true, RightAppendOnly: true, listLayout: list}
					out, err := RegularJoin(l.Stream(), r.Stream(), spec)
					if err != nil {
						b.Fatal(err)
					}
					weirtest.Capture(h, out)
					h.Start(b)
					pad := strings.Repeat("x", 48)
					// Warm the harness up on other keys, then measure.
					if err := l.Push(row.Of(row.Int(-1), row.Str(pad)), 0); err != nil {
						b.Fatal(err)
					}
					before := liveHeap()
					for j := range perKey {
						for k := range keys {
							if err := l.Push(row.Of(row.Int(int64(k)), row.Str(fmt.Sprintf("%s%06d", pad[:42], j))), 0); err != nil {
								b.Fatal(err)
							}
						}
					}
					after := liveHeap()
					b.ReportMetric(float64(after-before)/keys, "B/key")
					runtime.KeepAlive(h)
				}
			})
		}
	}
}

// liveHeap returns the bytes of live heap objects after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
