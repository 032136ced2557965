package sql

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// miniBatchJob plans SELECT k, COUNT(*), SUM(v) FROM T GROUP BY k with
// mini-batch on or off, on a harness whose input stands for T.
func miniBatchJob(t *testing.T, h *weirtest.Harness, miniBatch bool, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	script := `CREATE TABLE T (k STRING, v BIGINT) WITH ('connector' = 'datagen');`
	if miniBatch {
		script += `SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '1 s';
SET 'table.exec.mini-batch.size' = '1000';`
	}
	return tableJob(t, h, script+`SELECT k, COUNT(*) AS n, SUM(v) AS s FROM T GROUP BY k;`, table)
}

// TestMiniBatchSavepointCompatibility takes a checkpoint of the SQL job
// with mini-batch off and restores it with mini-batch on, and the other
// way round, with rows held when the checkpoint is taken: the GroupAggregate
// keeps its uid and state layout (EXPLAIN's MiniBatchAssigner runs no
// operator), so the final table is the uninterrupted one.
func TestMiniBatchSavepointCompatibility(t *testing.T) {
	var rows []row.Row
	for i := range 300 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i%13)), row.Int(int64(i))))
	}
	for i := 0; i < len(rows); i += 5 {
		rows = append(rows, rows[i].WithKind(row.Delete))
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := miniBatchJob(t, h, false, want)
		for _, r := range rows {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
	for _, first := range []bool{false, true} {
		t.Run(fmt.Sprintf("mini-batch-%v-then-%v", first, !first), func(t *testing.T) {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := miniBatchJob(t, h, first, table)
			half := len(rows) / 2
			for _, r := range rows[:half] {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h2 := weirtest.Restore(opts, snap)
			in2 := miniBatchJob(t, h2, !first, table)
			for _, r := range rows[half:] {
				if err := in2.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			if err := in2.End(); err != nil {
				t.Fatal(err)
			}
			if err := h2.Err(); err != nil {
				t.Fatal(err)
			}
			got, exp := sortedValues(table), sortedValues(want)
			if !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
