package exec

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// One watermark's windows go out in order of their end across the slice
// table and the keys on the state-backed path (restored with window
// state, or moved into state past the table's cap), as Flink's window
// operators emit by timer: the table fires before the watermark's timers
// (FlushBundle) and the state-backed keys in them (OnTimer), so without
// more the table's windows all went out before a state-backed key's
// window that ended earlier.
//
// When keys are on the state-backed path, the table's due windows fire
// lazily instead: each timer first fires the table's windows whose fire
// time is at or before its own (OnTimer, memFireDue), and a timer at the
// last due window's fire time, registered for a key on the state-backed
// path (or the key of the timer firing), makes sure that all of them fire
// before the watermark goes on. The timer service fires timers in time
// order, including those registered while it fires, so windows of equal
// end go out the table's first, then the state-backed keys'. That timer
// fires within the same watermark, so no snapshot holds it; for its key
// it fires nothing (the key has no window ending there, or fires that
// window as it would have anyway).

// memFireInOrder fires the table's windows whose fire time is in
// (prev, wm]: at once when no key is on the state-backed path, otherwise
// lazily (see above). inTimer: called from OnTimer of the timer at ts
// (the final watermark), whose current key gets the timer, unless the
// last due window fires by ts: memFireDue fires them all then, and a
// timer registered again at ts for the key whose timer at ts is firing
// would fire it a second time (a HOP window whose later slices are still
// in state would go out again, without its first slice).
func (f *windowAggFn) memFireInOrder(ctx *weir.KeyedContext[string, row.Row], prev, wm int64, inTimer bool, ts int64) error {
	m := f.mem
	if len(m.restored) == 0 {
		return f.memFire(ctx, prev, wm)
	}
	last, ok := f.lastDue(prev, wm)
	if !ok {
		return nil
	}
	m.lazy, m.lazyFrom, m.lazyTo = true, prev, last
	if inTimer && last <= ts {
		return nil
	}
	if !inTimer {
		for k := range m.restored {
			if err := ctx.SetCurrentKey(k); err != nil {
				return err
			}
			break
		}
	}
	ctx.RegisterEventTimeTimer(last)
	return nil
}

// memFireDue fires, in OnTimer, the table's lazily firing windows whose
// fire time is at or before the timer's, ts.
func (f *windowAggFn) memFireDue(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	m := f.mem
	if !m.lazy {
		return nil
	}
	to := min(ts, m.lazyTo)
	if to <= m.lazyFrom {
		return nil
	}
	from := m.lazyFrom
	m.lazyFrom = to
	if to == m.lazyTo {
		m.lazy = false
	}
	return f.memFire(ctx, from, to)
}

// lastDue returns the latest fire time in (prev, wm] of a window holding
// a slice of the table.
func (f *windowAggFn) lastDue(prev, wm int64) (int64, bool) {
	w := f.spec.Window
	ends := f.memEnds()
	for i := len(ends) - 1; i >= 0; i-- {
		ft := w.fire(ends[i])
		if ft <= wm {
			return ft, ft > prev
		}
	}
	return 0, false
}
