package weir

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/runtime"
)

// AsyncFunction is a request to an external system made for every record
// of a stream by OrderedWait or UnorderedWait, as Flink's AsyncFunction.
//
// AsyncInvoke returns the records the request yields for in (none, one or
// several); they carry in's timestamp. It is called from up to
// AsyncOptions.Capacity goroutines at once, so it must be safe for
// concurrent use, and it must return when ctx is done: ctx ends when the
// request timed out (AsyncOptions.Timeout) and when the job is cancelled or
// fails. An error (after the retries of AsyncOptions.Retry) fails the job.
//
// A function that implements Opener is opened by every subtask before its
// first call, and one that implements Closer is closed after the
// subtask's requests ended (Flink's RichAsyncFunction open and close):
// that is where a function opens and releases its connections. Such a
// function given as a pointer to a struct is copied (shallowly) for every
// subtask first, as the functions of Process are, so fields set in Open
// are the subtask's own; other functions are shared by the subtasks.
//
// A function that also implements AsyncTimeoutHandler answers the records
// whose request timed out itself.
type AsyncFunction[IN, OUT any] interface {
	AsyncInvoke(ctx context.Context, in IN) ([]OUT, error)
}

// AsyncFunc adapts a plain function to AsyncFunction.
type AsyncFunc[IN, OUT any] func(ctx context.Context, in IN) ([]OUT, error)

// AsyncInvoke calls f.
func (f AsyncFunc[IN, OUT]) AsyncInvoke(ctx context.Context, in IN) ([]OUT, error) {
	return f(ctx, in)
}

// AsyncTimeoutHandler is implemented by an AsyncFunction that answers a
// record whose request timed out (Flink's AsyncFunction#timeout): the
// records it returns are emitted in place of the request's, an error fails
// the job. It runs on the task's goroutine, so it must not block. Without
// it, a timeout fails the job with an error naming the record.
type AsyncTimeoutHandler[IN, OUT any] interface {
	AsyncTimeout(in IN) ([]OUT, error)
}

// AsyncInputCodec is implemented by an AsyncFunction whose input type the
// default codec (codec.For) cannot encode: the operator stores the inputs
// in flight at a checkpoint with this codec.
type AsyncInputCodec[IN any] interface {
	InputCodec() codec.Codec[IN]
}

// AsyncOptions configures OrderedWait and UnorderedWait. The zero value is
// usable: capacity 100, no timeout, no retries.
type AsyncOptions struct {
	// Capacity is the most records in flight per subtask: requests issued
	// and not yet emitted (Flink's capacity; default 100). When it is
	// reached the operator stops taking input, which backpressures the
	// stream, while it goes on emitting what completes. At most Capacity
	// calls of AsyncInvoke run at once per subtask.
	Capacity int
	// Timeout bounds the time from the first call of AsyncInvoke for a
	// record to its result, retries and their delays included (as Flink's
	// timeout). When it passes, the call's ctx is done and the record's
	// answer is that of the function's AsyncTimeoutHandler, or the job
	// fails with an error naming the record. Zero means no timeout.
	Timeout time.Duration
	// Retry retries failed calls (Flink's AsyncRetryStrategies); the zero
	// value never retries.
	Retry AsyncRetryStrategy
}

// defaultAsyncCapacity is Flink's default capacity of AsyncDataStream.
const defaultAsyncCapacity = 100

func (o AsyncOptions) withDefaults() AsyncOptions {
	if o.Capacity <= 0 {
		o.Capacity = defaultAsyncCapacity
	}
	return o
}

