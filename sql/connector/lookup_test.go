package connector

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// countingLookup answers key k with the rows rows[k] (by the key's int),
// counting the calls; block, if set, holds every call until closed.
type countingLookup struct {
	mu    sync.Mutex
	rows  map[int64][]row.Row
	calls atomic.Int64
	block chan struct{}
}

func (c *countingLookup) Open(context.Context) error { return nil }
func (c *countingLookup) Close() error               { return nil }
func (c *countingLookup) Lookup(_ context.Context, key []row.Value) ([]row.Row, error) {
	c.calls.Add(1)
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rows[key[0].Int()], nil
}

func (c *countingLookup) set(k int64, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name == "" {
		delete(c.rows, k)
		return
	}
	c.rows[k] = []row.Row{row.Of(row.Int(k), row.Str(name))}
}

// fakeClock is the cache's clock in tests.
type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time      { return f.t }
func (f *fakeClock) add(d time.Duration) { f.t = f.t.Add(d) }
func lookupOne(t *testing.T, fn LookupFunction, k int64) string {
	t.Helper()
	rows, err := fn.Lookup(context.Background(), []row.Value{row.Int(k)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return "<none>"
	}
	return rows[0].Fields[1].Str()
}

func newCached(t *testing.T, opts LookupCacheOptions) (*countingLookup, LookupFunction, *fakeClock) {
	inner := &countingLookup{rows: map[int64][]row.Row{}}
	fn := Cached(inner, []row.Type{row.BigInt()}, opts)
	clk := &fakeClock{t: time.Unix(1000, 0)}
	fn.(*cachedLookup).now = clk.now
	if err := fn.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return inner, fn, clk
}

// TestLookupCacheExpireAfterWrite: a cached key is answered from the cache
// (a change in the table is not seen) until expire-after-write passed
// since it was loaded, reads or not.
func TestLookupCacheExpireAfterWrite(t *testing.T) {
	inner, fn, clk := newCached(t, LookupCacheOptions{Partial: true, ExpireAfterWrite: 10 * time.Second, CacheMissingKey: true})
	inner.set(1, "v1")
	if got := lookupOne(t, fn, 1); got != "v1" {
		t.Fatalf("got %s", got)
	}
	inner.set(1, "v2")
	for i := 0; i < 3; i++ {
		clk.add(3 * time.Second) // 9 s after the load
		if got := lookupOne(t, fn, 1); got != "v1" {
			t.Fatalf("at +%ds: got %s, want the cached v1", 3*(i+1), got)
		}
	}
	clk.add(time.Second) // 10 s: expired, reads do not extend it
	if got := lookupOne(t, fn, 1); got != "v2" {
		t.Fatalf("after expiry: got %s, want v2", got)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("%d queries, want 2", n)
	}
	hits, misses, size, _ := CacheStats(fn)
	if hits != 3 || misses != 2 || size != 1 {
		t.Fatalf("hits %d misses %d size %d, want 3 2 1", hits, misses, size)
	}
}

// TestLookupCacheExpireAfterAccess: every read extends an entry's life.
func TestLookupCacheExpireAfterAccess(t *testing.T) {
	inner, fn, clk := newCached(t, LookupCacheOptions{Partial: true, ExpireAfterAccess: 10 * time.Second, CacheMissingKey: true})
	inner.set(1, "v1")
	lookupOne(t, fn, 1)
	inner.set(1, "v2")
	for i := 0; i < 5; i++ {
		clk.add(9 * time.Second)
		if got := lookupOne(t, fn, 1); got != "v1" {
			t.Fatalf("read %d: got %s, want the cached v1", i, got)
		}
	}
	clk.add(10 * time.Second)
	if got := lookupOne(t, fn, 1); got != "v2" {
		t.Fatalf("after 10 s unread: got %s, want v2", got)
	}
}

// TestLookupCacheMaxRows: the least recently used key goes first.
func TestLookupCacheMaxRows(t *testing.T) {
	inner, fn, _ := newCached(t, LookupCacheOptions{Partial: true, MaxRows: 2, CacheMissingKey: true})
	for k := int64(1); k <= 3; k++ {
		inner.set(k, "a")
	}
	lookupOne(t, fn, 1)
	lookupOne(t, fn, 2)
	lookupOne(t, fn, 1) // 2 is now the least recently used
	lookupOne(t, fn, 3) // evicts 2
	before := inner.calls.Load()
	lookupOne(t, fn, 1)
	lookupOne(t, fn, 3)
	if inner.calls.Load() != before {
		t.Fatalf("keys 1 and 3 were not cached")
	}
	lookupOne(t, fn, 2)
	if inner.calls.Load() != before+1 {
		t.Fatalf("key 2 was not evicted")
	}
	if _, _, size, _ := CacheStats(fn); size != 2 {
		t.Fatalf("size %d, want 2", size)
	}
}

// TestLookupCacheMissingKey: with cache-missing-key (the default) a key
// without rows is cached too; without it, it is asked again.
func TestLookupCacheMissingKey(t *testing.T) {
	for _, cacheMissing := range []bool{true, false} {
		inner, fn, _ := newCached(t, LookupCacheOptions{Partial: true, MaxRows: 10, CacheMissingKey: cacheMissing})
		if got := lookupOne(t, fn, 7); got != "<none>" {
			t.Fatalf("got %s", got)
		}
		inner.set(7, "late")
		got := lookupOne(t, fn, 7)
		want := "late"
		if cacheMissing {
			want = "<none>"
		}
		if got != want {
			t.Fatalf("cache-missing-key=%v: got %s, want %s", cacheMissing, got, want)
		}
	}
}

// TestLookupCacheOneQueryPerKey: concurrent misses of one key query once.
func TestLookupCacheOneQueryPerKey(t *testing.T) {
	inner := &countingLookup{rows: map[int64][]row.Row{}, block: make(chan struct{})}
	inner.set(1, "v")
	fn := Cached(inner, []row.Type{row.BigInt()}, LookupCacheOptions{Partial: true, MaxRows: 10})
	if err := fn.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := fn.Lookup(context.Background(), []row.Value{row.Int(1)})
			if err == nil && len(rows) == 1 {
				results[i] = rows[0].Fields[1].Str()
			}
		}()
	}
	// Wait until the first call is in the inner lookup and the others
	// are waiting for it (they count as misses).
	for {
		_, misses, _, _ := CacheStats(fn)
		if misses == 8 {
			break
		}
		runtime.Gosched()
	}
	close(inner.block)
	wg.Wait()
	for i, r := range results {
		if r != "v" {
			t.Fatalf("call %d got %q", i, r)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("%d queries, want 1", n)
	}
}

