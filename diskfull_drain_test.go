package weir_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/window"
)

// drainDiskEnv is drainEnv's job (numbers with their value as event time,
// counted per v%3 in 10 ms tumbling windows into a two-phase-commit sink)
// with a restart strategy; top holds the largest number the source
// emitted, whichever run emitted it.
func drainDiskEnv(dir string, n int, c *committed[winStat], top *atomic.Int64, restart weir.RestartStrategy) *weir.Environment {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: dir},
		Restart:     restart,
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5},
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) }), "counter").SetParallelism(1).UID("counter")
	counted := weir.Map(src, func(v int) int {
		for {
			old := top.Load()
			if int64(v) <= old || top.CompareAndSwap(old, int64(v)) {
				return v
			}
		}
	}).SetParallelism(1).UID("seen")
	wins := weir.WindowAggregate(weir.Window(weir.KeyBy(counted, func(v int) int { return v % 3 }),
		window.TumblingEventTime[int](10*time.Millisecond)), winStatAgg{}).UID("windows")
	wins.SinkTo(txSink[winStat]{c}).UID("sink")
	return env
}

// checkWindowsOnce requires the committed windows to hold 0..top, each
// number once: a window committed twice (by a drain that failed, then
// again by the run that took over) counts its numbers twice.
func checkWindowsOnce(t *testing.T, c *committed[winStat], top int) {
	t.Helper()
	var count, sum int
	high := -1
	for _, w := range c.all() {
		count += w.Count
		sum += w.Sum
		high = max(high, w.Max)
	}
	if count != top+1 || sum != top*(top+1)/2 || high != top {
		t.Fatalf("committed windows hold %d numbers (sum %d, largest %d); the source emitted 0..%d (%d numbers, sum %d): a window was committed twice or lost",
			count, sum, high, top, top+1, top*(top+1)/2)
	}
}

// fillSavepointDisk fills the small disk but for a few KiB: a savepoint's
// first files fit, the next do not.
func fillSavepointDisk(t *testing.T, disk *crashtest.SmallDisk) {
	t.Helper()
	disk.FillLeaving(t, "filler", 8<<10)
}

// TestStopWithDrainSavepointDirFull stops a running job with drain into a
// savepoint directory on a full disk. The sources have emitted the final
// watermark and every open window fired into the savepoint's transaction
// when the savepoint fails: the stop fails naming the full disk, the
// partial savepoint is removed, and, as Flink does after a failed stop
// --drain, the job fails over to its latest checkpoint. Without a restart
// strategy it ends with an error that says so (never as finished); with
// one it restarts, reads again what the failed run read after its latest
// checkpoint and commits those windows, and once space is freed a stop
// with drain succeeds. The windows the failed drain fired are never
// committed: the sink holds every number the source emitted exactly once.
func TestStopWithDrainSavepointDirFull(t *testing.T) {
	const n = 1 << 30 // never reached
	for _, restart := range []bool{false, true} {
		t.Run(map[bool]string{false: "no-restart", true: "restart"}[restart], func(t *testing.T) {
			disk := crashtest.NewSmallDisk(t, "drain-diskfull", 1<<20)
			spDir := disk.Path(filepath.Join(disk.Dir, "savepoints"))
			c := newCommitted[winStat]()
			var top atomic.Int64
			top.Store(-1)
			var strategy weir.RestartStrategy = weir.NoRestart{}
			if restart {
				strategy = &weir.FixedDelayRestart{Attempts: 1}
			}
			job, err := drainDiskEnv(t.TempDir(), n, c, &top, strategy).Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer job.Cancel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			waitWindows(t, job, c, 0)

			fillSavepointDisk(t, disk)
			_, err = job.StopWithDrain(ctx, spDir)
			if err == nil || !strings.Contains(err.Error(), "no space left on device") {
				t.Fatalf("StopWithDrain into a full disk = %v, want an error naming the full disk", err)
			}
			t.Logf("stop with drain: %v", err)
			noSavepointLeft(t, spDir)
			if !restart {
				<-job.Done()
				err := job.Wait()
				if err == nil || !strings.Contains(err.Error(), "drain") || !strings.Contains(err.Error(), "no space left on device") {
					t.Fatalf("the job whose drain failed ended with %v; want an error naming the failed drain and the full disk", err)
				}
				if s := job.Status(); s.State != weir.JobFailed {
					t.Fatalf("state %s after a failed drain without restarts, want FAILED", s.State)
				}
				// Whatever the failed drain fired is in no checkpoint: the
				// output committed so far is that of the last checkpoint,
				// exactly once, and a window left open then is not in it.
				checkNoDuplicates(t, c)
				return
			}
			// The job restarts from its latest checkpoint and goes on. The
			// failed run read past that checkpoint, up to the numbers whose
			// windows the failed drain fired: the resumed run reads them
			// again and commits their windows. Wait for that before the
			// final stop, else it drains a run that has not yet read
			// every number top counts.
			waitAttempt(t, job, 2)
			failed := int(top.Load()) // the failed run has ended: no run read more
			waitCommittedPast(t, job, c, failed)
			if s := job.Status(); s.State != weir.JobRunning || s.Attempts != 2 {
				t.Fatalf("after a failed drain with a restart strategy: %s, attempt %d; want RUNNING, attempt 2", s.State, s.Attempts)
			}
			disk.Free(t, "filler")
			path, err := job.StopWithDrain(ctx, spDir)
			if err != nil || path == "" {
				t.Fatalf("StopWithDrain once space is freed = %q, %v", path, err)
			}
			if err := job.Wait(); err != nil {
				t.Fatalf("Wait = %v", err)
			}
			checkWindowsOnce(t, c, int(top.Load()))
		})
	}
}