// AsyncRetryStrategy says when and after what delay a call of AsyncInvoke
// is made again for the same record, as Flink's AsyncRetryStrategies:
// FixedDelayRetry and ExponentialBackoffRetry build one, IfError and
// IfResult choose what is retried. A call is retried when it failed and
// the error predicate accepts the error (with none, every error is
// retried), or when it succeeded and the result predicate accepts the
// result (with none, no result is retried), and fewer than MaxAttempts
// calls were made. Once the attempts are used up the last call's answer
// stands: its error fails the job, its result is emitted. Retries count
// against AsyncOptions.Timeout.
type AsyncRetryStrategy struct {
	// MaxAttempts is the most calls per record, the first included; 0 or 1
	// means no retry.
	MaxAttempts int
	// Delay is the wait before the first retry (and every retry with a
	// fixed delay).
	Delay time.Duration
	// Multiplier, above 1, multiplies the delay after each retry
	// (exponential backoff), up to MaxDelay.
	Multiplier float64
	// MaxDelay caps the delay of an exponential backoff; 0 means no cap.
	MaxDelay time.Duration
	// ifError, if not nil, says which errors are retried.
	ifError func(error) bool
	// ifResult is the result predicate (a func([]OUT) bool), built by
	// RetryIfResult.
	ifResult AsyncResultPredicate
}

// FixedDelayRetry retries up to maxAttempts calls in all, delay apart
// (Flink's FixedDelayRetryStrategy).
func FixedDelayRetry(maxAttempts int, delay time.Duration) AsyncRetryStrategy {
	return AsyncRetryStrategy{MaxAttempts: maxAttempts, Delay: delay}
}

// ExponentialBackoffRetry retries up to maxAttempts calls in all, the
// first retry after initial, each next one after the previous delay times
// multiplier, never more than max (Flink's
// ExponentialBackoffDelayRetryStrategy).
func ExponentialBackoffRetry(maxAttempts int, initial, max time.Duration, multiplier float64) AsyncRetryStrategy {
	return AsyncRetryStrategy{MaxAttempts: maxAttempts, Delay: initial, MaxDelay: max, Multiplier: multiplier}
}

// IfError returns the strategy retrying only the errors pred accepts
// (Flink's ifException).
func (r AsyncRetryStrategy) IfError(pred func(error) bool) AsyncRetryStrategy {
	r.ifError = pred
	return r
}

// IfResult returns the strategy retrying successful calls whose result
// pred accepts (Flink's ifResult); build pred with RetryIfResult.
func (r AsyncRetryStrategy) IfResult(pred AsyncResultPredicate) AsyncRetryStrategy {
	r.ifResult = pred
	return r
}

// AsyncResultPredicate is a predicate on the result of AsyncInvoke, built
// by RetryIfResult or RetryIfEmptyResult for the function's output type.
type AsyncResultPredicate struct {
	fn any // func([]OUT) bool
}

// RetryIfResult returns a result predicate for AsyncRetryStrategy.IfResult.
// Its OUT must be the output type of the function it is used with, or the
// job fails when it is built.
func RetryIfResult[OUT any](pred func([]OUT) bool) AsyncResultPredicate {
	return AsyncResultPredicate{fn: pred}
}

// RetryIfEmptyResult returns the predicate accepting an empty result
// (Flink's RetryPredicates.EMPTY_RESULT_PREDICATE).
func RetryIfEmptyResult[OUT any]() AsyncResultPredicate {
	return RetryIfResult(func(r []OUT) bool { return len(r) == 0 })
}

// delay returns the wait before retry number n (1 for the first retry).
func (r *AsyncRetryStrategy) delay(n int) time.Duration {
	d := r.Delay
	if r.Multiplier > 1 {
		for i := 1; i < n; i++ {
			d = time.Duration(float64(d) * r.Multiplier)
			if r.MaxDelay > 0 && d >= r.MaxDelay {
				return r.MaxDelay
			}
		}
	}
	if r.MaxDelay > 0 && d > r.MaxDelay {
		d = r.MaxDelay
	}
	return d
}

