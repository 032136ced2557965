package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLFixedDelayAttemptsAreRestarts: a job that fails on every run (a
// CSV field that is not a BIGINT) with restart-strategy fixed-delay and 7
// attempts is restarted 7 times, as Flink would, and then stops with the
// failure and that the attempts are used up. Weir's own stop after 5
// identical failures from the same position guards only the default
// strategy: it used to cut these attempts at 5.
func TestSQLFixedDelayAttemptsAreRestarts(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.csv"), []byte("1\n2\nnot-a-number\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(job, []byte(`
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '7';
SET 'restart-strategy.fixed-delay.delay' = '1 ms';
CREATE TABLE src (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '`+in+`', 'format' = 'csv');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runSQL(t, "", "-f", job, "--parallelism", "1")
	if err == nil {
		t.Fatalf("the job did not fail:\n%s", stderr)
	}
	if !strings.Contains(stderr, "allows no more restarts after 7") || !strings.Contains(stderr, "not-a-number") {
		t.Errorf("stderr does not say the 7 restarts are used up and why the job failed:\n%s", stderr)
	}
	if n := strings.Count(stderr, "job failed, restarting"); n != 7 {
		t.Errorf("%d restarts, want 7:\n%s", n, stderr)
	}
}
