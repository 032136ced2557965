package exec

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// accCache keeps the decoded accumulators of the groups a GroupAggregate
// saw last, so that a row of such a group neither reads nor decodes its
// state nor encodes and writes it: the encoding is written once, when the
// group leaves the cache (another group takes its slot) or when the
// engine flushes the function's bundle (FlushBundle: before every
// checkpoint barrier, on the final watermark and at the end of input).
// Snapshots, and so the checkpoint format, see the state as without the
// cache. This is Flink's heap state backend keeping accumulator objects
// rather than bytes, for the groups at hand.
//
// The cache is used by the fast path only (no user-defined calls), with
// mini-batch off (a bundle already reads and writes each group once), in
// one-phase aggregates, and without state TTL (whose timestamps are those
// of each row's write). With DISTINCT calls it has one slot, the
// function's own aggSet (the calls' distinct views are bound to it, and
// their entries are written per row as without the cache), as with calls
// whose accumulators grow with the group's rows (bounded); else each
// slot has an aggSet of its own.
type accCache struct {
	slots []cacheSlot
	// index maps a group's key to its slot (nil for a single slot).
	index map[string]int
	// hand is the next slot to give away when all are taken (a clock
	// without reference bits: a group in the cache is the hot one here
	// as in a plain round robin).
	hand int
	// seen and hits count the rows of the current window of cacheWindow
	// rows and those that found their group cached; bypass is the number
	// of rows still to handle without the cache, after a window with
	// fewer than 1 hit in 8, 1 in 2 for a single slot (groups rarely come
	// back while cached: a miss costs more than the path without the
	// cache).
	seen, hits, bypass int
	// window is cacheWindow (tests set less).
	window int
}

// The cache's window and bypass lengths, in rows.
const (
	cacheWindow     = 1024
	cacheBypassRows = 16 * cacheWindow
)

// cacheOn reports whether the row (of the group set in ctx) goes through
// the cache; when a window ends with few hits, it empties the cache
// (writing what changed) and turns it off for cacheBypassRows rows.
func (f *groupAggFn) cacheOn(ctx *weir.KeyedContext[string, row.Row]) (bool, error) {
	c := f.cache
	if c.bypass > 0 {
		c.bypass--
		return false, nil
	}
	if c.seen < c.window {
		return true, nil
	}
	// One slot saves less per hit (the fast path skips the decode of
	// the group it wrote last anyway), so it needs 1 hit in 2.
	few := c.hits*8 < c.seen || (c.index == nil && c.hits*2 < c.seen)
	c.seen, c.hits = 0, 0
	if !few {
		return true, nil
	}
	key := ctx.Key()
	if err := f.flushCache(ctx); err != nil {
		return false, err
	}
	if err := ctx.SetCurrentKey(key); err != nil {
		return false, err
	}
	for i := range c.slots {
		c.forget(i)
	}
	c.bypass = c.window * (cacheBypassRows / cacheWindow)
	return false, nil
}

// cacheSlot is one group's accumulators. A slot in the index holds a
// group that has state (its row count is above 0); dirty tells that the
// accumulators changed since they were last written to state.
type cacheSlot struct {
	key   string
	set   *aggSet
	dirty bool
	used  bool
}

// accCacheSlots is the number of groups cached without DISTINCT calls
// (when every call's accumulator has a bounded size: see bounded). In
// Nexmark's q17 (GROUP BY auction, day) 64 slots keep about 3 of 4 bids'
// groups, 512 about 9 of 10.
const accCacheSlots = 512

