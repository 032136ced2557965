package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// sqlLimitCrashJob keeps the first rows of a generated stream (LIMIT
// without ORDER BY, Flink's Limit: its count of rows taken is state).
const sqlLimitCrashJob = `
CREATE TABLE src (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '%d', 'number-of-rows' = '%d',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '%d');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
INSERT INTO dst SELECT id FROM src LIMIT %d;
`

// TestSQLLimitCrash runs a LIMIT without ORDER BY under `weir sql -f`,
// SIGKILLed after new checkpoints and restarted with --restore latest at
// other parallelisms and state backends: the committed files must hold
// exactly LIMIT distinct ids (the Limit's count restored, neither rows
// lost nor taken twice).
func TestSQLLimitCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary several times")
	}
	t.Parallel()
	const rows, rate, limit = 20000, 4000, 12000
	dir := t.TempDir()
	bin := weirBinary(t)
	out, chk := filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	job := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(job, []byte(fmt.Sprintf(sqlLimitCrashJob, rate, rows, rows, out, limit)), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	backends := []string{"pebble", "heap", "pebble"}
	pars := []int{2, 1, 3}
	args := func(run int) []string {
		return []string{"sql", "-f", job, "--checkpoint-dir", chk, "--checkpoint-interval", "50ms", "--restore", "latest",
			"--parallelism", strconv.Itoa(pars[run%len(pars)]), "--state-backend", backends[run%len(backends)],
			"--state-dir", filepath.Join(dir, "state"), "-v"}
	}
	kills, ended := 0, false
	for run := 0; kills < 3 && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, args(run)...)
		c.WaitUntil(t, "new checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before+1 })
		if c.KillRun(t, run) {
			ended = true
		} else {
			kills++
		}
	}
	if kills < 2 {
		t.Fatalf("only %d kills before the job ended: the input is too small for this machine", kills)
	}
	c := crashtest.Start(t, bin, logPath, args(1)...)
	if exited, err := c.WaitFor(120 * time.Second); !exited || err != nil {
		t.Fatalf("final run: exited %v, %v", exited, err)
	}
	got := committedCSV(t, out)
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
		if n, err := strconv.Atoi(l); err != nil || n < 1 || n > rows {
			t.Errorf("committed row %q is not an id of the input", l)
		}
	}
	t.Logf("%d kills, %d rows committed", kills, len(got))
	if len(got) != limit || len(seen) != limit {
		t.Errorf("%d rows committed (%d distinct), want %d distinct ids (%d kills)", len(got), len(seen), limit, kills)
	}
}
