package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir/internal/fileuri"
	"github.com/weirstream/weir/internal/runtime"
)

// SavepointRequest asks a running job for a savepoint in Dir (a new
// subdirectory is created there). With Stop, the job stops once the
// savepoint completed and every task handled its completion (sinks
// committed). With Drain (and Stop), the sources emit the final watermark
// just before the savepoint's barrier, so every event-time timer fires
// first (Flink's stop --drain); if that savepoint fails, the job fails
// (its event time has ended). The result arrives on Reply (buffered by the
// caller).
type SavepointRequest struct {
	Dir   string
	Stop  bool
	Drain bool
	Reply chan SavepointResult
}

// SavepointResult is the outcome of a SavepointRequest: the savepoint's
// directory, or why it failed.
type SavepointResult struct {
	Path string
	Err  error
}

// ErrStoppedWithSavepoint is the cause of a job's end after a
// stop-with-savepoint; a run returns nil for it.
var ErrStoppedWithSavepoint = errors.New("weir: job stopped with a savepoint")

// DriverTask is a task the driver talks to.
type DriverTask struct {
	ID   runtime.TaskID
	Name string
	// Mailbox receives the driver's mail.
	Mailbox chan<- runtime.Mail
	// Source says the task runs a source (it receives triggers).
	Source bool
	// Operators are the operators of its chain, by position.
	Operators []OperatorInfo
	// Vertex and Subtask name the subtask in checkpoint statistics.
	Vertex  string
	Subtask int
}

// DriverOptions configure a Driver.
type DriverOptions struct {
	Config
	// Storage is where checkpoints go.
	Storage *Storage
	// Tasks are the job's tasks, in the order of the physical plan.
	Tasks []DriverTask
	// Restore is the checkpoint the job started from, if any.
	Restore *Restore
	// MaxParallelism is the job's number of key groups.
	MaxParallelism int
	// Reports receives the tasks' reports.
	Reports <-chan runtime.Report
	// Savepoints delivers savepoint requests.
	Savepoints <-chan SavepointRequest
	// Fail ends the job with a cause (checkpoint failures beyond the
	// tolerated, a stop-with-savepoint).
	Fail context.CancelCauseFunc
	// Logger (nil: discard).
	Logger *slog.Logger
	// OnEvent, if set, is told of every checkpoint and savepoint that
	// completed or was aborted, on the driver's goroutine (for metrics:
	// it must not block).
	OnEvent func(Event)
}

// Event is a checkpoint or savepoint that ended.
type Event struct {
	ID        int64
	Savepoint bool
	// Completed is false for an aborted or failed one (Reason says why).
	Completed bool
	Reason    string
	// Duration runs from the trigger to completion (or abort); Size is the
	// bytes the tasks' parts stored (0 for an aborted one).
	Duration time.Duration
	Size     int64
	// Triggered is when the driver triggered it (zero for the final
	// checkpoint of a bounded job, which no trigger started); Ended when it
	// completed or was aborted.
	Triggered, Ended time.Time
	// Checkpointed is the bytes the tasks wrote for it (Size plus shared
	// files uploaded for it, less files reused from earlier checkpoints).
	Checkpointed int64
	// Tasks is the number of subtasks; Subtasks holds the statistics of
	// those that acknowledged it, in the order of the plan.
	Tasks    int
	Subtasks []SubtaskStats
}

// SubtaskStats is one subtask's part of a checkpoint.
type SubtaskStats struct {
	Vertex  string
	Subtask int
	// Timing says when its phases happened (zero: a finished task's final
	// state, written when the driver asked for it).
	Timing runtime.CheckpointTiming
	// Size is the length of its part; Checkpointed what it wrote.
	Size, Checkpointed int64
	// Acked is when the driver received its acknowledgement.
	Acked time.Time
}

// Alignment returns the longest alignment of the checkpoint's subtasks.
func (e *Event) Alignment() time.Duration {
	var m int64
	for _, s := range e.Subtasks {
		m = max(m, s.Timing.AlignEnd-s.Timing.AlignStart)
	}
	return time.Duration(m)
}

type savepoint struct {
	req      SavepointRequest
	path     string
	notified map[runtime.TaskID]bool
}