// bounded reports whether the accumulators of set have a size that does
// not grow with the rows of the group (counts, sums, averages, MIN, MAX,
// FIRST_VALUE and LAST_VALUE over an insert-only input), so that many
// groups can be cached: the ones that keep a multiset or a list (LISTAGG,
// ARRAY_AGG, MIN and MAX with retraction, ...) could keep much memory
// alive.
func bounded(set *aggSet) bool {
	for _, k := range set.calls {
		switch a := k.acc.(type) {
		case *countAcc, *sumAcc, *avgAcc:
		case *minMaxAcc:
			if a.retracting {
				return false
			}
		case *firstLastAcc:
			if a.retracting {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// newAccCache returns the cache of f, or nil when f must not use one.
func newAccCache(f *groupAggFn) *accCache {
	if f.spec.noCache || !f.fast || f.global || f.mb != nil || f.spec.StateTTL > 0 {
		return nil
	}
	n := accCacheSlots
	if f.spec.cacheSlots > 0 {
		n = f.spec.cacheSlots
	}
	if f.set.hasDistinct() || !bounded(f.set) {
		n = 1
	}
	c := &accCache{slots: make([]cacheSlot, n), window: cacheWindow}
	if n > 1 {
		c.index = make(map[string]int, n)
	}
	if f.spec.cacheWindow > 0 {
		c.window = f.spec.cacheWindow
	}
	if n == 1 {
		c.slots[0].set = f.set
		return c
	}
	for i := range c.slots {
		c.slots[i].set = f.set.clone(f.spec.InputTypes, !f.spec.InsertOnly)
	}
	return c
}

// processCached is ProcessElement with the cache (the key is set, legacy
// state checked).
func (f *groupAggFn) processCached(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	c := f.cache
	key := ctx.Key()
	retract := in.Kind.IsRetract()
	c.seen++
	if i, ok := c.find(key); ok {
		c.hits++
		s := &c.slots[i]
		f.set = s.set
		s.dirty = true
		return f.process(ctx, in, retract, false)
	}
	enc, ok := f.acc.Value()
	first := !ok
	if first && retract {
		if f.spec.Counters != nil {
			f.spec.Counters.IgnoredRetractions.Add(1)
		}
		return nil
	}
	i, err := f.cacheSlot(ctx, key)
	if err != nil {
		return err
	}
	s := &c.slots[i]
	f.set = s.set
	f.loaded = "" // the slot's set holds another group's accumulators
	if err := f.loadAccs(enc, first); err != nil {
		c.forget(i)
		return err
	}
	s.key, s.used, s.dirty = key, true, true
	if c.index != nil {
		c.index[key] = i
	}
	return f.process(ctx, in, retract, first)
}

// cacheSlot returns a slot for the group key: a free one, else the one at
// the hand, whose group's accumulators are written to its state first
// (under its key, then key is set back).
func (f *groupAggFn) cacheSlot(ctx *weir.KeyedContext[string, row.Row], key string) (int, error) {
	c := f.cache
	if c.index == nil || len(c.index) < len(c.slots) {
		for i := range c.slots {
			if !c.slots[i].used {
				return i, nil
			}
		}
	}
	i := c.hand
	c.hand = (c.hand + 1) % len(c.slots)
	s := &c.slots[i]
	if s.dirty {
		if err := ctx.SetCurrentKey(s.key); err != nil {
			return 0, err
		}
		f.acc.Update(s.set.encode())
		if err := ctx.SetCurrentKey(key); err != nil {
			return 0, err
		}
	}
	c.forget(i)
	return i, nil
}

// find returns the slot of the group key, if cached. A single slot has
// no index: its key is compared.
func (c *accCache) find(key string) (int, bool) {
	if c.index == nil {
		return 0, c.slots[0].used && c.slots[0].key == key
	}
	i, ok := c.index[key]
	return i, ok
}

// forget empties slot i.
func (c *accCache) forget(i int) {
	s := &c.slots[i]
	if s.used && c.index != nil {
		delete(c.index, s.key)
	}
	s.key, s.used, s.dirty = "", false, false
}

// cacheDropped forgets the group key, whose state process dropped (its
// last row was retracted).
func (f *groupAggFn) cacheDropped(key string) {
	if i, ok := f.cache.find(key); ok {
		f.cache.forget(i)
	}
}

// flushCache writes the accumulators of every changed group in the cache
// to their state; they stay in the cache.
func (f *groupAggFn) flushCache(ctx *weir.KeyedContext[string, row.Row]) error {
	c := f.cache
	if c == nil {
		return nil
	}
	for i := range c.slots {
		s := &c.slots[i]
		if !s.dirty {
			continue
		}
		if err := ctx.SetCurrentKey(s.key); err != nil {
			return err
		}
		f.acc.Update(s.set.encode())
		s.dirty = false
	}
	return nil
}