// OrderedWait applies fn to every record of s through asynchronous
// requests, up to opts.Capacity in flight per subtask, and emits the
// results in the order of the input records (Flink's
// AsyncDataStream.orderedWait). Watermarks keep their place among the
// records. The output is not keyed.
//
// With checkpoints, the records in flight at a checkpoint (requested and
// not yet emitted) are stored in it and requested again after a restore,
// so that with an exactly-once sink every record's result is in the output
// exactly once. See docs/async-io.md.
func OrderedWait[IN, OUT any](s Stream[IN], fn AsyncFunction[IN, OUT], opts AsyncOptions) Stream[OUT] {
	return asyncWait(s, fn, opts, true)
}

// UnorderedWait is OrderedWait emitting each result as soon as its request
// completes (Flink's AsyncDataStream.unorderedWait), but never across a
// watermark: the results of records before a watermark are emitted before
// it, those of records after it after it.
func UnorderedWait[IN, OUT any](s Stream[IN], fn AsyncFunction[IN, OUT], opts AsyncOptions) Stream[OUT] {
	return asyncWait(s, fn, opts, false)
}

func asyncWait[IN, OUT any](s Stream[IN], fn AsyncFunction[IN, OUT], opts AsyncOptions, ordered bool) Stream[OUT] {
	name := "UnorderedWait"
	if ordered {
		name = "OrderedWait"
	}
	if fn == nil {
		s.env.g.Fail(fmt.Errorf("weir: %s: nil AsyncFunction", name))
	}
	opts = opts.withDefaults()
	var pred func([]OUT) bool
	if p := opts.Retry.ifResult.fn; p != nil {
		var ok bool
		if pred, ok = p.(func([]OUT) bool); !ok {
			s.env.g.Fail(fmt.Errorf("weir: %s: the retry result predicate is a %T, the function's results are %T", name, p, []OUT(nil)))
		}
	}
	return oneInput(s, name, func(out *outputs[OUT]) runtime.OneInput[IN] {
		op := &asyncOp[IN, OUT]{out: out, fn: fn, opts: opts, ordered: ordered, resultPred: pred, lastWM: runtime.MinWatermark}
		if h, ok := fn.(AsyncTimeoutHandler[IN, OUT]); ok {
			op.onTimeout = h.AsyncTimeout
		}
		return op
	})
}

// Entry kinds of the async operator's queue.
const (
	asyncRecord uint8 = iota
	asyncWatermark
	asyncStatus
)

// asyncEntry is one element of the async operator's queue: a record with
// its request, or a watermark or status change waiting for the records
// before it. A worker goroutine owns a record's entry from dispatch until
// it hands it back through the completed list; the task's goroutine owns
// it otherwise.
type asyncEntry[IN, OUT any] struct {
	kind uint8
	in   IN
	ts   int64 // the record's timestamp, the watermark, or 1 for idle
	// Set by the worker:
	out      []OUT
	err      error
	attempts int
	timedOut bool
	// Set on the task's goroutine:
	done bool
	seg  *asyncSegment[IN, OUT] // unordered: the entry's segment
	pos  int                    // unordered: index in seg.live
}

// asyncSegment is, in unordered mode, the records between two control
// events (Flink's UnorderedStreamElementQueue segments): its records may
// be emitted in any order, but only once every earlier segment has been,
// and ctrl (the watermark or status closing it; nil while open) only after
// them.
type asyncSegment[IN, OUT any] struct {
	live      []*asyncEntry[IN, OUT] // records not yet emitted
	completed []*asyncEntry[IN, OUT] // of those, completed (not the head segment)
	ctrl      *asyncEntry[IN, OUT]
}

