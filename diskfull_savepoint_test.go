package weir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestSavepointDirFull takes savepoints into a directory on a small disk
// that fills while they are written. As in Flink: each fails with an error
// naming the full disk, leaves no savepoint that passes for complete, and
// is no failure of the job, which goes on (with no failed checkpoint
// tolerated) and commits more; a stop-with-savepoint that fails does not
// stop it. Once space is freed, the stop-with-savepoint succeeds, and the
// job restored from that savepoint commits every record exactly once.
func TestSavepointDirFull(t *testing.T) {
	const n = 20000
	disk := crashtest.NewSmallDisk(t, "savepoint-diskfull", 1<<20)
	spDir := disk.Path(filepath.Join(disk.Dir, "savepoints"))
	c := newCommitted[sumOut]()
	// The source waits before its last record until the test is done with
	// the first run: it cannot end before the stop.
	var release atomic.Bool
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: t.TempDir()},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5, holdAt: n - 1, gate: release.Load}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	sums := weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(src, func(v int) int { return v % 7 }), &runningSum{}).UID("sums")
	sums.SinkTo(txSink[sumOut]{c}).UID("sink")
	ctx := context.Background()
	job, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer job.Cancel()
	waitCommitted(t, job, c, 0)

	// A few KiB left: the savepoint's first files fit, the next do not.
	disk.Fill(t, "filler")
	filler := disk.Path(filepath.Join(disk.Dir, "filler"))
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-8<<10); err != nil {
		t.Fatal(err)
	}
	if _, err := job.TriggerSavepoint(ctx, spDir); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("TriggerSavepoint on a full disk = %v, want an error naming the full disk", err)
	} else {
		t.Logf("savepoint: %v", err)
	}
	noSavepointLeft(t, spDir)
	before := c.count()
	if _, err := job.StopWithSavepoint(ctx, spDir); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("StopWithSavepoint on a full disk = %v, want an error naming the full disk", err)
	}
	noSavepointLeft(t, spDir)
	// The job goes on: checkpoints complete and its sink commits.
	waitCommitted(t, job, c, before)

	disk.Free(t, "filler")
	path, err := job.StopWithSavepoint(ctx, spDir)
	if err != nil {
		t.Fatalf("StopWithSavepoint once space is freed: %v", err)
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("the job stopped with a savepoint: %v", err)
	}
	if _, err := os.Stat(filepath.Join(path, "_metadata")); err != nil {
		t.Fatalf("the savepoint: %v", err)
	}
	if got := c.count(); got >= n {
		t.Fatalf("%d of %d records committed before the restore: nothing left to restore", got, n)
	}
	release.Store(true)
	restored, err := savepointJobOn(weir.StateHeap, 3, t.TempDir(), path, n, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.Wait(); err != nil {
		t.Fatalf("the job restored from the savepoint: %v", err)
	}
	checkSums(t, c, n)
}

// waitCommitted waits until the job's sink committed more than have
// records; the job must not end first.
func waitCommitted(t *testing.T, job *weir.JobClient, c *committed[sumOut], have int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for c.count() <= have {
		select {
		case <-job.Done():
			t.Fatalf("the job ended (%v) with %d records committed, waiting for more than %d", job.Wait(), c.count(), have)
		case <-deadline:
			t.Fatalf("no more than %d records committed in 20 s", have)
		case <-tick.C:
		}
	}
}

// noSavepointLeft checks that a failed savepoint left nothing in dir: no
// directory that could pass for a savepoint, nor the space it took.
func noSavepointLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		_, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata"))
		t.Errorf("a failed savepoint left %s (with _metadata: %v)", e.Name(), err == nil)
	}
}
