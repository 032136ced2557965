package sql_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// TestBatchOverCancelStopsPartition: a batch OVER partition of 60,000 rows
// (in memory, and spilled through many runs and a merge) is cancelled by
// the UDF the first output row passes through; the OverAggregate stops
// within a few thousand rows of the cancel (it looks at the task's
// context every 4096 rows of its sort, merge and computation) instead of
// computing the whole partition, and the job ends with context.Canceled.
func TestBatchOverCancelStopsPartition(t *testing.T) {
	const rows = 60000
	for _, budget := range []string{"1 gb", "64 kb"} {
		t.Run(budget, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var calls atomic.Int64
			tick, err := udf.Func1(func(x int64) (int64, error) {
				if calls.Add(1) == 1 {
					cancel()
				}
				return x, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sess := sql.NewSession(sql.SessionOptions{})
			if err := sess.CreateTemporarySystemFunction("tick", tick); err != nil {
				t.Fatal(err)
			}
			script := fmt.Sprintf(`
SET 'execution.runtime-mode' = 'batch';
SET 'table.exec.resource.external-buffer-memory' = '%s';
CREATE TABLE src (k INT, ts BIGINT, v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.k.min' = '1', 'fields.k.max' = '1', 'fields.ts.kind' = 'sequence', 'fields.ts.start' = '1',
  'fields.ts.end' = '%d', 'fields.v.min' = '0', 'fields.v.max' = '100');
SELECT k, ts, tick(s) FROM (SELECT k, ts, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM src);
`, budget, rows, rows)
			job, err := executeScript(sess, script)
			if err != nil {
				t.Fatal(err)
			}
			opts := job.Options()
			opts.Parallelism = 1
			opts.StateDir = t.TempDir()
			env := weir.NewEnvironment(opts)
			if err := job.Build(env, func(row.Row) error { return nil }); err != nil {
				t.Fatal(err)
			}
			err = env.Execute(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("job error %v, want context.Canceled", err)
			}
			// The cancel comes with the first output row; the computation
			// looks again within 4096 rows.
			if n := calls.Load(); n == 0 || n > 2*4096 {
				t.Fatalf("the UDF above the OverAggregate ran %d times after the cancel at its first call; want at most %d", n, 2*4096)
			}
		})
	}
}
