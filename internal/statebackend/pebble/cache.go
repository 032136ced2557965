package pebble

import (
	"encoding/binary"
	"unsafe"

	"github.com/weirstream/weir/internal/statebackend/kv"

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
// Values that cannot be changed in place (numbers, strings, structs and
// arrays of them) are cached decoded; values holding slices, maps or
// pointers are cached encoded, decoded at each read, so that neither a
// caller reusing a buffer it stored nor one changing a value it read
// changes the state.
type entryCache[V any] struct {
	m     map[string]*centry[V]
	dirty []*centry[V]
	limit int
	vc    codec.Codec[V]
	buf   []byte
	// encoded: values are kept encoded (raw), because V can be changed in
	// place by whoever stored or read it.
	encoded bool
}

// centry is one cached entry: a value with its expiry, or the knowledge
// that the key has none (present false). Entries are pointers so that a
// hit is updated in place, without allocating a key.
type centry[V any] struct {
	key     string
	v       V
	raw     []byte // the value's encoding, for an encoded cache
	exp     int64
	present bool
	dirty   bool
}

// newEntryCache returns a cache of limit entries, or nil (no cache) when
// limit is not positive. Values that can be changed in place (slices,
// maps, pointers) are kept encoded: a caller reusing a buffer it stored, or
// changing a value it read, must not change the state, since Pebble
// encodes what it is given at once (as Flink's RocksDB backend serialises
// on write).
func newEntryCache[V any](limit int, vc codec.Codec[V]) *entryCache[V] {
	if limit <= 0 || vc == nil {
		return nil
	}
	return &entryCache[V]{m: make(map[string]*centry[V]), limit: limit, vc: vc, encoded: statebackend.Mutable[V]()}
}

// lookup returns the cached entry of key: hit reports whether the cache
// knows the key, present whether it has a value.
func (c *entryCache[V]) lookup(key []byte) (v V, exp int64, present, hit bool, err error) {
	e := c.m[string(key)]
	if e == nil {
		return v, 0, false, false, nil
	}
	if !e.present || !c.encoded {
		return e.v, e.exp, e.present, true, nil
	}
	v, _, err = c.vc.Decode(e.raw)
	return v, e.exp, true, true, err
}

// set stores v in e (encoded when the cache is).
func (c *entryCache[V]) set(e *centry[V], v V, exp int64, present bool) {
	e.exp, e.present = exp, present
	if !c.encoded {
		e.v = v
		return
	}
	e.raw = e.raw[:0]
	if present {
		e.raw = c.vc.Append(e.raw, v)
	}
}

// note caches what a read found in Pebble.
func (c *entryCache[V]) note(db kv.DB, key []byte, v V, exp int64, present bool) error {
	if len(c.m) >= c.limit {
		if err := c.reset(db); err != nil {
			return err
		}
	}
	e := &centry[V]{key: string(key)}
	c.set(e, v, exp, present)
	c.m[e.key] = e
	return nil
}

// write records a change of key: a value, or its removal (present false).
func (c *entryCache[V]) write(db kv.DB, key []byte, v V, exp int64, present bool) error {
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
	c.set(e, v, exp, present)
	return nil
}

// flush applies the buffered writes to db in one batch; the entries stay
// cached, clean.
func (c *entryCache[V]) flush(db kv.DB) error {
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
			c.buf = binary.AppendVarint(c.buf[:0], e.exp)
			if c.encoded {
				c.buf = append(c.buf, e.raw...)
			} else {
				c.buf = c.vc.Append(c.buf, e.v)
			}
			err = b.Set(key, c.buf)
		} else {
			err = b.Delete(key)
		}
		if err != nil {
			_ = b.Close()
			return err
		}
		e.dirty = false
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	return b.Commit()
}

// reset flushes and forgets every entry.
func (c *entryCache[V]) reset(db kv.DB) error {
	if err := c.flush(db); err != nil {
		return err
	}
	clear(c.m)
	return nil
}

// drop forgets key (after the caller changed it in Pebble directly; only
// valid for clean entries).
func (c *entryCache[V]) drop(key []byte) { delete(c.m, string(key)) }
