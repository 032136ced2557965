package exec

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// HOP windows are sliced, as Flink's window aggregation does
// (SliceSharedAssigner): the time axis is cut into slices of the slide, a
// row is accumulated into its one slice, and a window's result is the
// merge of its size/slide slices when it fires. A row thus costs one state
// update instead of one per window it belongs to.
//
// Per key the state "window-slices" maps a slice's end to its encoded
// accumulators. One timer per key is pending at a time at most per chain:
// a new slice registers the end - 1 of the first window containing it
// that has not fired; a fired window registers the next window's end - 1
// while that window holds a slice. The first slice of a fired window
// belongs to no later window and is removed.
//
// Semantics are those of the per-window path: a row goes to every window
// of its time that has not fired yet (a row whose slice's first window
// fired still reaches the later windows, which read its slice), and is
// dropped as late only when its last window has fired.

// canSlice reports whether a spec's windows can be sliced: HOP over an
// append-only input whose aggregate functions all merge, without DISTINCT
// (whose multisets are kept per window).
func canSlice(s WindowAggSpec, set *aggSet) bool {
	if s.perWindow || s.Window.Kind != HopWindow || s.UpdatingInput || set.hasDistinct() {
		return false
	}
	for _, k := range set.calls {
		if !mergeable(k.Func) || (k.UDF != nil && !k.UDF.CanMerge()) {
			return false
		}
	}
	return true
}

// sliceEnd returns the end of the slice of time t.
func (f *windowAggFn) sliceEnd(t int64) int64 {
	slide := f.spec.Window.Slide.Milliseconds()
	return t - mod(t-f.spec.Window.Offset.Milliseconds(), slide) + slide
}

// register sets the timer of the window (or slice) ending at end.
func (f *windowAggFn) register(ctx *weir.KeyedContext[string, row.Row], end int64, proc bool) {
	if proc {
		ctx.RegisterProcessingTimeTimer(f.spec.Window.fire(end))
	} else {
		ctx.RegisterEventTimeTimer(f.spec.Window.fire(end))
	}
}

// timerEnds returns the ends of the current key's windows that the timer
// at ts fires, in order.
func (f *windowAggFn) timerEnds(ts int64) []int64 {
	w := f.spec.Window
	f.ends = f.ends[:0]
	if f.fixed {
		return append(f.ends, w.endOfTimer(ts))
	}
	add := func(end int64) {
		if w.fire(end) != ts {
			return
		}
		for _, e := range f.ends {
			if e == end {
				return
			}
		}
		f.ends = append(f.ends, end)
	}
	for end := range f.windows.All() {
		add(end)
	}
	if f.slices != nil {
		// The windows of a slice end on it and on the size/slide - 1
		// slice ends after it.
		slide, size := w.Slide.Milliseconds(), w.Size.Milliseconds()
		for s := range f.slices.All() {
			for e := s; e <= s+size-slide; e += slide {
				add(e)
			}
		}
	}
	slices.Sort(f.ends)
	return f.ends
}

// addToSlice accumulates a row into the slice of its time t.
func (f *windowAggFn) addToSlice(ctx *weir.KeyedContext[string, row.Row], in row.Row, t int64, proc, retract bool) error {
	slide := f.spec.Window.Slide.Milliseconds()
	size := f.spec.Window.Size.Milliseconds()
	end := f.sliceEnd(t)
	var wm int64
	if !proc {
		wm = ctx.CurrentWatermark()
		if f.spec.Window.fire(end+size-slide) <= wm { // the slice's last window fired
			f.late()
			return nil
		}
	}
	enc, ok := f.slices.Get(end)
	if ok {
		if err := f.set.decode(enc); err != nil {
			return err
		}
	} else {
		f.set.reset()
		first := end
		for !proc && f.spec.Window.fire(first) <= wm {
			first += slide
		}
		f.register(ctx, first, proc)
	}
	f.set.apply(in, retract)
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: WindowAggregate on row %s: %w", row.FormatRow(in, f.spec.InputTypes), err)
	}
	f.slices.Put(end, f.set.encode())
	return nil
}

// fireSlices emits the windows whose timer is ts from their slices.
func (f *windowAggFn) fireSlices(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	for _, end := range f.timerEnds(ts) {
		if err := f.fireSlice(ctx, end); err != nil {
			return err
		}
	}
	return nil
}

// fireSlice emits the window ending at end from its slices, removes its
// first slice and chains the timer of the next window.
func (f *windowAggFn) fireSlice(ctx *weir.KeyedContext[string, row.Row], end int64) error {
	slide := f.spec.Window.Slide.Milliseconds()
	size := f.spec.Window.Size.Milliseconds()
	first := end - size + slide
	// One pass over the key's slices (a handful) instead of a lookup per
	// slice of the window; merged in order of time.
	f.entries = state.AppendEntries(f.slices, f.entries[:0])
	got := f.entries[:0]
	for _, e := range f.entries {
		if e.Key >= first && e.Key <= end {
			got = append(got, e)
		}
	}
	defer clear(f.entries) // no encodings kept alive
	// A window of the per-window layout, restored from a snapshot taken
	// before HOP windows were sliced, holds the rows before the restore;
	// the slices hold those after it. Its timer is restored with it.
	old, hasOld := f.windows.Get(end)
	if len(got) == 0 && !hasOld {
		return nil
	}
	for i := 1; i < len(got); i++ {
		for j := i; j > 0 && got[j].Key < got[j-1].Key; j-- {
			got[j], got[j-1] = got[j-1], got[j]
		}
	}
	f.set.reset()
	if hasOld {
		if err := f.tmp.decode(old); err != nil {
			return err
		}
		f.set.merge(f.tmp)
		f.windows.Remove(end)
	}
	for _, g := range got {
		if err := f.tmp.decode(g.Value); err != nil {
			return err
		}
		f.set.merge(f.tmp)
	}
	later := len(got) > 0 && got[len(got)-1].Key != first // a slice after the first
	if err := f.emit(ctx, end-size, end); err != nil {
		return err
	}
	if len(got) > 0 && got[0].Key == first {
		f.slices.Remove(first)
	}
	// The next window holds the slices after first, and the one after
	// end, which registered its own timer when it was created.
	if later {
		f.register(ctx, end+slide, f.spec.TimeCol == ProcTime)
	}
	return nil
}
