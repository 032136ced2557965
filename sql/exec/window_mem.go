package exec

import (
	"fmt"
	"math"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// The slice table: event-time TUMBLE and HOP window aggregations (one
// phase, and the global phase of two) keep their slices in memory, as
// Flink's SlicingWindowOperator keeps its window buffer and as the
// DataStream window table (window_table.go) does: per slice end, a table
// from group key to accumulators, in the order the keys came. A row costs
// one map lookup and an accumulate, no state access and no timer; when a
// watermark passes a window's end - 1, the window fires for all its keys
// at once (the operator flushes its bundle before the watermark goes on,
// weir.WatermarkFlusher), from the slices it holds: a HOP window merges
// its size/slide slices per key, a TUMBLE window is its one slice. A slice
// is dropped once its last window fired.
//
// Snapshots keep the layout of the state-backed path: before a
// checkpoint's barrier (FlushBundle without a watermark) every held
// (key, slice) is written to "window-slices" (HOP) or "window-aggs"
// (TUMBLE) with the timer the state-backed path would have registered (the
// end - 1 of the slice's first window that has not fired). The slices stay
// in memory; once the snapshot captured the state (the next call into the
// function) the written entries and timers are removed again. A restore
// thus finds the state-backed layout, whether written by this code or by
// the code before it: the keys found with window state then (and only
// they) keep running on the state-backed path, with their timers, until
// their state is gone, so their windows fire exactly as before.

// memSlice is one slice's table.
type memSlice struct {
	end  int64
	idx  map[string]int32
	keys []string
	accs []*aggSet
}

// spilled is a (key, slice) written to state for a snapshot.
type spilled struct {
	key   string
	end   int64
	timer int64
}

// memWindows is the slice table of a windowAggFn.
type memWindows struct {
	slide, size int64
	tumble      bool
	slices      []*memSlice // ascending end
	free        []*aggSet
	freeSlices  []*memSlice
	opMetrics   *operator.Metrics
	// lastWm is the last watermark seen (FlushesOnWatermark); pending is
	// the watermark whose windows the next FlushBundle fires.
	lastWm     int64
	pending    int64
	hasPending bool
	// started: the restored keys were listed; restored holds the keys
	// whose windows are in state (the state-backed path).
	started  bool
	restored map[string]struct{}
	spill    []spilled
	// merge scratch (HOP windows of several slices)
	mIdx  map[string]int32
	mKeys []string
	mAccs []*aggSet
	// window ends scratch (memEnds, memFire)
	ends, due []int64
	// lazy: the table's windows with fire times in (lazyFrom, lazyTo]
	// fire with the event-time timers of the keys on the state-backed
	// path, in time order (memFireInOrder).
	lazy             bool
	lazyFrom, lazyTo int64
	// n counts the held (key, slice) entries; past limit the table moves
	// into state (memCheckLimit).
	n, limit int
}

// memWindowMaxEntries bounds the slice table's (key, slice) entries
// (Flink bounds its window buffer by managed memory): past it the entries
// move into keyed state, and their keys go on on the state-backed path
// (a key comes back to the table once its window state is empty).
const memWindowMaxEntries = 1 << 20

// useMem reports whether a spec's windows go to the slice table.
func useMem(s WindowAggSpec, set *aggSet) bool {
	if s.perWindow || s.stateBacked || s.TimeCol == ProcTime || s.UpdatingInput || set.hasDistinct() {
		return false
	}
	switch s.Window.Kind {
	case TumbleWindow:
	case HopWindow:
		if s.Window.Size.Milliseconds()%s.Window.Slide.Milliseconds() != 0 {
			return false
		}
	default:
		return false
	}
	for _, k := range set.calls {
		if !mergeable(k.Func) || (k.UDF != nil && !k.UDF.CanMerge()) {
			return false
		}
	}
	return true
}

func newMemWindows(w Window, m *operator.Metrics) *memWindows {
	mw := &memWindows{size: w.Size.Milliseconds(), opMetrics: m, lastWm: math.MinInt64, mIdx: map[string]int32{}, limit: memWindowMaxEntries}
	if w.Kind == TumbleWindow {
		mw.slide, mw.tumble = mw.size, true
	} else {
		mw.slide = w.Slide.Milliseconds()
	}
	return mw
}

// start lists, once, the keys restored with window state, and removes the
// entries and timers written for the last snapshot.
func (f *windowAggFn) memStart(ctx *weir.KeyedContext[string, row.Row]) error {
	m := f.mem
	if len(m.spill) > 0 {
		cur := ctx.Key()
		for _, s := range m.spill {
			if err := ctx.SetCurrentKey(s.key); err != nil {
				return err
			}
			if m.tumble {
				f.windows.Remove(s.end)
			} else {
				f.slices.Remove(s.end)
			}
			ctx.DeleteEventTimeTimer(s.timer)
		}
		clear(m.spill)
		m.spill = m.spill[:0]
		if err := ctx.SetCurrentKey(cur); err != nil {
			return err
		}
	}
	if m.started {
		return nil
	}
	m.started = true
	add := func(k string) {
		if m.restored == nil {
			m.restored = map[string]struct{}{}
		}
		m.restored[k] = struct{}{}
	}
	if err := state.KeysOf[string](f.windows, add); err != nil {
		return err
	}
	if f.slices != nil {
		if err := state.KeysOf[string](f.slices, add); err != nil {
			return err
		}
	}
	return nil
}

// memOwns reports whether the current key's windows are in the slice
// table (not restored into state).
func (f *windowAggFn) memOwns(ctx *weir.KeyedContext[string, row.Row]) (bool, error) {
	if err := f.memStart(ctx); err != nil {
		return false, err
	}
	if len(f.mem.restored) == 0 {
		return true, nil
	}
	_, r := f.mem.restored[ctx.Key()]
	return !r, nil
}

// memEntry returns the accumulators of key in the slice ending at end,
// created empty if absent.
func (f *windowAggFn) memEntry(key string, end int64) *aggSet {
	m := f.mem
	var s *memSlice
	i, found := slices.BinarySearchFunc(m.slices, end, func(s *memSlice, e int64) int {
		switch {
		case s.end < e:
			return -1
		case s.end > e:
			return 1
		}
		return 0
	})
	if found {
		s = m.slices[i]
	} else {
		if n := len(m.freeSlices); n > 0 {
			s, m.freeSlices = m.freeSlices[n-1], m.freeSlices[:n-1]
		} else {
			s = &memSlice{idx: map[string]int32{}}
		}
		s.end = end
		m.slices = slices.Insert(m.slices, i, s)
	}
	if j, ok := s.idx[key]; ok {
		return s.accs[j]
	}
	a := f.memAcc()
	m.n++
	s.idx[key] = int32(len(s.keys))
	s.keys = append(s.keys, key)
	s.accs = append(s.accs, a)
	return a
}

// memAcc returns empty accumulators.
func (f *windowAggFn) memAcc() *aggSet {
	m := f.mem
	if n := len(m.free); n > 0 {
		a := m.free[n-1]
		m.free = m.free[:n-1]
		a.reset()
		return a
	}
	a := f.set.clone(f.spec.InputTypes, false)
	a.reset()
	return a
}

// memLate reports whether the slice ending at end has no window left
// that has not fired at the watermark wm.
func (f *windowAggFn) memLate(end, wm int64) bool {
	return f.spec.Window.fire(end+f.mem.size-f.mem.slide) <= wm
}

// memAdd accumulates a row of time t (local) into its slice.
func (f *windowAggFn) memAdd(ctx *weir.KeyedContext[string, row.Row], in row.Row, t int64) error {
	end := f.spec.Window.sliceEndOf(t)
	if f.memLate(end, ctx.CurrentWatermark()) {
		f.late()
		return nil
	}
	a := f.memEntry(ctx.Key(), end)
	a.apply(in, false)
	if err := a.failed(); err != nil {
		return fmt.Errorf("sql: WindowAggregate on row %s: %w", row.FormatRow(in, f.spec.InputTypes), err)
	}
	return f.memCheckLimit(ctx)
}

// memCheckLimit moves the table into state when it holds more than its
// limit of entries.
func (f *windowAggFn) memCheckLimit(ctx *weir.KeyedContext[string, row.Row]) error {
	m := f.mem
	if m.n <= m.limit {
		return nil
	}
	cur := ctx.Key()
	if err := f.memWrite(ctx, false); err != nil {
		return err
	}
	for _, s := range m.slices {
		for _, k := range s.keys {
			if m.restored == nil {
				m.restored = map[string]struct{}{}
			}
			m.restored[k] = struct{}{}
		}
		f.memRecycle(s)
	}
	clear(m.slices)
	m.slices = m.slices[:0]
	return ctx.SetCurrentKey(cur)
}

// memMerge merges a local aggregate's accumulators (f.part) for the slice
// ending at end.
func (f *windowAggFn) memMerge(ctx *weir.KeyedContext[string, row.Row], end int64) error {
	if f.memLate(end, ctx.CurrentWatermark()) {
		f.lateRows(f.part.rows)
		return nil
	}
	a := f.memEntry(ctx.Key(), end)
	a.merge(f.part)
	if err := a.failed(); err != nil {
		return err
	}
	return f.memCheckLimit(ctx)
}

// FlushesOnWatermark asks for FlushBundle before the watermark wm when
// it fires a window of the slice table (weir.WatermarkFlusher).
func (f *windowAggFn) FlushesOnWatermark(wm int64) bool {
	m := f.mem
	if m == nil {
		return false
	}
	prev := m.lastWm
	if wm <= prev {
		return false
	}
	m.lastWm = wm
	// The final watermark fires the whole table from memory: without
	// the pending flush it would be written to state first, as for a
	// barrier, and fired by memFinal from its timers.
	if !m.started || len(m.spill) > 0 || wm == operator.MaxWatermark {
		m.pending, m.hasPending = prev, true
		return true
	}
	if len(m.slices) == 0 {
		return false
	}
	if _, ok := f.nextDue(prev, wm); ok {
		m.pending, m.hasPending = prev, true
		return true
	}
	return false
}

// nextDue returns the first window end with contents whose fire time is
// in (prev, wm]: the smallest end of a window holding a slice that fires
// after prev (fire times grow with the end), if it fires by wm.
func (f *windowAggFn) nextDue(prev, wm int64) (int64, bool) {
	m := f.mem
	w := f.spec.Window
	best, ok := int64(0), false
	for _, s := range m.slices {
		if ok && s.end >= best {
			break
		}
		for e := s.end; e <= s.end+m.size-m.slide && (!ok || e < best); e += m.slide {
			if w.fire(e) > prev {
				best, ok = e, true
				break
			}
		}
	}
	if !ok || w.fire(best) > wm {
		return 0, false
	}
	return best, true
}

// memEnds returns the ends of the windows that hold a slice, ascending
// (only those: the slices may lie far apart on the time axis).
func (f *windowAggFn) memEnds() []int64 {
	m := f.mem
	m.ends = m.ends[:0]
	for _, s := range m.slices {
		for e := s.end; e <= s.end+m.size-m.slide; e += m.slide {
			m.ends = append(m.ends, e)
		}
	}
	slices.Sort(m.ends)
	m.ends = slices.Compact(m.ends)
	return m.ends
}

// FlushBundle fires the windows the pending watermark passes, or, before
// a barrier or at the end of input, writes the slice table to state
// (weir.BundleFlusher).
func (f *windowAggFn) FlushBundle(ctx *weir.KeyedContext[string, row.Row]) error {
	m := f.mem
	if m == nil {
		return nil
	}
	if err := f.memStart(ctx); err != nil {
		return err
	}
	switch {
	case m.hasPending:
		m.hasPending = false
		return f.memFireInOrder(ctx, m.pending, m.lastWm, false, 0)
	}
	// A barrier or the end of input: write the table for a snapshot.
	// (The final watermark asks FlushesOnWatermark and fires the table
	// above; were it flushed without asking, the timers written here
	// would fire next, and memFinal would fire the table.)
	return f.memSpill(ctx)
}

// memFinal is called when the timer at ts fires: if the table is still written
// to state for a snapshot, the watermark is the final one (any other
// watermark asks FlushesOnWatermark first, which flushes while entries
// are written, and that flush removes them): the written entries and
// timers are removed and every window of the table fires.
func (f *windowAggFn) memFinal(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	m := f.mem
	final := len(m.spill) > 0
	if err := f.memStart(ctx); err != nil {
		return err
	}
	if !final {
		return nil
	}
	prev := m.lastWm
	m.lastWm = operator.MaxWatermark
	return f.memFireInOrder(ctx, prev, operator.MaxWatermark, true, ts)
}

// memFire emits the windows whose fire time is in (prev, wm], in order of
// their end, and drops the slices whose last window is among them.
func (f *windowAggFn) memFire(ctx *weir.KeyedContext[string, row.Row], prev, wm int64) error {
	m := f.mem
	w := f.spec.Window
	m.due = append(m.due[:0], f.memEnds()...)
	for _, e := range m.due {
		ft := w.fire(e)
		if ft > wm {
			break
		}
		if ft <= prev {
			continue
		}
		if err := f.memFireWindow(ctx, e); err != nil {
			return err
		}
		// Slices whose last window ended at e are done.
		n := 0
		for _, s := range m.slices {
			if s.end+m.size-m.slide <= e {
				f.memRecycle(s)
				continue
			}
			m.slices[n] = s
			n++
		}
		clear(m.slices[n:])
		m.slices = m.slices[:n]
	}
	return nil
}

// memRecycle keeps a dropped slice's table and accumulators for reuse.
func (f *windowAggFn) memRecycle(s *memSlice) {
	m := f.mem
	m.free = append(m.free, s.accs...)
	m.n -= len(s.accs)
	clear(s.accs)
	clear(s.keys)
	clear(s.idx)
	s.accs, s.keys = s.accs[:0], s.keys[:0]
	m.freeSlices = append(m.freeSlices, s)
}

// memFireWindow emits the window ending at e for every key of its slices.
func (f *windowAggFn) memFireWindow(ctx *weir.KeyedContext[string, row.Row], e int64) error {
	m := f.mem
	start := e - m.size
	var in []*memSlice
	for _, s := range m.slices {
		if s.end > start && s.end <= e {
			in = append(in, s)
		}
	}
	if len(in) == 1 {
		s := in[0]
		for i, k := range s.keys {
			if err := f.emitKey(ctx, k, s.accs[i], start, e); err != nil {
				return err
			}
		}
		return nil
	}
	// Merge per key, keys in the order of their first slice.
	for _, s := range in {
		for i, k := range s.keys {
			j, ok := m.mIdx[k]
			if !ok {
				j = int32(len(m.mKeys))
				m.mIdx[k] = j
				m.mKeys = append(m.mKeys, k)
				m.mAccs = append(m.mAccs, f.memAcc())
			}
			m.mAccs[j].merge(s.accs[i])
		}
	}
	var err error
	for i, k := range m.mKeys {
		if err == nil {
			err = f.emitKey(ctx, k, m.mAccs[i], start, e)
		}
	}
	m.free = append(m.free, m.mAccs...)
	clear(m.mAccs)
	clear(m.mKeys)
	clear(m.mIdx)
	m.mAccs, m.mKeys = m.mAccs[:0], m.mKeys[:0]
	return err
}

// memSpill writes the slice table to state in the state-backed layout,
// for a snapshot; memStart removes it again.
func (f *windowAggFn) memSpill(ctx *weir.KeyedContext[string, row.Row]) error {
	return f.memWrite(ctx, true)
}

// memWrite writes the slice table to state in the state-backed layout,
// with the timers; spill: listed for memStart to remove.
func (f *windowAggFn) memWrite(ctx *weir.KeyedContext[string, row.Row], spill bool) error {
	m := f.mem
	if len(m.slices) == 0 {
		return nil
	}
	wm := ctx.CurrentWatermark()
	w := f.spec.Window
	for _, s := range m.slices {
		first := s.end
		for w.fire(first) <= wm {
			first += m.slide
		}
		timer := w.fire(first)
		for i, k := range s.keys {
			if err := ctx.SetCurrentKey(k); err != nil {
				return err
			}
			enc := s.accs[i].encode()
			if m.tumble {
				f.windows.Put(s.end, enc)
			} else {
				f.slices.Put(s.end, enc)
			}
			ctx.RegisterEventTimeTimer(timer)
			if spill {
				m.spill = append(m.spill, spilled{key: k, end: s.end, timer: timer})
			}
		}
	}
	return nil
}

// memForget drops the current key from the restored keys once its window
// state is gone.
func (f *windowAggFn) memForget(ctx *weir.KeyedContext[string, row.Row]) {
	if len(f.mem.restored) == 0 {
		return
	}
	for range f.windows.All() {
		return
	}
	if f.slices != nil {
		for range f.slices.All() {
			return
		}
	}
	delete(f.mem.restored, ctx.Key())
}
