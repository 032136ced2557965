package weir_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/weirstream/weir"
)

// openedLookup records the subtasks that opened and closed it; each
// subtask's copy answers with its own subtask index, set in Open.
type openedLookup struct {
	subtask int
	log     *lifecycleLog
}

type lifecycleLog struct {
	mu             sync.Mutex
	opened, closed []int
}

func (o *openedLookup) Open(rc *weir.RuntimeContext) error {
	o.subtask = rc.Subtask()
	o.log.mu.Lock()
	defer o.log.mu.Unlock()
	o.log.opened = append(o.log.opened, rc.Subtask())
	return nil
}

func (o *openedLookup) Close() error {
	o.log.mu.Lock()
	defer o.log.mu.Unlock()
	o.log.closed = append(o.log.closed, o.subtask)
	return nil
}

func (o *openedLookup) AsyncInvoke(_ context.Context, v int) ([]int, error) {
	return []int{o.subtask}, nil
}

// TestAsyncOpenClose: a function implementing Opener and Closer is copied,
// opened and closed once per subtask, and each copy keeps what its Open set.
func TestAsyncOpenClose(t *testing.T) {
	log := &lifecycleLog{}
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	in := make([]int, 100)
	out := weir.UnorderedWait(weir.FromSlice(env, in).Rebalance(), &openedLookup{log: log}, weir.AsyncOptions{})
	var mu sync.Mutex
	seen := map[int]int{}
	out.SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error {
		mu.Lock()
		defer mu.Unlock()
		seen[v]++
		return nil
	})).SetParallelism(1)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	sort.Ints(log.opened)
	sort.Ints(log.closed)
	if len(log.opened) != 2 || log.opened[0] != 0 || log.opened[1] != 1 {
		t.Fatalf("opened by subtasks %v, want [0 1]", log.opened)
	}
	if len(log.closed) != 2 || log.closed[0] != 0 || log.closed[1] != 1 {
		t.Fatalf("closed by subtasks %v, want [0 1]", log.closed)
	}
	if seen[0]+seen[1] != 100 || seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("answers per subtask %v, want 100 answers from both subtasks", seen)
	}
}
