package weir

import (
	"errors"
	"math/bits"
	"slices"

	"github.com/weirstream/weir/internal/cacheline"
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
// and the accumulator inline; firing a window walks its entries in order and
// recycles the table for a later window.
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
	h   uint64
	k   K
	acc ACC
}

// winTable holds one window's contents: the entries, dense in the order
// the keys came, and an open-addressing index on the key hash (linear
// probing; a slot holds the entry's position+1 in its low 32 bits and the
// hash's high 32 bits above, so a probe reads an entry only when they
// match). The index is small enough to stay in cache; firing walks the
// entries in order. The header is padded (see package cacheline): entries
// grows by a key per record while the window fills, and the tables of the
// operator's other subtasks, allocated next to this one, grow on other
// cores.
type winTable[K comparable, W window.Window, ACC any] struct {
	_       cacheline.Pad
	w       W
	end     int64 // w.MaxTimestamp()
	shift   uint8 // home slot = (h * fibMul) >> shift
	index   []uint64
	entries []tableEntry[K, ACC]
	_       cacheline.Pad
}

const (
	fibMul  = 0x9E3779B97F4A7C15
	tagMask = 0xFFFFFFFF00000000
	// maxTableEntries bounds a window table (positions fit 32 bits).
	maxTableEntries = 1<<32 - 2
)

// init gives the table an empty index of 1<<capLog2 slots.
func (t *winTable[K, W, ACC]) init(capLog2 int) {
	if len(t.index) == 1<<capLog2 {
		clear(t.index)
	} else {
		t.index = make([]uint64, 1<<capLog2)
	}
	t.shift = uint8(64 - capLog2)
}

// lookup returns the index slot of k: the one holding it, or the empty
// slot where it goes.
func (t *winTable[K, W, ACC]) lookup(k K, h uint64) (slot uint64, found bool) {
	mask := uint64(len(t.index) - 1)
	tag := h & tagMask
	i := (h * fibMul) >> t.shift
	for {
		x := t.index[i]
		if x == 0 {
			return i, false
		}
		if x&tagMask == tag {
			if e := &t.entries[uint32(x)-1]; e.h == h && e.k == k {
				return i, true
			}
		}
		i = (i + 1) & mask
	}
}

// entry returns k's entry, added (zero accumulator) if absent; fresh
// tells whether it was.
func (t *winTable[K, W, ACC]) entry(k K, h uint64) (e *tableEntry[K, ACC], fresh bool, err error) {
	slot, found := t.lookup(k, h)
	if found {
		return &t.entries[uint32(t.index[slot])-1], false, nil
	}
	n := len(t.entries)
	if 4*(n+1) > 3*len(t.index) {
		if n >= maxTableEntries {
			return nil, false, errors.New("weir: too many keys in one window of a subtask")
		}
		t.grow()
		slot, _ = t.lookup(k, h)
	}
	t.entries = append(t.entries, tableEntry[K, ACC]{h: h, k: k})
	t.index[slot] = uint64(n+1) | h&tagMask
	return &t.entries[n], true, nil
}

// grow doubles the index when it is three quarters full.
func (t *winTable[K, W, ACC]) grow() {
	t.init(bits.Len(uint(len(t.index))))
	mask := uint64(len(t.index) - 1)
	for n := range t.entries {
		h := t.entries[n].h
		i := (h * fibMul) >> t.shift
		for t.index[i] != 0 {
			i = (i + 1) & mask
		}
		t.index[i] = uint64(n+1) | h&tagMask
	}
}

// remove deletes k's entry, if any: backward-shift deletion in the index
// (which keeps the probe sequences intact), and the last entry moves into
// the hole.
func (t *winTable[K, W, ACC]) remove(k K, h uint64) {
	i, found := t.lookup(k, h)
	if !found {
		return
	}
	pos := uint32(t.index[i]) - 1
	mask := uint64(len(t.index) - 1)
	j := i
	for {
		j = (j + 1) & mask
		x := t.index[j]
		if x == 0 {
			break
		}
		home := (t.entries[uint32(x)-1].h * fibMul) >> t.shift
		// The slot at j may move to i unless its home lies in (i, j]
		// cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.index[i] = x
			i = j
		}
	}
	t.index[i] = 0
	last := uint32(len(t.entries) - 1)
	if pos != last {
		moved := t.entries[last]
		s, _ := t.lookup(moved.k, moved.h)
		t.entries[pos] = moved
		t.index[s] = uint64(pos+1) | moved.h&tagMask
	}
	var zero tableEntry[K, ACC]
	t.entries[last] = zero
	t.entries = t.entries[:last]
}

