package weir

import (
	"errors"
	"math/bits"
	"slices"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/window"
)

// The window table is the heap fast path of the implicit timer model (see
// windowOp.implicit): event time, the default event-time trigger, windows
// that do not merge, no evictor, no allowed lateness and an incremental
// function (reduce or aggregate). A record then touches one (key, window)
// accumulator, and a window fires for all its keys when the watermark
// passes its end. The table keeps, per live window, an open-addressing
// table keyed by the key, with the key's hash (computed once per record)
// and the accumulator inline; firing a window walks its slots in order and
// recycles them for a later window.
//
// Between snapshots the accumulators live only in the table. A snapshot
// writes them into the heap value state the general path uses (the same
// keyed sections, the same implicit end-of-window timers) when the
// backend freezes the timer service, and the operator drops them from the
// state once the backend's snapshot captured them; a restore reads
// the state back into the table. So the checkpoint format does not change,
// and a checkpoint of either path restores into the other, on any backend
// and at any parallelism.

// windowTable is the operator's view of a tableContents (which is generic
// in the accumulator type as well).
type windowTable[K comparable, T any, W window.Window] interface {
	windowContents[T, W]
	// addHashed adds v to window w for the current key, whose hash is h.
	addHashed(w W, h uint64, v T) error
	// due appends the live windows whose MaxTimestamp is at most wm to dst,
	// in ascending order of their end.
	due(wm int64, dst []W) []W
	// fireAll fires window w for every key that has contents in it, in
	// slot order, and drops the window; each key is made current first and
	// after is called (if not nil) once its result was emitted.
	fireAll(w W, after func(w W) error) error
	// each calls fn for every (key, window) with contents.
	each(fn func(k K, kg int, w W))
	// flush writes the contents into the heap value state, for a snapshot.
	flush()
	// absorb moves the heap value state's contents (restored) into the
	// table; the state is left empty.
	absorb() error
	// dropState empties the heap value state after a snapshot captured it.
	dropState()
}

// tableEntry is one (key, window) of a window's table.
type tableEntry[K comparable, ACC any] struct {
	h    uint64
	used bool
	k    K
	acc  ACC
}

// winTable holds one window's contents.
type winTable[K comparable, W window.Window, ACC any] struct {
	w     W
	end   int64 // w.MaxTimestamp()
	n     int
	shift uint8 // slot index = (h * fib) >> shift
	slots []tableEntry[K, ACC]
}

const fibMul = 0x9E3779B97F4A7C15

func (t *winTable[K, W, ACC]) init(capLog2 int) {
	t.slots = make([]tableEntry[K, ACC], 1<<capLog2)
	t.shift = uint8(64 - capLog2)
	t.n = 0
}

// slot returns the slot holding k, or the empty slot where it goes.
func (t *winTable[K, W, ACC]) slot(k K, h uint64) *tableEntry[K, ACC] {
	return &t.slots[t.index(k, h)]
}

// index returns the index of the slot holding k, or of the empty slot
// where it goes.
func (t *winTable[K, W, ACC]) index(k K, h uint64) uint64 {
	mask := uint64(len(t.slots) - 1)
	i := (h * fibMul) >> t.shift
	for {
		e := &t.slots[i]
		if !e.used || (e.h == h && e.k == k) {
			return i
		}
		i = (i + 1) & mask
	}
}

// grow doubles the table when it is three quarters full.
func (t *winTable[K, W, ACC]) grow() {
	old := t.slots
	t.init(bits.Len(uint(len(old))))
	for i := range old {
		if e := &old[i]; e.used {
			*t.slot(e.k, e.h) = *e
			t.n++
		}
	}
}

// remove deletes the entry in slot i (backward-shift deletion keeps the
// linear probe sequences intact).
func (t *winTable[K, W, ACC]) remove(i uint64) {
	mask := uint64(len(t.slots) - 1)
	j := i
	for {
		j = (j + 1) & mask
		f := &t.slots[j]
		if !f.used {
			break
		}
		home := (f.h * fibMul) >> t.shift
		// f may move to i if its home is not in (i, j] cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)) {
			t.slots[i] = *f
			i = j
		}
	}
	t.slots[i] = tableEntry[K, ACC]{}
	t.n--
}