// Driver performs the coordinator's actions for one job run: it triggers
// sources, collects the handles of the parts tasks wrote, writes the
// metadata that lists them, and tells tasks what completed. It writes no
// task's state itself: tasks do, through Parts. All its methods but Parts
// run on the goroutine of Run.
type Driver struct {
	coord   *Coordinator
	store   *Storage
	parts   *Parts
	log     *slog.Logger
	maxPar  int
	tasks   []DriverTask
	byID    map[runtime.TaskID]*DriverTask
	reports <-chan runtime.Report
	// acks[id][task] is the handle of the part task stored for checkpoint
	// id.
	acks map[int64]map[runtime.TaskID]*PartHandle
	// finished holds the tasks that finished their input: they write
	// their final state into a checkpoint when asked (MailWriteFinal).
	finished map[runtime.TaskID]bool
	// parked holds WriteMetadata actions that wait for finished tasks'
	// final parts.
	parked     map[int64]Action
	askedFinal map[int64]map[runtime.TaskID]bool
	fail       context.CancelCauseFunc
	stopped    bool
	// requests receives savepoint requests; savepoints tracks them by id.
	requests   <-chan SavepointRequest
	savepoints map[int64]*savepoint
	// onEvent receives ended checkpoints; triggered and sizes hold the
	// trigger time and stored bytes of those in flight.
	onEvent   func(Event)
	triggered map[int64]time.Time
	sizes     map[int64]int64
	// stats[id] holds the statistics of the tasks that acknowledged id.
	stats    map[int64][]SubtaskStats
	waiting  []SavepointRequest
	stopping bool
	// backlog holds mail a task's mailbox could not take yet, by task.
	backlog map[runtime.TaskID][]runtime.Mail
	// sweepDue: a sweep of shared objects waits for parts being written.
	sweepDue bool
}

// NewDriver prepares the checkpoint storage for a run (registers a
// restored foreign checkpoint, removes unfinished checkpoints, sweeps
// unreferenced shared objects) and returns its driver. Checkpoint ids
// continue above every id the storage has seen.
func NewDriver(ctx context.Context, o DriverOptions) (*Driver, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store := o.Storage
	var last int64
	if o.Restore != nil {
		last = o.Restore.Meta.ID
	}
	// Never reuse an id the storage has seen: checkpoints, savepoints,
	// unfinished ones.
	maxID, err := store.MaxID(ctx)
	if err != nil {
		return nil, err
	}
	last = max(last, maxID)
	if rs := o.Restore; rs != nil && rs.Register {
		last++
		if err := store.WritePointer(ctx, last, rs.Location); err != nil {
			return nil, fmt.Errorf("weir: registering the restored checkpoint %s: %w", rs.Location, err)
		}
		if err := store.NoteCompleted(ctx, last, rs.Meta.Timestamp, true); err != nil {
			return nil, fmt.Errorf("weir: registering the restored checkpoint %s: %w", rs.Location, err)
		}
		log.Info("weir: restored checkpoint registered as the latest", "checkpoint", last, "location", rs.Location)
	}
	if err := store.RemovePartial(ctx); err != nil {
		return nil, err
	}
	if err := store.SweepShared(ctx); err != nil {
		return nil, err
	}
	if rs := o.Restore; rs != nil && rs.Store != nil && rs.Store.Dir == store.Dir {
		// Files of the restored checkpoint are stored already.
		for _, op := range rs.Meta.Operators {
			for _, st := range op.Subtasks {
				if st.Native != nil {
					store.NoteShared(st.Native.Files)
				}
			}
		}
	}
	done, err := store.Completed(ctx)
	if err != nil {
		return nil, err
	}
	slices.Reverse(done)
	ids := make([]TaskID, len(o.Tasks))
	ops := map[runtime.TaskID][]OperatorInfo{}
	d := &Driver{store: store, log: log, maxPar: o.MaxParallelism, tasks: o.Tasks, reports: o.Reports,
		byID: map[runtime.TaskID]*DriverTask{}, acks: map[int64]map[runtime.TaskID]*PartHandle{},
		finished: map[runtime.TaskID]bool{}, parked: map[int64]Action{}, askedFinal: map[int64]map[runtime.TaskID]bool{}, fail: o.Fail,
		requests: o.Savepoints, savepoints: map[int64]*savepoint{}, backlog: map[runtime.TaskID][]runtime.Mail{},
		onEvent: o.OnEvent, triggered: map[int64]time.Time{}, sizes: map[int64]int64{}, stats: map[int64][]SubtaskStats{}}
	for i := range o.Tasks {
		t := &o.Tasks[i]
		ids[i] = t.ID
		ops[t.ID] = t.Operators
		d.byID[t.ID] = t
	}
	d.coord = NewCoordinator(o.Config, ids, last, time.Now())
	d.coord.Retain(done)
	d.parts = NewParts(store, ops)
	return d, nil
}

