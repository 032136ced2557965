package redis

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultCacheMaxEntries is the size of a lookup's cache by default.
const DefaultCacheMaxEntries = 10000

// LookupOptions configure a Lookup: records of type IN are enriched with
// the value of type V stored under a key, giving records of type OUT.
type LookupOptions[IN, V, OUT any] struct {
	// Redis is the client's configuration; the zero value connects to
	// localhost:6379.
	Redis goredis.Options
	// Exactly one of Decode (the key is read with GET) and DecodeHash
	// (HGETALL) must be set.
	Decode     func(b []byte) (V, error)
	DecodeHash func(h map[string]string) (V, error)
	// Key gives an input record's key (required for AsyncInvoke).
	Key func(in IN) string
	// Join builds the output of an input record and its looked-up value;
	// found is false (and v the zero V) if the key does not exist. Return
	// nil to drop the record (an inner join). Required for AsyncInvoke.
	Join func(in IN, v V, found bool) []OUT
	// CacheTTL is how long a looked-up value is kept in the cache; zero
	// disables the cache (Flink's lookup.cache.ttl).
	CacheTTL time.Duration
	// CacheMaxEntries bounds the cache; the least recently used entry is
	// evicted first (default DefaultCacheMaxEntries).
	CacheMaxEntries int
	// CacheMissing caches that a key does not exist, too.
	CacheMissing bool
	// MaxRetryTime is how long a lookup is retried with backoff while
	// Redis is unreachable (default DefaultMaxRetryTime), bounded by the
	// caller's context.
	MaxRetryTime time.Duration
	// Registry, if set, receives weir_redis_lookup_cache_hits_total,
	// _cache_misses_total and _retries_total.
	Registry prometheus.Registerer
	// Logger receives retries (nil discards them).
	Logger *slog.Logger
}

// Lookup reads values from Redis by key, through an LRU cache with a TTL.
// Its methods may be called from any number of goroutines at once: Get
// for a plain lookup, AsyncInvoke to use it as a weir.AsyncFunction (with
// weir.OrderedWait or weir.UnorderedWait).
type Lookup[IN, V, OUT any] struct {
	opts                  LookupOptions[IN, V, OUT]
	client                *goredis.Client
	hits, misses, retries prometheus.Counter

	mu struct {
		sync.Mutex
		lru   *list.List // of *cacheEntry, most recent first
		index map[string]*list.Element
	}
}

type cacheEntry[V any] struct {
	key     string
	v       V
	found   bool
	expires time.Time
}