// asyncOp is the operator of OrderedWait and UnorderedWait (Flink's
// AsyncWaitOperator). The task's goroutine takes input, keeps the queue,
// emits, snapshots; worker goroutines (at most Capacity, started as needed
// and stopped by Close) call AsyncInvoke and hand completed entries back
// through mu.done, posting one drain action to the task's mailbox for a
// run of completions. Backpressure: ProcessElement yields to the mailbox
// while Capacity records are in flight.
type asyncOp[IN, OUT any] struct {
	baseOp
	out        *outputs[OUT]
	fn         AsyncFunction[IN, OUT]
	onTimeout  func(IN) ([]OUT, error)
	opts       AsyncOptions
	ordered    bool
	resultPred func([]OUT) bool
	codec      codec.Codec[IN]
	codecErr   error

	// runCtx is the context of the requests: a child of the task's,
	// cancelled by Close.
	runCtx  context.Context
	cancel  context.CancelFunc
	work    chan *asyncEntry[IN, OUT]
	workers sync.WaitGroup
	started int // workers started
	busy    int // records dispatched and not yet handed back

	mu struct {
		sync.Mutex
		done   []*asyncEntry[IN, OUT]
		posted bool // a drain is posted and has not taken mu.done yet
	}
	spare []*asyncEntry[IN, OUT]
	drain func() error

	// The queue, on the task's goroutine.
	inflight int // records in the queue
	q        []*asyncEntry[IN, OUT]
	qh       int                      // ordered: head index of q
	segs     []*asyncSegment[IN, OUT] // unordered: segments, oldest first
	free     []*asyncEntry[IN, OUT]
	freeSegs []*asyncSegment[IN, OUT]
	lastWM   int64
	buf, tmp []byte // snapshot encoding

	// restored holds the inputs to request again after a restore, until
	// the first call (or the posted reissue) does.
	restored []asyncEntry[IN, OUT]
	reissued bool
	// opened: the function's Open succeeded, so Close closes it.
	opened bool
}

func (a *asyncOp[IN, OUT]) Open(ctx *runtime.OperatorContext) error {
	a.ctx = ctx
	ctx.Metrics.Async = true
	if ctx.Mailbox == nil {
		return fmt.Errorf("weir: operator %q: the async operator needs a task mailbox (it runs only inside a job)", ctx.Name)
	}
	if _, ok := a.fn.(Opener); ok {
		a.fn = perSubtask(a.fn)
		if h, ok := a.fn.(AsyncTimeoutHandler[IN, OUT]); ok {
			a.onTimeout = h.AsyncTimeout
		}
	}
	if o, ok := a.fn.(Opener); ok {
		if err := o.Open(&RuntimeContext{op: ctx}); err != nil {
			return opError(ctx, err)
		}
	}
	a.opened = true
	if c, ok := a.fn.(AsyncInputCodec[IN]); ok {
		a.codec = c.InputCodec()
	} else {
		a.codec, a.codecErr = codec.For[IN]()
	}
	if a.codec == nil && ctx.Checkpointing {
		return fmt.Errorf("weir: operator %q: checkpoints store the records in flight, and their type has no codec (implement AsyncInputCodec): %w", ctx.Name, a.codecErr)
	}
	parent := ctx.Context
	if parent == nil {
		parent = context.Background()
	}
	a.runCtx, a.cancel = context.WithCancel(parent)
	a.work = make(chan *asyncEntry[IN, OUT], a.opts.Capacity)
	a.drain = a.drainCompleted
	if err := a.restore(ctx.Restore); err != nil {
		return fmt.Errorf("weir: operator %q: restore: %w", ctx.Name, err)
	}
	if len(a.restored) > 0 {
		// Request them again before any new input: the task loop runs
		// posted actions before it reads its input.
		ctx.Mailbox.Post(a.reissue)
	} else {
		a.reissued = true
	}
	return nil
}

// taskCtx is the task's context (for Yield).
func (a *asyncOp[IN, OUT]) taskCtx() context.Context {
	if a.ctx.Context == nil {
		return context.Background()
	}
	return a.ctx.Context
}

func (a *asyncOp[IN, OUT]) ProcessElement(v IN, ts int64) error {
	if !a.reissued {
		if err := a.reissue(); err != nil {
			return err
		}
	}
	return a.add(v, ts)
}

