package postgres

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// LookupOptions configure a Lookup. ConnString (or Pool), Query and Scan
// are required.
type LookupOptions[K comparable, V any] struct {
	// ConnString is a pgx connection string; the lookup opens a pgxpool
	// with it. Ignored if Pool is set.
	ConnString string
	// Pool, if set, is used instead of opening one (Close leaves it open).
	Pool *pgxpool.Pool
	// Query selects the rows of a key, with the key's values as $1, $2...
	// ("SELECT name, price FROM products WHERE id = $1").
	Query string
	// Args gives the query's arguments for a key (default: the key alone).
	Args func(key K) []any
	// Scan reads one row of the result.
	Scan func(row pgx.Row) (V, error)
	// CacheMaxRows is the number of keys cached (each with all its rows),
	// least recently used evicted first (Flink's lookup.partial-cache.
	// max-rows). 0 disables the cache.
	CacheMaxRows int
	// CacheTTL is how long a key's rows stay cached after they were loaded
	// (Flink's lookup.partial-cache.expire-after-write); 0: until evicted.
	CacheTTL time.Duration
	// CacheMissingKeys caches keys without rows too (Flink's
	// lookup.partial-cache.caching-missing-key, on there by default; here
	// set it explicitly).
	CacheMissingKeys bool
	// MaxRetries is how many times a failed query is retried, on a new
	// connection, with backoff (Flink's lookup.max-retries; default 3, -1
	// for none).
	MaxRetries int
	// Now is the clock of the cache (default time.Now), for tests.
	Now func() time.Time
	// Registry, if set, receives the lookup's metrics (see the package
	// documentation); Name labels them (default the Query).
	Registry prometheus.Registerer
	Name     string
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// Lookup loads the rows of keys from PostgreSQL through a partial cache
// (Flink's lookup join with lookup.cache = PARTIAL). Its methods may be
// called from many goroutines at once: it satisfies weir.AsyncFunction[K,
// V] through AsyncInvoke.
type Lookup[K comparable, V any] struct {
	opts    LookupOptions[K, V]
	pool    *pgxpool.Pool
	ownPool bool
	m       lookupMetrics

	mu struct {
		sync.Mutex
		entries map[K]*list.Element
		lru     list.List // of *cacheEntry[K, V], most recent first
		// loading holds the loads in flight, so that concurrent misses of
		// one key query once.
		loading map[K]*load[V]
	}
}

type cacheEntry[K comparable, V any] struct {
	key     K
	rows    []V
	expires time.Time // zero: never
}

type load[V any] struct {
	done chan struct{}
	rows []V
	err  error
}

type lookupMetrics struct {
	hits, misses, loadErrors prometheus.Counter
	latency                  prometheus.Observer
	hitsN, missesN           int64 // guarded by mu
}

// NewLookup checks opts and opens the pool (connections are made when
// needed).
func NewLookup[K comparable, V any](opts LookupOptions[K, V]) (*Lookup[K, V], error) {
	switch {
	case opts.Pool == nil && opts.ConnString == "":
		return nil, optionError("ConnString", "must be set (or Pool)")
	case opts.Query == "":
		return nil, optionError("Query", "must not be empty")
	case opts.Scan == nil:
		return nil, optionError("Scan", "must be set")
	case opts.CacheMaxRows < 0:
		return nil, optionError("CacheMaxRows", "must not be negative")
	}
	if opts.Args == nil {
		opts.Args = func(k K) []any { return []any{k} }
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		opts.Name = opts.Query
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Lookup[K, V]{opts: opts, pool: opts.Pool}
	if l.pool == nil {
		p, err := pgxpool.New(context.Background(), opts.ConnString)
		if err != nil {
			return nil, optionError("ConnString", err.Error())
		}
		l.pool, l.ownPool = p, true
	}
	if err := l.registerMetrics(); err != nil {
		l.Close()
		return nil, err
	}
	l.mu.entries = map[K]*list.Element{}
	l.mu.loading = map[K]*load[V]{}
	return l, nil
}

func (l *Lookup[K, V]) registerMetrics() error {
	c := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "postgres_lookup", Name: name, Help: help}, []string{"lookup"})
	}
	hits := c("cache_hits_total", "Lookups answered from the cache.")
	misses := c("cache_misses_total", "Lookups that queried the server.")
	errs := c("load_errors_total", "Queries that failed after their retries.")
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "weir", Subsystem: "postgres_lookup", Name: "load_seconds",
		Help: "Time to load the rows of a key from the server.", Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)}, []string{"lookup"})
	if r := l.opts.Registry; r != nil {
		for _, cv := range []**prometheus.CounterVec{&hits, &misses, &errs} {
			err := r.Register(*cv)
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				*cv, err = are.ExistingCollector.(*prometheus.CounterVec), nil
			}
			if err != nil {
				return fmt.Errorf("postgres: registering lookup metrics: %w", err)
			}
		}
		err := r.Register(lat)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			lat, err = are.ExistingCollector.(*prometheus.HistogramVec), nil
		}
		if err != nil {
			return fmt.Errorf("postgres: registering lookup metrics: %w", err)
		}
	}
	n := l.opts.Name
	l.m.hits, l.m.misses, l.m.loadErrors, l.m.latency = hits.WithLabelValues(n), misses.WithLabelValues(n), errs.WithLabelValues(n), lat.WithLabelValues(n)
	return nil
}

