package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

type order struct {
	ID, User string
}

type enriched struct {
	Order order
	Name  string
}

// TestLookupCache: values come from Redis, then from the cache until
// their TTL ends; the least recently used entry is evicted first.
func TestLookupCache(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	must(t, c.Set(ctx, p+"u1", "ann", 0).Err())
	must(t, c.Set(ctx, p+"u2", "bob", 0).Err())
	must(t, c.Set(ctx, p+"u3", "cy", 0).Err())
	l, err := NewLookup(LookupOptions[order, string, enriched]{
		Redis:  goredis.Options{Addr: redisAddr},
		Decode: func(b []byte) (string, error) { return string(b), nil },
		Key:    func(o order) string { return p + o.User },
		Join: func(o order, name string, found bool) []enriched {
			if !found {
				return nil
			}
			return []enriched{{o, name}}
		},
		CacheTTL: 300 * time.Millisecond, CacheMaxEntries: 2,
	})
	must(t, err)
	defer l.Close()
	get := func(k string) (string, bool) {
		v, found, err := l.Get(ctx, p+k)
		must(t, err)
		return v, found
	}
	if v, ok := get("u1"); v != "ann" || !ok {
		t.Fatalf("u1 = %q %v", v, ok)
	}
	must(t, c.Set(ctx, p+"u1", "anna", 0).Err())
	if v, _ := get("u1"); v != "ann" {
		t.Fatalf("u1 = %q, want the cached ann", v)
	}
	if testutil.ToFloat64(l.hits) != 1 || testutil.ToFloat64(l.misses) != 1 {
		t.Fatal("hits and misses miscounted")
	}
	waitFor(t, "cache entry expired", 5*time.Second, func() bool { v, _ := get("u1"); return v == "anna" })
	get("u2")
	get("u1") // u2 is now the least recently used
	get("u3")
	if l.CacheLen() != 2 {
		t.Fatalf("%d cached, want 2", l.CacheLen())
	}
	must(t, c.Set(ctx, p+"u2", "bobby", 0).Err())
	must(t, c.Set(ctx, p+"u1", "x", 0).Err())
	if v, _ := get("u1"); v != "anna" {
		t.Fatalf("u1 = %q: evicted before the least recently used u2", v)
	}
	if v, _ := get("u2"); v != "bobby" {
		t.Fatalf("u2 = %q: not evicted", v)
	}
	if _, ok := get("nobody"); ok {
		t.Fatal("missing key found")
	}
	out, err := l.AsyncInvoke(ctx, order{ID: "o1", User: "u3"})
	if err != nil || len(out) != 1 || out[0].Name != "cy" || out[0].Order.ID != "o1" {
		t.Fatalf("AsyncInvoke = %v, %v", out, err)
	}
	if out, err := l.AsyncInvoke(ctx, order{ID: "o2", User: "nobody"}); err != nil || len(out) != 0 {
		t.Fatalf("AsyncInvoke of a missing key = %v, %v", out, err)
	}
}

// TestLookupInUnorderedWait enriches orders in a job with the lookup as the
// weir.AsyncFunction of weir.UnorderedWait: every order with a known user
// once, with the user's name; orders of unknown users dropped by Join.
func TestLookupInUnorderedWait(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	for i := range 10 {
		must(t, c.Set(ctx, fmt.Sprintf("%su%d", p, i), fmt.Sprint("name", i), 0).Err())
	}
	l, err := NewLookup(LookupOptions[order, string, enriched]{
		Redis:  goredis.Options{Addr: redisAddr},
		Decode: func(b []byte) (string, error) { return string(b), nil },
		Key:    func(o order) string { return p + o.User },
		Join: func(o order, name string, found bool) []enriched {
			if !found {
				return nil
			}
			return []enriched{{o, name}}
		},
		CacheMaxEntries: 100,
	})
	must(t, err)
	defer l.Close()
	var _ weir.AsyncFunction[order, enriched] = l
	var orders []order
	for i := range 300 {
		orders = append(orders, order{ID: fmt.Sprint(i), User: fmt.Sprintf("u%d", i%12)}) // u10, u11 unknown
	}
	env := weir.NewEnvironment(weir.Options{})
	out := weir.Collect(weir.UnorderedWait(weir.FromSlice(env, orders), l, weir.AsyncOptions{Capacity: 32}))
	must(t, env.Execute(ctx))
	seen := map[string]bool{}
	for _, e := range out.Values() {
		if seen[e.Order.ID] {
			t.Fatalf("order %s twice", e.Order.ID)
		}
		seen[e.Order.ID] = true
		if want := "name" + strings.TrimPrefix(e.Order.User, "u"); e.Name != want {
			t.Fatalf("order %s of %s enriched with %q, want %q", e.Order.ID, e.Order.User, e.Name, want)
		}
	}
	want := 0
	for _, o := range orders {
		if o.User != "u10" && o.User != "u11" {
			want++
			if !seen[o.ID] {
				t.Fatalf("order %s of %s missing", o.ID, o.User)
			}
		}
	}
	if len(seen) != want {
		t.Fatalf("%d results, want %d", len(seen), want)
	}
}

// TestLookupHash reads hashes with HGETALL, concurrently.
func TestLookupHash(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	for i := range 20 {
		must(t, c.HSet(ctx, p+strconv.Itoa(i), "name", "n"+strconv.Itoa(i), "age", i).Err())
	}
	type user struct {
		Name string
		Age  int
	}
	l, err := NewLookup(LookupOptions[int, user, user]{
		Redis: goredis.Options{Addr: redisAddr},
		DecodeHash: func(h map[string]string) (user, error) {
			a, err := strconv.Atoi(h["age"])
			return user{h["name"], a}, err
		},
		Key:      func(i int) string { return p + strconv.Itoa(i) },
		Join:     func(_ int, u user, _ bool) []user { return []user{u} },
		CacheTTL: time.Minute,
	})
	must(t, err)
	defer l.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 5 {
		wg.Go(func() {
			for i := range 20 {
				out, err := l.AsyncInvoke(ctx, (i+g)%20)
				if err == nil && (len(out) != 1 || out[0].Age != (i+g)%20 || out[0].Name != "n"+strconv.Itoa((i+g)%20)) {
					t.Errorf("lookup %d = %v", (i+g)%20, out)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestLookupOutage: a lookup during an outage retries and answers once
// Redis is reachable again.
func TestLookupOutage(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	must(t, c.Set(ctx, p+"k", "v", 0).Err())
	proxy := testnet.NewProxy(t, redisAddr)
	l, err := NewLookup(LookupOptions[string, string, string]{
		Redis:  goredis.Options{Addr: proxy.Addr(), MaxRetries: -1},
		Decode: func(b []byte) (string, error) { return string(b), nil },
	})
	must(t, err)
	defer l.Close()
	proxy.Cut()
	type res struct {
		v   string
		err error
	}
	done := make(chan res, 1)
	go func() {
		v, _, err := l.Get(ctx, p+"k")
		done <- res{v, err}
	}()
	waitFor(t, "lookup retried", 10*time.Second, func() bool { return testutil.ToFloat64(l.retries) >= 2 })
	proxy.Restore()
	select {
	case r := <-done:
		if r.err != nil || r.v != "v" {
			t.Fatalf("lookup after the outage = %q, %v", r.v, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("lookup did not complete after the outage")
	}
}