// add queues a record and dispatches its request, first waiting (and
// emitting completions) while the queue is at capacity.
func (a *asyncOp[IN, OUT]) add(v IN, ts int64) error {
	for a.inflight >= a.opts.Capacity {
		if err := a.ctx.Mailbox.Yield(a.taskCtx()); err != nil {
			return err
		}
	}
	e := a.newEntry()
	e.kind, e.in, e.ts = asyncRecord, v, ts
	if a.ordered {
		a.q = append(a.q, e)
	} else {
		s := a.openSegment()
		e.seg, e.pos = s, len(s.live)
		s.live = append(s.live, e)
	}
	a.inflight++
	atomic.StoreInt64(&a.ctx.Metrics.AsyncInFlight, int64(a.inflight))
	a.busy++
	if a.busy > a.started {
		a.started++
		a.workers.Add(1)
		go a.worker()
	}
	a.work <- e // never blocks: busy <= Capacity = cap(work)
	return nil
}

func (a *asyncOp[IN, OUT]) newEntry() *asyncEntry[IN, OUT] {
	if n := len(a.free); n > 0 {
		e := a.free[n-1]
		a.free = a.free[:n-1]
		return e
	}
	return &asyncEntry[IN, OUT]{}
}

func (a *asyncOp[IN, OUT]) release(e *asyncEntry[IN, OUT]) {
	*e = asyncEntry[IN, OUT]{}
	a.free = append(a.free, e)
}

// openSegment returns the last segment if still open, else a new one.
func (a *asyncOp[IN, OUT]) openSegment() *asyncSegment[IN, OUT] {
	if n := len(a.segs); n > 0 && a.segs[n-1].ctrl == nil {
		return a.segs[n-1]
	}
	var s *asyncSegment[IN, OUT]
	if n := len(a.freeSegs); n > 0 {
		s = a.freeSegs[n-1]
		a.freeSegs = a.freeSegs[:n-1]
	} else {
		s = &asyncSegment[IN, OUT]{}
	}
	a.segs = append(a.segs, s)
	return s
}

func (a *asyncOp[IN, OUT]) ProcessWatermark(wm int64) error {
	if !a.reissued {
		if err := a.reissue(); err != nil {
			return err
		}
	}
	a.ctx.Metrics.CurrentWatermark = wm
	return a.control(asyncWatermark, wm)
}

func (a *asyncOp[IN, OUT]) ProcessWatermarkStatus(idle bool) error {
	if !a.reissued {
		if err := a.reissue(); err != nil {
			return err
		}
	}
	var v int64
	if idle {
		v = 1
	}
	return a.control(asyncStatus, v)
}

// control emits a watermark or status change at once when no record is in
// flight, and otherwise queues it behind the records in flight. A
// watermark right behind another queued watermark replaces it.
func (a *asyncOp[IN, OUT]) control(kind uint8, v int64) error {
	if a.inflight == 0 {
		return a.emitControl(kind, v)
	}
	if a.ordered {
		if n := len(a.q); kind == asyncWatermark && a.q[n-1].kind == asyncWatermark {
			a.q[n-1].ts = v
			return nil
		}
		e := a.newEntry()
		e.kind, e.ts, e.done = kind, v, true
		a.q = append(a.q, e)
		return nil
	}
	last := a.segs[len(a.segs)-1]
	if last.ctrl != nil && len(last.live) == 0 && kind == asyncWatermark && last.ctrl.kind == asyncWatermark {
		last.ctrl.ts = v
		return nil
	}
	if last.ctrl != nil {
		// Two control events with no record between them: an empty
		// segment carries the second.
		last = a.openSegment()
	}
	e := a.newEntry()
	e.kind, e.ts, e.done = kind, v, true
	last.ctrl = e
	return nil
}

func (a *asyncOp[IN, OUT]) emitControl(kind uint8, v int64) error {
	if kind == asyncStatus {
		return a.out.ProcessWatermarkStatus(v == 1)
	}
	if v <= a.lastWM {
		return nil
	}
	a.lastWM = v
	return a.out.ProcessWatermark(v)
}

