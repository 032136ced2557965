package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestDiskFullSavepointDir runs `weir run sums` with --savepoint-dir on a
// small disk that fills while its savepoints are written (a few KiB are
// left: the first files fit). A savepoint taken on SIGUSR1 fails naming
// the full disk and the job goes on; the stop asked with SIGTERM fails the
// same way, and `weir run` then cancels the job with an error that says
// so and how to resume. No failed savepoint leaves anything behind. Once
// space is freed, the run resumed with --restore latest stops with a
// savepoint, and the run restored from it commits every record exactly
// once.
func TestDiskFullSavepointDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "sp-diskfull", 1<<20)
	sp := filepath.Join(j.disk.Dir, "sp")
	j.extra = []string{"--savepoint-dir", sp, "--rate", "2500"}
	c := j.start(t)
	c.WaitUntil(t, "a checkpoint", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, j.chk) > 0 })
	j.disk.FillLeaving(t, "filler", 8<<10)

	from := fileSize(t, j.logPath)
	c.Send(t, syscall.SIGUSR1)
	c.WaitUntil(t, "the savepoint's failure", 20*time.Second, func() bool {
		return strings.Contains(crashtest.ReadLog(t, j.logPath, from), "weir run: savepoint failed")
	})
	log := crashtest.ReadLog(t, j.logPath, from)
	if !strings.Contains(log, "weir run: savepoint failed") || !strings.Contains(log, "no space left on device") {
		t.Fatalf("the savepoint on a full disk did not fail naming it:\n%s", log)
	}
	j.noSavepointLeft(t, sp)
	// The job goes on: it checkpoints again.
	last := crashtest.LatestCheckpoint(t, j.chk)
	c.WaitUntil(t, "a checkpoint after the failed savepoint", 20*time.Second, func() bool {
		return crashtest.LatestCheckpoint(t, j.chk) > last
	})

	from = fileSize(t, j.logPath)
	c.Send(t, syscall.SIGTERM)
	exited, err := c.WaitFor(30 * time.Second)
	if !exited {
		t.Fatal("the stop with a savepoint into a full disk did not end the run within 30 s")
	}
	log = crashtest.ReadLog(t, j.logPath, from)
	if err == nil {
		t.Fatalf("the stop with a savepoint into a full disk ended the run without an error:\n%s", log)
	}
	for _, want := range []string{"stop with savepoint", "no space left on device", "--restore latest"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the failed stop's message lacks %q:\n%s", want, log)
		}
	}
	j.noSavepointLeft(t, sp)
	j.checkpointsWhole(t)

	// Space again: resume, stop with a savepoint, restore from it.
	j.disk.Free(t, "filler")
	c = j.start(t)
	from = fileSize(t, j.logPath)
	c.WaitUntil(t, "a checkpoint of the resumed run", 20*time.Second, func() bool {
		return strings.Contains(crashtest.ReadLog(t, j.logPath, from), "checkpoint complete")
	})
	c.Send(t, syscall.SIGTERM)
	if exited, err := c.WaitFor(30 * time.Second); !exited || err != nil {
		t.Fatalf("stop with a savepoint once space is freed: exited %v, %v", exited, err)
	}
	m := regexp.MustCompile(`weir run: stopped with savepoint (\S+)\n`).FindStringSubmatch(crashtest.ReadLog(t, j.logPath, from))
	if m == nil {
		t.Fatal("the resumed run stopped without a savepoint (did its input end first?)")
	}
	if _, err := os.Stat(filepath.Join(j.disk.Path(m[1]), "_metadata")); err != nil {
		t.Fatalf("the savepoint: %v", err)
	}
	c = j.disk.Start(t, j.bin, j.logPath, "run", "sums", "--input", j.in, "--output", j.out, "--checkpoint-dir", j.chk,
		"--checkpoint-interval", "40ms", "--restore", m[1], "--parallelism", "3", "-v")
	if exited, err := c.WaitFor(60 * time.Second); !exited || err != nil {
		t.Fatalf("the run restored from the savepoint: exited %v, %v", exited, err)
	}
	if err := sums.Check(j.in, j.out); err != nil {
		t.Fatal(err)
	}
}

// noSavepointLeft checks that the failed savepoints left nothing in dir:
// no directory that could pass for a savepoint, nor the space it took.
func (j *diskfullJob) noSavepointLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(j.disk.Path(dir))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		_, err := os.Stat(filepath.Join(j.disk.Path(dir), e.Name(), "_metadata"))
		t.Errorf("a failed savepoint left %s (with _metadata: %v)", e.Name(), err == nil)
	}
}

// TestDiskFullDrainSavepointDir runs `weir run sums --drain` with
// --savepoint-dir on a small disk that fills while the stop's savepoint
// is written. The sources have emitted the final watermark when the
// savepoint fails: the job fails over (as Flink's after a failed stop
// --drain), and the run exits with an error naming the failed drain, the
// full disk and how to resume, never with status 0. No savepoint is left,
// the checkpoints are whole, and once space is freed the run resumed with
// --restore latest commits every record exactly once: nothing the failed
// drain staged was committed.
func TestDiskFullDrainSavepointDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "drain-diskfull", 1<<20)
	sp := filepath.Join(j.disk.Dir, "sp")
	j.extra = []string{"--savepoint-dir", sp, "--drain", "--rate", "2500"}
	c := j.start(t)
	c.WaitUntil(t, "a checkpoint", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, j.chk) > 0 })
	j.disk.FillLeaving(t, "filler", 8<<10)

	from := fileSize(t, j.logPath)
	c.Send(t, syscall.SIGTERM)
	exited, err := c.WaitFor(30 * time.Second)
	if !exited {
		t.Fatal("the stop with drain into a full disk did not end the run within 30 s")
	}
	log := crashtest.ReadLog(t, j.logPath, from)
	if err == nil {
		t.Fatalf("the stop with drain into a full disk ended the run without an error:\n%s", log)
	}
	if strings.Contains(log, "stopped with savepoint") {
		t.Fatalf("the run claims a savepoint:\n%s", log)
	}
	for _, want := range []string{"drain", "no space left on device", "--restore latest"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the failed drain's message lacks %q:\n%s", want, log)
		}
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	t.Logf("the run ended: %s", lines[len(lines)-1])
	j.noSavepointLeft(t, sp)
	j.checkpointsWhole(t)
	j.finish(t)
}
