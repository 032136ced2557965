package weir_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

func TestRestartStrategies(t *testing.T) {
	now := time.Unix(0, 0)
	fixed := &weir.FixedDelayRestart{Attempts: 2, Delay: time.Second}
	for i, want := range []bool{true, true, false} {
		if ok, d := fixed.Restart(now); ok != want || (ok && d != time.Second) {
			t.Fatalf("fixed delay, failure %d: %v %v", i, ok, d)
		}
	}
	exp := &weir.ExponentialDelayRestart{Initial: time.Second, Max: 5 * time.Second, Multiplier: 2, ResetAfter: time.Minute}
	var delays []time.Duration
	for i := 0; i < 5; i++ {
		_, d := exp.Restart(now.Add(time.Duration(i) * time.Second))
		delays = append(delays, d)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("exponential delays %v, want %v", delays, want)
		}
	}
	if _, d := exp.Restart(now.Add(2 * time.Minute)); d != time.Second {
		t.Fatalf("after a quiet minute the delay is %v, want the initial 1s", d)
	}
	// attempts-before-reset-backoff: two restarts, then the job fails,
	// until a quiet ResetAfter starts the count over.
	lim := &weir.ExponentialDelayRestart{Initial: time.Second, Multiplier: 2, ResetAfter: time.Minute, MaxAttempts: 2}
	for i, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Second, true}, {2 * time.Second, false}, {3 * time.Minute, true}, {3*time.Minute + time.Second, true}, {3*time.Minute + 2*time.Second, false}} {
		if ok, _ := lim.Restart(now.Add(c.at)); ok != c.want {
			t.Fatalf("exponential delay with 2 attempts, failure %d at %v: %v, want %v", i, c.at, ok, c.want)
		}
	}
	jit := &weir.ExponentialDelayRestart{Initial: time.Second, Jitter: 0.1}
	if _, d := jit.Restart(now); d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Fatalf("jittered delay %v outside 1s ± 10%%", d)
	}
	rate := &weir.FailureRateRestart{MaxFailures: 2, Interval: time.Minute, Delay: time.Millisecond}
	for i, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {10 * time.Second, true}, {20 * time.Second, false}, {2 * time.Minute, true}} {
		if ok, _ := rate.Restart(now.Add(c.at)); ok != c.want {
			t.Fatalf("failure rate, failure %d at %v: %v, want %v", i, c.at, ok, c.want)
		}
	}
}

// A job that fails twice in the middle restarts in-process from its latest
// checkpoint and still commits every record exactly once.
func TestRestartFromCheckpointInProcess(t *testing.T) {
	const n = 3000
	c := newCommitted[sumOut]()
	var failures atomic.Int32
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()},
		Restart:     &weir.FixedDelayRestart{Attempts: 3, Delay: time.Millisecond},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 20}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	checked := weir.TryMap(src, func(v int) (int, error) {
		// Fail at record 1000 and 2000, once each.
		if (v == 1000 && failures.Load() == 0) || (v == 2000 && failures.Load() == 1) {
			failures.Add(1)
			return 0, errInjected
		}
		return v, nil
	}).SetParallelism(1)
	weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(checked, func(v int) int { return v % 7 }), &runningSum{}).UID("sums").
		SinkTo(txSink[sumOut]{c}).UID("sink")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if failures.Load() != 2 {
		t.Fatalf("%d failures, want 2", failures.Load())
	}
	seen := map[int]sumOut{}
	for _, o := range c.all() {
		if _, dup := seen[o.Seq]; dup {
			t.Fatalf("record %d committed twice", o.Seq)
		}
		seen[o.Seq] = o
	}
	sum := map[int]int{}
	for i := 0; i < n; i++ {
		sum[i%7] += i
		if o, ok := seen[i]; !ok || o.Sum != sum[i%7] {
			t.Fatalf("record %d: %+v (present %v), want sum %d", i, o, ok, sum[i%7])
		}
	}
}

