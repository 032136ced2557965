package weir_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestStepperSavepointDirFull takes a stepped job's savepoints into a
// directory on a small disk that fills while they are written. As with a
// running job (TestSavepointDirFull) and in Flink, a failed savepoint, or
// a failed stop-with-savepoint without drain, is an error for its caller,
// not a failure of the job: the Stepper stays open, the job goes on,
// checkpoints and commits. Once space is freed, a stop-with-savepoint
// succeeds, and the job restored from it commits every record exactly
// once.
func TestStepperSavepointDirFull(t *testing.T) {
	const n = 4000
	disk := crashtest.NewSmallDisk(t, "stepper-diskfull", 1<<20)
	spDir := disk.Path(filepath.Join(disk.Dir, "savepoints"))
	c := newCommitted[sumOut]()
	st := savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", n, c)
	stepUntil(t, st, func() bool { return len(c.all()) > 0 })

	disk.FillLeaving(t, "filler", 8<<10)
	for _, stop := range []bool{false, true} {
		take := st.TriggerSavepoint
		if stop {
			take = st.StopWithSavepoint
		}
		if _, err := take(spDir); err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("savepoint (stop %v) into a full disk = %v, want an error naming the full disk", stop, err)
		}
		noSavepointLeft(t, spDir)
		// The job goes on.
		have := len(c.all())
		stepUntil(t, st, func() bool { return len(c.all()) > have })
	}

	disk.Free(t, "filler")
	path, err := st.StopWithSavepoint(spDir)
	if err != nil {
		t.Fatalf("StopWithSavepoint once space is freed: %v", err)
	}
	if _, _, err := st.Checkpoint(); !errors.Is(err, weir.ErrStepperClosed) {
		t.Fatalf("Checkpoint after the stop = %v, want ErrStepperClosed", err)
	}
	if got := len(c.all()); got >= n {
		t.Fatalf("%d of %d records committed before the restore: nothing left to restore", got, n)
	}
	st = savepointStepper(t, weir.StatePebble, 3, t.TempDir(), path, n, c)
	runToEnd(t, st)
	checkSums(t, c, n)
}

// TestStepperDrainSavepointDirFull stops a stepped job with drain into a
// full savepoint directory: the sources ended their event time, so, as
// for a running job without restarts, the job fails with an error naming
// the drain and the full disk, and the Stepper is closed.
func TestStepperDrainSavepointDirFull(t *testing.T) {
	disk := crashtest.NewSmallDisk(t, "stepper-drain-diskfull", 1<<20)
	spDir := disk.Path(filepath.Join(disk.Dir, "savepoints"))
	c := newCommitted[sumOut]()
	st := savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", 4000, c)
	stepUntil(t, st, func() bool { return len(c.all()) > 0 })
	disk.FillLeaving(t, "filler", 8<<10)
	_, err := st.StopWithDrain(spDir)
	if err == nil || !strings.Contains(err.Error(), "drain") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("StopWithDrain into a full disk = %v, want an error naming the failed drain and the full disk", err)
	}
	noSavepointLeft(t, spDir)
	if err := st.Run(); !errors.Is(err, weir.ErrStepperClosed) {
		t.Fatalf("Run after the failed drain = %v, want ErrStepperClosed (the job failed)", err)
	}
}

// TestStepperTolerableCheckpointDiskFull: a stepped job whose checkpoint
// directory is full declines its checkpoints; within TolerableFailures
// the failed checkpoint is an error for the caller only (the stepper
// stays open and the job runs on, as Execute's would), beyond them the
// job fails and the stepper closes. Once space is freed, checkpoints
// complete again and the job ends with every record exactly once.
func TestStepperTolerableCheckpointDiskFull(t *testing.T) {
	const n = 3000
	disk := crashtest.NewSmallDisk(t, "stepper-chk-diskfull", 1<<20)
	c := newCommitted[sumOut]()
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: disk.Path(filepath.Join(disk.Dir, "chk")), TolerableFailures: 1},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(src, func(v int) int { return v % 7 }), &runningSum{}).UID("sums").
		SinkTo(txSink[sumOut]{c}).UID("sink")
	st, err := env.Stepwise(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stepUntil(t, st, func() bool { return len(c.all()) > 0 })
	disk.Fill(t, "filler")
	if _, _, err := st.Checkpoint(); err == nil {
		t.Fatal("a checkpoint into a full disk completed")
	}
	// Tolerated: the job goes on.
	if err := st.SetProcessingTime(st.ProcessingTime() + 5); err != nil {
		t.Fatalf("the job after a tolerated checkpoint failure: %v", err)
	}
	disk.Free(t, "filler")
	runToEnd(t, st)
	checkSums(t, c, n)
}
