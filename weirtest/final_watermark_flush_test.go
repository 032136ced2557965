package weirtest_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/weirtest"
)

// askFn holds its events (a BundleFlusher) and records the watermarks it
// is asked about (a WatermarkFlusher); it never asks for a flush itself.
// Each flush emits what it holds and the last watermark it was asked
// about, so a flush can tell the final watermark from the end of input.
type askFn struct {
	held  []string
	asked []int64
}

func (f *askFn) ProcessElement(ctx *weir.KeyedContext[string, string], e event) error {
	f.held = append(f.held, e.Key)
	ctx.RegisterEventTimeTimer(weir.MaxWatermark)
	return nil
}

func (f *askFn) OnTimer(ctx *weir.KeyedContext[string, string], ts int64) error {
	ctx.Collect("timer " + ctx.Key())
	return nil
}

func (f *askFn) FlushesOnWatermark(wm int64) bool {
	f.asked = append(f.asked, wm)
	return false
}

func (f *askFn) FlushBundle(ctx *weir.KeyedContext[string, string]) error {
	last := int64(-1)
	if len(f.asked) > 0 {
		last = f.asked[len(f.asked)-1]
	}
	for _, k := range f.held {
		ctx.Collect(fmt.Sprintf("flush %s asked %v", k, last == weir.MaxWatermark))
	}
	f.held = f.held[:0]
	return nil
}

// TestFinalWatermarkAsksFlusher: a WatermarkFlusher is asked about the
// final watermark too, before its flush and before the timers it fires,
// so the flush knows it is the final watermark's; the bundle is flushed
// though the function answered false.
func TestFinalWatermarkAsksFlusher(t *testing.T) {
	h := weirtest.New(weir.Options{})
	in := weirtest.NewInput[event](h)
	out := weirtest.Capture(h, weir.ProcessKeyed[string, event, string](
		weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &askFn{}))
	h.Start(t)
	must(t, in.Push(event{"a", 1}, 100))
	must(t, in.Watermark(200))
	if got := out.Take(); len(got) != 0 {
		t.Fatalf("output before the final watermark: %v", got)
	}
	must(t, in.End())
	want := []string{"flush a asked true", "timer a"}
	if diff := cmp.Diff(want, out.Take()); diff != "" {
		t.Fatalf("at the end of input (-want +got):\n%s", diff)
	}
}
