package runtime

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Actions run in posting order on the caller of RunPending; an error stops
// the run and leaves the rest queued, in order.
func TestMailboxRunPendingOrderAndError(t *testing.T) {
	mb := NewMailbox()
	e := mb.Executor(0)
	var ran []int
	boom := errors.New("boom")
	for i := 0; i < 5; i++ {
		i := i
		e.Post(func() error {
			ran = append(ran, i)
			if i == 2 {
				return boom
			}
			return nil
		})
	}
	if n, err := mb.RunPending(0); !errors.Is(err, boom) || n != 3 {
		t.Fatalf("RunPending = %d, %v; want 3, boom", n, err)
	}
	if !mb.Pending() {
		t.Fatal("actions after the failing one were dropped")
	}
	if n, err := mb.RunPending(0); err != nil || n != 2 {
		t.Fatalf("second RunPending = %d, %v", n, err)
	}
	if want := []int{0, 1, 2, 3, 4}; !reflect.DeepEqual(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	if mb.Pending() {
		t.Fatal("mailbox not empty")
	}
}

// Yield of the operator at chain position 1 runs its own and later
// positions' actions, never an upstream (position 0) one, which stays for
// the task loop; the mailbox stays armed for it.
func TestMailboxYieldPriority(t *testing.T) {
	mb := NewMailbox()
	up, me, down := mb.Executor(0), mb.Executor(1), mb.Executor(2)
	var ran []string
	up.Post(func() error { ran = append(ran, "up"); return nil })
	me.Post(func() error { ran = append(ran, "me"); return nil })
	down.Post(func() error { ran = append(ran, "down"); return nil })
	if err := me.Yield(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"me", "down"}; !reflect.DeepEqual(ran, want) {
		t.Fatalf("Yield ran %v, want %v", ran, want)
	}
	select {
	case <-mb.Ready():
	default:
		t.Fatal("the upstream action is queued but the mailbox is not armed")
	}
	if n, _ := mb.RunPending(0); n != 1 || ran[2] != "up" {
		t.Fatalf("task loop ran %d, %v", n, ran)
	}
}

// An action that yields (a downstream operator waiting while an upstream
// one's action emits to it) runs a nested RunPending without disturbing
// the outer one.
func TestMailboxNestedRun(t *testing.T) {
	mb := NewMailbox()
	up, down := mb.Executor(0), mb.Executor(1)
	var ran []string
	up.Post(func() error {
		ran = append(ran, "up1")
		down.Post(func() error { ran = append(ran, "down"); return nil })
		if err := down.Yield(context.Background()); err != nil {
			return err
		}
		ran = append(ran, "up1 after yield")
		return nil
	})
	up.Post(func() error { ran = append(ran, "up2"); return nil })
	if _, err := mb.RunPending(0); err != nil {
		t.Fatal(err)
	}
	if want := []string{"up1", "down", "up1 after yield", "up2"}; !reflect.DeepEqual(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
}

// Yield blocks until an action is posted from another goroutine, and
// returns ctx's error when ctx ends first.
func TestMailboxYieldBlocks(t *testing.T) {
	mb := NewMailbox()
	e := mb.Executor(0)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	ran := false
	go func() {
		defer wg.Done()
		<-release
		e.Post(func() error { ran = true; return nil })
	}()
	close(release)
	if err := e.Yield(context.Background()); err != nil || !ran {
		t.Fatalf("Yield = %v, ran %v", err, ran)
	}
	wg.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Yield(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Yield on a cancelled context = %v", err)
	}
}

// A task idle on its gate wakes when an operator posts an action, and runs
// it on its own goroutine.
func TestTaskWakesOnPostedAction(t *testing.T) {
	g := NewGate()
	ch := g.NewChannel(0, 4)
	mb := NewMailbox()
	task := &Task{Name: "t", Gate: g, Mailbox: mb, Timers: NewTimerQueue(WallClock{}),
		Head: nopWatermarks{}, Deliver: []Deliver{func(any) (int, error) { return 0, nil }}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- task.Run(ctx) }()
	ran := make(chan struct{})
	mb.Executor(0).Post(func() error { close(ran); return nil })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle task did not run the posted action")
	}
	ch.C <- Envelope{Kind: KindEndOfInput}
	select {
	case g.notify <- struct{}{}:
	default:
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

type nopWatermarks struct{}

func (nopWatermarks) ProcessWatermark(int64) error      { return nil }
func (nopWatermarks) ProcessWatermarkStatus(bool) error { return nil }
