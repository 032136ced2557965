package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/window"
)

// latenessJob runs event-time sliding windows with allowed lateness (so
// windows that fired keep their contents until their cleanup time) on the
// given state backend, failing at record failAt.
func latenessJob(dir, stateDir, backend string, n, failAt int, c *committed[string]) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2, AutoWatermarkInterval: -1,
		StateBackend: backend, Pebble: pebble.New(), StateDir: stateDir,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
		Restore:     "latest",
	})
	src := weir.FromSource[int](env, failingCounter(n, 20, failAt, c.count),
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) * 10 }), "counter").
		SetParallelism(1).UID("counter")
	checked := weir.TryMap(src, failAfterCommit(failAt, c.count)).SetParallelism(1)
	keyed := weir.KeyBy(checked, func(v int) int { return v % 11 })
	weir.WindowAggregateProcess(weir.Window(keyed, window.SlidingEventTime[int](300*time.Millisecond, 100*time.Millisecond)).
		AllowedLateness(500*time.Millisecond), evIntSum{},
		weir.ProcessWindowFunc[int, int, string, window.TimeWindow](func(ctx *weir.WindowContext[int, string, window.TimeWindow], k int, in []int) error {
			ctx.Collect(fmt.Sprintf("slide k%d [%d,%d) sum%d", k, ctx.Window().Start, ctx.Window().End, in[0]))
			return nil
		})).UID("slides").SinkTo(txSink[string]{c}).UID("sink")
	return env.Execute(context.Background())
}

// TestWindowLatenessRestorePebble: a window that fired before a checkpoint
// but is kept for allowed lateness must not fire again after a restore on
// Pebble (its end-of-window timer was consumed before the checkpoint).
func TestWindowLatenessRestorePebble(t *testing.T) {
	const n = 1500
	clean := newCommitted[string]()
	if err := latenessJob(t.TempDir(), t.TempDir(), weir.StatePebble, n, -1, clean); err != nil {
		t.Fatal(err)
	}
	want := clean.all()
	slices.Sort(want)
	dir := t.TempDir()
	c := newCommitted[string]()
	for _, failAt := range []int{700, -1} {
		err := latenessJob(dir, t.TempDir(), weir.StatePebble, n, failAt, c)
		if failAt >= 0 && !errors.Is(err, errInjected) {
			t.Fatalf("failing at %d: %v", failAt, err)
		}
		if failAt < 0 && err != nil {
			t.Fatal(err)
		}
	}
	got := c.all()
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("output after a restore differs from an uninterrupted run (-want +got):\n%s", diff)
	}
}
