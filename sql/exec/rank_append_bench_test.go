package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// BenchmarkRankAppendTop is the per-row cost of an append-only Top-N
// (ROW_NUMBER() OVER (PARTITION BY p ORDER BY v DESC) <= N, without the
// row number) whose 1000 partitions all have a full top, on rows that
// mostly do not enter it: 1 row in 100 enters (at rank 1, pushing the
// last row out), the others sort below every kept row; partitions are
// drawn at random. The tops are
// filled on the heap and restored from a snapshot into the measured job
// (so that the fill's O(N²) encodings stay out of the setup). One
// iteration is one input row.
func BenchmarkRankAppendTop(b *testing.B) {
	const parts = 1000
	types := []row.Type{row.BigInt(), row.BigInt()}
	for _, n := range []int64{100, 1000} {
		spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}},
			RankStart: 1, RankEnd: n, GenerateUpdateBefore: true}
		snap := rankBenchFill(b, spec, parts)
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			b.Run(fmt.Sprintf("N=%d/%s", n, backend), func(b *testing.B) {
				h := weirtest.Restore(weir.Options{Parallelism: 1, StateBackend: backend, Pebble: pebble.New(), StateDir: b.TempDir()}, snap)
				in := weirtest.NewInput[row.Row](h)
				out, err := Rank(in.Stream(), spec)
				if err != nil {
					b.Fatal(err)
				}
				o := weirtest.Capture(h, out.UID("op"))
				h.Start(b)
				// Every partition read once (the restored tops decoded on
				// the heap, Pebble's files opened) before the timer runs.
				for p := range int64(parts) {
					if err := in.Push(row.Of(row.Int(p), row.Int(-1)), weir.NoTimestamp); err != nil {
						b.Fatal(err)
					}
				}
				o.Take()
				b.ReportAllocs()
				b.ResetTimer()
				top := int64(1 << 40)
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range b.N {
					p := rng.Int64N(parts)
					v := int64(i % 1000) // below every kept row (>= 1_000_000)
					if rng.IntN(100) == 0 {
						top++
						v = top
					}
					if err := in.Push(row.Of(row.Int(p), row.Int(v)), weir.NoTimestamp); err != nil {
						b.Fatal(err)
					}
					if i%1024 == 1023 {
						o.Take()
					}
				}
				b.StopTimer()
				o.Take()
			})
		}
	}
}

// rankBenchFill fills the top of every partition of spec (partition key
// column 0, sort key column 1 descending) on the heap, with values from
// 1_000_000 up, and returns a snapshot of it.
func rankBenchFill(b *testing.B, spec RankSpec, parts int) weirtest.Snapshot {
	b.Helper()
	h := weirtest.New(weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: b.TempDir()}})
	in := weirtest.NewInput[row.Row](h)
	out, err := Rank(in.Stream(), spec)
	if err != nil {
		b.Fatal(err)
	}
	o := weirtest.Capture(h, out.UID("op"))
	h.Start(b)
	// Descending values: each row goes last in its partition's top.
	for k := spec.RankEnd - 1; k >= 0; k-- {
		for p := range int64(parts) {
			if err := in.Push(row.Of(row.Int(p), row.Int(1_000_000+k)), weir.NoTimestamp); err != nil {
				b.Fatal(err)
			}
		}
		o.Take()
	}
	snap, err := h.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Stepper().Close(); err != nil {
		b.Fatal(err)
	}
	return snap
}
