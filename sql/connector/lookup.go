package connector

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/weirstream/weir/row"
)

// LookupSource is implemented by sources whose rows can be looked up by
// key for a lookup join (Flink's LookupTableSource): `JOIN t FOR
// SYSTEM_TIME AS OF o.proc_time AS c ON o.k = c.id`.
type LookupSource interface {
	// LookupFunction returns the lookup of the rows whose columns at keys
	// (indexes in Context.Schema, the join's equality keys) equal a key's
	// values, with the table's lookup cache applied. It opens no
	// connection: the planner opens one function per subtask.
	LookupFunction(keys []int) (LookupFunction, error)
}

// LookupFunction finds the rows of a lookup table that have a key (Flink's
// LookupFunction / AsyncLookupFunction). Each subtask of a lookup join
// opens its own; Lookup is called from many goroutines at once.
type LookupFunction interface {
	// Open connects (or prepares to connect on first use).
	Open(ctx context.Context) error
	// Lookup returns the rows (physical columns, Context.Schema order) whose
	// key columns equal key, in the key columns' order: all of them when
	// the key is not unique, none when nothing matches. A NULL key matches
	// nothing.
	Lookup(ctx context.Context, key []row.Value) ([]row.Row, error)
	// Close releases the connections.
	Close() error
}

// LocalLookupFunction is implemented by lookup functions that answer from
// memory (or local files), never waiting on another system: the planner
// calls them in the join's operator instead of through async I/O.
type LocalLookupFunction interface {
	LookupFunction
	// LocalLookup marks the function.
	LocalLookup()
}

// LookupCacheOptions are Flink's lookup.cache options: NONE (the default)
// or a PARTIAL cache of the keys looked up.
type LookupCacheOptions struct {
	// Partial enables the cache (lookup.cache = PARTIAL).
	Partial bool
	// MaxRows bounds the number of keys cached
	// (lookup.partial-cache.max-rows); least recently used first out. 0:
	// no bound.
	MaxRows int64
	// ExpireAfterWrite and ExpireAfterAccess expire an entry that long
	// after it was loaded or last read (0: never).
	ExpireAfterWrite, ExpireAfterAccess time.Duration
	// CacheMissingKey caches keys that match no row too (default true).
	CacheMissingKey bool
}

// lookupCacheKeys are the lookup cache option keys, current and legacy
// (lookup.cache.max-rows and lookup.cache.ttl, before Flink 1.16).
var lookupCacheKeys = []string{"lookup.cache", "lookup.partial-cache.max-rows",
	"lookup.partial-cache.expire-after-write", "lookup.partial-cache.expire-after-access",
	"lookup.partial-cache.cache-missing-key", "lookup.cache.max-rows", "lookup.cache.ttl",
	"lookup.cache.caching-missing-key"}

// lookupCache reads the lookup cache options as Flink does: with
// lookup.cache = PARTIAL, at least one of max-rows, expire-after-write and
// expire-after-access must be set. The legacy keys (max-rows and ttl both
// set) mean a partial cache.
func lookupCache(o *options) LookupCacheOptions {
	c := LookupCacheOptions{CacheMissingKey: true}
	mode := o.enum("lookup.cache", "NONE", "NONE", "PARTIAL", "FULL")
	if mode == "FULL" {
		o.fail("lookup.cache", o.m["lookup.cache"], "the FULL lookup cache is not supported by Weir (use PARTIAL)")
		return c
	}
	if mode == "NONE" && o.has("lookup.cache.max-rows") && o.has("lookup.cache.ttl") && !o.has("lookup.cache") {
		c.Partial = true
		c.MaxRows = o.int64("lookup.cache.max-rows", 0, 0)
		c.ExpireAfterWrite = o.duration("lookup.cache.ttl", 0)
		c.CacheMissingKey = o.bool("lookup.cache.caching-missing-key", true)
		return c
	}
	if mode != "PARTIAL" {
		for _, k := range lookupCacheKeys[1:5] {
			if o.has(k) && o.err == nil {
				o.err = fmt.Errorf("connector: table %s: option '%s' needs 'lookup.cache' = 'PARTIAL'", o.table, k)
			}
		}
		return c
	}
	c.Partial = true
	c.MaxRows = o.int64("lookup.partial-cache.max-rows", 0, 1)
	c.ExpireAfterWrite = o.duration("lookup.partial-cache.expire-after-write", 0)
	c.ExpireAfterAccess = o.duration("lookup.partial-cache.expire-after-access", 0)
	c.CacheMissingKey = o.bool("lookup.partial-cache.cache-missing-key", true)
	if c.MaxRows == 0 && c.ExpireAfterWrite == 0 && c.ExpireAfterAccess == 0 && o.err == nil {
		o.err = fmt.Errorf("connector: table %s: 'lookup.cache' = 'PARTIAL' needs at least one of 'lookup.partial-cache.max-rows', 'lookup.partial-cache.expire-after-write' and 'lookup.partial-cache.expire-after-access'", o.table)
	}
	return c
}

