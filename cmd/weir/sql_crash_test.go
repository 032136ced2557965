package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// sqlCrashJob is a SQL job with state and an exactly-once sink: generated
// rows (rate-limited, deterministic per row number) → a 1-second tumbling
// window aggregation per key → CSV files committed with checkpoints.
const sqlCrashJob = `
CREATE TABLE src (
  id BIGINT,
  k AS CAST(MOD(id, 7) AS STRING),
  v AS id * 3,
  ts AS TO_TIMESTAMP_LTZ(id * 10, 3),
  WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '%d',
  'number-of-rows' = '%d',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '%d'
);
CREATE TABLE dst (k STRING, wstart BIGINT, cnt BIGINT, total BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
INSERT INTO dst
SELECT k, UNIX_TIMESTAMP(CAST(window_start AS STRING)) AS wstart, COUNT(*), SUM(v)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY k, window_start, window_end;
`

// TestSQLCrash is the exactly-once test of a SQL job run by `weir sql -f`:
// the binary is SIGKILLed at random instants (after a new checkpoint, or
// while it starts and restores) and restarted with --restore latest at
// another parallelism and state backend; the committed CSV files must hold
// every window's row exactly once, with the counts and sums computed here
// independently.
func TestSQLCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary many times")
	}
	t.Parallel()
	const rows, rate = 30000, 6000
	dir := t.TempDir()
	bin := weirBinary(t)
	out, chk := filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	job := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(job, []byte(fmt.Sprintf(sqlCrashJob, rate, rows, rows, out)), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	backends := []string{"heap", "pebble", "pebble", "heap"}
	pars := []int{2, 1, 3}
	args := func(run int) []string {
		return []string{"sql", "-f", job, "--checkpoint-dir", chk, "--checkpoint-interval", "50ms", "--restore", "latest",
			"--parallelism", strconv.Itoa(pars[run%len(pars)]), "--state-backend", backends[run%len(backends)],
			"--state-dir", filepath.Join(dir, "state"), "-v"}
	}
	kills, ended := 0, false
	for run := 0; kills < 6 && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, args(run)...)
		if run%3 == 2 {
			c.Pause(time.Duration(rng.IntN(60)) * time.Millisecond)
		} else {
			c.WaitUntil(t, "new checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		}
		if c.KillRun(t, run) {
			ended = true
		} else {
			kills++
		}
	}
	if kills < 3 {
		t.Fatalf("only %d kills before the job ended: the input is too small for this machine", kills)
	}
	c := crashtest.Start(t, bin, logPath, args(1)...)
	if exited, err := c.WaitFor(120 * time.Second); !exited || err != nil {
		t.Fatalf("final run: exited %v, %v", exited, err)
	}
	t.Logf("%d kills", kills)

	// The expected table: row id has key id mod 7, value 3*id, event
	// time 10*id ms, so window w (seconds) holds ids 100w..100w+99.
	type agg struct{ cnt, sum int64 }
	want := map[string]agg{}
	for id := int64(1); id <= rows; id++ {
		key := fmt.Sprintf("%d,%d", id%7, (id*10)/1000)
		a := want[key]
		a.cnt++
		a.sum += 3 * id
		want[key] = a
	}
	var wantLines []string
	for k, a := range want {
		wantLines = append(wantLines, fmt.Sprintf("%s,%d,%d", k, a.cnt, a.sum))
	}
	sort.Strings(wantLines)
	got := committedCSV(t, out)
	if len(got) != len(wantLines) {
		t.Errorf("%d rows committed, want %d", len(got), len(wantLines))
	}
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	for _, l := range wantLines {
		if seen[l] != 1 {
			t.Errorf("row %q committed %d times, want once", l, seen[l])
		}
		delete(seen, l)
	}
	for l, n := range seen {
		t.Errorf("unexpected row %q committed %d times", l, n)
	}
}

// committedCSV returns the lines of the visible (committed) files under
// dir: in-progress files are hidden (their names start with '.').
func committedCSV(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}