// Parts is where the tasks write their parts.
func (d *Driver) Parts() *Parts { return d.parts }

// ErrJobEnded is the error of a savepoint the job ended before it
// completed (its input ended, it failed, or it was canceled).
var ErrJobEnded = errors.New("weir: savepoint: the job ended before it completed")

// Run drives checkpoints until ctx is done, acting on reports, savepoint
// requests and a ticker of period tick.
func (d *Driver) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	defer func() {
		// Nobody waits forever for a savepoint of a job that ended.
		for _, sp := range d.savepoints {
			sp.req.Reply <- SavepointResult{Err: ErrJobEnded}
		}
		for _, req := range d.waiting {
			req.Reply <- SavepointResult{Err: errors.New("weir: savepoint: the job ended before it started")}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-d.reports:
			d.handle(ctx, r)
		case req := <-d.requests:
			d.savepoint(ctx, req)
		case now := <-t.C:
			d.flushBacklog()
			if d.sweepDue {
				d.sweep(ctx)
			}
			if len(d.waiting) > 0 && len(d.coord.Pending()) == 0 {
				req := d.waiting[0]
				d.waiting = d.waiting[1:]
				d.savepoint(ctx, req)
			}
			if d.stopping {
				continue // no checkpoint after a stop-with-savepoint's
			}
			d.do(ctx, d.coord.Tick(now))
		}
	}
}

func (d *Driver) handle(ctx context.Context, r runtime.Report) {
	now := time.Now()
	switch r.Kind {
	case runtime.ReportAck:
		h, ok := r.Handle.(*PartHandle)
		if !ok || !d.coord.IsPending(r.ID) {
			// A late acknowledgement of an aborted checkpoint: its files
			// go with the checkpoint's directory.
			return
		}
		if d.acks[r.ID] == nil {
			d.acks[r.ID] = map[runtime.TaskID]*PartHandle{}
		}
		d.acks[r.ID][r.Task] = h
		if d.onEvent != nil {
			st := SubtaskStats{Timing: r.Timing, Size: h.Size, Checkpointed: h.StoredBytes(), Acked: now}
			if t := d.byID[r.Task]; t != nil {
				st.Vertex, st.Subtask = t.Vertex, t.Subtask
			}
			d.stats[r.ID] = append(d.stats[r.ID], st)
		}
		if a, ok := d.parked[r.ID]; ok {
			d.writeMetadata(ctx, a)
			return
		}
		d.do(ctx, d.coord.Ack(now, r.ID, r.Task))
	case runtime.ReportDecline:
		if r.Subsumed {
			d.log.Info("weir: checkpoint subsumed", "checkpoint", r.ID, "task", d.name(r.Task), "reason", r.Reason)
			d.do(ctx, d.coord.DeclineSubsumed(now, r.ID, r.Task))
			return
		}
		d.log.Warn("weir: checkpoint declined", "checkpoint", r.ID, "task", d.name(r.Task), "reason", r.Reason)
		d.do(ctx, d.coord.Decline(now, r.ID, r.Task, r.Reason))
	case runtime.ReportFinished:
		d.finished[r.Task] = true
		d.do(ctx, d.coord.TaskFinished(now, r.Task))
	case runtime.ReportNotified:
		sp := d.savepoints[r.ID]
		if sp == nil {
			return
		}
		sp.notified[r.Task] = true
		if len(sp.notified) == len(d.tasks) {
			delete(d.savepoints, r.ID)
			sp.req.Reply <- SavepointResult{Path: sp.path}
			if sp.req.Stop {
				d.fail(ErrStoppedWithSavepoint)
			}
		}
	}
}

