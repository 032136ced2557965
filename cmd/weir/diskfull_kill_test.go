package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestDiskFullKillDuringSavepoint kills `weir run sums` with SIGKILL
// while a savepoint (SIGUSR1) or a stop-with-savepoint (SIGTERM) is being
// written to a nearly full disk: once the savepoint's directory appears,
// or at a random instant within 30 ms of the signal. The disk is left
// with 8 KiB to 512 KiB free, so that the savepoint fails at its first,
// its middle or its last files, or completes. Every run resumes with
// --restore latest, which must find a whole checkpoint, or the savepoint
// of a stop that completed, never a savepoint cut short (a killed process
// cleans nothing: a directory it left without _metadata must be refused by
// a restore). Once space is freed, the last
// run reads to the end, and the committed output holds every record
// exactly once.
func TestDiskFullKillDuringSavepoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the weir binary on a full filesystem")
	}
	t.Parallel()
	j := newDiskfullJob(t, "kill-diskfull", 4<<20)
	sp := filepath.Join(j.disk.Dir, "sp")
	j.extra = []string{"--savepoint-dir", sp, "--rate", "2500"}
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	keep := []int64{8 << 10, 32 << 10, 128 << 10, 512 << 10}
	var partial []string
	for run := range 8 {
		c := j.start(t)
		from := fileSize(t, j.logPath)
		c.WaitUntil(t, "a checkpoint of the run", 20*time.Second, func() bool {
			return strings.Contains(crashtest.ReadLog(t, j.logPath, from), "checkpoint complete")
		})
		// The run restored the latest checkpoint (or the savepoint a stop
		// left, which only the child's mount namespace shows) and
		// checkpointed: nothing the kills left passed for complete.
		if log := crashtest.ReadLog(t, j.logPath, from); !strings.Contains(log, "checkpoint complete") {
			t.Fatalf("run %d ended before a checkpoint (its restore failed?):\n%s", run, log)
		}
		j.disk.FillLeaving(t, "filler", keep[run%len(keep)])
		sig := syscall.SIGUSR1
		if run%2 == 1 {
			sig = syscall.SIGTERM
		}
		before := savepointDirs(t, j.disk.Path(sp))
		c.Send(t, sig)
		limit := time.After(time.Duration(rng.IntN(30)) * time.Millisecond)
		c.WaitUntil(t, "the savepoint's directory", 10*time.Second, func() bool {
			select {
			case <-limit:
				return true
			default:
			}
			return len(savepointDirs(t, j.disk.Path(sp))) > len(before)
		})
		if exited, err := c.Kill(); exited {
			t.Logf("run %d ended before the kill: %v", run, err)
		}
		j.disk.Free(t, "filler")
	}
	for _, d := range savepointDirs(t, j.disk.Path(sp)) {
		if _, err := os.Stat(filepath.Join(j.disk.Path(sp), d, "_metadata")); os.IsNotExist(err) {
			partial = append(partial, filepath.Join(sp, d))
		}
	}
	t.Logf("%d of the killed savepoints left a directory without _metadata", len(partial))
	if len(partial) > 0 {
		// A restore refuses a savepoint cut short.
		from := fileSize(t, j.logPath)
		c := j.disk.Start(t, j.bin, j.logPath, "run", "sums", "--input", j.in, "--output", j.out, "--checkpoint-dir", j.chk,
			"--checkpoint-interval", "40ms", "--restore", partial[0])
		exited, err := c.WaitFor(30 * time.Second)
		if !exited || err == nil {
			t.Fatalf("restoring the partial savepoint %s: exited %v, %v; want a refusal", partial[0], exited, err)
		}
		if log := crashtest.ReadLog(t, j.logPath, from); !strings.Contains(log, "_metadata") {
			t.Fatalf("the refused restore does not say why:\n%s", log)
		}
	}
	// finish frees the filler: an empty one.
	if err := os.WriteFile(j.disk.Path(filepath.Join(j.disk.Dir, "filler")), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The last run reads the rest of the input at full speed: its rate
	// covers nothing the kills did not, and at 2,500 lines/s it was most
	// of the test's time.
	j.extra = j.extra[:2]
	j.finish(t)
}

// savepointDirs lists the savepoint directories in dir.
func savepointDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "savepoint-") {
			out = append(out, e.Name())
		}
	}
	return out
}
