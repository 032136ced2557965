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

// coBundleSum holds the records of both inputs per key outside state (the
// first input's count +n, the second's -n) and adds each key's to its
// state total once per flush, emitting "key=total".
type coBundleSum struct {
	held  map[string]int
	order []string
	total state.Value[int]
}

func (f *coBundleSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.held = map[string]int{}
	f.total = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "total"})
	return nil
}

func (f *coBundleSum) hold(key string, n int) {
	if _, ok := f.held[key]; !ok {
		f.order = append(f.order, key)
	}
	f.held[key] += n
}

func (f *coBundleSum) ProcessElement1(ctx *weir.KeyedContext[string, string], e keyedN) error {
	f.hold(e.Key, e.N)
	return nil
}

func (f *coBundleSum) ProcessElement2(ctx *weir.KeyedContext[string, string], e keyedN) error {
	f.hold(e.Key, -e.N)
	return nil
}

func (f *coBundleSum) FlushBundle(ctx *weir.KeyedContext[string, string]) error {
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

func coBundlePipeline(h *weirtest.Harness) (a, b *weirtest.Input[keyedN], out *weirtest.Output[string]) {
	a, b = weirtest.NewInput[keyedN](h), weirtest.NewInput[keyedN](h)
	key := func(e keyedN) string { return e.Key }
	ks := weir.ConnectKeyed(weir.KeyBy(a.Stream(), key), weir.KeyBy(b.Stream(), key))
	s := weir.CoProcessKeyed[string, keyedN, keyedN, string](ks, &coBundleSum{}).UID("cosum")
	return a, b, weirtest.Capture(h, s)
}

// TestCoBundleFlusher: a two-input keyed function that holds records
// (CoProcessKeyed with a BundleFlusher, as the mini-batch join) is flushed
// before a checkpoint's barrier (the snapshot holds what it added, a
// restore counts nothing twice), not on other watermarks, and on the
// final watermark / at the end of input.
func TestCoBundleFlusher(t *testing.T) {
	opts := weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	h := weirtest.New(opts)
	a, b, out := coBundlePipeline(h)
	h.Start(t)
	must(t, a.Push(keyedN{"x", 5}, 0))
	must(t, b.Push(keyedN{"x", 2}, 0))
	must(t, a.Push(keyedN{"y", 1}, 0))
	must(t, a.Watermark(10))
	must(t, b.Watermark(10))
	if got := out.Take(); len(got) != 0 {
		t.Fatalf("emitted %q before any flush", got)
	}
	snap, err := h.Snapshot()
	must(t, err)
	if got := sortedStrings(out.Take()); !slices.Equal(got, []string{"x=3", "y=1"}) {
		t.Fatalf("before the barrier: %q", got)
	}
	opts.Parallelism = 2
	h2 := weirtest.Restore(opts, snap)
	a2, b2, out2 := coBundlePipeline(h2)
	h2.Start(t)
	must(t, b2.Push(keyedN{"y", 4}, 0))
	must(t, a2.Push(keyedN{"x", 1}, 0))
	must(t, a2.End())
	if got := out2.Take(); len(got) != 0 {
		t.Fatalf("emitted %q before both inputs ended", got)
	}
	must(t, b2.End())
	if got := sortedStrings(out2.Take()); !slices.Equal(got, []string{"x=4", "y=-3"}) {
		t.Fatalf("after the restore, at the end of input: %q", got)
	}
}