func (d *Driver) name(id runtime.TaskID) string {
	if t := d.byID[id]; t != nil {
		return t.Name
	}
	return id.String()
}

func (d *Driver) savepoint(ctx context.Context, req SavepointRequest) {
	if req.Drain && !req.Stop {
		req.Reply <- SavepointResult{Err: errors.New("weir: savepoint: drain needs stop (a job whose event time ended cannot go on)")}
		return
	}
	if req.Dir == "" {
		req.Reply <- SavepointResult{Err: errors.New("weir: savepoint needs a directory")}
		return
	}
	// Flink's file URIs (file:///tmp/savepoints) name local directories.
	dir, err := fileuri.Path(req.Dir)
	if err != nil {
		req.Reply <- SavepointResult{Err: fmt.Errorf("weir: savepoint: %w", err)}
		return
	}
	req.Dir = dir
	if len(d.coord.Pending()) > 0 {
		// A checkpoint is under way: the savepoint follows it.
		d.waiting = append(d.waiting, req)
		return
	}
	acts, err := d.coord.TriggerNow(time.Now(), true)
	if err != nil {
		req.Reply <- SavepointResult{Err: fmt.Errorf("weir: savepoint: %w", err)}
		return
	}
	id := acts[0].ID
	// The savepoint lives outside the storage: record its id now, so that
	// no later checkpoint reuses it whatever happens before it completes.
	if err := d.store.NoteCompleted(ctx, id, time.Now(), false); err != nil {
		d.log.Warn("weir: recording the savepoint's id", "savepoint", id, "err", err)
	}
	if req.Stop {
		d.stopping = true
	}
	d.savepoints[id] = &savepoint{req: req, notified: map[runtime.TaskID]bool{},
		path: joinLocation(req.Dir, fmt.Sprintf("savepoint-%d-%s", id, time.Now().UTC().Format("20060102T150405.000")))}
	d.do(ctx, acts)
}

// mail queues m for task t without ever blocking the driver (a task may
// itself be blocked sending the driver a report): what its mailbox cannot
// take now waits in a backlog, delivered in order on later ticks.
func (d *Driver) mail(t *DriverTask, m runtime.Mail) {
	if len(d.backlog[t.ID]) == 0 {
		select {
		case t.Mailbox <- m:
			return
		default:
		}
	}
	d.backlog[t.ID] = append(d.backlog[t.ID], m)
}

// flushBacklog delivers queued mail as far as the mailboxes take it.
func (d *Driver) flushBacklog() {
	for id, q := range d.backlog {
		box := d.byID[id].Mailbox
		n := 0
	send:
		for _, m := range q {
			select {
			case box <- m:
				n++
			default:
				break send
			}
		}
		if n == len(q) {
			delete(d.backlog, id)
		} else {
			d.backlog[id] = q[n:]
		}
	}
}

// open opens checkpoint id for the tasks' parts: its directory, or the
// savepoint's.
func (d *Driver) open(id int64) {
	loc := d.store.ChkDir(id)
	sp := d.savepoints[id]
	if sp != nil {
		loc = sp.path
	}
	d.parts.begin(id, loc, sp != nil)
}

// event reports the end of checkpoint id to OnEvent.
func (d *Driver) event(id int64, savepoint, completed bool, reason string) {
	start, ok := d.triggered[id]
	size := d.sizes[id]
	stats := d.stats[id]
	delete(d.triggered, id)
	delete(d.sizes, id)
	delete(d.stats, id)
	if d.onEvent == nil {
		return
	}
	end := time.Now()
	var dur time.Duration
	if ok {
		dur = end.Sub(start)
	}
	e := Event{ID: id, Savepoint: savepoint, Completed: completed, Reason: reason, Duration: dur, Size: size,
		Triggered: start, Ended: end, Tasks: len(d.tasks), Subtasks: stats}
	if completed {
		for _, s := range stats {
			e.Checkpointed += s.Checkpointed
		}
	}
	d.onEvent(e)
}