// tableContents is the window table over the accumulators of an
// incContents, whose heap value state holds the snapshot form.
type tableContents[K comparable, T any, W window.Window, ACC any] struct {
	inc  *incContents[K, T, W, ACC]
	kc   *statebackend.KeyContext[K]
	wins []*winTable[K, W, ACC]
	// byWin finds a live window's table when it is not the last used
	// (sliding windows, out-of-order input, many live windows).
	byWin map[W]*winTable[K, W, ACC]
	free  []*winTable[K, W, ACC]
	last  *winTable[K, W, ACC]
	// opened is the window table opened last (nil once released): its
	// size is the next table's size hint.
	opened *winTable[K, W, ACC]
	// peak is the most window tables live at once.
	peak int
	// ns and cur: the namespace selected through windowContents (cur nil
	// while the window has no contents).
	ns  W
	cur *winTable[K, W, ACC]
	// flushed: the heap state holds the table's contents (for a snapshot).
	flushed bool
}

// maxFreeTables bounds the recycled window tables kept for later windows.
// Up to as many as were live at once are kept: the watermark comes
// periodically, so windows fire in bursts and as many open again before
// the next one (recycled, their memory is not allocated and faulted in
// again, and the memory held stays the peak the stream needed anyway).
const maxFreeTables = 1024

func (c *tableContents[K, T, W, ACC]) lookup(w W) *winTable[K, W, ACC] {
	if c.last != nil && c.last.w == w {
		return c.last
	}
	if len(c.wins) <= maxScannedWindows {
		for _, t := range c.wins {
			if t.w == w {
				c.last = t
				return t
			}
		}
		return nil
	}
	if t := c.byWin[w]; t != nil {
		c.last = t
		return t
	}
	return nil
}

// maxScannedWindows: up to this many live windows, a window's table is
// found by comparing windows (cheaper than hashing one), beyond it in
// byWin.
const maxScannedWindows = 16

// open returns window w's table, created (or recycled) if absent.
func (c *tableContents[K, T, W, ACC]) open(w W) *winTable[K, W, ACC] {
	if t := c.lookup(w); t != nil {
		return t
	}
	// Size the table for as many keys as the window opened last holds
	// (windows of one stream hold similar numbers of keys; the watermark
	// lags, so many windows may be live and the free list empty).
	capLog2, hint := 6, 0
	if c.opened != nil {
		hint = len(c.opened.entries)
		capLog2 = max(capLog2, bits.Len(uint(hint*4/3)))
	}
	var t *winTable[K, W, ACC]
	if n := len(c.free); n > 0 {
		t, c.free = c.free[n-1], c.free[:n-1]
		t.init(max(capLog2, 64-int(t.shift)))
	} else {
		t = &winTable[K, W, ACC]{}
		t.init(capLog2)
	}
	if cap(t.entries) < hint {
		t.entries = make([]tableEntry[K, ACC], 0, hint+hint/8)
	} else {
		clear(t.entries[:min(cap(t.entries), hint+hint/8)])
	}
	c.opened = t
	t.w, t.end = w, w.MaxTimestamp()
	c.wins = append(c.wins, t)
	if c.byWin == nil {
		c.byWin = map[W]*winTable[K, W, ACC]{}
	}
	c.byWin[w] = t
	c.peak = max(c.peak, len(c.wins))
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
	delete(c.byWin, t.w)
	if c.last == t {
		c.last = nil
	}
	if c.opened == t {
		c.opened = nil
	}
	if c.cur == t {
		c.cur = nil
	}
	// The index and the entries are cleared when the table is used again:
	// they are then streamed into the cache just before the window's
	// accesses (a table not kept is cleared now, for the collector).
	if len(c.free) < min(c.peak, maxFreeTables) {
		t.entries = t.entries[:0]
		c.free = append(c.free, t)
	} else {
		clear(t.entries)
	}
}

func (c *tableContents[K, T, W, ACC]) addHashed(w W, h uint64, v T) error {
	t := c.open(w)
	e, fresh, err := t.entry(c.kc.Key, h)
	if err != nil {
		return err
	}
	acc, err := c.inc.addFn(e.acc, !fresh, v)
	if err != nil {
		if fresh {
			t.remove(c.kc.Key, h)
			if len(t.entries) == 0 {
				c.release(t)
			}
		}
		return err
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
	for i := range t.entries {
		e := &t.entries[i]
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
		for i := range t.entries {
			e := &t.entries[i]
			fn(e.k, keygroup.Of(e.h, maxPar), t.w)
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
		for i := range t.entries {
			e := &t.entries[i]
			kc.SetKnown(e.k, keygroup.Of(e.h, maxPar))
			c.inc.v.Update(e.acc)
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
			e, _, err := c.open(w).entry(k, h)
			if err != nil {
				return err
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
	slot, found := c.cur.lookup(c.kc.Key, c.kc.Hash(c.kc.Key))
	if !found {
		return nil
	}
	return &c.cur.entries[uint32(c.cur.index[slot])-1]
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
	if c.cur == nil {
		return
	}
	c.cur.remove(c.kc.Key, c.kc.Hash(c.kc.Key))
	if len(c.cur.entries) == 0 {
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
