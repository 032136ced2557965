package file_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/weirtest"
)

// startOverwriteJob is newOverwriteJob with a token of the caller's, and
// the harness's start error returned rather than failing the test.
func startOverwriteJob(t *testing.T, h *weirtest.Harness, dir, token string) (*weirtest.Input[prec], error) {
	t.Helper()
	in := weirtest.NewInput[prec](h)
	sink := file.PartitionedBulkSink[prec](dir, precBulk{}, precBucket, file.ExactlyOnceOptions{})
	w, c, err := sink.Overwrite(in.Stream().Rebalance(), file.OverwriteOptions{Token: token, Partitioned: true})
	if err != nil {
		t.Fatal(err)
	}
	w.UID("writer").SetParallelism(2)
	c.UID("committer").SinkTo(weir.SinkFunc[struct{}](func(context.Context, struct{}, int64) error { return nil }))
	return in, h.StartErr()
}

// TestOverwriteRestoreOtherToken: a checkpointed overwrite job is
// restored from its checkpoint by a job built again, whose staging token
// differs (the SQL connector drew a new one at every build: a server
// resuming the job after a crash). The data the checkpoint committed is in
// the first staging directory, which the new job cannot use: the restore
// must fail, naming the staging directory, rather than end "successfully"
// with the table unchanged and the new rows dropped.
func TestOverwriteRestoreOtherToken(t *testing.T) {
	dir := t.TempDir()
	writeOld := func() {
		if err := os.MkdirAll(filepath.Join(dir, "h=1"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "h=1", "part-0-0.txt"), []byte("old1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeOld()
	h := weirtest.New(checkpointedOpts(t))
	in, err := startOverwriteJob(t, h, dir, "jobA")
	must(t, err)
	must(t, in.Push(prec{1, "a"}, 0))
	s1, err := h.Snapshot()
	must(t, err)

	h2 := weirtest.Restore(checkpointedOpts(t), s1)
	in2, err := startOverwriteJob(t, h2, dir, "jobB")
	if err == nil {
		err = in2.Push(prec{2, "b"}, 0)
	}
	if err == nil {
		err = in2.End()
	}
	rows, _ := visibleRows(t, dir)
	if err == nil {
		// Without an error the overwrite must have happened in full.
		want := []string{"h=1: a", "h=2: b"}
		if !slices.Equal(rows, want) {
			t.Fatalf("the restored job ended without error, rows %v, want %v", rows, want)
		}
		return
	}
	if !strings.Contains(err.Error(), ".overwrite-jobA") {
		t.Fatalf("error %v does not name the staging directory .overwrite-jobA", err)
	}
	if want := []string{"h=1: old1"}; !slices.Equal(rows, want) {
		t.Fatalf("after the failed restore rows %v, want the old %v", rows, want)
	}
}

// TestOverwriteRestoreOtherTokenAfterCommit: restored (with another token)
// from the final checkpoint of a job whose overwrite completed, the job
// must not replace the data again nor fail.
func TestOverwriteRestoreOtherTokenAfterCommit(t *testing.T) {
	dir := t.TempDir()
	h := weirtest.New(checkpointedOpts(t))
	in, err := startOverwriteJob(t, h, dir, "jobA")
	must(t, err)
	must(t, in.Push(prec{1, "a"}, 0))
	s1, err := h.Snapshot()
	must(t, err)
	// Keep a copy of the checkpoint: the job discards it when it ends.
	keep := filepath.Join(t.TempDir(), "chk")
	must(t, os.CopyFS(keep, os.DirFS(s1.Path)))
	s1.Path = keep
	must(t, in.End())
	want, _ := visibleRows(t, dir)
	if !slices.Equal(want, []string{"h=1: a"}) {
		t.Fatalf("first job wrote %v", want)
	}
	// The first job's overwrite is done; a restore of its last checkpoint
	// (as after a crash right after the commit) with another token.
	h2 := weirtest.Restore(checkpointedOpts(t), s1)
	in2, err := startOverwriteJob(t, h2, dir, "jobB")
	must(t, err)
	must(t, in2.End())
	rows, hidden := visibleRows(t, dir)
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
	if len(hidden) > 0 {
		t.Fatalf("hidden entries left: %v", hidden)
	}
}
