package runtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// PollStatus is what a source driver reports after a poll.
type PollStatus uint8

// Poll statuses.
const (
	// MoreAvailable: poll again at once.
	MoreAvailable PollStatus = iota
	// NothingAvailable: wait for Available, a timer, or cancellation.
	NothingAvailable
	// EndOfInput: the source is exhausted; it already emitted its final
	// watermark.
	EndOfInput
)

// SourceDriver is the type-erased head of a source task. It emits records
// and watermarks into the chain itself.
type SourceDriver interface {
	// PollNext emits what is available, a bounded amount at a time.
	PollNext(ctx context.Context) (PollStatus, error)
	// Available returns a channel that is ready (or closed) when PollNext can
	// make progress after NothingAvailable; nil if only timers wake it.
	Available() <-chan struct{}
}

// Drainer is implemented by a SourceDriver that can end its event time on
// request: Drain emits the final watermark (MaxWatermark) through the
// chain, as if the input had ended, and PollNext is not called again.
// A stop-with-savepoint with drain asks sources for it just before the
// savepoint's barrier (Flink's stop --drain), so every event-time timer
// fires and every window emits before the savepoint is taken.
type Drainer interface {
	Drain() error
}

// WatermarkHandler is the control half of a chain's head operator.
type WatermarkHandler interface {
	ProcessWatermark(wm int64) error
	ProcessWatermarkStatus(idle bool) error
}

// ChainMember is one operator of a chain with its context.
type ChainMember struct {
	Op  Lifecycle
	Ctx *OperatorContext
}

// Deliver hands a batch received on a logical input to the head operator and
// returns how many records it held.
type Deliver func(data any) (int, error)

// Task runs one subtask: a chain of operators fed either by a source driver
// or by a gate, with writers to the next vertices.
type Task struct {
	// Name identifies the subtask in errors and metrics: "Map -> Filter (2/4)".
	Name string
	// Chain lists the operators from head to tail.
	Chain []ChainMember
	// Source drives a source task; nil for other tasks.
	Source SourceDriver
	// Gate and Deliver feed a non-source task: Deliver[i] handles batches of
	// logical input i.
	Gate    *Gate
	Deliver []Deliver
	// Head receives the combined watermark of a non-source task.
	Head WatermarkHandler
	// Writers are the record writers of the chain's outputs.
	Writers []Writer
	// Timers is the task's processing-time service.
	Timers *TimerQueue
	// Mailbox takes actions that operators post from other goroutines
	// (see Mailbox); nil if no operator of the chain uses one.
	Mailbox *Mailbox
	// Metrics is updated by the task and published through Report.
	Metrics TaskMetrics
	// Checkpoint connects the task to the checkpoint driver; nil when
	// checkpoints are off.
	Checkpoint *Checkpointing
	// Report, if set, is called with the task's metrics at most every
	// ReportInterval and once at the end.
	Report         func(*TaskMetrics)
	ReportInterval time.Duration
	// LatencyInterval, on a source task, is how often it emits a latency
	// marker named LatencySource (0: never).
	LatencyInterval time.Duration
	LatencySource   string
	// OnLatency, if set (a task whose chain holds sinks), records each
	// latency marker that reaches the task; now is Unix nanoseconds.
	OnLatency func(m *LatencyMarker, now int64)

	lastWM int64
	idle   bool
	opened bool
	done   bool
	// stopped: the driver told the finished task that the job ended.
	stopped bool
	// drained: a source task emitted its final watermark for a stop with
	// drain; it polls its source no more and waits for the stop.
	drained bool
	// parked: the last Step ended where Run would wait (see ready).
	parked  bool
	aligner *Aligner
	stop    <-chan struct{}
	// async counts snapshots still being written off the task's goroutine.
	async sync.WaitGroup
	// final is the snapshot the task took when it finished its input.
	final      *TaskSnapshot
	lastReport int64
	idleNanos  int64
	// alignStart is when the first barrier of the checkpoint being
	// aligned arrived (Unix nanos).
	alignStart int64
	// nextMarker is when a source task emits its next latency marker.
	nextMarker int64
}