func (d *Driver) do(ctx context.Context, acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case Trigger:
			d.triggered[a.ID] = time.Now()
			d.open(a.ID)
			sp := d.savepoints[a.ID]
			drain := sp != nil && sp.req.Drain
			for i := range d.tasks {
				if t := &d.tasks[i]; t.Source {
					d.mail(t, runtime.Mail{Kind: runtime.MailTrigger, ID: a.ID, Drain: drain})
				}
			}
		case WriteMetadata:
			d.open(a.ID)
			d.writeMetadata(ctx, a)
		case NotifyComplete:
			sp := d.savepoints[a.ID]
			d.log.Info("weir: checkpoint complete", "checkpoint", a.ID, "savepoint", sp != nil)
			d.event(a.ID, sp != nil, true, "")
			if sp != nil && !sp.req.Stop {
				// A savepoint that does not stop the job commits no side
				// effects (as in Flink): a restart restores checkpoints,
				// and the next checkpoint commits what sinks staged for it.
				delete(d.savepoints, a.ID)
				sp.req.Reply <- SavepointResult{Path: sp.path}
				continue
			}
			for i := range d.tasks {
				d.mail(&d.tasks[i], runtime.Mail{Kind: runtime.MailComplete, ID: a.ID, Ack: sp != nil})
			}
			if d.coord.FinalDone() && !d.stopped {
				d.stopped = true
				for i := range d.tasks {
					d.mail(&d.tasks[i], runtime.Mail{Kind: runtime.MailStop})
				}
			}
		case Abort:
			d.forget(a.ID)
			d.event(a.ID, d.savepoints[a.ID] != nil, false, a.Reason)
			if sp := d.savepoints[a.ID]; sp != nil {
				delete(d.savepoints, a.ID)
				if sp.req.Stop {
					d.stopping = false
				}
				// Its pointer (if written) first: a pointer left to a removed
				// savepoint would make "restore latest" refuse. Then its
				// directory, before the caller hears of the failure.
				_ = d.store.Discard(context.WithoutCancel(ctx), a.ID)
				d.removeSavepoint(ctx, sp.path)
				sp.req.Reply <- SavepointResult{Err: fmt.Errorf("weir: savepoint %d aborted: %s", a.ID, a.Reason)}
				if sp.req.Drain {
					// The sources ended their event time for it: the job
					// cannot go on, it fails over to its last checkpoint
					// (as Flink fails a job whose stop --drain failed).
					d.fail(fmt.Errorf("weir: stop with drain: savepoint %d aborted after the sources emitted the final watermark: %s", a.ID, a.Reason))
				}
				continue
			}
			d.log.Warn("weir: checkpoint aborted", "checkpoint", a.ID, "reason", a.Reason)
			for i := range d.tasks {
				d.mail(&d.tasks[i], runtime.Mail{Kind: runtime.MailAbort, ID: a.ID})
			}
			_ = d.store.Discard(context.WithoutCancel(ctx), a.ID)
			d.sweep(ctx)
		case Discard:
			if err := d.store.Discard(context.WithoutCancel(ctx), a.ID); err != nil {
				d.log.Warn("weir: discarding checkpoint", "checkpoint", a.ID, "err", err)
			}
			d.sweep(ctx)
		case FailJob:
			d.fail(errors.New("weir: " + a.Reason))
		}
	}
}

// removeSavepoint deletes the directory of an aborted savepoint. A task
// may still be writing its part there (the savepoint was closed for parts
// by forget, but a write under way goes on and would create the directory
// again after its removal): the removal waits for such writes to end.
func (d *Driver) removeSavepoint(ctx context.Context, path string) {
	d.parts.writing.Lock()
	defer d.parts.writing.Unlock()
	if err := d.store.RemoveLocation(context.WithoutCancel(ctx), path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.log.Warn("weir: removing an aborted savepoint (delete it: it is incomplete)", "path", path, "err", err)
	}
}

