package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
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
	checkIDs(t, out, 500)
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
	checkIDs(t, out, 500)
}

// checkIDs checks that the committed part files under dir hold 1..n, each
// once.
func checkIDs(t *testing.T, dir string, n int) {
	t.Helper()
	var got []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Fields(string(b)) {
			v, err := strconv.Atoi(l)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(got)
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("row %d is %d, want %d (each of 1..%d once)", i, v, i+1, n)
		}
	}
}