// NewLookup returns a lookup with opts. It does no I/O; Close releases
// its connections.
func NewLookup[IN, V, OUT any](opts LookupOptions[IN, V, OUT]) (*Lookup[IN, V, OUT], error) {
	if (opts.Decode == nil) == (opts.DecodeHash == nil) {
		return nil, errors.New("redis: lookup options: exactly one of Decode and DecodeHash must be set")
	}
	if opts.CacheMaxEntries <= 0 {
		opts.CacheMaxEntries = DefaultCacheMaxEntries
	}
	if opts.MaxRetryTime <= 0 {
		opts.MaxRetryTime = DefaultMaxRetryTime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ro := opts.Redis
	l := &Lookup[IN, V, OUT]{opts: opts, client: goredis.NewClient(&ro)}
	var err error
	if l.hits, err = counter(opts.Registry, "redis_lookup", "cache_hits_total", "Redis lookups answered from the cache."); err != nil {
		return nil, err
	}
	if l.misses, err = counter(opts.Registry, "redis_lookup", "cache_misses_total", "Redis lookups sent to Redis."); err != nil {
		return nil, err
	}
	if l.retries, err = counter(opts.Registry, "redis_lookup", "retries_total", "Redis lookups retried after a connection error."); err != nil {
		return nil, err
	}
	l.mu.lru = list.New()
	l.mu.index = map[string]*list.Element{}
	return l, nil
}

// Get returns the value of key and whether it exists, from the cache if
// it holds a fresh entry.
func (l *Lookup[IN, V, OUT]) Get(ctx context.Context, key string) (V, bool, error) {
	if l.opts.CacheTTL > 0 {
		if v, found, ok := l.cached(key); ok {
			l.hits.Inc()
			return v, found, nil
		}
	}
	l.misses.Inc()
	v, found, err := l.fetch(ctx, key)
	if err != nil {
		return v, false, err
	}
	if l.opts.CacheTTL > 0 && (found || l.opts.CacheMissing) {
		l.store(key, v, found)
	}
	return v, found, nil
}

// AsyncInvoke looks up in's key and returns Join's output; it makes the
// Lookup a weir.AsyncFunction[IN, OUT].
func (l *Lookup[IN, V, OUT]) AsyncInvoke(ctx context.Context, in IN) ([]OUT, error) {
	if l.opts.Key == nil || l.opts.Join == nil {
		return nil, errors.New("redis: lookup: AsyncInvoke needs the Key and Join options")
	}
	v, found, err := l.Get(ctx, l.opts.Key(in))
	if err != nil {
		return nil, err
	}
	return l.opts.Join(in, v, found), nil
}

// Close releases the lookup's connections.
func (l *Lookup[IN, V, OUT]) Close() error { return l.client.Close() }

// fetch reads key from Redis, retrying with backoff on connection errors.
func (l *Lookup[IN, V, OUT]) fetch(ctx context.Context, key string) (V, bool, error) {
	var (
		zero  V
		b     backoff
		start = time.Now()
	)
	for {
		var (
			v     V
			found bool
			err   error
		)
		if l.opts.Decode != nil {
			var raw []byte
			raw, err = l.client.Get(ctx, key).Bytes()
			if errors.Is(err, goredis.Nil) {
				return zero, false, nil
			}
			if err == nil {
				v, err = l.opts.Decode(raw)
				if err != nil {
					return zero, false, fmt.Errorf("redis: lookup: decoding key %q: %w", key, err)
				}
				return v, true, nil
			}
		} else {
			var h map[string]string
			h, err = l.client.HGetAll(ctx, key).Result()
			if err == nil {
				if len(h) == 0 {
					return zero, false, nil
				}
				if v, err = l.opts.DecodeHash(h); err != nil {
					return zero, false, fmt.Errorf("redis: lookup: decoding hash %q: %w", key, err)
				}
				found = true
				return v, found, nil
			}
		}
		if isRecordError(err) || ctx.Err() != nil || time.Since(start) > l.opts.MaxRetryTime {
			return zero, false, fmt.Errorf("redis: lookup of key %q: %w", key, err)
		}
		l.retries.Inc()
		l.opts.Logger.Warn("redis lookup: retrying", "key", key, "err", err)
		if werr := b.wait(ctx); werr != nil {
			return zero, false, fmt.Errorf("redis: lookup of key %q: %w", key, err)
		}
	}
}

// cached returns key's fresh cache entry (ok false if none).
func (l *Lookup[IN, V, OUT]) cached(key string) (v V, found, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.mu.index[key]
	if el == nil {
		return v, false, false
	}
	e := el.Value.(*cacheEntry[V])
	if time.Now().After(e.expires) {
		l.mu.lru.Remove(el)
		delete(l.mu.index, key)
		return v, false, false
	}
	l.mu.lru.MoveToFront(el)
	return e.v, e.found, true
}

// store caches key's value, evicting the least recently used entries.
func (l *Lookup[IN, V, OUT]) store(key string, v V, found bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := &cacheEntry[V]{key: key, v: v, found: found, expires: time.Now().Add(l.opts.CacheTTL)}
	if el := l.mu.index[key]; el != nil {
		el.Value = e
		l.mu.lru.MoveToFront(el)
		return
	}
	l.mu.index[key] = l.mu.lru.PushFront(e)
	for l.mu.lru.Len() > l.opts.CacheMaxEntries {
		last := l.mu.lru.Back()
		l.mu.lru.Remove(last)
		delete(l.mu.index, last.Value.(*cacheEntry[V]).key)
	}
}

// CacheLen returns the number of cached entries (fresh or not yet
// evicted).
func (l *Lookup[IN, V, OUT]) CacheLen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.lru.Len()
}