func TestNoRestartByDefault(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSlice(env, []int{1, 2, 3})
	calls := 0
	weir.TryMap(src, func(v int) (int, error) {
		calls++
		return 0, errInjected
	}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	if err := env.Execute(context.Background()); !errors.Is(err, errInjected) || calls != 1 {
		t.Fatalf("Execute = %v after %d calls", err, calls)
	}
}

// A record the job cannot process fails it at the same position after
// every restore: the job ends with that error after RepeatedFailureLimit
// such failures in a row, although the restart strategy would go on.
func TestRepeatedFailureEndsRestarts(t *testing.T) {
	for _, c := range []struct {
		checkpoints, panics bool
	}{{true, false}, {false, false}, {true, true}} {
		checkpoints := c.checkpoints
		var runs atomic.Int32
		opts := weir.Options{
			Restart:              &weir.FixedDelayRestart{Attempts: 1000, Delay: time.Millisecond},
			RepeatedFailureLimit: 3,
		}
		if checkpoints {
			opts.Checkpoints = weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()}
		}
		env := weir.NewEnvironment(opts)
		src := weir.FromSource[int](env, slowCounter{n: 2000, perPoll: 20}, weir.NoWatermarks[int](), "counter").UID("counter")
		weir.TryMap(src, func(v int) (int, error) {
			if v == 0 {
				runs.Add(1)
			}
			if v == 1200 {
				if c.panics {
					panic(fmt.Sprintf("cannot process %d", v)) // a stack trace that differs per run
				}
				return 0, errInjected
			}
			return v, nil
		}).SinkTo(txSink[int]{newCommitted[int]()}).UID("sink")
		err := env.Execute(context.Background())
		if c.panics {
			if err == nil || !strings.Contains(err.Error(), "failed 3 times in a row") || !strings.Contains(err.Error(), "cannot process 1200") {
				t.Fatalf("panicking: Execute = %v; want the panic after 3 identical failures", err)
			}
			continue
		}
		if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "failed 3 times in a row") {
			t.Fatalf("checkpoints %v: Execute = %v; want the injected error after 3 identical failures", checkpoints, err)
		}
		if !checkpoints && runs.Load() != 3 {
			t.Fatalf("without checkpoints the job ran %d times from the start, want 3", runs.Load())
		}
	}
}

// restartOnce restarts once, calling before first; then no more.
type restartOnce struct {
	before func()
	done   bool
}

func (r *restartOnce) Restart(time.Time) (bool, time.Duration) {
	if r.done {
		return false, 0
	}
	r.done = true
	r.before()
	return true, 0
}

// A job started from a savepoint whose first attempt fails before it could
// register the savepoint in its checkpoint directory (here: writing the
// pointer fails) still registers it when the restart restores the
// savepoint: its sinks commit what the savepoint staged, and a kill before
// the first checkpoint must leave "restore latest" the savepoint, not a
// fresh start that commits everything again.
func TestRestartFromSavepointRegistersIt(t *testing.T) {
	const n = 4000
	c := newCommitted[sumOut]()
	path := stopAfterCommits(t, savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", n, c), c, 0, t.TempDir())
	id, err := strconv.ParseInt(strings.Split(filepath.Base(path), "-")[1], 10, 64)
	if err != nil {
		t.Fatalf("savepoint id of %s: %v", path, err)
	}
	// The pointer's chk-<id> is a file: the first attempt fails to write it.
	chk := t.TempDir()
	block := filepath.Join(chk, "chk-"+strconv.FormatInt(id+1, 10))
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var restarted atomic.Bool
	// processed is closed at the first record the restarted job processes.
	processed := make(chan struct{})
	var once sync.Once
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: chk},
		Restore:     path,
		Restart: &restartOnce{before: func() {
			os.Remove(block)
			restarted.Store(true)
		}},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	seen := weir.TryMap(src, func(v int) (int, error) {
		if restarted.Load() {
			once.Do(func() { close(processed) })
		}
		return v, nil
	}).SetParallelism(1)
	weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(seen, func(v int) int { return v % 7 }), &runningSum{}).UID("sums").
		SinkTo(txSink[sumOut]{c}).UID("sink")
	job, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-processed:
	case <-job.Done():
		t.Fatalf("job ended: %v", job.Wait())
	case <-time.After(20 * time.Second): // a bound for the failing case only
		t.Fatal("the restarted job processed nothing within 20s")
	}
	// Killed before its first checkpoint.
	job.Cancel()
	if err := job.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
	// "latest" finds the savepoint the restart registered.
	runToEnd(t, savepointStepper(t, weir.StateHeap, 2, chk, "latest", n, c))
	checkSums(t, c, n)
}
