package sql_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
)

// TestFilesystemMonitorEventTimeWindow: an event-time window over a
// continuous filesystem table fires once a later file's rows move the
// watermark past the window's end. Flink's filesystem table source does
// not take the watermark (no SupportsWatermarkPushDown): the planner's
// WatermarkAssigner after the scan computes it from every row the subtask
// read, whatever file the row came from. Weir pushes the strategy into the
// file source, whose per-file (per-split) watermarks are dropped when a
// file ends before the next periodic emission: with small files the
// watermark never advances and no window fires.
func TestFilesystemMonitorEventTimeWindow(t *testing.T) {
	dir := t.TempDir()
	putCSV(t, dir, "1.csv", "1,2026-01-01 00:00:01\n2,2026-01-01 00:00:05\n")
	sess := sql.NewSession(sql.SessionOptions{Connectors: connector.Default()})
	ddl := fmt.Sprintf(`CREATE TABLE t (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'source.monitor-interval' = '20 ms');`, dir)
	rows, wait, ended := startJob(t, sess, ddl+`
SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;`, 1)
	// Files with later rows, one after another: each moves the watermark
	// past the first window's end.
	putCSV(t, dir, "2.csv", "3,2026-01-01 00:00:25\n")
	deadline := time.After(30 * time.Second)
	for n := 3; ; n++ {
		select {
		case r := <-rows:
			if c := r.Fields[1].Int(); c != 2 {
				t.Fatalf("first window counts %d rows, want 2: %v", c, r)
			}
			return
		case <-ended:
			t.Fatalf("the job ended: %v", wait())
		case <-deadline:
			t.Fatalf("no window fired although %d later files moved the watermark past its end", n-2)
		case <-time.After(300 * time.Millisecond):
			// Another later file, so the test does not rest on one
			// periodic watermark emission.
			putCSV(t, dir, fmt.Sprintf("%d.csv", n), fmt.Sprintf("%d,2026-01-01 00:00:%02d\n", n, 25+n%30))
		}
	}
}
