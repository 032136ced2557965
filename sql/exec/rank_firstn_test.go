package exec

import (
	"fmt"
	"slices"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
)

// TestFirstNSameAnswer: LIMIT without ORDER BY (a Rank without order keys
// on an append-only input) keeps the first rows in arrival order, across
// a restore at another parallelism and backend taken before and after the
// limit is reached; snapshots of the Top-N layouts it replaced (rank-top,
// and the retractable rank-index/rank-data) restore into its count.
func TestFirstNSameAnswer(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	outTypes := append(slices.Clone(types), row.BigInt())
	var steps []joinFeedStep
	for i := range 200 {
		r := row.Of(row.Int(int64(i)), row.Str(fmt.Sprintf("r%d", i%7)))
		steps = append(steps, joinFeedStep{r: &r})
	}
	for _, c := range []struct{ start, end int64 }{
		{1, 60},    // full at the snapshot (after 100 rows)
		{1, 150},   // not full at the snapshot
		{11, 60},   // OFFSET 10 LIMIT 50
		{121, 160}, // the offset passed after the restore
	} {
		var want []row.Row
		for i := c.start; i <= c.end; i++ {
			want = append(want, row.Of(row.Int(i-1), row.Str(fmt.Sprintf("r%d", (i-1)%7)), row.Int(i)))
		}
		spec := RankSpec{Types: types, RankStart: c.start, RankEnd: c.end, OutputRankNumber: true, GenerateUpdateBefore: true}
		for _, layout := range []string{"first-n", "top-n", "retractable"} {
			t.Run(fmt.Sprintf("%d-%d/%s", c.start, c.end, layout), func(t *testing.T) {
				checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(cf joinSameAnswerConfig) *result.Table {
					builds := 0
					return joinSameAnswerRun(t, 1, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
						builds++
						spec := spec
						spec.topN = builds == 1 && layout == "top-n"
						spec.retractable = builds == 1 && layout == "retractable"
						return Rank(s[0], spec)
					}, steps, cf.p1, cf.b1, cf.p2, cf.b2)
				})
			})
		}
	}
}

// TestRankTopCopyState: the heap backend's copy of a top a snapshot in
// flight shares stays decoded and has a slice of its own.
func TestRankTopCopyState(t *testing.T) {
	types := []row.Type{row.BigInt()}
	orig := rankTop{codec: row.NewCodec(types), rows: []row.Row{row.Of(row.Int(1)), row.Of(row.Int(2))}}
	cp := orig.CopyState()
	if cp.rows == nil || len(cp.rows) != 2 {
		t.Fatalf("copy holds %d decoded rows, want 2", len(cp.rows))
	}
	cp.rows[0] = row.Of(row.Int(9))
	if got := orig.rows[0].Fields[0].Int(); got != 1 {
		t.Fatalf("changing the copy's slice changed the original: first row %d", got)
	}
	if string(cp.AppendState(nil)) != string(rankTop{codec: orig.codec, rows: []row.Row{row.Of(row.Int(9)), row.Of(row.Int(2))}}.AppendState(nil)) {
		t.Fatal("the copy does not encode as its rows")
	}
}
