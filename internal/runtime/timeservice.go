package runtime

import (
	"container/heap"
	"time"
)

// ProcessingTimeService gives operators the processing-time clock and lets
// them schedule callbacks. Callbacks run on the owning task's goroutine, in
// time order, never concurrently with record processing.
type ProcessingTimeService interface {
	// Now returns the current processing time in milliseconds since the epoch.
	Now() int64
	// Schedule runs fn once processing time reaches at (milliseconds).
	Schedule(at int64, fn func(now int64) error)
}

// Clock is a source of processing time in milliseconds.
type Clock interface {
	Now() int64
}

// WallClock reads the system clock.
type WallClock struct{}

// Now returns the wall-clock time in milliseconds.
func (WallClock) Now() int64 { return time.Now().UnixMilli() }

func nanotime() int64 { return time.Now().UnixNano() }

type scheduled struct {
	at  int64
	seq uint64
	fn  func(now int64) error
}

type scheduledHeap []scheduled

func (h scheduledHeap) Len() int { return len(h) }
func (h scheduledHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h scheduledHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *scheduledHeap) Push(x any)   { *h = append(*h, x.(scheduled)) }
func (h *scheduledHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = scheduled{}
	*h = old[:len(old)-1]
	return x
}

// TimerQueue is a ProcessingTimeService whose callbacks are fired by its
// owner: the task loop with the wall clock, or a test harness with a manual
// clock.
type TimerQueue struct {
	clock Clock
	h     scheduledHeap
	seq   uint64
	done  <-chan struct{} // the task's context's Done; nil: never
}

// SetDone gives the queue the Done channel of the task's context: once it
// is closed, Canceled reports ErrCanceled and timer loops stop (a callback
// that keeps registering due timers cannot hold a cancelled task).
func (q *TimerQueue) SetDone(done <-chan struct{}) { q.done = done }

// Canceled returns ErrCanceled once the task's context is done, else nil.
func (q *TimerQueue) Canceled() error {
	select {
	case <-q.done:
		return ErrCanceled
	default:
		return nil
	}
}

// cancelCheckEvery is how many timers a loop fires between checks of
// cancellation.
const cancelCheckEvery = 256

// canceled reports ErrCanceled when pts is a TimerQueue whose task was
// cancelled.
func canceled(pts ProcessingTimeService) error {
	if c, ok := pts.(interface{ Canceled() error }); ok {
		return c.Canceled()
	}
	return nil
}

// NewTimerQueue returns a queue reading time from clock.
func NewTimerQueue(clock Clock) *TimerQueue { return &TimerQueue{clock: clock} }

// Now returns the clock's time.
func (q *TimerQueue) Now() int64 { return q.clock.Now() }

// Schedule registers fn to run at time at.
func (q *TimerQueue) Schedule(at int64, fn func(now int64) error) {
	q.seq++
	heap.Push(&q.h, scheduled{at: at, seq: q.seq, fn: fn})
}

// Next returns the earliest scheduled time, if any.
func (q *TimerQueue) Next() (int64, bool) {
	if len(q.h) == 0 {
		return 0, false
	}
	return q.h[0].at, true
}

// FireDue runs every callback scheduled at or before now, including ones
// that the callbacks themselves schedule for times up to now.
func (q *TimerQueue) FireDue(now int64) error {
	for n := 1; len(q.h) > 0 && q.h[0].at <= now; n++ {
		if n%cancelCheckEvery == 0 {
			if err := q.Canceled(); err != nil {
				return err
			}
		}
		s := heap.Pop(&q.h).(scheduled)
		if err := s.fn(now); err != nil {
			return err
		}
	}
	return nil
}
