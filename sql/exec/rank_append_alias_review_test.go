package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// rankAliasLog returns n rows (partition, order value, id) over parts
// partitions with values in 0..vals-1: many ties, many rows entering the
// middle of a full top and pushing the kept rows down a rank.
func rankAliasLog(seed uint64, n, parts, vals int) []row.Row {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var log []row.Row
	for i := range n {
		log = append(log, row.Of(row.Str(fmt.Sprintf("p%d", rng.IntN(parts))), row.Int(int64(rng.IntN(vals))), row.Int(int64(i))))
	}
	return log
}

// rankAliasSpec is the append-only Top-N of these tests: partitioned by
// column 0, ordered by column 1 (descending with NULLs last, or ascending),
// ranks start..end with the row number in the output, with -U if ub.
func rankAliasSpec(types []row.Type, start, end int, desc, ub bool) RankSpec {
	return RankSpec{Types: types, PartitionKeys: []int{0},
		OrderBy:   []OrderKey{{Col: 1, Desc: desc, NullsLast: desc}},
		RankStart: int64(start), RankEnd: int64(end), OutputRankNumber: true, GenerateUpdateBefore: ub}
}

// byPartition formats rows (the Top-N's output, with the row number) per
// partition, in order.
func byPartition(rows []row.Row) map[string][]string {
	outTypes := []row.Type{row.String(), row.BigInt(), row.BigInt(), row.BigInt()}
	got := map[string][]string{}
	for _, r := range rows {
		got[r.Fields[0].Str()] = append(got[r.Fields[0].Str()], row.FormatRow(r, outTypes))
	}
	return got
}

// TestRankAppendRetainedOutputsAcrossRestore keeps every output row of
// the append-only Top-N with the row number (rows emitted over the fields
// the top keeps) across a snapshot: the first job takes a snapshot in the
// middle and goes on; a second job restores the snapshot on the other
// backend at another parallelism and runs the same second half. Only at
// the end are the rows formatted: the first job's whole output, and its
// output before the snapshot followed by the second job's, must both be
// the model's changelog per partition. A row kept across the snapshot is
// pushed down ranks after it (emitted again, from the restored
// encoding in the second job and from the kept fields in the first).
func TestRankAppendRetainedOutputsAcrossRestore(t *testing.T) {
	log := rankAliasLog(23, 2400, 7, 60)
	half := len(log) / 2
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	for _, v := range []struct {
		name       string
		start, end int
		desc, ub   bool
	}{
		{name: "top6-ub", start: 1, end: 6, ub: true},
		{name: "offset-desc", start: 2, end: 5, desc: true},
	} {
		want := appendTopNModel(log, v.start, v.end, v.desc, v.ub)
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			t.Run(v.name+"/"+backend, func(t *testing.T) {
				spec := rankAliasSpec(types, v.start, v.end, v.desc, v.ub)
				job := func(h *weirtest.Harness) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
					in := weirtest.NewInput[row.Row](h)
					out, err := Rank(in.Stream(), spec)
					if err != nil {
						t.Fatal(err)
					}
					return in, weirtest.Capture(h, out.UID("op"))
				}
				push := func(in *weirtest.Input[row.Row], rows []row.Row) {
					for _, r := range rows {
						if err := in.Push(row.Row{Kind: r.Kind, Fields: slices.Clone(r.Fields)}, weir.NoTimestamp); err != nil {
							t.Fatal(err)
						}
					}
				}
				opts := weir.Options{Parallelism: 2, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
					Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				h1 := weirtest.New(opts)
				in1, o1 := job(h1)
				h1.Start(t)
				push(in1, log[:half])
				snap, err := h1.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				before := o1.Take()
				push(in1, log[half:])
				after := o1.Take()

				opts.Parallelism = 3
				opts.StateBackend = map[string]string{weir.StateHeap: weir.StatePebble, weir.StatePebble: weir.StateHeap}[backend]
				opts.StateDir, opts.Checkpoints.Dir = t.TempDir(), t.TempDir()
				h2 := weirtest.Restore(opts, snap)
				in2, o2 := job(h2)
				h2.Start(t)
				push(in2, log[half:])
				restored := o2.Take()

				if diff := cmp.Diff(want, byPartition(append(slices.Clone(before), after...))); diff != "" {
					t.Errorf("the first job's changelog differs from the model (-want +got):\n%.3000s", diff)
				}
				if diff := cmp.Diff(want, byPartition(append(slices.Clone(before), restored...))); diff != "" {
					t.Errorf("the changelog before the snapshot and after the restore differs from the model (-want +got):\n%.3000s", diff)
				}
			})
		}
	}
}

// TestRankAppendOutputsShared runs the append-only Top-N with the row
// number in a job of goroutines: its output goes through a hash exchange
// to another parallelism, where a map reads every field of every row and
// keeps it, while checkpoints (the heap's copy-on-write snapshots,
// encoded on another goroutine; Pebble's encodings) run all along. The
// race detector sees any write to an emitted row's fields or row-number
// slot after it was emitted; the rows, formatted when the job is done,
// must be the model's changelog per partition, and each must still read
// as it did when the map saw it.
func TestRankAppendOutputsShared(t *testing.T) {
	log := rankAliasLog(29, 20000, 11, 90)
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	outTypes := append(slices.Clone(types), row.BigInt())
	want := appendTopNModel(log, 1, 8, true, true)
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		t.Run(backend, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{Parallelism: 2, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
				Checkpoints: weir.CheckpointOptions{Interval: time.Millisecond, Dir: t.TempDir()}})
			src := weir.FromSlice(env, log)
			out, err := Rank(src, RankSpec{Types: types, PartitionKeys: []int{0},
				OrderBy:   []OrderKey{{Col: 1, Desc: true, NullsLast: true}},
				RankStart: 1, RankEnd: 8, OutputRankNumber: true, GenerateUpdateBefore: true})
			if err != nil {
				t.Fatal(err)
			}
			type seen struct {
				r   row.Row
				fmt string
			}
			var mu sync.Mutex
			var kept []seen
			keyed := weir.KeyBy(out, func(r row.Row) string { return r.Fields[0].Str() }).ByKey()
			// A partition's rows reach one subtask of the map, in order:
			// kept holds them in order per partition.
			read := weir.Map(keyed, func(r row.Row) row.Row {
				s := row.FormatRow(r, outTypes)
				mu.Lock()
				kept = append(kept, seen{r, s})
				mu.Unlock()
				return r
			}).SetParallelism(3)
			read.SinkTo(weir.SinkFunc[row.Row](func(context.Context, row.Row, int64) error { return nil })).SetParallelism(3)
			if err := env.Execute(t.Context()); err != nil {
				t.Fatal(err)
			}
			var rows []row.Row
			for _, s := range kept {
				if now := row.FormatRow(s.r, outTypes); now != s.fmt {
					t.Fatalf("an emitted row changed after it was emitted: %s, then %s", s.fmt, now)
				}
				rows = append(rows, s.r)
			}
			if diff := cmp.Diff(want, byPartition(rows)); diff != "" {
				t.Fatalf("changelog per partition differs from the model (-want +got):\n%.3000s", diff)
			}
		})
	}
}
