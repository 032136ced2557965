package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestSQLFileExecutionKeys runs a job file that takes its checkpointing
// from Flink's keys (execution.checkpointing.dir as a file URI,
// state.checkpoints.num-retained), then a second file that starts from the
// first job's last retained checkpoint by execution.savepoint.path: its
// source resumes after the end, so the table still holds every row once
// (run without the restore, it would hold them twice).
func TestSQLFileExecutionKeys(t *testing.T) {
	dir := t.TempDir()
	chk, chk2, out := filepath.Join(dir, "chk"), filepath.Join(dir, "chk2"), filepath.Join(dir, "out")
	tables := `
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '500');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'filesystem', 'path' = 'file://` + out + `', 'format' = 'csv');
INSERT INTO dst SELECT id FROM src;
`
	first := `SET 'execution.checkpointing.interval' = '10 ms';
SET 'execution.checkpointing.dir' = 'file://` + chk + `';
SET 'state.checkpoints.num-retained' = '2';
` + tables
	job := filepath.Join(dir, "first.sql")
	if err := os.WriteFile(job, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runSQL(t, "", "-f", job, "--parallelism", "1"); err != nil {
		t.Fatalf("first job: %v\n%s", err, stderr)
	}
	if got := crashtest.CommittedInts(t, out); len(got) != 500 {
		t.Fatalf("%d rows, want 500", len(got))
	} else {
		crashtest.CheckSequence(t, got)
	}
	var ids []int
	ents, err := os.ReadDir(chk)
	if err != nil {
		t.Fatalf("the checkpoint directory: %v", err)
	}
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "chk-"); ok {
			if id, err := strconv.Atoi(n); err == nil {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 || len(ids) > 2 {
		t.Fatalf("retained checkpoints %v, want 1 or 2 (num-retained 2)", ids)
	}
	last := filepath.Join(chk, "chk-"+strconv.Itoa(slices.Max(ids)))
	second := `SET 'execution.checkpointing.interval' = '10 ms';
SET 'execution.checkpointing.dir' = '` + chk2 + `';
SET 'execution.savepoint.path' = 'file://` + last + `';
` + tables
	job = filepath.Join(dir, "second.sql")
	if err := os.WriteFile(job, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runSQL(t, "", "-f", job, "--parallelism", "1"); err != nil {
		t.Fatalf("second job: %v\n%s", err, stderr)
	}
	if got := crashtest.CommittedInts(t, out); len(got) != 500 {
		t.Fatalf("%d rows, want 500", len(got))
	} else {
		crashtest.CheckSequence(t, got)
	}
}
