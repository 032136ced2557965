package sql

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestBatchOverSavepointRestore takes a savepoint in the middle of a
// batch-mode input of OVER windows (the partitions' rows are kept in
// state until the input ends, each window one operator), restores it
// into a new job and finishes the input: the result is the
// uninterrupted run's. With a budget of 1 KiB every partition is
// computed from a spill file: the file is scratch, made after the input
// ended, and the savepoint holds the rows in state either way.
func TestBatchOverSavepointRestore(t *testing.T) {
	for _, budget := range []string{"", "SET 'table.exec.resource.external-buffer-memory' = '1 kb';\n"} {
		t.Run(fmt.Sprintf("spill=%v", budget != ""), func(t *testing.T) { testBatchOverSavepointRestore(t, budget) })
	}
}

func testBatchOverSavepointRestore(t *testing.T, budget string) {
	script := budget + `CREATE TABLE T (id BIGINT, k STRING, v BIGINT) WITH ('connector' = 'datagen');
SET 'execution.runtime-mode' = 'batch';
SELECT id, k, v,
  RANK() OVER (PARTITION BY k ORDER BY v DESC) AS rk,
  SUM(v) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS s,
  COUNT(*) OVER (PARTITION BY k ORDER BY v RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS c,
  LAG(v, 2, -1) OVER (ORDER BY id) AS lag2
FROM T;`
	var rows []row.Row
	for i := range 200 {
		rows = append(rows, row.Of(row.Int(int64(i)), row.Str(fmt.Sprintf("k%d", i*i%7)), row.Int(int64(i*13%29))))
	}
	run := func(h *weirtest.Harness, table map[string]string, rows []row.Row) {
		in := tableJob(t, h, script, table)
		for _, r := range rows {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{}
	run(weirtest.New(weir.Options{Parallelism: 2}), want, rows)
	if len(want) != len(rows) {
		t.Fatalf("the uninterrupted run gave %d rows, want %d", len(want), len(rows))
	}
	all := strings.Join(sortedValues(want), "\n")
	if !strings.Contains(all, "+I[199, k") || !strings.Contains(all, ", -1]") {
		t.Fatalf("result too plain to tell:\n%s", all)
	}
	for _, tc := range []struct {
		backend string
		cut     int
	}{{weir.StateHeap, len(rows) / 3}, {weir.StateHeap, len(rows)/2 + 7}, {weir.StatePebble, len(rows) / 2}} {
		cut := tc.cut
		t.Run(fmt.Sprintf("%s-at-%d", tc.backend, cut), func(t *testing.T) {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			if tc.backend == weir.StatePebble {
				opts.StateBackend, opts.Pebble, opts.StateDir = weir.StatePebble, pebble.New(), t.TempDir()
			}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := tableJob(t, h, script, table)
			for _, r := range rows[:cut] {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if len(table) != 0 {
				t.Fatalf("%d rows out before the input ended", len(table))
			}
			run(weirtest.Restore(opts, snap), table, rows[cut:])
			if got, exp := sortedValues(table), sortedValues(want); !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}
