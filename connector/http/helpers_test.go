package http_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

type event struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// collector gathers what a sink receives, from any goroutine.
type collector[T any] struct {
	mu  sync.Mutex
	got []T
}

func (c *collector[T]) sink() weir.SinkFunc[T] {
	return func(_ context.Context, v T, _ int64) error {
		c.mu.Lock()
		c.got = append(c.got, v)
		c.mu.Unlock()
		return nil
	}
}

func (c *collector[T]) values() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]T(nil), c.got...)
}

func (c *collector[T]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start starts env's job and cancels it when the test ends.
func start(t testing.TB, env *weir.Environment) *weir.JobClient {
	t.Helper()
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		jc.Cancel()
		_ = jc.Wait()
	})
	return jc
}
