package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/crashtest"
)

// The disk-full tests run `weir run sums` as a child process with one of
// its directories (checkpoints, the file sink's output, Pebble's state) on
// a small tmpfs (crashtest.NewSmallDisk), fill that filesystem to its last
// byte while the job runs, and check the exactly-once rule: the job stops
// with an error that names the full disk, or goes on with its checkpoints
// declined as configured; no checkpoint it leaves is taken for complete
// unless it is whole; and once space is freed, a run with --restore latest
// commits every record exactly once.

// diskfullJob is a `weir run sums` set-up for a disk-full test.
type diskfullJob struct {
	bin, in, out, chk, state, logPath string
	disk                              *crashtest.SmallDisk
	extra                             []string
}

// newDiskfullJob generates the input (about 4 s of it at the rate the
// runs read) and lays out the directories; place puts the ones named
// "chk", "out" or "state" on the small disk.
func newDiskfullJob(t *testing.T, name string, size int64, place ...string) *diskfullJob {
	t.Helper()
	dir := t.TempDir()
	j := &diskfullJob{bin: weirBinary(t), in: filepath.Join(dir, "in"), logPath: filepath.Join(dir, "runs.log")}
	j.disk = crashtest.NewSmallDisk(t, name, size)
	paths := map[string]*string{"chk": &j.chk, "out": &j.out, "state": &j.state}
	for n, p := range paths {
		*p = filepath.Join(dir, n)
	}
	for _, n := range place {
		*paths[n] = filepath.Join(j.disk.Dir, n)
	}
	if err := sums.Generate(j.in, 8, 4, 2500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(j.logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	})
	return j
}

// view is path as the test sees it (on the small disk or not).
func (j *diskfullJob) view(path string) string {
	if strings.HasPrefix(path, j.disk.Dir+string(filepath.Separator)) {
		return j.disk.Path(path)
	}
	return path
}

func (j *diskfullJob) start(t *testing.T, extra ...string) *crashtest.Child {
	t.Helper()
	args := []string{"run", "sums", "--input", j.in, "--output", j.out, "--checkpoint-dir", j.chk,
		"--checkpoint-interval", "40ms", "--restore", "latest", "--rate", "5000", "--parallelism", "2",
		"--state-dir", j.state, "-v"}
	return j.disk.Start(t, j.bin, j.logPath, append(append(args, j.extra...), extra...)...)
}

// fillAfterCheckpoint waits for a checkpoint of c to complete, then fills
// the small disk; it returns the log's size before the fill.
func (j *diskfullJob) fillAfterCheckpoint(t *testing.T, c *crashtest.Child) int64 {
	t.Helper()
	c.WaitUntil(t, "a checkpoint", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, j.view(j.chk)) > 0 })
	from := fileSize(t, j.logPath)
	j.disk.Fill(t, "filler")
	return from
}

// failsNamingENOSPC waits for c to fail and checks that its error names
// the full disk.
func (j *diskfullJob) failsNamingENOSPC(t *testing.T, c *crashtest.Child, from int64) {
	t.Helper()
	exited, err := c.WaitFor(20 * time.Second)
	if !exited {
		t.Fatal("the job went on for 20 s on a full disk")
	}
	if err == nil {
		t.Fatal("the job ended without an error on a full disk (did its input end before the disk was full?)")
	}
	log := crashtest.ReadLog(t, j.logPath, from)
	if !strings.Contains(log, "no space left on device") {
		t.Fatalf("the job failed (%v) with an error that does not name the full disk:\n%s", err, log)
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	t.Logf("the job failed: %s", lines[len(lines)-1])
}

// checkpointsWhole checks that the newest completed checkpoint left on
// the disk reads back whole: a checkpoint cut short by the full disk must
// not pass for a complete one.
func (j *diskfullJob) checkpointsWhole(t *testing.T) {
	t.Helper()
	s := &checkpoint.Storage{Dir: j.view(j.chk)}
	if _, err := s.Find(context.Background(), false); err != nil {
		t.Fatalf("after the disk filled, restoring the latest checkpoint would fail: %v", err)
	}
}

// finish frees the disk, runs the job to its end with --restore latest
// and checks the committed output.
func (j *diskfullJob) finish(t *testing.T) {
	t.Helper()
	j.disk.Free(t, "filler")
	c := j.start(t)
	if exited, err := c.WaitFor(60 * time.Second); !exited || err != nil {
		t.Fatalf("run after freeing the disk: exited %v, %v", exited, err)
	}
	if err := sums.Check(j.in, j.view(j.out)); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFullCheckpointDir fills the checkpoint directory's filesystem:
// storing the next checkpoint fails, and with no tolerable checkpoint
// failure (the default) the job fails with an error naming the full disk.
func TestDiskFullCheckpointDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "chk-diskfull", 8<<20, "chk")
	c := j.start(t)
	from := j.fillAfterCheckpoint(t, c)
	j.failsNamingENOSPC(t, c, from)
	j.checkpointsWhole(t)
	j.finish(t)
}

