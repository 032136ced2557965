package runtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// Mailbox lets other goroutines hand work to a task's goroutine, as Flink's
// task mailbox does: an operator whose work completes elsewhere (the async
// I/O operator's requests) posts an action, and the task runs it between
// records, so that the operator's state and output stay touched by the
// task's goroutine alone. The task loop runs pending actions in every
// iteration and wakes from its idle wait when one is posted.
//
// An action posted through an operator's executor carries the operator's
// chain position as its priority. An operator blocked inside one of its
// own calls (waiting for capacity, or for the end of its work in Finish)
// runs pending actions with Yield, which takes only actions of its own
// position or later in the chain: those of operators downstream of it,
// which are not on the call stack. An upstream operator's action waits for
// the task loop, so no operator's action ever runs while that operator is
// in the middle of a call (the rule of Flink's MailboxExecutor#yield).
//
// Lock order: an operator's own lock may be held while posting; the
// mailbox's lock is innermost.
type Mailbox struct {
	mu struct {
		sync.Mutex
		q []mail
	}
	// pending counts queued actions: the task loop reads it without the
	// lock to skip an empty mailbox.
	pending atomic.Int32
	// notify holds a token while actions may be pending.
	notify chan struct{}
	// spare is the task goroutine's reused slice of actions to run.
	spare []mail
}

type mail struct {
	prio int
	fn   func() error
}

// NewMailbox returns an empty mailbox.
func NewMailbox() *Mailbox { return &Mailbox{notify: make(chan struct{}, 1)} }

// Executor returns the executor an operator at chain position prio posts
// through.
func (m *Mailbox) Executor(prio int) *MailboxExecutor {
	return &MailboxExecutor{mb: m, prio: prio}
}

func (m *Mailbox) post(prio int, fn func() error) {
	m.mu.Lock()
	m.mu.q = append(m.mu.q, mail{prio, fn})
	m.pending.Add(1)
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// Ready returns a channel that holds a token when actions may be pending.
// A waiter that takes the token must run (or look at) the mailbox.
func (m *Mailbox) Ready() <-chan struct{} { return m.notify }

// Pending reports whether actions are queued.
func (m *Mailbox) Pending() bool { return m.pending.Load() > 0 }

// RunPending runs, on the task's goroutine, the actions of priority at
// least minPrio that were queued when it was called, in the order they
// were posted, and returns how many ran. It stops at the first error.
// Actions left queued (of a lower priority, or behind the error) stay for
// a later call.
func (m *Mailbox) RunPending(minPrio int) (int, error) {
	if m.pending.Load() == 0 {
		return 0, nil
	}
	// An action may yield (an operator downstream of the one that posted
	// it): the nested call must not reuse this call's slice.
	run := m.spare[:0]
	m.spare = nil
	m.mu.Lock()
	keep := m.mu.q[:0]
	for _, x := range m.mu.q {
		if x.prio >= minPrio {
			run = append(run, x)
		} else {
			keep = append(keep, x)
		}
	}
	for i := len(keep); i < len(m.mu.q); i++ {
		m.mu.q[i] = mail{}
	}
	m.mu.q = keep
	m.pending.Add(-int32(len(run)))
	m.mu.Unlock()
	n := 0
	var err error
	for i := range run {
		if err == nil {
			n++
			err = run[i].fn()
		} else {
			// Not run: put back in order, ahead of what came since.
			m.requeue(run[i:])
			break
		}
	}
	for i := range run {
		run[i] = mail{}
	}
	m.spare = run[:0]
	return n, err
}

// requeue puts actions back at the front of the queue.
func (m *Mailbox) requeue(xs []mail) {
	m.mu.Lock()
	m.mu.q = append(append([]mail(nil), xs...), m.mu.q...)
	m.pending.Add(int32(len(xs)))
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// MailboxExecutor is one operator's handle on its task's mailbox. Post may
// be called from any goroutine; Yield only from the task's goroutine,
// inside one of the operator's calls.
type MailboxExecutor struct {
	mb   *Mailbox
	prio int
}

// Post queues fn to run on the task's goroutine between records. fn's
// error fails the task. Posting never blocks.
func (e *MailboxExecutor) Post(fn func() error) { e.mb.post(e.prio, fn) }

// Yield runs pending actions of this operator and of those after it in the
// chain; if there are none it blocks until one is posted or ctx is done
// (then it returns ctx's error). It returns after running at least one
// action. An operator calls it in a loop while it waits for its own
// posted work (for a free slot, or for the end of its requests).
func (e *MailboxExecutor) Yield(ctx context.Context) error {
	defer e.mb.rearm()
	for {
		n, err := e.mb.RunPending(e.prio)
		if err != nil || n > 0 {
			return err
		}
		select {
		case <-e.mb.notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// rearm puts the notify token back when actions an operator's
// Yield could not run are still queued, so that the task loop's wait does
// not miss them.
func (m *Mailbox) rearm() {
	if m.pending.Load() > 0 {
		select {
		case m.notify <- struct{}{}:
		default:
		}
	}
}
