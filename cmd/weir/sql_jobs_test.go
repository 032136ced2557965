package main

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSQLJobStatements runs two INSERTs in the interactive client, then
// SHOW JOBS, DESCRIBE JOB and STOP JOB: the client runs each job until it
// ends, so it lists them FINISHED and refuses to stop them.
func TestSQLJobStatements(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // the client's history file
	cmd := newRootCmd()
	inR, inW := io.Pipe()
	errR, errW := io.Pipe()
	var out bytes.Buffer
	cmd.SetIn(inR)
	cmd.SetOut(&out)
	cmd.SetErr(errW)
	cmd.SetArgs([]string{"sql", "--parallelism", "1"})
	done := make(chan error, 1)
	go func() {
		err := cmd.Execute()
		errW.Close()
		done <- err
	}()
	// stderr, line by line; job ids as the client announces them.
	var stderr strings.Builder
	ids := make(chan string, 2)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		// (after the prompts, also on stderr)
		announce := regexp.MustCompile(`\[INFO\] Running the INSERT job ([0-9a-f]{32}) `)
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := announce.FindStringSubmatch(sc.Text()); m != nil {
				ids <- m[1]
			}
		}
	}()
	write := func(s string) {
		t.Helper()
		if _, err := io.WriteString(inW, s); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().Add(-time.Millisecond)
	write(`CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '50');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;
`)
	id1 := <-ids
	write("SET 'pipeline.name' = 'second';\nINSERT INTO dst SELECT id FROM src;\n")
	id2 := <-ids
	unknown := strings.Repeat("f", 32)
	write("SET 'sql-client.execution.result-mode' = 'tableau';\nSHOW JOBS;\nDESCRIBE JOB '" + id2 + "';\nSTOP JOB '" + id1 + "' WITH SAVEPOINT;\nSTOP JOB '" + unknown + "';\nQUIT;\n")
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	<-scanned
	after := time.Now()

	// SHOW JOBS: both jobs, FINISHED, oldest first, with their names and
	// start times (in the session's time zone, UTC).
	// The tableau cuts cells at 30 characters, ending them with "...".
	line := regexp.MustCompile(`(?m)^\|\s+([0-9a-f.]+) \|\s+(\S+) \|\s+(\S+) \|\s+([0-9-]+ [0-9:.]+) \|$`)
	cut := func(cell, full string) bool {
		return strings.HasPrefix(full, strings.TrimSuffix(cell, "...")) && len(cell) >= 20
	}
	ms := line.FindAllStringSubmatch(out.String(), -1)
	if len(ms) != 3 { // SHOW JOBS's two rows, DESCRIBE JOB's one
		t.Fatalf("stdout has %d job rows, want 3:\n%s", len(ms), out.String())
	}
	want := [][2]string{{id1, "insert-into_default_catalog.default_database.dst"}, {id2, "second"}, {id2, "second"}}
	var starts []time.Time
	for i, m := range ms {
		if !cut(m[1], want[i][0]) || !cut(m[2], want[i][1]) && m[2] != want[i][1] || m[3] != "FINISHED" {
			t.Errorf("row %d: %v, want %v FINISHED", i, m[1:4], want[i])
		}
		st, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[4], time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if st.Before(before.Truncate(time.Millisecond)) || st.After(after) {
			t.Errorf("row %d: start time %s not within the test's run [%s, %s]", i, st, before, after)
		}
		starts = append(starts, st)
	}
	if starts[1].Before(starts[0]) || !starts[1].Equal(starts[2]) {
		t.Errorf("start times %v: the second job started before the first, or DESCRIBE JOB disagrees", starts)
	}
	for _, w := range []string{
		"sql: Could not stop job " + id1 + " with savepoint: job " + id1 + " is not running (FINISHED): 'weir sql' runs each INSERT and query until it ends",
		"sql: Could not stop job " + unknown + ": could not find job (" + unknown + ")",
	} {
		if !strings.Contains(stderr.String(), "[ERROR] Could not execute SQL statement. Reason:\n"+w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
}
