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
	"github.com/weirstream/weir/window"
)

// rescaleJob runs timers and sliding windows over 0..n-1 (timestamp 10 ms
// apart) at parallelism p, failing at record failAt or after (see
// failAfterCommit).
func rescaleJob(dir string, p, n, failAt int, c *committed[string]) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p, AutoWatermarkInterval: -1,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
		Restore:     "latest",
	})
	src := weir.FromSource[int](env, failingCounter(n, 20, failAt, c.count),
		weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) * 10 }), "counter").
		SetParallelism(1).UID("counter")
	checked := weir.TryMap(src, failAfterCommit(failAt, c.count)).SetParallelism(1)
	keyed := weir.KeyBy(checked, func(v int) int { return v % 11 })
	timers := weir.ProcessKeyed[int, int, string](keyed, &tsCounter[int, int]{delay: 35}).UID("timers")
	slides := weir.WindowAggregateProcess(weir.Window(keyed, window.SlidingEventTime[int](300*time.Millisecond, 100*time.Millisecond)).
		AllowedLateness(50*time.Millisecond), evIntSum{},
		weir.ProcessWindowFunc[int, int, string, window.TimeWindow](func(ctx *weir.WindowContext[int, string, window.TimeWindow], k int, in []int) error {
			ctx.Collect(fmt.Sprintf("slide k%d [%d,%d) sum%d", k, ctx.Window().Start, ctx.Window().End, in[0]))
			return nil
		})).UID("slides")
	weir.Union(timers, slides).SinkTo(txSink[string]{c}).UID("sink")
	return env.Execute(context.Background())
}

type evIntSum struct{}

func (evIntSum) CreateAccumulator() int      { return 0 }
func (evIntSum) Add(a, v int) (int, error)   { return a + v, nil }
func (evIntSum) Result(a int) (int, error)   { return a, nil }
func (evIntSum) Merge(a, b int) (int, error) { return a + b, nil }

// TestRestoreAtOtherParallelism fails a job with keyed timers, list state
// and sliding windows (with allowed lateness, so with explicit timers)
// twice, restoring each time at another parallelism, and requires the
// committed output of an uninterrupted run, exactly once.
func TestRestoreAtOtherParallelism(t *testing.T) {
	const n = 2500
	clean := newCommitted[string]()
	if err := rescaleJob(t.TempDir(), 2, n, -1, clean); err != nil {
		t.Fatal(err)
	}
	want := clean.all()
	slices.Sort(want)
	if len(want) < n {
		t.Fatalf("only %d results", len(want))
	}

	dir := t.TempDir()
	c := newCommitted[string]()
	for _, step := range []struct{ p, failAt int }{{2, 900}, {3, 1700}, {1, -1}} {
		err := rescaleJob(dir, step.p, n, step.failAt, c)
		if step.failAt >= 0 && !errors.Is(err, errInjected) {
			t.Fatalf("p=%d failing at %d: %v", step.p, step.failAt, err)
		}
		if step.failAt >= 0 && len(c.all()) == 0 {
			t.Fatalf("p=%d: nothing committed before the failure: no restore would be tested", step.p)
		}
		if step.failAt < 0 && err != nil {
			t.Fatalf("final run: %v", err)
		}
	}
	got := c.all()
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("output after restores at parallelism 2 -> 3 -> 1 differs from an uninterrupted run (-want +got):\n%s", diff)
	}
}
