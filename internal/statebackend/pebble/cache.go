package pebble

import (
	"encoding/binary"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/statebackend"
)

// entryCache holds the recently read and written entries of one value or
// map state, decoded, in front of Pebble: a record that touches the same
// window count or distinct set as a recent one reads and writes a Go map
// instead of descending Pebble's memtable (the largest cost of stream
// state in Pebble, see docs/benchmarks.md). Writes are buffered (write
// back) and applied to Pebble in one batch when the cache is full, before
// any iteration over the database, and at every snapshot before the
// memtable is flushed, so snapshots and iterations see every write.
//
// Only values that cannot be changed in place are cached (numbers,
// strings, structs and arrays of them): values holding slices, maps or
// pointers go to Pebble encoded, as without the cache.
type entryCache[V any] struct {
	m     map[string]*centry[V]
	dirty []*centry[V]
	limit int
	vc    codec.Codec[V]
	buf   []byte
}

// centry is one cached entry: a value with its expiry, or the knowledge
// that the key has none (present false). Entries are pointers so that a
// hit is updated in place, without allocating a key.
type centry[V any] struct {
	key     string
	v       V
	exp     int64
	present bool
	dirty   bool
}

// newEntryCache returns a cache of limit entries, or nil (no cache) when
// limit is not positive or values of V can be changed in place: a cached
// value is held by reference, so a caller reusing a buffer it stored would
// change the state behind the cache's back, whereas Pebble encodes what it
// is given at once (as Flink's RocksDB backend serialises on write).
func newEntryCache[V any](limit int, vc codec.Codec[V]) *entryCache[V] {
	if limit <= 0 || vc == nil || statebackend.Mutable[V]() {
		return nil
	}
	return &entryCache[V]{m: make(map[string]*centry[V]), limit: limit, vc: vc}
}

// lookup returns the cached entry of key (nil if none).
func (c *entryCache[V]) lookup(key []byte) *centry[V] { return c.m[string(key)] }

// note caches what a read found in Pebble.
func (c *entryCache[V]) note(db *pebble.DB, key []byte, v V, exp int64, present bool) error {
	if len(c.m) >= c.limit {
		if err := c.reset(db); err != nil {
			return err
		}
	}
	e := &centry[V]{key: string(key), v: v, exp: exp, present: present}
	c.m[e.key] = e
	return nil
}

// write records a change of key: a value, or its removal (present false).
func (c *entryCache[V]) write(db *pebble.DB, key []byte, v V, exp int64, present bool) error {
	e := c.m[string(key)]
	if e == nil {
		if len(c.m) >= c.limit {
			if err := c.reset(db); err != nil {
				return err
			}
		}
		e = &centry[V]{key: string(key)}
		c.m[e.key] = e
	}
	if !e.dirty {
		e.dirty = true
		c.dirty = append(c.dirty, e)
	}
	e.v, e.exp, e.present = v, exp, present
	return nil
}

// flush applies the buffered writes to db in one batch; the entries stay
// cached, clean.
func (c *entryCache[V]) flush(db *pebble.DB) error {
	if len(c.dirty) == 0 {
		return nil
	}
	b := db.NewBatch()
	for _, e := range c.dirty {
		if !e.dirty {
			continue
		}
		key := unsafe.Slice(unsafe.StringData(e.key), len(e.key)) // the batch copies it
		var err error
		if e.present {
			c.buf = c.vc.Append(binary.AppendVarint(c.buf[:0], e.exp), e.v)
			err = b.Set(key, c.buf, nil)
		} else {
			err = b.Delete(key, nil)
		}
		if err != nil {
			_ = b.Close()
			return err
		}
		e.dirty = false
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	return b.Commit(pebble.NoSync)
}

// reset flushes and forgets every entry.
func (c *entryCache[V]) reset(db *pebble.DB) error {
	if err := c.flush(db); err != nil {
		return err
	}
	clear(c.m)
	return nil
}

// drop forgets key (after the caller changed it in Pebble directly; only
// valid for clean entries).
func (c *entryCache[V]) drop(key []byte) { delete(c.m, string(key)) }
