package file

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/window"
)

// TestMonitorIdleSubtask: in a continuous job at parallelism 2 whose only
// file goes to subtask 0, subtask 1 has nothing to read; with the
// strategy's IdleTimeout (Flink's withIdleness) it does not hold back the
// watermark, and an event-time window over subtask 0's records fires
// while the job runs. Subtask 0 reads slowly (200 lines a second), so
// that it is still active when subtask 1 goes idle: Weir's input gate,
// unlike Flink's StatusWatermarkValve, forwards no watermark when its
// last active channel goes idle.
func TestMonitorIdleSubtask(t *testing.T) {
	dir := t.TempDir()
	name := markers(2, "idle")[0] // owned by subtask 0
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "{\"f\":\"x\",\"n\":%d}\n", i*10) // n: the event time, ms
	}
	putFile(t, dir, name, b.String())

	env := weir.NewEnvironment(weir.Options{Parallelism: 2, AutoWatermarkInterval: -1}) // a watermark after every poll
	strategy := weir.ForMonotonousTimestamps[monRec]().WithTimestamps(func(r monRec) int64 { return int64(r.N) }).WithIdleness(30 * time.Millisecond)
	src := weir.FromSource(env, JSONSource[monRec](dir, SourceOptions{MonitorInterval: 10 * time.Millisecond, LinesPerPoll: 5, LinesPerSecond: 400}), strategy, "files")
	ones := weir.Map(src, func(r monRec) monRec { return monRec{F: r.F, N: 1} })
	ws := weir.Window(weir.KeyBy(ones, func(r monRec) string { return r.F }), window.TumblingEventTime[monRec](time.Second))
	fired := make(chan monRec, 16)
	sums := weir.WindowReduce(ws, func(a, b monRec) (monRec, error) { return monRec{F: a.F, N: a.N + b.N}, nil })
	weir.Collect(weir.Map(sums, func(r monRec) monRec { fired <- r; return r }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	select {
	case r := <-fired:
		if r.N != 100 {
			t.Fatalf("first window counted %d records, want 100", r.N)
		}
	case err := <-done:
		t.Fatalf("the job ended: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no window fired: the subtask without files holds back the watermark")
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