// checkNoDuplicates requires no number to be counted in two committed
// windows: the windows of a key hold disjoint ranges of 10 numbers.
func checkNoDuplicates(t *testing.T, c *committed[winStat]) {
	t.Helper()
	seen := map[[2]int]bool{}
	for _, w := range c.all() {
		k := [2]int{w.Key, w.Max / 10}
		if seen[k] {
			t.Fatalf("window %v of key %d committed twice", w.Max/10, w.Key)
		}
		seen[k] = true
	}
}

// waitWindows waits until the sink committed more than have windows; the
// job must not end first.
func waitWindows(t *testing.T, job *weir.JobClient, c *committed[winStat], have int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for len(c.all()) <= have {
		select {
		case <-job.Done():
			t.Fatalf("the job ended (%v) with %d windows committed, waiting for more than %d", job.Wait(), len(c.all()), have)
		case <-deadline:
			t.Fatalf("no more than %d windows committed in 20 s", have)
		case <-tick.C:
		}
	}
}

// waitAttempt waits until the job runs its attempt-th run: the runs
// before it have ended. The job must not end first.
func waitAttempt(t *testing.T, job *weir.JobClient, attempt int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		s := job.Status()
		if s.Attempts > attempt || s.Attempts == attempt && s.State == weir.JobRunning {
			return
		}
		select {
		case <-job.Done():
			t.Fatalf("the job ended (%v) before its run %d", job.Wait(), attempt)
		case <-deadline:
			t.Fatalf("no run %d in 20 s: %s, attempt %d", attempt, s.State, s.Attempts)
		case <-tick.C:
		}
	}
}

// waitCommittedPast waits until the sink committed a window holding a
// number above top; the job must not end first.
func waitCommittedPast(t *testing.T, job *weir.JobClient, c *committed[winStat], top int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		high := -1
		for _, w := range c.all() {
			high = max(high, w.Max)
		}
		if high > top {
			return
		}
		select {
		case <-job.Done():
			t.Fatalf("the job ended (%v) with windows committed up to %d, waiting for one past %d", job.Wait(), high, top)
		case <-deadline:
			t.Fatalf("windows committed up to %d in 20 s, want one past %d", high, top)
		case <-tick.C:
		}
	}
}
