package exec

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// appendTopNModel is Flink's AppendOnlyTopNFunction with the row number
// (processElementWithRowNumber), written plainly over formatted rows: per
// partition the kept rows in rank order, a new row after every row it
// ties with; each rank from the new row's down emits -U (if ub) of its
// old row and +U of its new one, a rank filled for the first time +I;
// ranks outside start..end emit nothing.
func appendTopNModel(log []row.Row, start, end int, desc, ub bool) map[string][]string {
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	tops := map[string][]row.Row{}
	out := map[string][]string{}
	emit := func(p string, r row.Row, kind row.Kind, rank int) {
		if rank < start || rank > end {
			return
		}
		fs := append(slices.Clone(r.Fields), row.Int(int64(rank)))
		out[p] = append(out[p], row.FormatRow(row.Row{Kind: kind, Fields: fs}, append(slices.Clone(types), row.BigInt())))
	}
	for _, in := range log {
		p := in.Fields[0].Str()
		top := tops[p]
		pos := len(top)
		for i, r := range top {
			c := row.Compare(in.Fields[1], r.Fields[1], types[1])
			if desc {
				c = -c
			}
			if c < 0 {
				pos = i
				break
			}
		}
		if pos >= end {
			continue
		}
		next := slices.Insert(slices.Clone(top), pos, in)
		for i := pos; i < len(next) && i < end; i++ {
			if i < len(top) {
				if ub {
					emit(p, top[i], row.UpdateBefore, i+1)
				}
				emit(p, next[i], row.UpdateAfter, i+1)
			} else {
				emit(p, next[i], row.Insert, i+1)
			}
		}
		if len(next) > end {
			next = next[:end]
		}
		tops[p] = next
	}
	return out
}

// TestRankAppendRetainedOutputs: the append-only Top-N's output rows with
// the row number stay as they were emitted while the operator goes on (a
// row entering the top is emitted over its kept fields, keep/emitIn): the
// rows are all kept by the test and formatted only after the last input,
// on the heap (the state is the top) and on Pebble (the cache of decoded
// tops), and must be the model's changelog per partition, with and
// without -U, and with an offset.
func TestRankAppendRetainedOutputs(t *testing.T) {
	log := rankAliasLog(19, 3000, 9, 80)
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	for _, v := range []struct {
		name       string
		start, end int
		desc, ub   bool
	}{
		{name: "top10-desc", start: 1, end: 10, desc: true},
		{name: "top5-ub", start: 1, end: 5, ub: true},
		{name: "offset-ub", start: 3, end: 7, desc: true, ub: true},
		{name: "offset", start: 2, end: 4},
	} {
		want := appendTopNModel(log, v.start, v.end, v.desc, v.ub)
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			t.Run(v.name+"/"+backend, func(t *testing.T) {
				spec := rankAliasSpec(types, v.start, v.end, v.desc, v.ub)
				h := weirtest.New(weir.Options{Parallelism: 2, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir()})
				in := weirtest.NewInput[row.Row](h)
				out, err := Rank(in.Stream(), spec)
				if err != nil {
					t.Fatal(err)
				}
				o := weirtest.Capture(h, out.UID("op"))
				h.Start(t)
				for _, r := range log {
					// The operator gets rows whose fields it does not own.
					if err := in.Push(row.Row{Kind: r.Kind, Fields: slices.Clone(r.Fields)}, weir.NoTimestamp); err != nil {
						t.Fatal(err)
					}
				}
				if diff := cmp.Diff(want, byPartition(o.Take())); diff != "" {
					t.Fatalf("changelog per partition differs from the model (-want +got):\n%.3000s", diff)
				}
			})
		}
	}
}
