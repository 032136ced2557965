package file_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/weirtest"
)

// visibleRows lists "bucket: value" for every record of the non-hidden
// files under dir, sorted, and the hidden entries directly under dir.
func visibleRows(t *testing.T, dir string) (rows, hidden []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			if filepath.Dir(p) == dir {
				hidden = append(hidden, d.Name())
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(p))
		for _, v := range strings.Fields(string(b)) {
			rows = append(rows, filepath.ToSlash(rel)+": "+v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rows)
	return rows, hidden
}

func newOverwriteJob(t *testing.T, h *weirtest.Harness, dir string) *weirtest.Input[prec] {
	t.Helper()
	in := weirtest.NewInput[prec](h)
	sink := file.PartitionedBulkSink[prec](dir, precBulk{}, precBucket, file.ExactlyOnceOptions{})
	w, c, err := sink.Overwrite(in.Stream().Rebalance(), file.OverwriteOptions{Token: "job1", Partitioned: true})
	if err != nil {
		t.Fatal(err)
	}
	w.UID("writer").SetParallelism(2)
	c.UID("committer").SinkTo(weir.SinkFunc[struct{}](func(context.Context, struct{}, int64) error { return nil }))
	h.Start(t)
	return in
}

// TestOverwriteRestore: a checkpointed overwrite job fails after a
// checkpoint committed data into its staging directory; the table keeps
// its old data. Restored from that checkpoint, the job ends and the
// table holds the restored and the new rows in the partitions written,
// the lost rows nowhere, the untouched partition as it was.
func TestOverwriteRestore(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"h=1/part-0-0.txt", "h=5/part-0-0.txt"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("old"+filepath.Dir(f)[2:]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldRows, _ := visibleRows(t, dir)

	h := weirtest.New(checkpointedOpts(t))
	in := newOverwriteJob(t, h, dir)
	for _, r := range []prec{{1, "a"}, {2, "b"}} {
		must(t, in.Push(r, 0))
	}
	s1, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	must(t, in.Push(prec{1, "x"}, 0)) // never checkpointed: lost
	if rows, hidden := visibleRows(t, dir); !slices.Equal(rows, oldRows) || !slices.Equal(hidden, []string{".overwrite-job1"}) {
		t.Fatalf("before the end the table changed: %v (hidden %v)", rows, hidden)
	}
	if staged, _ := visibleRows(t, filepath.Join(dir, ".overwrite-job1")); len(staged) != 2 {
		t.Fatalf("the checkpoint committed %v into the staging directory, want a and b: the test does not fail where it should", staged)
	}

	h2 := weirtest.Restore(checkpointedOpts(t), s1)
	in2 := newOverwriteJob(t, h2, dir)
	must(t, in2.Push(prec{3, "d"}, 0))
	must(t, in2.End())
	rows, hidden := visibleRows(t, dir)
	want := []string{"h=1: a", "h=2: b", "h=3: d", "h=5: old5"}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
	if len(hidden) > 0 {
		t.Fatalf("hidden entries left: %v", hidden)
	}
}

// TestOverwriteFreshStartDropsFailedAttempt: without checkpoints a writer
// commits its part files into the staging directory at its end of input,
// and a job restarted after a failure runs from the start with the same
// token. The part files a failed attempt committed there (of subtasks 0
// and 1, and of a subtask beyond today's parallelism) must not reach the
// table beside the new attempt's: the table holds the new rows once.
func TestOverwriteFreshStartDropsFailedAttempt(t *testing.T) {
	dir := t.TempDir()
	for f, v := range map[string]string{
		"h=5/part-0-0.txt":                        "old5\n",
		".overwrite-job1/h=1/part-0-0.txt":        "stale1\n",
		".overwrite-job1/h=2/part-1-4.txt":        "stale2\n",
		".overwrite-job1/h=2/part-3-0.txt":        "stale3\n",
		".overwrite-job1/h=1/.part-1-9.txt.x.tmp": "hidden\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := weirtest.New(weir.Options{})
	in := newOverwriteJob(t, h, dir)
	for _, r := range []prec{{1, "a"}, {2, "b"}, {2, "c"}} {
		must(t, in.Push(r, 0))
	}
	must(t, in.End())
	rows, hidden := visibleRows(t, dir)
	want := []string{"h=1: a", "h=2: b", "h=2: c", "h=5: old5"}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
	if len(hidden) > 0 {
		t.Fatalf("hidden entries left: %v", hidden)
	}
}