// tableContents is the window table over the accumulators of an
// incContents, whose heap value state holds the snapshot form.
type tableContents[K comparable, T any, W window.Window, ACC any] struct {
	inc  *incContents[K, T, W, ACC]
	kc   *statebackend.KeyContext[K]
	wins []*winTable[K, W, ACC]
	free []*winTable[K, W, ACC]
	last *winTable[K, W, ACC]
	// ns and cur: the namespace selected through windowContents (cur nil
	// while the window has no contents).
	ns  W
	cur *winTable[K, W, ACC]
	// flushed: the heap state holds the table's contents (for a snapshot).
	flushed bool
}

// maxFreeTables bounds the recycled window tables kept for later windows.
const maxFreeTables = 4

func (c *tableContents[K, T, W, ACC]) lookup(w W) *winTable[K, W, ACC] {
	if c.last != nil && c.last.w == w {
		return c.last
	}
	for _, t := range c.wins {
		if t.w == w {
			c.last = t
			return t
		}
	}
	return nil
}

// open returns window w's table, created (or recycled) if absent.
func (c *tableContents[K, T, W, ACC]) open(w W) *winTable[K, W, ACC] {
	if t := c.lookup(w); t != nil {
		return t
	}
	var t *winTable[K, W, ACC]
	if n := len(c.free); n > 0 {
		t, c.free = c.free[n-1], c.free[:n-1]
	} else {
		t = &winTable[K, W, ACC]{}
		t.init(6)
	}
	t.w, t.end, t.n = w, w.MaxTimestamp(), 0
	c.wins = append(c.wins, t)
	c.last = t
	if w == c.ns {
		c.cur = t
	}
	return t
}

// release drops window table t.
func (c *tableContents[K, T, W, ACC]) release(t *winTable[K, W, ACC]) {
	if i := slices.Index(c.wins, t); i >= 0 {
		c.wins = slices.Delete(c.wins, i, i+1)
	}
	if c.last == t {
		c.last = nil
	}
	if c.cur == t {
		c.cur = nil
	}
	if t.n != 0 {
		clear(t.slots)
		t.n = 0
	}
	if len(c.free) < maxFreeTables {
		c.free = append(c.free, t)
	}
}

func (c *tableContents[K, T, W, ACC]) addHashed(w W, h uint64, v T) error {
	t := c.open(w)
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	e := t.slot(c.kc.Key, h)
	acc, err := c.inc.addFn(e.acc, e.used, v)
	if err != nil {
		return err
	}
	if !e.used {
		e.used, e.h, e.k = true, h, c.kc.Key
		t.n++
	}
	e.acc = acc
	return nil
}

func (c *tableContents[K, T, W, ACC]) due(wm int64, dst []W) []W {
	for _, t := range c.wins {
		if t.end <= wm {
			dst = append(dst, t.w)
		}
	}
	slices.SortStableFunc(dst, func(a, b W) int { return cmpInt64(a.MaxTimestamp(), b.MaxTimestamp()) })
	return dst
}

func (c *tableContents[K, T, W, ACC]) fireAll(w W, after func(w W) error) error {
	t := c.lookup(w)
	if t == nil {
		return nil
	}
	maxPar := c.kc.MaxParallelism
	for i := range t.slots {
		e := &t.slots[i]
		if !e.used {
			continue
		}
		c.kc.SetKnown(e.k, keygroup.Of(e.h, maxPar))
		if err := c.inc.emitFn(w, e.acc); err != nil {
			return err
		}
		if after != nil {
			if err := after(w); err != nil {
				return err
			}
		}
	}
	c.release(t)
	return nil
}

func (c *tableContents[K, T, W, ACC]) each(fn func(k K, kg int, w W)) {
	maxPar := c.kc.MaxParallelism
	for _, t := range c.wins {
		for i := range t.slots {
			if e := &t.slots[i]; e.used {
				fn(e.k, keygroup.Of(e.h, maxPar), t.w)
			}
		}
	}
}

func (c *tableContents[K, T, W, ACC]) flush() {
	if c.flushed {
		c.dropState() // a snapshot taken straight from the backend (tests)
	}
	kc := c.kc
	saved, savedGroup := kc.Key, kc.KeyGroup
	maxPar := kc.MaxParallelism
	for _, t := range c.wins {
		c.inc.v.SetNamespace(t.w)
		for i := range t.slots {
			if e := &t.slots[i]; e.used {
				kc.SetKnown(e.k, keygroup.Of(e.h, maxPar))
				c.inc.v.Update(e.acc)
			}
		}
	}
	kc.SetKnown(saved, savedGroup)
	c.flushed = true
}