// Cached returns fn behind the partial cache of opts (fn itself when the
// cache is off). The cache belongs to the returned function: one per
// subtask, as the planner opens one function per subtask. Concurrent
// misses of one key query once.
func Cached(fn LookupFunction, keyTypes []row.Type, opts LookupCacheOptions) LookupFunction {
	if !opts.Partial {
		return fn
	}
	return &cachedLookup{fn: fn, opts: opts, codec: row.NewCodec(keyTypes), now: time.Now}
}

type cachedLookup struct {
	fn    LookupFunction
	opts  LookupCacheOptions
	codec *row.Codec
	now   func() time.Time

	mu struct {
		sync.Mutex
		entries map[string]*list.Element
		lru     list.List // of *lookupEntry, most recently used first
		loading map[string]*lookupLoad
		hits    int64
		misses  int64
	}
}

type lookupEntry struct {
	key               string
	rows              []row.Row
	written, accessed time.Time
}

type lookupLoad struct {
	done chan struct{}
	rows []row.Row
	err  error
}

func (c *cachedLookup) Open(ctx context.Context) error {
	c.mu.entries = map[string]*list.Element{}
	c.mu.loading = map[string]*lookupLoad{}
	return c.fn.Open(ctx)
}

func (c *cachedLookup) Close() error { return c.fn.Close() }

// expired reports whether e is out of date at now.
func (c *cachedLookup) expired(e *lookupEntry, now time.Time) bool {
	return (c.opts.ExpireAfterWrite > 0 && !now.Before(e.written.Add(c.opts.ExpireAfterWrite))) ||
		(c.opts.ExpireAfterAccess > 0 && !now.Before(e.accessed.Add(c.opts.ExpireAfterAccess)))
}

func (c *cachedLookup) Lookup(ctx context.Context, key []row.Value) ([]row.Row, error) {
	k := string(c.codec.Append(nil, row.Row{Fields: key}))
	now := c.now()
	c.mu.Lock()
	if el, ok := c.mu.entries[k]; ok {
		e := el.Value.(*lookupEntry)
		if !c.expired(e, now) {
			e.accessed = now
			c.mu.lru.MoveToFront(el)
			c.mu.hits++
			c.mu.Unlock()
			return e.rows, nil
		}
		c.mu.lru.Remove(el)
		delete(c.mu.entries, k)
	}
	c.mu.misses++
	if ld, ok := c.mu.loading[k]; ok {
		c.mu.Unlock()
		select {
		case <-ld.done:
			return ld.rows, ld.err
		case <-ctx.Done():
			return nil, fmt.Errorf("connector: lookup: %w", ctx.Err())
		}
	}
	ld := &lookupLoad{done: make(chan struct{})}
	c.mu.loading[k] = ld
	c.mu.Unlock()

	ld.rows, ld.err = c.fn.Lookup(ctx, key)
	now = c.now()
	c.mu.Lock()
	delete(c.mu.loading, k)
	if ld.err == nil && (len(ld.rows) > 0 || c.opts.CacheMissingKey) {
		c.mu.entries[k] = c.mu.lru.PushFront(&lookupEntry{key: k, rows: ld.rows, written: now, accessed: now})
		for c.opts.MaxRows > 0 && int64(c.mu.lru.Len()) > c.opts.MaxRows {
			last := c.mu.lru.Back()
			c.mu.lru.Remove(last)
			delete(c.mu.entries, last.Value.(*lookupEntry).key)
		}
	}
	c.mu.Unlock()
	close(ld.done)
	return ld.rows, ld.err
}

// CacheStats returns the hits and misses of a function returned by Cached
// and the number of keys it holds (ok false for an uncached function).
func CacheStats(fn LookupFunction) (hits, misses int64, size int, ok bool) {
	c, isCached := fn.(*cachedLookup)
	if !isCached {
		return 0, 0, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.hits, c.mu.misses, c.mu.lru.Len(), true
}

// hasNull reports whether a key holds a NULL (it matches no row).
func hasNull(key []row.Value) bool {
	for _, v := range key {
		if v.IsNull() {
			return true
		}
	}
	return false
}
