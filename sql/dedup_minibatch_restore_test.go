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

// dedupJob plans a processing-time deduplication of T (keep-last with
// order DESC, keep-first with ASC), with mini-batch on or off, on a
// harness whose input stands for T; the result table (by the key) is
// kept in table.
func dedupJob(t *testing.T, h *weirtest.Harness, order string, miniBatch bool, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	script := `CREATE TABLE T (k STRING, v BIGINT, pt AS PROCTIME()) WITH ('connector' = 'datagen');
SET 'table.exec.mini-batch.enabled' = '` + fmt.Sprint(miniBatch) + `';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '50';
SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY pt ` + order + `) AS rn FROM T) WHERE rn = 1;`
	return tableJob(t, h, script, table)
}

// TestMiniBatchDedupSavepointCompatibility takes a checkpoint of a
// processing-time deduplication (keep-last and keep-first) planned with
// mini-batch off and restores it with mini-batch on, and the other way
// round, with rows held in a batch when the checkpoint is taken (the
// batch is flushed before the barrier). The final table is the
// uninterrupted run's without mini-batch: the operator keeps its uid,
// state names and encoding.
func TestMiniBatchDedupSavepointCompatibility(t *testing.T) {
	var rows []row.Row
	for i := range 400 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i*7%23)), row.Int(int64(i))))
	}
	for _, order := range []string{"DESC", "ASC"} {
		want := map[string]string{}
		{
			h := weirtest.New(weir.Options{})
			in := dedupJob(t, h, order, false, want)
			for _, r := range rows {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
		}
		if len(want) != 23 {
			t.Fatalf("result table %v: want 23 keys", want)
		}
		for _, c := range [][2]bool{{false, true}, {true, false}, {true, true}} {
			for _, cut := range []int{len(rows) / 2, len(rows)/2 + 23} {
				t.Run(fmt.Sprintf("%s-minibatch-%t-then-%t-at-%d", order, c[0], c[1], cut), func(t *testing.T) {
					opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
					table := map[string]string{}
					h := weirtest.New(opts)
					in := dedupJob(t, h, order, c[0], table)
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
					in2 := dedupJob(t, h2, order, c[1], table)
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
}