// Get returns the rows of key: from the cache if it holds them and they
// have not expired, else from the server (concurrent misses of one key
// share one query).
func (l *Lookup[K, V]) Get(ctx context.Context, key K) ([]V, error) {
	l.mu.Lock()
	if e, ok := l.mu.entries[key]; ok {
		ce := e.Value.(*cacheEntry[K, V])
		if ce.expires.IsZero() || l.opts.Now().Before(ce.expires) {
			l.mu.lru.MoveToFront(e)
			l.m.hitsN++
			l.mu.Unlock()
			l.m.hits.Inc()
			return ce.rows, nil
		}
		l.mu.lru.Remove(e)
		delete(l.mu.entries, key)
	}
	l.m.missesN++
	l.m.misses.Inc()
	if ld, ok := l.mu.loading[key]; ok {
		l.mu.Unlock()
		select {
		case <-ld.done:
			return ld.rows, ld.err
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres: lookup: %w", ctx.Err())
		}
	}
	ld := &load[V]{done: make(chan struct{})}
	l.mu.loading[key] = ld
	l.mu.Unlock()

	ld.rows, ld.err = l.load(ctx, key)
	l.mu.Lock()
	delete(l.mu.loading, key)
	if ld.err == nil && l.opts.CacheMaxRows > 0 && (len(ld.rows) > 0 || l.opts.CacheMissingKeys) {
		ce := &cacheEntry[K, V]{key: key, rows: ld.rows}
		if l.opts.CacheTTL > 0 {
			ce.expires = l.opts.Now().Add(l.opts.CacheTTL)
		}
		l.mu.entries[key] = l.mu.lru.PushFront(ce)
		for l.mu.lru.Len() > l.opts.CacheMaxRows {
			last := l.mu.lru.Back()
			l.mu.lru.Remove(last)
			delete(l.mu.entries, last.Value.(*cacheEntry[K, V]).key)
		}
	}
	l.mu.Unlock()
	close(ld.done)
	return ld.rows, ld.err
}

// AsyncInvoke is Get, so that a Lookup is a weir.AsyncFunction[K, V] for
// weir.OrderedWait and weir.UnorderedWait.
func (l *Lookup[K, V]) AsyncInvoke(ctx context.Context, key K) ([]V, error) { return l.Get(ctx, key) }

// load queries the rows of key, retrying failures that are not the
// query's own (a lost connection) up to MaxRetries times with backoff.
func (l *Lookup[K, V]) load(ctx context.Context, key K) ([]V, error) {
	start := time.Now()
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		rows, err := l.query(ctx, key)
		if err == nil {
			l.m.latency.Observe(time.Since(start).Seconds())
			return rows, nil
		}
		var pe *pgconn.PgError
		permanent := errors.As(err, &pe) && !(len(pe.Code) >= 2 && (pe.Code[:2] == "08" || pe.Code[:2] == "57" || pe.Code[:2] == "53"))
		if ctx.Err() != nil || permanent || attempt >= l.opts.MaxRetries {
			l.m.loadErrors.Inc()
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			err = fmt.Errorf("postgres: lookup of %v: %w", key, err)
			if !permanent {
				err = weir.MarkError(err, weir.ErrRetriable)
			}
			return nil, err
		}
		l.opts.Logger.Warn("postgres: lookup failed, retrying", "key", key, "err", err, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (l *Lookup[K, V]) query(ctx context.Context, key K) ([]V, error) {
	rows, err := l.pool.Query(ctx, l.opts.Query, l.opts.Args(key)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []V
	for rows.Next() {
		v, err := l.opts.Scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CacheStats returns the numbers of hits and misses so far and the number
// of keys cached.
func (l *Lookup[K, V]) CacheStats() (hits, misses int64, size int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.hitsN, l.m.missesN, l.mu.lru.Len()
}

// Close closes the pool, if the lookup opened it.
func (l *Lookup[K, V]) Close() {
	if l.ownPool {
		l.pool.Close()
	}
}
