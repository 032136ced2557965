package weir_test

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/window"
)

// drainRestoreEnv is drainEnv's job with a state backend and a restore.
func drainRestoreEnv(backend, dir, restore string, n int, c *committed[winStat]) *weir.Environment {
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  2,
		Checkpoints:  weir.CheckpointOptions{Interval: savepointInterval, Dir: dir},
		Restore:      restore,
		StateBackend: backend,
		Pebble:       pebble.New(),
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5},
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) }), "counter").SetParallelism(1).UID("counter")
	wins := weir.WindowAggregate(weir.Window(weir.KeyBy(src, func(v int) int { return v % 3 }),
		window.TumblingEventTime[int](10*time.Millisecond)), winStatAgg{}).UID("windows")
	wins.SinkTo(txSink[winStat]{c}).UID("sink")
	return env
}

// TestRestoreDrainedSavepoint: a job stopped with drain is restored from
// its savepoint and runs to the end of its input. The windows the final
// watermark fired were committed by the stop and are gone from the
// savepoint's state (their timers fired): the restored job must not fire
// them again, nor lose the numbers after the stop. Every number is in the
// committed windows exactly once.
func TestRestoreDrainedSavepoint(t *testing.T) {
	const n = 4000
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		t.Run(backend, func(t *testing.T) {
			c := newCommitted[winStat]()
			st, err := drainRestoreEnv(backend, t.TempDir(), "", n, c).Stepwise(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			stepUntil(t, st, func() bool { return len(c.all()) > 0 })
			path, err := st.StopWithDrain(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			drained := len(c.all())
			st, err = drainRestoreEnv(backend, t.TempDir(), path, n, c).Stepwise(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			runToEnd(t, st)
			if len(c.all()) <= drained {
				t.Fatalf("the restored job committed no window (%d before, %d after)", drained, len(c.all()))
			}
			checkWindowsOnce(t, c, n-1)
		})
	}
}
