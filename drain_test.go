package weir_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/window"
)

// winStat is one fired window of drainEnv's job: how many numbers it
// counted, their sum and the largest.
type winStat struct {
	Key, Count, Sum, Max int
}

type winStatAgg struct{}

func (winStatAgg) CreateAccumulator() winStat { return winStat{Max: -1} }
func (winStatAgg) Add(a winStat, v int) (winStat, error) {
	a.Key, a.Count, a.Sum, a.Max = v%3, a.Count+1, a.Sum+v, max(a.Max, v)
	return a, nil
}
func (winStatAgg) Result(a winStat) (winStat, error) { return a, nil }
func (winStatAgg) Merge(a, b winStat) (winStat, error) {
	return winStat{Key: a.Key, Count: a.Count + b.Count, Sum: a.Sum + b.Sum, Max: max(a.Max, b.Max)}, nil
}

// drainEnv builds the drain tests' job: numbers 0..n-1 with their value as
// event time (milliseconds), counted per v%3 in 10 ms tumbling event-time
// windows into a two-phase-commit sink. seen counts the numbers the source
// emitted.
func drainEnv(p int, dir string, n int, c *committed[winStat], seen *atomic.Int64) *weir.Environment {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: dir},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5},
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) }), "counter").SetParallelism(1).UID("counter")
	counted := weir.Map(src, func(v int) int { seen.Add(1); return v }).SetParallelism(1).UID("seen")
	wins := weir.WindowAggregate(weir.Window(weir.KeyBy(counted, func(v int) int { return v % 3 }),
		window.TumblingEventTime[int](10*time.Millisecond)), winStatAgg{}).UID("windows")
	wins.SinkTo(txSink[winStat]{c}).UID("sink")
	return env
}

// checkDrained requires the committed windows to hold every number the
// source emitted, exactly once: the windows still open at the stop fired
// into the savepoint's transaction.
func checkDrained(t *testing.T, c *committed[winStat], seen, n int) {
	t.Helper()
	if seen == 0 || seen >= n {
		t.Fatalf("the source emitted %d of %d numbers before the stop; want some but not all", seen, n)
	}
	var count, sum int
	top := -1
	for _, w := range c.all() {
		count += w.Count
		sum += w.Sum
		top = max(top, w.Max)
	}
	if count != seen || sum != seen*(seen-1)/2 || top != seen-1 {
		t.Fatalf("committed windows hold %d numbers (sum %d, largest %d); the source emitted 0..%d (sum %d): the open windows did not fire before the savepoint",
			count, sum, top, seen-1, seen*(seen-1)/2)
	}
}

// TestStopWithDrainFiresOpenWindows stops a stepped job with drain in the
// middle of its input: the source emits the final watermark before the
// savepoint's barrier and nothing after it, so the committed output holds
// the windows that were still open. A stop without drain leaves them in
// the savepoint's state instead (checked too).
func TestStopWithDrainFiresOpenWindows(t *testing.T) {
	const n = 4000
	for _, drain := range []bool{true, false} {
		c := newCommitted[winStat]()
		var seen atomic.Int64
		st, err := drainEnv(2, t.TempDir(), n, c, &seen).Stepwise(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		stepUntil(t, st, func() bool { return len(c.all()) > 0 })
		stop := st.StopWithSavepoint
		if drain {
			stop = st.StopWithDrain
		}
		if _, err := stop(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatalf("stopped job: %v", err)
		}
		if drain {
			checkDrained(t, c, int(seen.Load()), n)
			continue
		}
		count := 0
		for _, w := range c.all() {
			count += w.Count
		}
		if count >= int(seen.Load()) {
			t.Fatalf("without drain %d numbers were committed of %d emitted; the last window should still be open", count, seen.Load())
		}
	}
}

// TestJobStopWithDrain does the same on a running job (Start), and checks
// the job ends as a stop-with-savepoint does.
func TestJobStopWithDrain(t *testing.T) {
	const n = 1 << 30 // never reached
	c := newCommitted[winStat]()
	var seen atomic.Int64
	job, err := drainEnv(2, t.TempDir(), n, c, &seen).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Wait for a first commit (the checkpoint of savepointInterval).
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(c.all()) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("no checkpoint committed")
		case <-tick.C:
		}
	}
	path, err := job.StopWithDrain(ctx, t.TempDir())
	if err != nil || path == "" {
		t.Fatalf("StopWithDrain = %q, %v", path, err)
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if s := job.Status(); s.State != weir.JobFinished {
		t.Fatalf("state %s after a stop with drain", s.State)
	}
	checkDrained(t, c, int(seen.Load()), n)
}

// failingTxSink is txSink whose PreCommit fails once fail is set: the
// sink's task fails at the barrier of the savepoint that stops the job
// with drain.
type failingTxSink struct {
	c    *committed[winStat]
	fail *atomic.Bool
}

func (s failingTxSink) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[winStat], error) {
	w, err := txSink[winStat]{s.c}.CreateWriter(ctx)
	return failingTxWriter{w.(*txWriter[winStat]), s.fail}, err
}

type failingTxWriter struct {
	*txWriter[winStat]
	fail *atomic.Bool
}

func (w failingTxWriter) PreCommit(ctx context.Context, id int64) ([][]byte, error) {
	if w.fail.Load() {
		return nil, errors.New("disk full")
	}
	return w.txWriter.PreCommit(ctx, id)
}

// A stop with drain whose savepoint fails fails the job (its sources ended
// event time; going on would make every later record late), and commits
// none of the windows the drain fired.
func TestStopWithDrainFailureFailsJob(t *testing.T) {
	c := newCommitted[winStat]()
	var seen atomic.Int64
	var fail atomic.Bool
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: t.TempDir()}})
	src := weir.FromSource[int](env, slowCounter{n: 4000, perPoll: 5},
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) }), "counter")
	wins := weir.WindowAggregate(weir.Window(weir.KeyBy(weir.Map(src, func(v int) int { seen.Add(1); return v }), func(v int) int { return v % 3 }),
		window.TumblingEventTime[int](10*time.Millisecond)), winStatAgg{})
	wins.SinkTo(failingTxSink{c, &fail})
	st, err := env.Stepwise(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stepUntil(t, st, func() bool { return len(c.all()) > 0 })
	before := len(c.all())
	fail.Store(true)
	_, err = st.StopWithDrain(t.TempDir())
	// The sink's failure in the savepoint's synchronous part fails its
	// task (as in Flink), and with it the job and the drain.
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("StopWithDrain with a failing sink = %v; want the job's failure naming its cause", err)
	}
	if after := len(c.all()); after != before {
		t.Fatalf("%d windows committed by the failed drain", after-before)
	}
}
