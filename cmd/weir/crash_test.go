package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestRunCrashWithSavepoints is the exactly-once acceptance test of `weir
// run sums` as an operator drives it: the binary runs as a child process
// and is, at random, SIGKILLed (after a new checkpoint, or while it
// starts and restores) or stopped with a savepoint (SIGTERM, or SIGINT);
// after a kill it restarts with --restore latest, after a stop with
// --restore latest or --restore <the savepoint> at random, with the
// parallelism and the state backend changing. The committed output must
// hold every input record exactly once, with the sums of an uninterrupted
// run.
func TestRunCrashWithSavepoints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary many times")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := weirBinary(t)
	in, out, chk, sp := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	if err := sums.Generate(in, 20, 4, 1500); err != nil {
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
	rng := rand.New(rand.NewPCG(seed, 2))
	backends := []string{"heap", "pebble", "heap", "pebble", "pebble"}
	pars := []int{2, 1, 3, 2, 3, 1}
	restore := "latest"
	args := func(run int) []string {
		return []string{"run", "sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "40ms",
			"--savepoint-dir", sp, "--restore", restore, "--rate", "8000", "--retained", "2",
			"--parallelism", strconv.Itoa(pars[run%len(pars)]), "--state-backend", backends[run%len(backends)],
			"--state-dir", filepath.Join(dir, "state"), "-v"}
	}
	stopped := regexp.MustCompile(`weir run: stopped with savepoint (\S+)\n`)
	const wantStops = 16
	kills, stops, fromSavepoint := 0, 0, 0
	ended := false
	for run := 0; kills+stops < wantStops && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		logBefore := fileSize(t, logPath)
		c := crashtest.Start(t, bin, logPath, args(run)...)
		if run%5 == 4 {
			// While the job starts: restoring, committing the restored
			// checkpoint's files, registering a restored savepoint.
			c.Pause(time.Duration(rng.IntN(40)) * time.Millisecond)
		} else {
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(50)) * time.Millisecond)
		}
		sig := syscall.SIGKILL
		// A third of the runs stop with a savepoint, drawn at random; once
		// half the runs were killed without one stopping, every run that
		// completed a checkpoint stops, so the check below does not depend
		// on the draw ((2/3)^13 of seeds drew no stop: 0.5% of runs).
		if rng.IntN(3) == 0 || (stops == 0 && kills >= wantStops/2 && run%5 != 4) {
			sig = syscall.SIGTERM
			if rng.IntN(2) == 0 {
				sig = syscall.SIGINT
			}
		}
		exited, err := c.Signal(sig)
		switch {
		case exited && err != nil:
			t.Fatalf("run %d failed: %v", run, err)
		case exited:
			ended = true
			continue
		case sig == syscall.SIGKILL:
			kills++
			restore = "latest"
			continue
		}
		// Which savepoint this run stopped with: its part of the log.
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		m := stopped.FindSubmatch(b[logBefore:])
		restore = "latest"
		if m == nil && bytes.Contains(b[logBefore:], []byte("weir run: the job finished (its input ended) before the savepoint completed")) {
			// The input ended while the stop was under way: the run
			// ended by itself, cleanly.
			ended = true
			continue
		}
		if m == nil {
			// The signal came before the process handled signals: its
			// default action killed it.
			kills++
			continue
		}
		stops++
		if rng.IntN(2) == 0 {
			restore = string(m[1])
			fromSavepoint++
		}
	}
	t.Logf("%d kills, %d stops with a savepoint (%d restored by path), job ended early: %v", kills, stops, fromSavepoint, ended)
	if kills == 0 || stops == 0 {
		t.Fatalf("want kills and stops with savepoints, got %d and %d: the input is too small for this machine", kills, stops)
	}
	for _, p := range []int{3, 1} {
		c := crashtest.Start(t, bin, logPath, args(p)...)
		restore = "latest"
		exited, err := c.WaitFor(60 * time.Second)
		if !exited || err != nil {
			t.Fatalf("final run at parallelism %d: exited %v, %v", p, exited, err)
		}
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
