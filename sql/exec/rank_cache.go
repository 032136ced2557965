package exec

import "github.com/weirstream/weir/row"

// defaultTopNCacheSize is Flink's default of table.exec.rank.topn-cache-size:
// the rows of decoded tops a Top-N operator subtask keeps in memory.
const defaultTopNCacheSize = 10000

// topCache keeps the decoded tops of the partitions an append-only Top-N
// saw last (Flink's kvSortedMap of AppendOnlyTopNFunction, an LRU cache of
// TopNBuffers by partition key), so that a row neither reads nor decodes
// its partition's state when the partition is cached. The state stays
// authoritative: every change is written to it as without the cache (write
// through), so snapshots, and so checkpoints and savepoints, never depend
// on it; an operator restored, or rescaled, starts with an empty cache
// (Open makes it).
//
// Its size is counted in rows, as Flink's: an entry holding a decoded top
// weighs its rows. When the cache is over its limit, the least recently
// used decoded top gives its rows up but keeps, if it is full, its last
// row (the bar: a row that does not sort before it does not enter the
// top), weighing one row; only when no other decoded top is left is the
// least recently used bar dropped. A top read for a row that does not
// enter it is kept decoded only if that evicts nothing, else only its bar
// is. So a partition whose top does not fit any more still turns away
// rows that do not enter it without reading its state, which is what most
// rows of a Top-N over many partitions do; the decoded tops go to the
// partitions rows enter.
//
// A cached top is never changed: a row that enters makes a new top (the
// heap backend with TTL keeps the slice it is given, and a snapshot being
// written may still see it).
//
// With a state TTL an entry is served only while the state cannot have
// expired: its expiry is the processing time of the entry's last write to
// state plus the TTL (the table TTL refreshes on create and write only,
// and the time is taken before the write, so never later than the
// backend's own expiry). A partition read but not written is not cached
// then (its state's expiry is unknown).
type topCache struct {
	m map[string]*topEntry
	// tops and bars are the sentinels of the lists of entries holding a
	// decoded top and of those holding only a bar, most recently used
	// first (tops.next).
	tops, bars topEntry
	weight     int64 // rows held: len(rows) of decoded entries, 1 per bar
	limit      int64
}

// topEntry is one partition's cached top, or only its bar.
type topEntry struct {
	key string
	// rows is the decoded top, in rank order (nil when only the bar is
	// kept). Never changed once cached.
	rows []row.Row
	// bar is the last row of a full top (full), else unset.
	bar  row.Row
	full bool
	// exp is the processing time from which the state may have expired
	// (0: no TTL).
	exp        int64
	prev, next *topEntry
}

func newTopCache(limit int64) *topCache {
	c := &topCache{m: map[string]*topEntry{}, limit: limit}
	c.tops.prev, c.tops.next = &c.tops, &c.tops
	c.bars.prev, c.bars.next = &c.bars, &c.bars
	return c
}

func (e *topEntry) weight() int64 {
	if e.rows != nil {
		return int64(len(e.rows))
	}
	return 1
}

func (c *topCache) unlink(e *topEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// pushFront puts e first in its list.
func (c *topCache) pushFront(e *topEntry) {
	l := &c.bars
	if e.rows != nil {
		l = &c.tops
	}
	e.prev, e.next = l, l.next
	e.prev.next, e.next.prev = e, e
}

// get returns the entry of key, most recently used now, or nil when there
// is none or it may have expired at processing time now (it is dropped).
func (c *topCache) get(key string, now int64) *topEntry {
	e := c.m[key]
	if e == nil {
		return nil
	}
	if e.exp != 0 && now >= e.exp {
		c.remove(key)
		return nil
	}
	c.unlink(e)
	c.pushFront(e)
	return e
}

// put caches rows as key's top (full when it has n rows or more), with
// expiry exp, and evicts what goes beyond the limit.
func (c *topCache) put(key string, rows []row.Row, n int, exp int64) {
	c.set(key, rows, n, exp, true)
}

// putRead caches the top rows read from state for a row that did not
// enter it (so rows is full): decoded if that evicts nothing, else only
// its bar.
func (c *topCache) putRead(key string, rows []row.Row, n int, exp int64) {
	held := int64(0)
	if e := c.m[key]; e != nil {
		held = e.weight()
	}
	c.set(key, rows, n, exp, c.weight-held+int64(len(rows)) <= c.limit)
}

func (c *topCache) set(key string, rows []row.Row, n int, exp int64, keep bool) {
	e := c.m[key]
	if e == nil {
		e = &topEntry{key: key}
		c.m[key] = e
	} else {
		c.weight -= e.weight()
		c.unlink(e)
	}
	e.rows, e.exp = rows, exp
	e.full = len(rows) >= n && len(rows) > 0
	e.bar = row.Row{}
	if e.full {
		e.bar = rows[len(rows)-1]
		if !keep {
			e.rows = nil
		}
	}
	c.weight += e.weight()
	c.pushFront(e)
	// The least recently used decoded tops give up their rows (keeping
	// their bars) before any bar is dropped: a bar weighs one row and
	// spares a read and a decoding of N.
	for c.weight > c.limit {
		if t := c.tops.prev; t != &c.tops && t != e {
			c.unlink(t)
			c.weight -= t.weight()
			if !t.full {
				delete(c.m, t.key)
				continue
			}
			t.rows = nil
			c.weight++
			c.pushFront(t)
			continue
		}
		t := c.bars.prev
		if t == &c.bars || t == e {
			return // the entry just cached stays, whatever its size
		}
		c.remove(t.key)
	}
}

// remove drops the entry of key, if any.
func (c *topCache) remove(key string) {
	e := c.m[key]
	if e == nil {
		return
	}
	c.weight -= e.weight()
	c.unlink(e)
	delete(c.m, key)
}