// writeMetadata completes checkpoint a.ID once every task's part is
// stored: a task that finished its input before the checkpoint's barrier
// reached it is asked to write its final state first (the action waits,
// parked, for its acknowledgement).
func (d *Driver) writeMetadata(ctx context.Context, a Action) {
	delete(d.parked, a.ID)
	var missing []*DriverTask
	for i := range d.tasks {
		t := &d.tasks[i]
		if _, ok := d.acks[a.ID][t.ID]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		for _, t := range missing {
			if !d.finished[t.ID] {
				d.log.Error("weir: writing checkpoint failed", "checkpoint", a.ID, "err", fmt.Sprintf("task %s has no part", t.Name))
				d.do(ctx, d.coord.MetadataWritten(time.Now(), a.ID, fmt.Errorf("task %s has no state for checkpoint %d", t.Name, a.ID)))
				return
			}
		}
		d.parked[a.ID] = a
		for _, t := range missing {
			if !d.asked(a.ID, t.ID) {
				d.mail(t, runtime.Mail{Kind: runtime.MailWriteFinal, ID: a.ID})
			}
		}
		return
	}
	sp := d.savepoints[a.ID]
	dir := d.store.ChkDir(a.ID)
	if sp != nil {
		dir = sp.path
	}
	var size int64
	for _, h := range d.acks[a.ID] {
		size += h.Size
	}
	d.sizes[a.ID] = size
	err := d.store.WriteMetadataLocation(ctx, dir, d.metadata(a, sp != nil))
	if err == nil {
		err = d.noteCompleted(ctx, a.ID, a.Time, sp)
	}
	d.forget(a.ID)
	if err != nil {
		d.log.Error("weir: writing checkpoint failed", "checkpoint", a.ID, "err", err)
	}
	d.do(ctx, d.coord.MetadataWritten(time.Now(), a.ID, err))
}

// asked reports whether task t was asked for its final part of id already
// (and notes that it now is).
func (d *Driver) asked(id int64, t runtime.TaskID) bool {
	if d.askedFinal[id] == nil {
		d.askedFinal[id] = map[runtime.TaskID]bool{}
	}
	was := d.askedFinal[id][t]
	d.askedFinal[id][t] = true
	return was
}

// metadata lists the parts of checkpoint a.ID, operator by operator in the
// order of the plan.
func (d *Driver) metadata(a Action, savepoint bool) *Metadata {
	m := &Metadata{ID: a.ID, Timestamp: a.Time.UTC(), Savepoint: savepoint, MaxParallelism: d.maxPar, Files: map[string]uint32{}}
	index := map[string]int{}
	for _, t := range d.tasks {
		h := d.acks[a.ID][t.ID]
		for name, sum := range h.Files {
			m.Files[name] = sum
		}
		for _, op := range h.Operators {
			i, ok := index[op.UID]
			if !ok {
				i = len(m.Operators)
				index[op.UID] = i
				m.Operators = append(m.Operators, OperatorMeta{UID: op.UID, Name: op.Name, Parallelism: op.Parallelism})
			}
			m.Operators[i].Subtasks = append(m.Operators[i].Subtasks, op.Meta)
		}
	}
	return m
}

// forget closes checkpoint id for parts and drops its handles.
func (d *Driver) forget(id int64) {
	d.parts.end(id)
	delete(d.acks, id)
	delete(d.parked, id)
	delete(d.askedFinal, id)
}

// noteCompleted records checkpoint id as completed in the storage, before
// any sink is told to commit for it: a stop-with-savepoint (whose sinks
// commit) gets a pointer in the checkpoint storage first, so that "restore
// latest" finds it; a plain savepoint commits nothing and only raises the
// highest id used.
func (d *Driver) noteCompleted(ctx context.Context, id int64, ts time.Time, sp *savepoint) error {
	commits := sp == nil || sp.req.Stop
	if sp != nil && sp.req.Stop {
		if err := d.store.WritePointer(ctx, id, sp.path); err != nil {
			return err
		}
	}
	return d.store.NoteCompleted(ctx, id, ts, commits)
}

// sweep deletes shared files no retained checkpoint references. It must
// not delete what a task stored for a checkpoint whose metadata is not
// written yet: while one is pending, or a task is still writing a part (of
// an aborted checkpoint), the sweep waits for a later tick.
func (d *Driver) sweep(ctx context.Context) {
	if len(d.coord.Pending()) > 0 || !d.parts.writing.TryLock() {
		d.sweepDue = true
		return
	}
	defer d.parts.writing.Unlock()
	d.sweepDue = false
	if err := d.store.SweepShared(ctx); err != nil {
		d.log.Warn("weir: deleting unreferenced shared checkpoint files", "err", err)
	}
}

// joinLocation appends a name to a directory path or an s3:// location.
func joinLocation(dir, name string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}