// TestDiskFullCheckpointDirTolerated fills the checkpoint directory's
// filesystem of a job that tolerates failed checkpoints: its checkpoints
// are declined while the disk is full, it goes on, and once space is
// freed its checkpoints complete again and the output is exact.
func TestDiskFullCheckpointDirTolerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "chktol-diskfull", 8<<20, "chk")
	c := j.start(t, "--tolerable-failed-checkpoints", "1000000")
	from := j.fillAfterCheckpoint(t, c)
	c.WaitUntil(t, "three declined checkpoints", 20*time.Second, func() bool {
		return strings.Count(crashtest.ReadLog(t, j.logPath, from), "no space left on device") >= 3
	})
	j.checkpointsWhole(t)
	full := crashtest.LatestCheckpoint(t, j.view(j.chk))
	j.disk.Free(t, "filler")
	c.WaitUntil(t, "a checkpoint after freeing the disk", 20*time.Second, func() bool {
		return crashtest.LatestCheckpoint(t, j.view(j.chk)) > full
	})
	if exited, err := c.WaitFor(60 * time.Second); !exited || err != nil {
		t.Fatalf("the job tolerating failed checkpoints: exited %v, %v", exited, err)
	}
	if err := sums.Check(j.in, j.view(j.out)); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFullSinkDir fills the file sink's output filesystem: writing or
// staging a part file fails, the job fails naming the full disk, no
// part file is committed in part, and the run after freeing space commits
// every record exactly once.
func TestDiskFullSinkDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "out-diskfull", 4<<20, "out")
	c := j.start(t)
	from := j.fillAfterCheckpoint(t, c)
	j.failsNamingENOSPC(t, c, from)
	j.checkpointsWhole(t)
	j.finish(t)
}

// TestDiskFullSinkDirTolerated is TestDiskFullSinkDir with failed
// checkpoints tolerated: a sink that cannot stage its output fails its
// task all the same (as in Flink, a failure in the synchronous part of a
// checkpoint is no tolerable checkpoint failure), for the records it could
// not stage are in no checkpoint. The disk is freed as soon as the first
// write failed: a job that went on would complete its next checkpoints
// without those records.
func TestDiskFullSinkDirTolerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "outtol-diskfull", 4<<20, "out")
	j.extra = []string{"--tolerable-failed-checkpoints", "1000000"}
	c := j.start(t)
	from := j.fillAfterCheckpoint(t, c)
	c.WaitUntil(t, "a write failing", 20*time.Second, func() bool {
		return strings.Contains(crashtest.ReadLog(t, j.logPath, from), "no space left on device")
	})
	j.disk.Free(t, "filler")
	exited, err := c.WaitFor(60 * time.Second)
	switch {
	case !exited:
		t.Fatal("the job neither failed nor ended within 60 s")
	case err == nil:
		if err := sums.Check(j.in, j.view(j.out)); err != nil {
			t.Fatalf("the job went on after its sink failed on the full disk, and its output is wrong: %v", err)
		}
		t.Fatal("the job went on after its sink failed on the full disk")
	}
	j.checkpointsWhole(t)
	j.disk.Fill(t, "filler") // for finish, which frees it
	j.finish(t)
}

// TestDiskFullStateDir fills the Pebble state backend's working
// directory: the job fails naming the full disk, and the run after
// freeing space restores the latest checkpoint and ends exactly once.
func TestDiskFullStateDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "state-diskfull", 16<<20, "state")
	j.extra = []string{"--state-backend", "pebble"}
	c := j.start(t)
	from := j.fillAfterCheckpoint(t, c)
	j.failsNamingENOSPC(t, c, from)
	j.checkpointsWhole(t)
	j.finish(t)
}
