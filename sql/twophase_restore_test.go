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

// twoPhaseQuery aggregates an aggregation (so the outer one has an
// updating input, and groups whose COUNT(*) goes to zero), with DISTINCT,
// FILTER, MIN and MAX.
const twoPhaseQuery = `SELECT n, COUNT(*) AS c, SUM(s) AS ss, COUNT(DISTINCT m) AS dm, MAX(s) AS ms, MIN(m) FILTER (WHERE s > 100) AS mf
FROM (SELECT k, COUNT(*) AS n, SUM(v) AS s, MAX(v) % 5 AS m FROM T GROUP BY k) GROUP BY n;`

// twoPhaseJob plans twoPhaseQuery with mini-batch on and the given agg
// phase strategy on a harness whose input stands for T; the result table
// (by the first column) is kept in table.
func twoPhaseJob(t *testing.T, h *weirtest.Harness, strategy string, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	script := `CREATE TABLE T (k STRING, v BIGINT) WITH ('connector' = 'datagen');
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '50';
SET 'table.optimizer.agg-phase-strategy' = '` + strategy + `';`
	return tableJob(t, h, script+twoPhaseQuery, table)
}

// TestTwoPhaseSavepointCompatibility takes a checkpoint of the job planned
// with ONE_PHASE and restores it planned with TWO_PHASE, and the other
// way round, with rows held in mini-batches (local and global) when the
// checkpoint is taken: the GlobalGroupAggregate keeps the GroupAggregate's
// uid and state, the LocalGroupAggregate has no state (it flushes before
// the barrier), and the query's sink keeps its name. The final table is
// the uninterrupted one-phase run's.
func TestTwoPhaseSavepointCompatibility(t *testing.T) {
	var rows []row.Row
	for i := range 400 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i%17)), row.Int(int64(i*7%61))))
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := twoPhaseJob(t, h, "ONE_PHASE", want)
		for _, r := range rows {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
	if len(want) < 2 {
		t.Fatalf("result table %v: too small to tell", want)
	}
	for _, c := range [][2]string{{"ONE_PHASE", "TWO_PHASE"}, {"TWO_PHASE", "ONE_PHASE"}, {"TWO_PHASE", "TWO_PHASE"}} {
		for _, cut := range []int{len(rows) / 2, len(rows)/2 + 23} {
			t.Run(fmt.Sprintf("%s-then-%s-at-%d", c[0], c[1], cut), func(t *testing.T) {
				opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				table := map[string]string{}
				h := weirtest.New(opts)
				in := twoPhaseJob(t, h, c[0], table)
				for _, r := range rows[:cut] {
					if err := in.Push(r, weir.NoTimestamp); err != nil {
						t.Fatal(err)
					}
				}
				snap, err := h.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				h2 := weirtest.Restore(opts, snap)
				in2 := twoPhaseJob(t, h2, c[1], table)
				for _, r := range rows[cut:] {
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
}