// dropper is the heap state's DropNamespaces.
type dropper interface{ DropNamespaces() }

func (c *tableContents[K, T, W, ACC]) dropState() {
	if d, ok := c.inc.v.(dropper); ok {
		d.DropNamespaces()
	}
	c.flushed = false
}

func (c *tableContents[K, T, W, ACC]) absorb() error {
	sp, ok := c.inc.windowSpaces()
	d, ok2 := c.inc.v.(dropper)
	if !ok || !ok2 {
		return errors.New("weir: window table over a state that cannot list its windows")
	}
	kc := c.kc
	var keys []K
	for _, w := range sp.Namespaces(nil) {
		keys = sp.KeysIn(w, keys[:0])
		c.inc.v.SetNamespace(w)
		for _, k := range keys {
			h := kc.Hash(k)
			kc.SetKnown(k, keygroup.Of(h, kc.MaxParallelism))
			acc, ok := c.inc.v.Value()
			if !ok {
				continue
			}
			t := c.open(w)
			if 4*(t.n+1) > 3*len(t.slots) {
				t.grow()
			}
			e := t.slot(k, h)
			if !e.used {
				e.used, e.h, e.k = true, h, k
				t.n++
			}
			e.acc = acc
		}
	}
	d.DropNamespaces()
	return nil
}

// The windowContents methods serve the general code paths that remain in
// table mode (restored timers of other configurations, AfterOpen): they
// address the current key of the selected window.

func (c *tableContents[K, T, W, ACC]) setNamespace(w W) { c.ns, c.cur = w, c.lookup(w) }

func (c *tableContents[K, T, W, ACC]) entry() *tableEntry[K, ACC] {
	if c.cur == nil {
		return nil
	}
	e := c.cur.slot(c.kc.Key, c.kc.Hash(c.kc.Key))
	if !e.used {
		return nil
	}
	return e
}

func (c *tableContents[K, T, W, ACC]) add(v T, _ int64) (bool, error) {
	fresh := c.entry() == nil
	err := c.addHashed(c.ns, c.kc.Hash(c.kc.Key), v)
	return fresh, err
}

func (c *tableContents[K, T, W, ACC]) fire(w W) error {
	e := c.entry()
	if e == nil {
		return nil
	}
	return c.inc.emitFn(w, e.acc)
}

func (c *tableContents[K, T, W, ACC]) clear() {
	if c.entry() == nil {
		return
	}
	c.cur.remove(c.cur.index(c.kc.Key, c.kc.Hash(c.kc.Key)))
	if c.cur.n == 0 {
		c.release(c.cur)
	}
}

func (c *tableContents[K, T, W, ACC]) has() bool { return c.entry() != nil }

func (c *tableContents[K, T, W, ACC]) merge(W, []W) error {
	return errors.New("weir: window table contents do not merge")
}

func (c *tableContents[K, T, W, ACC]) incremental() bool { return true }

// table returns the window table over c's accumulators.
func (c *incContents[K, T, W, ACC]) table(kc *statebackend.KeyContext[K]) windowTable[K, T, W] {
	return &tableContents[K, T, W, ACC]{inc: c, kc: kc}
}

// tableTimers lists the table's implicit end-of-window timers. A snapshot
// freezes them from the heap state, which holds the table's contents while
// the backend takes the snapshot.
type tableTimers[K comparable, T any, W window.Window] struct {
	table  windowTable[K, T, W]
	frozen implicitTimers[K, W]
}

func (x tableTimers[K, T, W]) Each(fn func(runtime.Timer[K, W])) {
	x.table.each(func(k K, kg int, w W) {
		fn(runtime.Timer[K, W]{TS: w.MaxTimestamp(), Key: k, NS: w, KeyGroup: kg})
	})
}

// Freeze writes the table into the heap state and freezes the timers from
// there. The backend freezes its states in the order they were registered,
// and the operator registers its timer service before its contents state:
// so the contents state, frozen next, captures what flush wrote.
func (x tableTimers[K, T, W]) Freeze() func(idx int, fn func(runtime.Timer[K, W])) {
	x.table.flush()
	return x.frozen.Freeze()
}
