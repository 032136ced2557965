package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/window"
)

// generalTrigger is the default event-time trigger under another type: the
// window operator then takes its general path (trigger calls, registered
// timers) instead of the heap's window table.
type generalTrigger[T any, W window.Window] struct {
	window.EventTimeTrigger[T, W]
}

// tableJob runs the same keyed tumbling and sliding windows (no allowed
// lateness, late records to a side output) twice over out-of-order input,
// once on the window table (default trigger) and once on the general path
// (generalTrigger), at parallelism p, failing at record failAt or after.
// Lines carry the path ("table" or "general") first.
func tableJob(dir string, p, n, failAt int, c *committed[string]) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p, AutoWatermarkInterval: -1,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
		Restore:     "latest",
	})
	// Timestamps up to 300 ms behind the counter's order, watermarks 40 ms
	// behind the largest: some records are late.
	ts := func(v int) int64 { return int64(v)*10 - int64((v*7919)%31)*10 }
	src := weir.FromSource[int](env, failingCounter(n, 20, failAt, c.count),
		weir.ForBoundedOutOfOrderness[int](40*time.Millisecond).WithTimestamps(func(v int) int64 { return ts(v) }), "counter").
		SetParallelism(1).UID("counter")
	checked := weir.TryMap(src, failAfterCommit(failAt, c.count)).SetParallelism(1)
	keyed := weir.KeyBy(checked, func(v int) int { return v % 13 })
	var outs []weir.Stream[string]
	for _, path := range []string{"table", "general"} {
		for _, a := range []struct {
			name     string
			assigner window.Assigner[int, window.TimeWindow]
		}{
			{"tumble", window.TumblingEventTime[int](200 * time.Millisecond)},
			{"slide", window.SlidingEventTime[int](300*time.Millisecond, 100*time.Millisecond)},
		} {
			late := weir.NewOutputTag[int]("late")
			ws := weir.Window(keyed, a.assigner).SideOutputLateData(late)
			if path == "general" {
				ws = ws.Trigger(generalTrigger[int, window.TimeWindow]{})
			}
			prefix := path + " " + a.name
			res := weir.WindowAggregateProcess(ws, evIntSum{},
				weir.ProcessWindowFunc[int, int, string, window.TimeWindow](func(ctx *weir.WindowContext[int, string, window.TimeWindow], k int, in []int) error {
					ctx.Collect(fmt.Sprintf("%s k%d [%d,%d) sum%d", prefix, k, ctx.Window().Start, ctx.Window().End, in[0]))
					return nil
				})).UID(prefix)
			outs = append(outs, res, weir.Map(weir.SideOutput(res, late), func(v int) string {
				return fmt.Sprintf("%s late %d", prefix, v)
			}))
		}
	}
	weir.Union(outs[0], outs[1:]...).SinkTo(txSink[string]{c}).UID("sink")
	return env.Execute(context.Background())
}

// splitPaths returns the lines of the table and the general path, without
// the path, sorted.
func splitPaths(t *testing.T, lines []string) (table, general []string) {
	t.Helper()
	for _, l := range lines {
		path, rest, _ := strings.Cut(l, " ")
		switch path {
		case "table":
			table = append(table, rest)
		case "general":
			general = append(general, rest)
		default:
			t.Fatalf("line %q", l)
		}
	}
	slices.Sort(table)
	slices.Sort(general)
	return table, general
}

// TestWindowTableSameAnswer: the window table (heap fast path) and the
// general path give the same windows and late records over out-of-order
// input, uninterrupted and across failures restored from checkpoints at
// parallelism 1 and 3 (the table's contents travel in the general path's
// snapshot form, rescaled by key group).
func TestWindowTableSameAnswer(t *testing.T) {
	const n = 2500
	clean := newCommitted[string]()
	if err := tableJob(t.TempDir(), 1, n, -1, clean); err != nil {
		t.Fatal(err)
	}
	wantTable, wantGeneral := splitPaths(t, clean.all())
	if diff := cmp.Diff(wantGeneral, wantTable); diff != "" {
		t.Fatalf("uninterrupted run: window table differs from the general path (-general +table):\n%s", diff)
	}
	lates := 0
	for _, l := range wantTable {
		if strings.Contains(l, " late ") {
			lates++
		}
	}
	if lates == 0 || len(wantTable) < n/13 {
		t.Fatalf("degenerate input: %d lines, %d late", len(wantTable), lates)
	}

	dir := t.TempDir()
	c := newCommitted[string]()
	for _, step := range []struct{ p, failAt int }{{1, 800}, {3, 1600}, {3, 2100}, {1, -1}} {
		err := tableJob(dir, step.p, n, step.failAt, c)
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
	// A restore starts again from the lowest watermark (as in Flink:
	// watermarks are not part of a checkpoint), so records that were late
	// before may not be after it: both paths must agree, and see the same.
	gotTable, gotGeneral := splitPaths(t, c.all())
	if diff := cmp.Diff(gotGeneral, gotTable); diff != "" {
		t.Fatalf("after restores at parallelism 1 -> 3 -> 3 -> 1: window table differs from the general path (-general +table):\n%s", diff)
	}
	if len(gotTable) < len(wantTable) {
		t.Fatalf("after restores: %d lines, uninterrupted %d", len(gotTable), len(wantTable))
	}
}
