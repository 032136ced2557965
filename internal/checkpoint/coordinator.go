// Package checkpoint decides when checkpoints start, complete, expire and
// are retained (the Coordinator, a pure state machine), performs its
// decisions (the Driver), defines what a checkpoint holds (the parts tasks
// write, part.go; the metadata listing them, metadata.go) and stores it
// (Storage).
//
// The coordinator takes events (time passed, a task acknowledged, a task
// declined, metadata was written) and returns actions (trigger barrier n at
// the sources, write the metadata of n, notify tasks that n completed, abort
// n, delete n). It does no I/O and starts no goroutines, so tests drive it
// step by step; the Driver performs the actions on one goroutine.
//
// Each task writes its own part of a checkpoint, from its own snapshot
// goroutine and concurrently with the other tasks (Parts.WritePart), and
// acknowledges it with a PartHandle; the driver writes only the metadata
// that lists the handles. Subtasks are named by (vertex, subtask)
// throughout: in file names, metadata and acknowledgements.
package checkpoint

import (
	"fmt"
	"sort"
	"time"

	"github.com/weirstream/weir/internal/runtime"
)

// Config are the checkpointing settings of a job.
type Config struct {
	// Interval between checkpoint triggers; 0 disables periodic checkpoints.
	Interval time.Duration
	// Timeout after which a pending checkpoint is aborted (default 10 min).
	Timeout time.Duration
	// MinPause is the least time between the end of one checkpoint and the
	// start of the next.
	MinPause time.Duration
	// TolerableFailures is how many consecutive failed checkpoints the job
	// survives; one more fails the job (default 0: Flink's default).
	TolerableFailures int
	// Retained is how many completed checkpoints are kept (default 1).
	Retained int
	// MaxConcurrent is how many checkpoints may be pending at once (1).
	MaxConcurrent int
}

func (c *Config) fill() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Minute
	}
	if c.Retained <= 0 {
		c.Retained = 1
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 1
	}
}

// TaskID names a subtask: its vertex and its index among the vertex's
// subtasks (the runtime's name for it).
type TaskID = runtime.TaskID

// ActionKind says what an Action asks the driver to do.
type ActionKind uint8

// Action kinds.
const (
	// Trigger: inject barrier ID at every source task.
	Trigger ActionKind = iota + 1
	// WriteMetadata: every task acknowledged ID; persist its metadata and
	// report MetadataWritten.
	WriteMetadata
	// NotifyComplete: ID is durable; tell every task (sinks commit).
	NotifyComplete
	// Abort: ID failed; tell tasks to drop it and discard its files.
	Abort
	// Discard: ID is no longer retained; delete it.
	Discard
	// FailJob: more consecutive failures than tolerated.
	FailJob
)

func (k ActionKind) String() string {
	return [...]string{"?", "trigger", "write-metadata", "notify-complete", "abort", "discard", "fail-job"}[k]
}

// Action is one thing the driver must do.
type Action struct {
	Kind   ActionKind
	ID     int64
	Time   time.Time
	Reason string
}

func (a Action) String() string {
	s := fmt.Sprintf("%s %d", a.Kind, a.ID)
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	return s
}

type pending struct {
	id        int64
	started   time.Time
	waiting   map[TaskID]bool
	final     bool
	writing   bool
	savepoint bool
	// early: a task acknowledged it with a part taken before it finished
	// its input, so the checkpoint lacks that task's final state (what its
	// sink staged last); it cannot be the final checkpoint.
	early bool
}

// Coordinator is the checkpoint state machine of one job run.
type Coordinator struct {
	cfg         Config
	tasks       []TaskID
	finished    map[TaskID]bool
	pending     map[int64]*pending
	nextID      int64
	lastEnd     time.Time
	lastTrigger time.Time
	failures    int
	completed   []int64
	started     bool
	finalID     int64
	finalDone   bool
}

// NewCoordinator returns a coordinator for tasks; checkpoint IDs continue
// after lastID (the restored checkpoint's, or 0).
func NewCoordinator(cfg Config, tasks []TaskID, lastID int64, now time.Time) *Coordinator {
	cfg.fill()
	return &Coordinator{cfg: cfg, tasks: tasks, finished: map[TaskID]bool{}, pending: map[int64]*pending{},
		nextID: lastID + 1, lastEnd: now, lastTrigger: now}
}

