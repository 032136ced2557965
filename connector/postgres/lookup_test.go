package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

type product struct {
	ID    int64
	Name  string
	Price int64
}

func scanProduct(r pgx.Row) (product, error) {
	var p product
	err := r.Scan(&p.ID, &p.Name, &p.Price)
	return p, err
}

// fakeClock is a settable clock for cache expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var _ weir.AsyncFunction[int64, product] = (*Lookup[int64, product])(nil)

// TestLookupInOrderedWait enriches a stream of orders with product rows in
// a job, through weir.OrderedWait: the lookup's Get inside an AsyncFunc, many
// queries in flight, results in input order.
func TestLookupInOrderedWait(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "products", "id bigint PRIMARY KEY, name text NOT NULL, price bigint NOT NULL")
	for i := range 20 {
		exec(t, c, "INSERT INTO "+table+" VALUES ($1, $2, $3)", i, fmt.Sprint("p", i), 10*i)
	}
	l, err := NewLookup(LookupOptions[int64, product]{
		ConnString:   testConnString,
		Query:        "SELECT id, name, price FROM " + table + " WHERE id = $1",
		Scan:         scanProduct,
		CacheMaxRows: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type order struct{ ID, Product int64 }
	var orders []order
	for i := range 200 {
		orders = append(orders, order{int64(i), int64(i*7) % 25}) // products 20..24 do not exist
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	enriched := weir.OrderedWait(weir.FromSlice(env, orders),
		weir.AsyncFunc[order, string](func(ctx context.Context, o order) ([]string, error) {
			rows, err := l.Get(ctx, o.Product)
			if err != nil || len(rows) == 0 {
				return []string{fmt.Sprintf("order %d: product %d unknown", o.ID, o.Product)}, err
			}
			return []string{fmt.Sprintf("order %d: %s at %d", o.ID, rows[0].Name, rows[0].Price)}, nil
		}), weir.AsyncOptions{Capacity: 16, Timeout: time.Minute}).SetParallelism(2)
	out := weir.Collect(enriched)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.Values()
	if len(got) != len(orders) {
		t.Fatalf("%d results for %d orders", len(got), len(orders))
	}
	want := map[string]bool{}
	for _, o := range orders {
		if o.Product < 20 {
			want[fmt.Sprintf("order %d: p%d at %d", o.ID, o.Product, 10*o.Product)] = true
		} else {
			want[fmt.Sprintf("order %d: product %d unknown", o.ID, o.Product)] = true
		}
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected result %q", g)
		}
		delete(want, g)
	}
	if len(want) != 0 {
		t.Errorf("%d orders without their result", len(want))
	}
}

// TestLookupCache checks hits and misses, expiry after the TTL, LRU
// eviction at CacheMaxRows, missing keys cached or not, and the metrics.
func TestLookupCache(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "products", "id bigint PRIMARY KEY, name text NOT NULL, price bigint NOT NULL")
	for i := range 5 {
		exec(t, c, "INSERT INTO "+table+" VALUES ($1, $2, $3)", i, fmt.Sprint("p", i), 10*i)
	}
	ctx := context.Background()
	for _, missing := range []bool{false, true} {
		t.Run(fmt.Sprint("cache-missing-keys=", missing), func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1000, 0)}
			reg := prometheus.NewRegistry()
			l, err := NewLookup(LookupOptions[int64, product]{ConnString: testConnString,
				Query: "SELECT id, name, price FROM " + table + " WHERE id = $1", Scan: scanProduct,
				CacheMaxRows: 3, CacheTTL: time.Minute, CacheMissingKeys: missing, Now: clock.Now, Registry: reg, Name: "products"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			get := func(k int64) []product {
				t.Helper()
				got, err := l.AsyncInvoke(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			stats := func(wantHits, wantMisses int64, wantSize int) {
				t.Helper()
				h, m, n := l.CacheStats()
				if h != wantHits || m != wantMisses || n != wantSize {
					t.Fatalf("hits %d misses %d size %d, want %d %d %d", h, m, n, wantHits, wantMisses, wantSize)
				}
			}
			if got := get(1); len(got) != 1 || got[0] != (product{1, "p1", 10}) {
				t.Fatalf("get 1 = %v", got)
			}
			stats(0, 1, 1)
			// A change in the table is not seen while the entry lives.
			exec(t, c, "UPDATE "+table+" SET price = 11 WHERE id = 1")
			t.Cleanup(func() { exec(t, db(t), "UPDATE "+table+" SET price = 10 WHERE id = 1") })
			if got := get(1); got[0].Price != 10 {
				t.Fatalf("cached get 1 = %v", got)
			}
			stats(1, 1, 1)
			// ... and is after the TTL.
			clock.Add(time.Minute)
			if got := get(1); got[0].Price != 11 {
				t.Fatalf("get 1 after the TTL = %v", got)
			}
			stats(1, 2, 1)
			// A missing key.
			if got := get(99); len(got) != 0 {
				t.Fatalf("get 99 = %v", got)
			}
			get(99)
			if missing {
				stats(2, 3, 2)
			} else {
				stats(1, 4, 1)
			}
			// LRU: after 2, 3, 4 the cache holds those three.
			get(2)
			get(3)
			get(4)
			h0, m0, n := l.CacheStats()
			if n != 3 {
				t.Fatalf("cache holds %d keys, want 3", n)
			}
			get(2) // hit: 2 is the most recently used, 3 the least
			get(1) // miss: evicts 3
			get(4) // hit
			get(3) // miss
			if h, m, _ := l.CacheStats(); h != h0+2 || m != m0+2 {
				t.Fatalf("hits %d→%d, misses %d→%d; want two more of each", h0, h, m0, m)
			}
			h, m, _ := l.CacheStats()
			if got := testutil.ToFloat64(l.m.hits); got != float64(h) {
				t.Fatalf("hits metric %v, want %d", got, h)
			}
			if got := testutil.ToFloat64(l.m.misses); got != float64(m) {
				t.Fatalf("misses metric %v, want %d", got, m)
			}
			if n, err := testutil.GatherAndCount(reg, "weir_postgres_lookup_load_seconds"); err != nil || n != 1 {
				t.Fatalf("load latency histogram: %d series, %v", n, err)
			}
		})
	}
}

// TestLookupOutage: a lookup during a cut fails after its retries with a
// retriable error; one that starts during the cut succeeds once the
// server is back within the retries.
func TestLookupOutage(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "products", "id bigint PRIMARY KEY, name text NOT NULL, price bigint NOT NULL")
	exec(t, c, "INSERT INTO "+table+" VALUES (1, 'a', 5)")
	proxy := testnet.NewProxy(t, "127.0.0.1:5432")
	retrying := make(chan struct{}, 1)
	l, err := NewLookup(LookupOptions[int64, product]{ConnString: connStringVia(proxy.Addr()),
		Query: "SELECT id, name, price FROM " + table + " WHERE id = $1", Scan: scanProduct, MaxRetries: 3,
		Logger: slog.New(signalHandler{"retrying", retrying})})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Get(ctx, 1); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	done := make(chan error, 1)
	go func() {
		got, err := l.Get(ctx, 1)
		if err == nil && (len(got) != 1 || got[0].Price != 5) {
			err = fmt.Errorf("got %v", got)
		}
		done <- err
	}()
	waitSignal(t, retrying, "lookup retry", 10*time.Second)
	proxy.Restore()
	if err := <-done; err != nil {
		t.Fatalf("lookup across the outage: %v", err)
	}
	proxy.Cut()
	l.opts.MaxRetries = 1
	if _, err := l.Get(ctx, 1); err == nil || !weir.IsRetriable(err) {
		t.Fatalf("lookup during the cut: %v, want a retriable error", err)
	}
	// A bad query is not retried.
	if _, err := NewLookup(LookupOptions[int64, product]{ConnString: testConnString, Scan: scanProduct}); !errors.Is(err, ErrOptions) {
		t.Fatalf("lookup without a query: %v", err)
	}
}