// worker calls AsyncInvoke for dispatched entries until Close.
func (a *asyncOp[IN, OUT]) worker() {
	defer a.workers.Done()
	done := a.runCtx.Done()
	for {
		select {
		case e := <-a.work:
			a.invoke(e)
			a.complete(e)
		case <-done:
			return
		}
	}
}

// invoke makes the calls for e's record: the first, then the retries the
// strategy allows, all within the timeout.
func (a *asyncOp[IN, OUT]) invoke(e *asyncEntry[IN, OUT]) {
	ctx := a.runCtx
	var deadline time.Time
	if a.opts.Timeout > 0 {
		deadline = time.Now().Add(a.opts.Timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	r := &a.opts.Retry
	for {
		e.attempts++
		out, err := a.call(ctx, e.in)
		if a.runCtx.Err() != nil {
			e.err = a.runCtx.Err()
			return
		}
		if !deadline.IsZero() && (ctx.Err() != nil || !time.Now().Before(deadline)) {
			// Whatever the call answered, the timeout was first (Flink
			// ignores a completion after the timeout).
			e.timedOut = true
			return
		}
		retry := false
		if err != nil {
			retry = r.ifError == nil || r.ifError(err)
		} else if a.resultPred != nil {
			retry = a.resultPred(out)
		}
		if !retry || e.attempts >= r.MaxAttempts {
			e.out, e.err = out, err
			return
		}
		t := time.NewTimer(r.delay(e.attempts))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if a.runCtx.Err() != nil {
				e.err = a.runCtx.Err()
			} else {
				e.timedOut = true
			}
			return
		}
	}
}

// call runs AsyncInvoke, turning a panic into an error (a worker's panic
// would otherwise end the process, not fail the job).
func (a *asyncOp[IN, OUT]) call(ctx context.Context, in IN) (out []OUT, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return a.fn.AsyncInvoke(ctx, in)
}

// complete hands e back to the task's goroutine.
func (a *asyncOp[IN, OUT]) complete(e *asyncEntry[IN, OUT]) {
	a.mu.Lock()
	a.mu.done = append(a.mu.done, e)
	post := !a.mu.posted
	a.mu.posted = true
	a.mu.Unlock()
	if post {
		a.ctx.Mailbox.Post(a.drain)
	}
}

// drainCompleted is the posted action: it takes the completed entries and
// emits what the order allows.
func (a *asyncOp[IN, OUT]) drainCompleted() error {
	a.mu.Lock()
	list := a.mu.done
	a.mu.done = a.spare
	a.mu.posted = false
	a.mu.Unlock()
	var err error
	for i, e := range list {
		list[i] = nil
		if err == nil {
			err = a.completed(e)
		}
	}
	a.spare = list[:0]
	if err != nil {
		return err
	}
	if a.ordered {
		return a.emitOrdered()
	}
	return a.emitUnordered()
}

// completed settles e's answer (timeout handler, errors) and marks it
// done; in unordered mode a record of the head segment is emitted at once.
func (a *asyncOp[IN, OUT]) completed(e *asyncEntry[IN, OUT]) error {
	a.busy--
	if e.attempts > 1 {
		atomic.AddInt64(&a.ctx.Metrics.AsyncRetries, int64(e.attempts-1))
	}
	if e.timedOut {
		atomic.AddInt64(&a.ctx.Metrics.AsyncTimeouts, 1)
	}
	if e.timedOut {
		if a.onTimeout == nil {
			return fmt.Errorf("weir: operator %q: async request for record %s timed out after %v (%d attempts)", a.ctx.Name, showRecord(e.in), a.opts.Timeout, e.attempts)
		}
		out, err := a.onTimeout(e.in)
		if err != nil {
			return fmt.Errorf("weir: operator %q: timeout handler for record %s: %w", a.ctx.Name, showRecord(e.in), err)
		}
		e.out = out
	} else if e.err != nil {
		if errors.Is(e.err, context.Canceled) && a.runCtx.Err() != nil {
			return a.runCtx.Err()
		}
		return fmt.Errorf("weir: operator %q: async request for record %s failed (%d attempts): %w", a.ctx.Name, showRecord(e.in), e.attempts, e.err)
	}
	e.done = true
	if a.ordered {
		return nil
	}
	if e.seg == a.segs[0] {
		return a.emitRecord(e)
	}
	e.seg.completed = append(e.seg.completed, e)
	return nil
}

// emitRecord emits a completed record's results and frees its entry.
func (a *asyncOp[IN, OUT]) emitRecord(e *asyncEntry[IN, OUT]) error {
	if s := e.seg; s != nil {
		last := len(s.live) - 1
		m := s.live[last]
		s.live[e.pos], m.pos = m, e.pos
		s.live[last] = nil
		s.live = s.live[:last]
	}
	a.inflight--
	atomic.StoreInt64(&a.ctx.Metrics.AsyncInFlight, int64(a.inflight))
	for _, o := range e.out {
		if err := a.out.main.ProcessElement(o, e.ts); err != nil {
			a.release(e)
			return err
		}
	}
	a.release(e)
	return nil
}

// emitOrdered emits the done entries at the head of the queue.
func (a *asyncOp[IN, OUT]) emitOrdered() error {
	for a.qh < len(a.q) && a.q[a.qh].done {
		e := a.q[a.qh]
		a.q[a.qh] = nil
		a.qh++
		if a.qh == len(a.q) {
			a.q, a.qh = a.q[:0], 0
		} else if a.qh >= 64 && a.qh*2 >= len(a.q) {
			n := copy(a.q, a.q[a.qh:])
			clear(a.q[n:])
			a.q, a.qh = a.q[:n], 0
		}
		var err error
		if e.kind == asyncRecord {
			err = a.emitRecord(e)
		} else {
			err = a.emitControl(e.kind, e.ts)
			a.release(e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// emitUnordered emits the control event of every finished head segment,
// then the completed records of the next.
func (a *asyncOp[IN, OUT]) emitUnordered() error {
	for len(a.segs) > 0 {
		s := a.segs[0]
		if len(s.live) > 0 || s.ctrl == nil {
			return nil
		}
		c := s.ctrl
		copy(a.segs, a.segs[1:])
		a.segs[len(a.segs)-1] = nil
		a.segs = a.segs[:len(a.segs)-1]
		s.ctrl = nil
		s.completed = s.completed[:0]
		a.freeSegs = append(a.freeSegs, s)
		err := a.emitControl(c.kind, c.ts)
		a.release(c)
		if err != nil {
			return err
		}
		if len(a.segs) == 0 {
			return nil
		}
		next := a.segs[0]
		for i, e := range next.completed {
			next.completed[i] = nil
			if err := a.emitRecord(e); err != nil {
				return err
			}
		}
		next.completed = next.completed[:0]
	}
	return nil
}

// Finish waits for every record in flight and emits it, and the control
// events behind them.
func (a *asyncOp[IN, OUT]) Finish() error {
	if !a.reissued {
		if err := a.reissue(); err != nil {
			return err
		}
	}
	for a.inflight > 0 {
		if err := a.ctx.Mailbox.Yield(a.taskCtx()); err != nil {
			return err
		}
	}
	return nil
}

// Close cancels the requests in flight and waits for the workers.
func (a *asyncOp[IN, OUT]) Close() error {
	if a.cancel != nil {
		a.cancel()
		a.workers.Wait()
	}
	if c, ok := a.fn.(Closer); ok && a.opened {
		return c.Close()
	}
	return nil
}

// Snapshot format: one item per subtask,
//
//	uvarint subtask, uvarint parallelism, then per queued element in
//	queue order: byte kind, varint ts, and for a record uvarint length
//	and the record's codec bytes.
//
// Every subtask of the restored job gets every item (operator state);
// subtask i takes the items of the old subtasks s with s mod p == i.

// SnapshotState stores the inputs of the records in flight (completed or
// not, not yet emitted) and the control events between them.
func (a *asyncOp[IN, OUT]) SnapshotState(_ int64, w *runtime.StateWriter) error {
	if !a.reissued {
		if err := a.reissue(); err != nil {
			return err
		}
	}
	b := binary.AppendUvarint(a.buf[:0], uint64(a.ctx.Subtask))
	b = binary.AppendUvarint(b, uint64(a.ctx.Parallelism))
	put := func(e *asyncEntry[IN, OUT]) {
		b = append(b, e.kind)
		b = binary.AppendVarint(b, e.ts)
		if e.kind == asyncRecord {
			a.tmp = a.codec.Append(a.tmp[:0], e.in)
			b = binary.AppendUvarint(b, uint64(len(a.tmp)))
			b = append(b, a.tmp...)
		}
	}
	if a.ordered {
		for _, e := range a.q[a.qh:] {
			put(e)
		}
	} else {
		for _, s := range a.segs {
			for _, e := range s.live {
				put(e)
			}
			if s.ctrl != nil {
				put(s.ctrl)
			}
		}
	}
	w.AddItem(b)
	a.buf = b
	return nil
}

// restore decodes the items of this subtask into a.restored.
func (a *asyncOp[IN, OUT]) restore(rs *runtime.RestoreState) error {
	if rs == nil {
		return nil
	}
	taken := 0
	for _, it := range rs.Items {
		sub, k := binary.Uvarint(it)
		if k <= 0 {
			return fmt.Errorf("%w: async operator state header", codec.ErrCorrupt)
		}
		it = it[k:]
		_, k = binary.Uvarint(it)
		if k <= 0 {
			return fmt.Errorf("%w: async operator state header", codec.ErrCorrupt)
		}
		it = it[k:]
		if int(sub%uint64(a.ctx.Parallelism)) != a.ctx.Subtask {
			continue
		}
		taken++
		for len(it) > 0 {
			var e asyncEntry[IN, OUT]
			e.kind = it[0]
			ts, k := binary.Varint(it[1:])
			if k <= 0 || e.kind > asyncStatus {
				return fmt.Errorf("%w: async operator state entry", codec.ErrCorrupt)
			}
			e.ts = ts
			it = it[1+k:]
			if e.kind == asyncRecord {
				if a.codec == nil {
					return fmt.Errorf("the records in flight cannot be decoded: %w", a.codecErr)
				}
				l, k := binary.Uvarint(it)
				if k <= 0 || uint64(len(it)-k) < l {
					return fmt.Errorf("%w: async operator state record", codec.ErrCorrupt)
				}
				v, _, err := a.codec.Decode(it[k : k+int(l)])
				if err != nil {
					return err
				}
				e.in = v
				it = it[k+int(l):]
			}
			a.restored = append(a.restored, e)
		}
	}
	if taken > 1 {
		// Merged from several old subtasks (a lower parallelism): their
		// watermarks do not hold for each other's records. Drop them;
		// the input's next watermark follows.
		keep := a.restored[:0]
		for _, e := range a.restored {
			if e.kind == asyncRecord {
				keep = append(keep, e)
			}
		}
		a.restored = keep
	}
	return nil
}

// reissue requests the restored records again, with the control events
// between them, before any new input.
func (a *asyncOp[IN, OUT]) reissue() error {
	if a.reissued {
		return nil
	}
	a.reissued = true
	rs := a.restored
	a.restored = nil
	for i := range rs {
		e := &rs[i]
		var err error
		switch e.kind {
		case asyncRecord:
			err = a.add(e.in, e.ts)
		default:
			err = a.control(e.kind, e.ts)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// showRecord formats a record for an error message, cut to a readable
// length.
func showRecord(v any) string {
	s := fmt.Sprintf("%+v", v)
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
