package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// drainJob counts generated rows (ids 1, 2, ... with event time id
// seconds) in one-day tumbling windows into committed CSV files: a window
// that never closes while the job runs. %s is the output directory.
const drainJob = `
CREATE TABLE src (
  id BIGINT,
  ts AS TO_TIMESTAMP_LTZ(id * 1000, 3),
  WATERMARK FOR ts AS ts
) WITH ('connector' = 'datagen', 'rows-per-second' = '500',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000');
CREATE TABLE dst (cnt BIGINT, total BIGINT, top BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
INSERT INTO dst
SELECT COUNT(*), SUM(id), MAX(id)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' DAY))
GROUP BY window_start, window_end;
`

// TestStopWithDrain stops one job with "drain": true and one without: the
// drained job's open window fires into the savepoint's committed output,
// holding every id it read exactly once (1..n); the other commits nothing
// (its window is in the savepoint's state).
func TestStopWithDrain(t *testing.T) {
	ts := newTestServer(t, Options{})
	for _, drain := range []bool{true, false} {
		out := t.TempDir()
		id := ts.submit(fmt.Sprintf(drainJob, out), 1)
		waitFor(t, "a checkpoint", func() bool { return ts.completedCheckpoints(id) > 0 })
		code, body := ts.do("POST", "/jobs/"+id+"/stop", map[string]any{"drain": drain})
		if code != http.StatusAccepted {
			t.Fatalf("stop (drain %v): %d %v", drain, code, body)
		}
		op := ts.awaitOp("/jobs/" + id + "/savepoints/" + body["request-id"].(string))
		if op["location"] == nil || op["failure-cause"] != nil {
			t.Fatalf("stop (drain %v): operation %v", drain, op)
		}
		waitFor(t, "FINISHED", func() bool { return ts.state(id) == "FINISHED" })
		lines := committedLines(t, out)
		if !drain {
			if len(lines) != 0 {
				t.Errorf("stop without drain committed %q; the day's window should still be open", lines)
			}
			continue
		}
		if len(lines) != 1 {
			t.Fatalf("stop with drain committed %q, want the one day's window", lines)
		}
		f := strings.Split(lines[0], ",")
		var v [3]int64
		for i := range v {
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil || len(f) != 3 {
				t.Fatalf("row %q: %v", lines[0], err)
			}
			v[i] = n
		}
		if n := v[0]; n == 0 || v[1] != n*(n+1)/2 || v[2] != n {
			t.Errorf("drained window %q: want count n, sum n(n+1)/2 and max n (ids 1..n, each once)", lines[0])
		}
	}
}
