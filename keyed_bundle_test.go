package weir_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/weirtest"
)

// bundleSum holds (key, n) records per key outside state and adds each
// key's to its state total once per flush, emitting "key=total".
type bundleSum struct {
	held  map[string]int
	order []string
	total state.Value[int]
	timer bool
}

func (f *bundleSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.held = map[string]int{}
	f.total = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "total"})
	return nil
}

func (f *bundleSum) ProcessElement(ctx *weir.KeyedContext[string, string], e keyedN) error {
	if _, ok := f.held[e.Key]; !ok {
		f.order = append(f.order, e.Key)
	}
	f.held[e.Key] += e.N
	if !f.timer {
		f.timer = true
		ctx.ScheduleProcessingTimeCallback(ctx.CurrentProcessingTime()+1000, func(ctx *weir.KeyedContext[string, string], now int64) error {
			f.timer = false
			return f.FlushBundle(ctx)
		})
	}
	return nil
}

func (f *bundleSum) FlushBundle(ctx *weir.KeyedContext[string, string]) error {
	for _, k := range f.order {
		if err := ctx.SetCurrentKey(k); err != nil {
			return err
		}
		v, _ := f.total.Value()
		v += f.held[k]
		f.total.Update(v)
		ctx.Collect(fmt.Sprintf("%s=%d", k, v))
	}
	clear(f.held)
	f.order = f.order[:0]
	return nil
}

type keyedN struct {
	Key string
	N   int
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func bundlePipeline(h *weirtest.Harness) (*weirtest.Input[keyedN], *weirtest.Output[string]) {
	in := weirtest.NewInput[keyedN](h)
	ks := weir.KeyBy(in.Stream(), func(e keyedN) string { return e.Key })
	out := weir.ProcessKeyed[string, keyedN, string](ks, &bundleSum{}).UID("sum")
	return in, weirtest.Capture(h, out)
}

// TestBundleFlusher: a keyed function that holds records flushes them, with
// the key switched for its state, on its own processing-time callback,
// before a checkpoint's barrier (so the snapshot holds what it added and a
// restore counts nothing twice) and at the end of input.
func TestBundleFlusher(t *testing.T) {
	opts := weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	h := weirtest.New(opts)
	in, out := bundlePipeline(h)
	h.Start(t)
	must(t, in.Push(keyedN{"a", 1}, 0))
	must(t, in.Push(keyedN{"b", 2}, 0))
	must(t, in.Push(keyedN{"a", 3}, 0))
	if got := out.Take(); len(got) != 0 {
		t.Fatalf("emitted %q before any flush", got)
	}
	must(t, h.SetProcessingTime(1000))
	if got := sortedStrings(out.Take()); !slices.Equal(got, []string{"a=4", "b=2"}) {
		t.Fatalf("at the callback: %q", got)
	}
	must(t, in.Push(keyedN{"a", 10}, 0))
	snap, err := h.Snapshot()
	must(t, err)
	if got := out.Take(); !slices.Equal(got, []string{"a=14"}) {
		t.Fatalf("before the barrier: %q", got)
	}
	opts.Parallelism = 2
	h2 := weirtest.Restore(opts, snap)
	in2, out2 := bundlePipeline(h2)
	h2.Start(t)
	must(t, in2.Push(keyedN{"b", 5}, 0))
	must(t, in2.Push(keyedN{"a", 1}, 0))
	must(t, in2.End())
	if got := sortedStrings(out2.Take()); !slices.Equal(got, []string{"a=15", "b=7"}) {
		t.Fatalf("after the restore, at the end of input: %q", got)
	}
}

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}
