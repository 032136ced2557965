package runtime

import (
	"errors"
	"runtime"
	"sync"
	"testing"
)

// A writer blocked on a full channel is woken once the consumer drained
// the channel to half its capacity, not at the first free slot, so that a
// back-pressured producer sends several batches per wake-up.
func TestWriterWakesAtHalfCapacity(t *testing.T) {
	g := NewGate()
	ch := g.NewChannel(0, 8)
	pool := NewBatchPool[int](1)
	done := make(chan struct{})
	defer close(done)
	w := NewRecordWriter[int](Forward, []*Channel{ch}, nil, pool, done)
	for i := range 8 { // batches of one record: each fills a slot
		if err := w.ProcessElement(i, 0); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- w.ProcessElement(8, 0) }()
	for !ch.waiting.Load() {
		runtime.Gosched() // until the writer waits for space
	}
	for i := range 3 {
		if _, e, ok := g.poll(); !ok || e.Data.(*Batch[int]).Recs[0].V != i {
			t.Fatalf("poll %d: %v %v", i, e, ok)
		}
		if !ch.waiting.Load() || len(ch.space) != 0 {
			t.Fatalf("the writer was woken with %d batches queued, want at most 4", len(ch.C))
		}
		select {
		case err := <-sent:
			t.Fatalf("the writer sent with %d batches queued (err %v)", len(ch.C), err)
		default:
		}
	}
	g.poll() // 4 left: the writer may go on
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if ch.waiting.Load() {
		t.Fatal("the writer still waits after sending")
	}
	var got []int
	for {
		_, e, ok := g.poll()
		if !ok {
			break
		}
		got = append(got, e.Data.(*Batch[int]).Recs[0].V)
	}
	if len(got) != 5 || got[0] != 4 || got[4] != 8 {
		t.Fatalf("left in the channel: %v, want 4..8", got)
	}
}

// A waiting writer returns ErrCanceled when the job stops.
func TestWriterWaitCanceled(t *testing.T) {
	g := NewGate()
	ch := g.NewChannel(0, 2)
	done := make(chan struct{})
	w := NewRecordWriter[int](Forward, []*Channel{ch}, nil, NewBatchPool[int](1), done)
	var err error
	for i := 0; err == nil && i < 2; i++ {
		err = w.ProcessElement(i, 0)
	}
	sent := make(chan error, 1)
	go func() { sent <- w.ProcessElement(2, 0) }()
	for !ch.waiting.Load() {
		runtime.Gosched()
	}
	close(done)
	if err := <-sent; !errors.Is(err, ErrCanceled) {
		t.Fatalf("send on a stopped job: %v", err)
	}
}

// Producers and a consumer racing on small channels lose no record and no
// wake-up (run with -race).
func TestWriterWakeStress(t *testing.T) {
	for _, capacity := range []int{1, 2, 3, 8} {
		g := NewGate()
		const producers, n = 3, 20000
		done := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, producers)
		for p := range producers {
			ch := g.NewChannel(0, capacity)
			w := NewRecordWriter[int](Forward, []*Channel{ch}, nil, NewBatchPool[int](1+p), done)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					if err := w.ProcessElement(i, 0); err != nil {
						errs <- err
						return
					}
				}
				errs <- w.EndOfInput()
			}()
		}
		next := make([]int, producers)
		ended := 0
		for ended < producers {
			idx, e, ok := g.poll()
			if !ok {
				g.wait(nil, nil, nil, nil)
				continue
			}
			switch e.Kind {
			case KindData:
				for _, r := range e.Data.(*Batch[int]).Recs {
					if r.V != next[idx] {
						t.Fatalf("capacity %d: channel %d: got %d, want %d", capacity, idx, r.V, next[idx])
					}
					next[idx]++
				}
			case KindEndOfInput:
				g.chans[idx].finished = true
				ended++
			}
		}
		wg.Wait()
		close(done)
		for range producers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for i, v := range next {
			if v != n {
				t.Fatalf("capacity %d: channel %d delivered %d records, want %d", capacity, i, v, n)
			}
		}
	}
}