// Retain tells the coordinator about completed checkpoints of earlier runs
// (oldest first), so that retention counts them too.
func (c *Coordinator) Retain(ids []int64) {
	c.completed = append(append([]int64(nil), ids...), c.completed...)
}

// Pending returns the IDs of pending checkpoints in order.
func (c *Coordinator) Pending() []int64 {
	ids := make([]int64, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Completed returns the retained completed checkpoint IDs, oldest first.
func (c *Coordinator) Completed() []int64 { return append([]int64(nil), c.completed...) }

func (c *Coordinator) trigger(now time.Time, savepoint bool) []Action {
	id := c.nextID
	c.nextID++
	p := &pending{id: id, started: now, waiting: map[TaskID]bool{}, savepoint: savepoint}
	for _, t := range c.tasks {
		if !c.finished[t] {
			p.waiting[t] = true
		}
	}
	c.pending[id] = p
	c.lastTrigger = now
	if len(p.waiting) == 0 {
		p.final = true
		p.writing = true
		return []Action{{Kind: WriteMetadata, ID: id, Time: now}}
	}
	return []Action{{Kind: Trigger, ID: id, Time: now}}
}

// Tick advances time: it triggers a periodic checkpoint when one is due and
// aborts pending ones that timed out.
func (c *Coordinator) Tick(now time.Time) []Action {
	var out []Action
	for _, id := range c.Pending() {
		p := c.pending[id]
		if !p.writing && now.Sub(p.started) >= c.cfg.Timeout {
			out = append(out, c.fail(id, "checkpoint expired before every task acknowledged it")...)
		}
	}
	if len(out) > 0 && out[len(out)-1].Kind == FailJob {
		return out
	}
	if c.allFinished() {
		return append(out, c.triggerFinal(now)...)
	}
	if c.cfg.Interval <= 0 {
		return out
	}
	if len(c.pending) >= c.cfg.MaxConcurrent {
		return out
	}
	if now.Sub(c.lastTrigger) < c.cfg.Interval || now.Sub(c.lastEnd) < c.cfg.MinPause {
		return out
	}
	return append(out, c.trigger(now, false)...)
}

// IsPending reports whether checkpoint id is still pending.
func (c *Coordinator) IsPending(id int64) bool {
	_, ok := c.pending[id]
	return ok
}

// IsSavepoint reports whether pending checkpoint id is a savepoint.
func (c *Coordinator) IsSavepoint(id int64) bool {
	p, ok := c.pending[id]
	return ok && p.savepoint
}

// TriggerNow starts a checkpoint (or savepoint) at once, whatever the
// interval, unless one is pending.
func (c *Coordinator) TriggerNow(now time.Time, savepoint bool) ([]Action, error) {
	if len(c.pending) >= c.cfg.MaxConcurrent {
		return nil, fmt.Errorf("checkpoint: %d already pending", c.Pending()[0])
	}
	return c.trigger(now, savepoint), nil
}

func (c *Coordinator) allFinished() bool { return len(c.finished) == len(c.tasks) }

// Ack records that task stored its state for checkpoint id.
func (c *Coordinator) Ack(now time.Time, id int64, task TaskID) []Action {
	p, ok := c.pending[id]
	if !ok || !p.waiting[task] {
		return nil // late or duplicate acknowledgement of an aborted checkpoint
	}
	delete(p.waiting, task)
	if !c.finished[task] {
		p.early = true
	}
	if len(p.waiting) == 0 && !p.writing {
		p.writing = true
		return []Action{{Kind: WriteMetadata, ID: id, Time: now}}
	}
	return nil
}

// Decline records that task could not take checkpoint id.
func (c *Coordinator) Decline(now time.Time, id int64, task TaskID, reason string) []Action {
	if _, ok := c.pending[id]; !ok {
		return nil
	}
	return c.fail(id, fmt.Sprintf("task %s declined: %s", task, reason))
}

// DeclineSubsumed records that task gave checkpoint id up because the
// barrier of a newer checkpoint overtook it (during alignment). id is
// aborted, but, as in Flink (CHECKPOINT_DECLINED_SUBSUMED), that is no
// failure toward TolerableFailures: the newer checkpoint stands in for it.
func (c *Coordinator) DeclineSubsumed(now time.Time, id int64, task TaskID) []Action {
	if _, ok := c.pending[id]; !ok {
		return nil
	}
	return c.abort(id, fmt.Sprintf("task %s declined: subsumed by a newer checkpoint", task), false)
}

// TaskFinished records that a task ended its input and stored its final
// state; it takes part in no further barrier, and its final state belongs
// to every later checkpoint. When the last task finishes, a final
// checkpoint is triggered so that sinks can commit the last records.
func (c *Coordinator) TaskFinished(now time.Time, task TaskID) []Action {
	if c.finished[task] {
		return nil
	}
	c.finished[task] = true
	var out []Action
	for _, id := range c.Pending() {
		p := c.pending[id]
		if p.waiting[task] {
			// Its final state stands in for the barrier it will never see.
			out = append(out, c.Ack(now, id, task)...)
		}
	}
	if c.allFinished() {
		out = append(out, c.triggerFinal(now)...)
	}
	return out
}

// triggerFinal starts the final checkpoint once every task finished, unless
// one is pending or done. A pending one holding every task's final state
// becomes the final checkpoint; one a task acknowledged before it finished
// cannot (its final state is missing), nor can a savepoint (sinks commit
// nothing for it), and the final checkpoint is triggered on a tick after
// it is no longer pending.
func (c *Coordinator) triggerFinal(now time.Time) []Action {
	if c.finalID != 0 {
		return nil
	}
	if ids := c.Pending(); len(ids) > 0 {
		if p := c.pending[ids[len(ids)-1]]; !p.early && !p.savepoint {
			c.finalID = p.id
			p.final = true
		}
		return nil
	}
	a := c.trigger(now, false)
	c.finalID = a[0].ID
	return a
}

// FinalDone reports whether the final checkpoint, taken after every task
// finished, completed: the job may end.
func (c *Coordinator) FinalDone() bool { return c.finalDone }

// MetadataWritten records that checkpoint id is durable (err == nil) or
// that writing it failed.
func (c *Coordinator) MetadataWritten(now time.Time, id int64, err error) []Action {
	p, ok := c.pending[id]
	if !ok {
		return nil
	}
	if err != nil {
		return c.fail(id, "writing metadata: "+err.Error())
	}
	delete(c.pending, id)
	c.lastEnd = now
	c.failures = 0
	out := []Action{{Kind: NotifyComplete, ID: id, Time: now}}
	// Older pending checkpoints are subsumed.
	for _, old := range c.Pending() {
		if old < id {
			delete(c.pending, old)
			out = append(out, Action{Kind: Abort, ID: old, Time: now, Reason: fmt.Sprintf("subsumed by checkpoint %d", id)})
		}
	}
	// Savepoints belong to the user: never retained or discarded here.
	if !p.savepoint {
		c.completed = append(c.completed, id)
		for len(c.completed) > c.cfg.Retained {
			out = append(out, Action{Kind: Discard, ID: c.completed[0], Time: now})
			c.completed = c.completed[1:]
		}
	}
	if p.final {
		c.finalDone = true
	}
	return out
}

func (c *Coordinator) fail(id int64, reason string) []Action {
	return c.abort(id, reason, true)
}

// abort aborts pending checkpoint id; counted says whether that counts as
// a failed checkpoint toward TolerableFailures.
func (c *Coordinator) abort(id int64, reason string, counted bool) []Action {
	p := c.pending[id]
	delete(c.pending, id)
	out := []Action{{Kind: Abort, ID: id, Reason: reason}}
	if p != nil && p.savepoint {
		// A failed savepoint is the caller's error to handle; it does not
		// count against the job (as in Flink).
		return out
	}
	if counted {
		c.failures++
		if c.failures > c.cfg.TolerableFailures {
			out = append(out, Action{Kind: FailJob, ID: id, Reason: fmt.Sprintf("%d consecutive checkpoint failures (tolerable: %d); last: %s", c.failures, c.cfg.TolerableFailures, reason)})
		}
	}
	if c.allFinished() && c.finalID == id {
		// Retry the final checkpoint.
		c.finalID = 0
	}
	return out
}