// TaskMetrics are cumulative counters of one subtask.
type TaskMetrics struct {
	RecordsIn        int64
	RecordsOut       int64
	IdleNanos        int64
	BackpressureNano int64
	Watermark        int64
	QueueFill        float64 // mean fill of the input channels, 0..1
	Started          int64   // unix nanos
}

// PanicError is a panic recovered in a task, turned into the job's failure.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v\n%s", p.Value, p.Stack) }

// ErrStopped is returned by a task told to stop (MailStop) while running.
var ErrStopped = errors.New("weir: task stopped")

// Run executes the subtask until its input ends, it fails, or ctx is done.
// It repeats one iteration of the task loop (iterate) and, when an
// iteration found nothing to do, flushes and blocks until input, a timer,
// mail or cancellation wakes it. Step runs the same iterations without
// blocking.
func (t *Task) Run(ctx context.Context) (err error) {
	t.stop = ctx.Done()
	if t.Timers != nil {
		t.Timers.SetDone(ctx.Done())
	}
	// A panic in an operator (user code) fails the job like an error, as
	// an exception fails a Flink task; the process lives on.
	defer func() {
		if r := recover(); r != nil {
			err = t.wrap(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	if err := t.Open(); err != nil {
		return err
	}
	defer func() {
		if cerr := t.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := t.loop(ctx); err != nil {
		return t.wrap(err)
	}
	return nil
}

// loop runs iterations until the task ends, blocking when idle.
func (t *Task) loop(ctx context.Context) error {
	done := ctx.Done()
	for {
		if t.Source != nil && !t.done {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		idle, _, err := t.iterate(ctx)
		if err != nil {
			return err
		}
		if t.ended() {
			return nil
		}
		if !idle {
			continue
		}
		if err := t.wait(ctx); err != nil {
			return err
		}
	}
}

// ended reports whether the task loop is over: the input finished and,
// with checkpoints on, the driver told the task to stop.
func (t *Task) ended() bool { return t.done && (t.Checkpoint == nil || t.stopped) }

// iterate is one iteration of the task loop, shared by Run and Step: it
// handles at most one mail from the checkpoint driver, fires due
// processing-time timers, and then handles one unit of input (a source
// poll, or one envelope of the gate: a batch of records, a watermark, a
// barrier, an end of input). It never blocks. It reports idle when there
// was nothing to do; the caller then flushes and waits (loop) or returns
// (Step).
func (t *Task) iterate(ctx context.Context) (idle, mailed bool, err error) {
	if mail := t.mailbox(); mail != nil {
		select {
		case m := <-mail:
			mailed = true
			if err := t.handleMail(ctx, m); err != nil {
				return false, true, err
			}
		default:
		}
	}
	if t.done {
		// A finished task only passes on checkpoint notifications (so that
		// sinks commit what they staged for the final checkpoint).
		return true, mailed, nil
	}
	// Actions operators posted (completed asynchronous work) run first:
	// they free the capacity the input may be waiting for.
	ran := 0
	if t.Mailbox != nil {
		if ran, err = t.Mailbox.RunPending(0); err != nil {
			return false, mailed, err
		}
	}
	if err := t.fireTimers(); err != nil {
		return false, mailed, err
	}
	if t.Source != nil {
		if t.drained {
			return ran == 0, mailed, nil
		}
		st, err := t.Source.PollNext(ctx)
		if err != nil {
			return false, mailed, err
		}
		if t.LatencyInterval > 0 {
			if err := t.emitMarker(); err != nil {
				return false, mailed, err
			}
		}
		t.report(false)
		switch st {
		case EndOfInput:
			return false, mailed, t.end()
		case NothingAvailable:
			return ran == 0, mailed, nil
		}
		return false, mailed, nil
	}
	idx, e, ok := t.Gate.poll()
	if !ok {
		return ran == 0, mailed, nil
	}
	if err := t.handle(ctx, idx, e); err != nil {
		return false, mailed, err
	}
	// A task whose input never runs dry (the bottleneck of a back
	// pressured job) does not reach wait's report: report here too, at
	// most once per interval (a clock read per envelope otherwise).
	t.report(false)
	return false, mailed, nil
}

// end runs when the task's input ended (the source's end, or the last end
// of input on the gate): it finishes the chain and, with checkpoints on,
// reports the task's final state to the driver. Acknowledgements of
// checkpoints taken before the end must reach the driver before the final
// state, which stands in only for checkpoints whose barrier this task
// never saw. The finished task then only handles mail until the driver
// stops it.
func (t *Task) end() error {
	t.done = true
	if err := t.finish(); err != nil {
		return err
	}
	if t.Checkpoint == nil {
		return nil
	}
	t.async.Wait()
	snap, err := t.snapshot(0)
	if err != nil {
		return err
	}
	// The final state belongs to every later checkpoint: the task writes
	// it into each when the driver asks (MailWriteFinal).
	t.final = &snap
	t.send(Report{Kind: ReportFinished})
	return nil
}

// wait flushes the outputs and blocks until something may be done: input,
// a due timer, mail, or the end of ctx (which ends the task with ctx's
// error).
func (t *Task) wait(ctx context.Context) error {
	done := ctx.Done()
	mail := t.mailbox()
	if t.done {
		// Finished: only mail (notifications, stop) is awaited.
		select {
		case m := <-mail:
			return t.handleMail(ctx, m)
		case <-done:
			return ctx.Err()
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	if t.Gate != nil {
		t.report(false)
	}
	tc, tm := t.waitTimer()
	var posted <-chan struct{}
	if t.Mailbox != nil {
		posted = t.Mailbox.Ready()
	}
	start := nanotime()
	var m Mail
	alive := true
	if t.Source != nil {
		var avail <-chan struct{}
		if !t.drained {
			avail = t.Source.Available()
		}
		select {
		case <-avail:
		case <-tc:
		case m = <-mail:
		case <-posted:
		case <-done:
		}
	} else {
		m, alive = t.Gate.wait(done, tc, mail, posted)
	}
	t.Metrics.IdleNanos += nanotime() - start
	if tm != nil {
		tm.Stop()
	}
	if !alive {
		return ctx.Err()
	}
	if m.Kind != 0 {
		return t.handleMail(ctx, m)
	}
	return nil
}

// Open opens the chain, tail first, so that every operator's output is
// ready when it opens. On failure the operators already opened are closed.
func (t *Task) Open() error {
	t.lastWM = MinWatermark
	t.Metrics.Watermark = MinWatermark
	t.Metrics.Started = nanotime()
	for i := len(t.Chain) - 1; i >= 0; i-- {
		m := t.Chain[i]
		if err := m.Op.Open(m.Ctx); err != nil {
			// The failing operator may have opened state (a database)
			// before it failed.
			if sc, ok := m.Op.(StateCloser); ok {
				_ = sc.CloseState()
			}
			for j := len(t.Chain) - 1; j > i; j-- {
				_ = closeOp(t.Chain[j].Op)
			}
			return t.wrap(err)
		}
	}
	t.opened = true
	for _, m := range t.Chain {
		if a, ok := m.Op.(interface{ AfterOpen() error }); ok {
			if err := a.AfterOpen(); err != nil {
				_ = t.Close()
				return t.wrap(fmt.Errorf("operator %q: state: %w", m.Ctx.Name, err))
			}
		}
	}
	if t.Checkpoint != nil && t.Gate != nil {
		t.aligner = NewAligner(len(t.Gate.chans), t.Checkpoint.ExactlyOnce)
		t.Gate.aligner = t.aligner
	}
	return nil
}

// Close closes the chain's operators, head last, and publishes the final
// metrics. It returns the first error.
func (t *Task) Close() error {
	if !t.opened {
		return nil
	}
	t.opened = false
	t.async.Wait()
	var err error
	for i := len(t.Chain) - 1; i >= 0; i-- {
		if cerr := closeOp(t.Chain[i].Op); cerr != nil && err == nil {
			err = t.wrap(cerr)
		}
	}
	t.report(true)
	return err
}

// StateCloser is implemented by operators holding state resources (a
// Pebble database) that must be released after Close.
type StateCloser interface {
	CloseState() error
}

// closeOp closes an operator, then its state.
func closeOp(op Lifecycle) error {
	err := op.Close()
	if sc, ok := op.(StateCloser); ok {
		if cerr := sc.CloseState(); err == nil {
			err = cerr
		}
	}
	return err
}

// Done reports whether the task has finished its input.
func (t *Task) Done() bool { return t.done }

// Step runs iterations of the task loop (the same iterate as Run) until
// one finds nothing to do, then flushes the outputs; it never blocks. It
// reports whether anything happened. Step lets a test drive a job
// deterministically on one goroutine: channels must then be large enough
// never to block, and snapshots that complete off the task's goroutine
// are awaited with WaitSnapshots before the driver reads the reports.
func (t *Task) Step(ctx context.Context) (progress bool, err error) {
	if t.ended() {
		return false, nil
	}
	t.stop = ctx.Done()
	t.Timers.SetDone(ctx.Done())
	defer func() {
		if r := recover(); r != nil {
			progress, err = true, t.wrap(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	if t.parked && !t.ready() {
		return false, nil
	}
	t.parked = false
	for {
		idle, mailed, err := t.iterate(ctx)
		if err != nil {
			return true, t.wrap(err)
		}
		progress = progress || mailed || !idle
		if idle || t.ended() {
			// Where Run would wait, Step parks the task: it iterates again
			// only when what would wake Run's wait is there.
			t.parked = idle
			break
		}
	}
	if t.done {
		return progress, nil
	}
	if err := t.flush(); err != nil {
		return true, t.wrap(err)
	}
	return progress, nil
}

// ready is the non-blocking form of wait: it reports whether a parked task
// may make progress. A source task waits for its reader's availability
// signal, a due timer or mail, exactly as wait blocks for them (a reader
// that returned NothingAvailable is not polled again before); a task on a
// gate may always look at its channels again.
func (t *Task) ready() bool {
	if t.Source == nil || t.done {
		return true
	}
	if next, ok := t.Timers.Next(); ok && t.Timers.Now() >= next {
		return true
	}
	if mail := t.mailbox(); mail != nil && len(mail) > 0 {
		return true
	}
	if t.Mailbox != nil && t.Mailbox.Pending() {
		return true
	}
	if t.drained {
		return false
	}
	select {
	case <-t.Source.Available():
		return true
	default:
		return false
	}
}

// WaitSnapshots waits until the snapshots this task started have been
// completed and reported (they finish off the task's goroutine).
func (t *Task) WaitSnapshots() { t.async.Wait() }

func (t *Task) wrap(err error) error {
	if errors.Is(err, ErrCanceled) || errors.Is(err, context.Canceled) || errors.Is(err, ErrStopped) {
		return err
	}
	return fmt.Errorf("weir: task %s: %w", t.Name, err)
}

func (t *Task) fireTimers() error {
	if next, ok := t.Timers.Next(); ok {
		if now := t.Timers.Now(); now >= next {
			return t.Timers.FireDue(now)
		}
	}
	return nil
}

func (t *Task) flush() error {
	for _, w := range t.Writers {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// waitTimer returns a channel that fires at the next processing-time timer.
func (t *Task) waitTimer() (<-chan time.Time, *time.Timer) {
	next, ok := t.Timers.Next()
	if !ok {
		return nil, nil
	}
	d := time.Duration(next-t.Timers.Now()) * time.Millisecond
	if d < 0 {
		d = 0
	}
	tm := time.NewTimer(d)
	return tm.C, tm
}

func (t *Task) finish() error {
	for _, m := range t.Chain {
		if err := m.Op.Finish(); err != nil {
			return err
		}
	}
	for _, w := range t.Writers {
		if err := w.EndOfInput(); err != nil {
			return err
		}
	}
	return nil
}

// drain ends the event time of a source task before the barrier of a stop
// with drain: the source emits the final watermark, and is polled no more.
func (t *Task) drain() error {
	t.drained = true
	d, ok := t.Source.(Drainer)
	if !ok {
		return fmt.Errorf("stop with drain: the source of %s cannot end its event time", t.Name)
	}
	return d.Drain()
}

// handle processes one envelope from channel idx of the gate.
func (t *Task) handle(ctx context.Context, idx int, e Envelope) error {
	g := t.Gate
	c := g.chans[idx]
	switch e.Kind {
	case KindData:
		n, err := t.Deliver[c.input](e.Data)
		t.Metrics.RecordsIn += int64(n)
		return err
	case KindWatermark:
		c.wm = e.Val
		return t.advance()
	case KindStatus:
		idle := e.Val == 1
		// As Flink's StatusWatermarkValve: when the channel that held the
		// combined watermark goes idle and no active channel is left, no
		// channel will advance the watermark any more, so the highest
		// watermark of all channels is emitted before the idle status.
		flush := idle && !c.idle && c.wm >= t.lastWM
		c.idle = idle
		if flush {
			if _, allIdle := g.combinedWatermark(); allIdle && !t.idle {
				if m := g.maxWatermark(); m > t.lastWM {
					t.lastWM = m
					t.Metrics.Watermark = m
					if err := t.Head.ProcessWatermark(m); err != nil {
						return err
					}
				}
			}
		}
		return t.advance()
	case KindBarrier:
		if t.aligner == nil {
			return nil // checkpoints off
		}
		before := t.aligner.Aligning()
		r := t.aligner.OnBarrier(idx, e.Val)
		if now := t.aligner.Aligning(); (now != 0 && now != before) || (r.Snapshot != 0 && r.Snapshot != before) {
			t.alignStart = nanotime() // the first barrier of a checkpoint
		}
		return t.aligned(ctx, r)
	case KindLatencyMarker:
		return t.forwardMarker(e.Data.(*LatencyMarker))
	case KindEndOfInput:
		c.finished = true
		c.idle = false
		c.wm = MaxWatermark
		g.live--
		if err := t.advance(); err != nil {
			return err
		}
		if t.aligner != nil && g.live > 0 {
			if err := t.aligned(ctx, t.aligner.OnEndOfInput(idx)); err != nil {
				return err
			}
		}
		if g.live == 0 {
			return t.end()
		}
	}
	return nil
}

// emitMarker emits a latency marker when one is due (a source task, after
// a poll: markers follow the records the poll emitted).
func (t *Task) emitMarker() error {
	now := nanotime()
	if now < t.nextMarker {
		return nil
	}
	t.nextMarker = now + int64(t.LatencyInterval)
	return t.forwardMarker(&LatencyMarker{Source: t.LatencySource, Emitted: now})
}

// forwardMarker records a latency marker at the task's sinks and passes it
// on to every output of the chain. The records before it went through the
// chain synchronously already.
func (t *Task) forwardMarker(m *LatencyMarker) error {
	if t.OnLatency != nil {
		t.OnLatency(m, nanotime())
	}
	for _, w := range t.Writers {
		if err := w.LatencyMarker(m); err != nil {
			return err
		}
	}
	return nil
}

// advance recomputes the combined input watermark and status and passes a
// change to the head operator.
func (t *Task) advance() error {
	wm, allIdle := t.Gate.combinedWatermark()
	if allIdle != t.idle {
		t.idle = allIdle
		if err := t.Head.ProcessWatermarkStatus(allIdle); err != nil {
			return err
		}
	}
	if !allIdle && wm > t.lastWM {
		t.lastWM = wm
		t.Metrics.Watermark = wm
		return t.Head.ProcessWatermark(wm)
	}
	return nil
}

func (t *Task) report(final bool) {
	if t.Report == nil {
		return
	}
	now := nanotime()
	if !final && now-t.lastReport < int64(t.ReportInterval) {
		return
	}
	t.lastReport = now
	var out, bp int64
	for _, w := range t.Writers {
		s := w.Stats()
		out += s.Records
		bp += s.BlockedNanos
	}
	t.Metrics.RecordsOut = out
	t.Metrics.BackpressureNano = bp
	if t.Gate != nil && len(t.Gate.chans) > 0 {
		var fill float64
		for _, c := range t.Gate.chans {
			fill += float64(len(c.ch.C)) / float64(cap(c.ch.C))
		}
		t.Metrics.QueueFill = fill / float64(len(t.Gate.chans))
	}
	t.Report(&t.Metrics)
}

func (t *Task) mailbox() chan Mail {
	if t.Checkpoint == nil {
		return nil
	}
	return t.Checkpoint.Mailbox
}

func (t *Task) aligned(ctx context.Context, r AlignResult) error {
	if r.Aborted != 0 {
		t.send(Report{Kind: ReportDecline, ID: r.Aborted, Reason: "overtaken by a newer checkpoint during alignment", Subsumed: true})
	}
	if r.Snapshot != 0 {
		return t.checkpoint(ctx, r.Snapshot)
	}
	return nil
}

// send reports to the driver; it gives up when the job is canceled (the
// driver stops draining then).
func (t *Task) send(r Report) {
	r.Task = t.Checkpoint.Task
	select {
	case t.Checkpoint.Reports <- r:
	case <-t.stop:
	}
}

// store writes snap as the task's part of checkpoint id and acknowledges
// it with the part's handle, or declines the checkpoint.
func (t *Task) store(ctx context.Context, id int64, snap TaskSnapshot, final bool, tm CheckpointTiming) {
	h, err := t.Checkpoint.Store.WritePart(ctx, id, t.Checkpoint.Task, snap, final)
	if err != nil {
		t.send(Report{Kind: ReportDecline, ID: id, Reason: err.Error()})
		return
	}
	if tm.AlignEnd != 0 {
		tm.UploadEnd = nanotime()
	}
	t.send(Report{Kind: ReportAck, ID: id, Handle: h, Timing: tm})
}

// prepareBarrier calls PrepareSnapshotPreBarrier on every operator of the
// chain that implements PreBarrierHandler, head first, before capture.
func (t *Task) prepareBarrier(id int64) error {
	for _, m := range t.Chain {
		if p, ok := m.Op.(PreBarrierHandler); ok {
			if err := p.PrepareSnapshotPreBarrier(id); err != nil {
				return fmt.Errorf("operator %q: prepare snapshot %d before the barrier: %w", m.Ctx.Name, id, err)
			}
		}
	}
	return nil
}

// capture takes the synchronous part of every stateful operator's
// snapshot (by chain position).
func (t *Task) capture(id int64) (map[int]*StateWriter, error) {
	ws := map[int]*StateWriter{}
	for i, m := range t.Chain {
		s, ok := m.Op.(Snapshotter)
		if !ok {
			continue
		}
		w := NewStateWriter()
		if err := s.SnapshotState(id, w); err != nil {
			// Release what the operators before it captured (a capture
			// must always be written, or it keeps state copy-on-write).
			for _, w := range ws {
				_ = w.runDeferred()
				w.releaseNative()
			}
			w.releaseNative()
			return nil, fmt.Errorf("operator %q: snapshot for checkpoint %d: %w", m.Ctx.Name, id, err)
		}
		ws[i] = w
	}
	return ws, nil
}

// complete runs the deferred parts of a capture and assembles the task's
// snapshot.
func (t *Task) complete(id int64, ws map[int]*StateWriter) (TaskSnapshot, error) {
	snap := TaskSnapshot{Ops: map[int]OperatorSnapshot{}}
	var first error
	for i, w := range ws {
		// Every capture is written, even after an error, to release it.
		if err := w.runDeferred(); err != nil && first == nil {
			first = fmt.Errorf("operator %q: snapshot for checkpoint %d: %w", t.Chain[i].Ctx.Name, id, err)
		}
		snap.Ops[i] = w.Done()
	}
	if first != nil {
		// A declined checkpoint is never written: nobody else will
		// delete the native snapshots' local files.
		for _, w := range ws {
			w.releaseNative()
		}
	}
	return snap, first
}

// snapshot takes a whole snapshot on the task's goroutine.
func (t *Task) snapshot(id int64) (TaskSnapshot, error) {
	if err := t.prepareBarrier(id); err != nil {
		return TaskSnapshot{}, err
	}
	ws, err := t.capture(id)
	if err != nil {
		return TaskSnapshot{}, err
	}
	return t.complete(id, ws)
}

// checkpoint takes checkpoint id: the synchronous capture, the barrier
// downstream, then (on a goroutine the task waits for when it closes) the
// rest of the snapshot, the writing of the task's part to checkpoint
// storage and the acknowledgement. An error of the asynchronous part
// declines the checkpoint; the coordinator decides whether the job
// survives it (Options.Checkpoints.TolerableFailures). An error of the
// synchronous part fails the task, as in Flink, where only failures of
// the asynchronous part count as tolerable checkpoint failures: an
// operator whose snapshot failed may have lost what it held (a sink that
// could not stage its part file on a full disk), and going on would skip
// those records silently.
func (t *Task) checkpoint(ctx context.Context, id int64) error {
	tm := CheckpointTiming{AlignEnd: nanotime()}
	tm.AlignStart = tm.AlignEnd
	if t.Source == nil && t.alignStart != 0 {
		tm.AlignStart = t.alignStart
	}
	t.alignStart = 0
	if err := t.prepareBarrier(id); err != nil {
		return err
	}
	ws, err := t.capture(id)
	tm.SyncEnd = nanotime()
	if err != nil {
		return err
	}
	for _, w := range t.Writers {
		if err := w.Barrier(id); err != nil {
			return err
		}
	}
	t.async.Add(1)
	go func() {
		defer t.async.Done()
		defer func() {
			// A panic while encoding declines the checkpoint.
			if r := recover(); r != nil {
				t.send(Report{Kind: ReportDecline, ID: id, Reason: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())})
			}
		}()
		snap, err := t.complete(id, ws)
		if err != nil {
			t.send(Report{Kind: ReportDecline, ID: id, Reason: err.Error()})
			return
		}
		tm.SnapshotEnd = nanotime()
		t.store(ctx, id, snap, false, tm)
	}()
	return nil
}

func (t *Task) handleMail(ctx context.Context, m Mail) error {
	switch m.Kind {
	case MailTrigger:
		if t.Source != nil && !t.done {
			if m.Drain && !t.drained {
				if err := t.drain(); err != nil {
					return err
				}
			}
			return t.checkpoint(ctx, m.ID)
		}
	case MailStop:
		if t.done {
			t.stopped = true // the job ended: the task may exit
			return nil
		}
		return ErrStopped
	case MailWriteFinal:
		if t.final != nil {
			t.store(ctx, m.ID, *t.final, true, CheckpointTiming{})
		}
	case MailComplete, MailAbort:
		for _, c := range t.Chain {
			l, ok := c.Op.(CheckpointListener)
			if !ok {
				continue
			}
			var err error
			if m.Kind == MailComplete {
				err = l.NotifyCheckpointComplete(m.ID)
			} else {
				err = l.NotifyCheckpointAborted(m.ID)
			}
			if err != nil {
				return fmt.Errorf("operator %q: checkpoint %d: %w", c.Ctx.Name, m.ID, err)
			}
		}
		if m.Ack {
			t.send(Report{Kind: ReportNotified, ID: m.ID})
		}
	}
	return nil
}
