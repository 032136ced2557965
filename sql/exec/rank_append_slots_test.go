package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/row"
)

// appendTopNModel is the changelog of an append-only Top-N (Flink's
// AppendOnlyTopNFunction) computed over copies of the rows: the rows of
// each partition in order, ties in arrival order.
func appendTopNModel(spec RankSpec, in []row.Row) []row.Row {
	n := int(spec.RankEnd)
	parts := map[string][]row.Row{}
	var out []row.Row
	add := func(r row.Row, k row.Kind, rank int) {
		fs := slices.Clone(r.Fields)
		if spec.OutputRankNumber {
			fs = append(fs, row.Int(int64(rank)))
		}
		out = append(out, row.Row{Kind: k, Fields: fs})
	}
	for _, r := range in {
		key := r.Fields[spec.PartitionKeys[0]].Str()
		rows := parts[key]
		old := len(rows)
		if old >= n && compareByKeys(r, rows[old-1], spec.OrderBy, spec.Types) >= 0 {
			continue
		}
		pos := 0
		for pos < old && compareByKeys(rows[pos], r, spec.OrderBy, spec.Types) <= 0 {
			pos++
		}
		if spec.OutputRankNumber {
			cur := r
			for i := pos; i < old && i < n; i++ {
				if spec.GenerateUpdateBefore {
					add(rows[i], row.UpdateBefore, i+1)
				}
				add(cur, row.UpdateAfter, i+1)
				cur = rows[i]
			}
			if old < n {
				add(cur, row.Insert, old+1)
			}
		} else {
			if old >= n {
				add(rows[old-1], row.Delete, 0)
			}
			add(r, row.Insert, 0)
		}
		rows = slices.Insert(rows, pos, row.Row{Kind: row.Insert, Fields: slices.Clone(r.Fields)})
		if len(rows) > n {
			rows = rows[:n]
		}
		parts[key] = rows
	}
	return out
}

// TestAppendTopNKeptFieldsReused: an append-only Top-N with the row number
// writes a new row over the fields of the row it pushes out, and carves a
// partition's rows from one allocation. Every emitted row (held by the
// capture as it was emitted, not copied) and the pushed out row's -U must
// still be the rows of a model that copies every row; partitions of many
// rows (more than one allocation of room), ties and string columns whose
// overwrite would show.
func TestAppendTopNKeptFieldsReused(t *testing.T) {
	types := []row.Type{row.String(), row.BigInt(), row.String(), row.BigInt()}
	rng := rand.New(rand.NewPCG(13, 19))
	var in []row.Row
	for i := range 3000 {
		in = append(in, row.Of(row.Str(fmt.Sprintf("p%d", rng.IntN(5))), row.Int(int64(i/2+rng.IntN(300))),
			row.Str(fmt.Sprintf("extra-%d-%d", i, rng.IntN(1000))), row.Int(int64(i))))
	}
	for _, c := range []struct {
		rankNumber, ub bool
		n              int64
	}{{true, false, 3}, {true, true, 3}, {true, false, 20}, {true, true, 40}, {false, false, 3}, {true, true, 1}} {
		t.Run(fmt.Sprintf("rn=%v/ub=%v/n=%d", c.rankNumber, c.ub, c.n), func(t *testing.T) {
			spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 1, Desc: true}},
				RankStart: 1, RankEnd: c.n, OutputRankNumber: c.rankNumber, GenerateUpdateBefore: c.ub}
			got := runUpdatable(t, spec, in)
			outTypes := slices.Clone(types)
			if c.rankNumber {
				outTypes = append(outTypes, row.BigInt())
			}
			var want []string
			for _, r := range appendTopNModel(spec, in) {
				want = append(want, row.FormatRow(r, outTypes))
			}
			if len(want) < len(in)/5 {
				t.Fatalf("only %d rows emitted for %d inputs", len(want), len(in))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("changelog (-model +got):\n%s", d)
			}
		})
	}
}
