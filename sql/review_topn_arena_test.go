package sql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestTopNArenaRowsKeptByMiniBatch: an append-only Top-N (the heap
// without TTL keeps its tops in byte arenas, whose bytes the strings of
// its output rows share) feeding a mini-batch GROUP BY that buffers those
// rows and keeps MAX/MIN of a string column in its state, while the
// Top-N's arenas regrow (rows up to 5 KB) and rows move: the final table
// must be the one of the same query on Pebble without mini-batch (where
// the Top-N keeps decoded rows), and of the heap without mini-batch.
func TestTopNArenaRowsKeptByMiniBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var rows []row.Row
	for i := range 3000 {
		s := fmt.Sprintf("%c-%d-", 'a'+rng.IntN(26), i)
		if rng.IntN(30) == 0 {
			s += strings.Repeat(string(rune('A'+i%26)), 2000+rng.IntN(3000))
		}
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("c%d", rng.IntN(12))), row.Int(int64(rng.IntN(200))), row.Str(s)))
	}
	run := func(backend string, miniBatch bool) []string {
		script := `CREATE TABLE T (cat STRING, v INT, s STRING) WITH ('connector' = 'datagen');`
		if miniBatch {
			script += `SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '1 s';
SET 'table.exec.mini-batch.size' = '200';`
		}
		script += `SELECT cat, COUNT(*) AS n, MAX(s) AS mx, MIN(s) AS mn, SUM(v) AS sv FROM (
  SELECT cat, v, s FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY v DESC) AS rn FROM T) WHERE rn <= 4
) GROUP BY cat;`
		table := map[string]string{}
		h := weirtest.New(weir.Options{Parallelism: 2, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir()})
		in := tableJob(t, h, script, table)
		for _, r := range rows {
			if err := in.Push(row.Row{Kind: row.Insert, Fields: slices.Clone(r.Fields)}, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
		return sortedValues(table)
	}
	want := run(weir.StatePebble, false)
	if len(want) != 12 {
		t.Fatalf("reference table of %d rows, want 12: %q", len(want), want)
	}
	for _, miniBatch := range []bool{true, false} {
		if got := run(weir.StateHeap, miniBatch); !slices.Equal(got, want) {
			t.Fatalf("heap, mini-batch %v: final table\n%.3000q\nwant (Pebble)\n%.3000q", miniBatch, got, want)
		}
	}
}