// TestLookupCacheOptions: Flink's option rules.
func TestLookupCacheOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want LookupCacheOptions
		err  string
	}{
		{opts: map[string]string{}, want: LookupCacheOptions{CacheMissingKey: true}},
		{opts: map[string]string{"lookup.cache": "PARTIAL", "lookup.partial-cache.max-rows": "10", "lookup.partial-cache.expire-after-write": "5 s", "lookup.partial-cache.cache-missing-key": "false"},
			want: LookupCacheOptions{Partial: true, MaxRows: 10, ExpireAfterWrite: 5 * time.Second}},
		{opts: map[string]string{"lookup.cache.max-rows": "10", "lookup.cache.ttl": "1 min"},
			want: LookupCacheOptions{Partial: true, MaxRows: 10, ExpireAfterWrite: time.Minute, CacheMissingKey: true}},
		{opts: map[string]string{"lookup.cache": "PARTIAL"}, err: "needs at least one of"},
		{opts: map[string]string{"lookup.partial-cache.max-rows": "10"}, err: "needs 'lookup.cache' = 'PARTIAL'"},
		{opts: map[string]string{"lookup.cache": "FULL"}, err: "FULL lookup cache is not supported"},
		{opts: map[string]string{"lookup.cache": "PARTIAL", "lookup.partial-cache.max-rows": "0"}, err: "expected an integer >= 1"},
	} {
		o := newOptions(Context{Table: "T", Options: tc.opts})
		got := lookupCache(o)
		if tc.err != "" {
			if o.err == nil || !strings.Contains(o.err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one containing %q", tc.opts, o.err, tc.err)
			}
			continue
		}
		if o.err != nil || got != tc.want {
			t.Errorf("%v: got %+v, %v; want %+v", tc.opts, got, o.err, tc.want)
		}
	}
}
