package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
)

const redisAddr = "127.0.0.1:6379"

// client connects to the test Redis, failing the test if it is not there.
func client(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("Redis on %s unreachable (run scripts/test-services.sh): %v", redisAddr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// prefix returns a key prefix unique to the test and deletes every key
// under it when the test ends.
func prefix(t testing.TB, c *goredis.Client) string {
	p := fmt.Sprintf("weirtest:%s:%08x:", unsafeChars.ReplaceAllString(t.Name(), "_"), rand.Uint32())
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, p+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return p
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		<-tick.C
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// gather collects what a sink is given.
type gather[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (g *gather[T]) sink() weir.SinkFunc[T] {
	return func(_ context.Context, v T, _ int64) error {
		g.mu.Lock()
		g.vals = append(g.vals, v)
		g.mu.Unlock()
		return nil
	}
}

func (g *gather[T]) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.vals)
}

func (g *gather[T]) values() []T {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.vals)
}

// committer is a two-phase-commit sink: what it commits is exactly what
// the completed checkpoints cover, each checkpoint of each subtask once
// (Commit is called again after a restore).
type committer struct {
	mu        sync.Mutex
	committed []string
	seen      map[string]bool
	written   int
}

type commitWriter struct {
	c       *committer
	subtask int
	buf     []string
}

func (c *committer) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[string], error) {
	return &commitWriter{c: c, subtask: ctx.Subtask}, nil
}

func (w *commitWriter) Write(_ context.Context, v string, _ int64) error {
	w.buf = append(w.buf, v)
	w.c.mu.Lock()
	w.c.written++
	w.c.mu.Unlock()
	return nil
}
func (w *commitWriter) Flush(context.Context, bool) error { return nil }
func (w *commitWriter) Close() error                      { return nil }

func (w *commitWriter) PreCommit(_ context.Context, id int64) ([][]byte, error) {
	it := fmt.Sprintf("%d:%d|%s", w.subtask, id, strings.Join(w.buf, ","))
	w.buf = nil
	return [][]byte{[]byte(it)}, nil
}

func (w *commitWriter) Commit(_ context.Context, items [][]byte) error {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.seen == nil {
		w.c.seen = map[string]bool{}
	}
	for _, it := range items {
		k, vals, _ := strings.Cut(string(it), "|")
		if w.c.seen[k] {
			continue
		}
		w.c.seen[k] = true
		if vals != "" {
			w.c.committed = append(w.c.committed, strings.Split(vals, ",")...)
		}
	}
	return nil
}

func (c *committer) writtenCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}

func (c *committer) values() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.committed)
}
