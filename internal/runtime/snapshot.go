package runtime

import (
	"context"
	"fmt"
	"sort"

	"github.com/weirstream/weir/internal/statebackend"
)

// Snapshotter is implemented by operators with state. SnapshotState runs on
// the task's goroutine when the checkpoint's barrier was aligned; whatever
// it writes must be a copy, not memory the operator keeps changing. The id
// is 0 for the final snapshot of a task that finished its input: that state
// belongs to every later checkpoint, and the first one that completes
// covers it.
type Snapshotter interface {
	SnapshotState(id int64, w *StateWriter) error
}

// PreBarrierHandler is implemented by operators that hold records outside
// their state (Flink's mini-batch bundle operators) and must emit them
// before a checkpoint: PrepareSnapshotPreBarrier(id) runs on the task's
// goroutine once the checkpoint's barrier was aligned, for every operator
// of the chain in chain order (head first) and before any operator of the
// chain snapshots, so that what it emits reaches the operators chained
// after it before they snapshot, and the writers before the barrier does
// (Flink's StreamOperator#prepareSnapshotPreBarrier). The id is 0 before
// the final snapshot of a task that finished its input (Finish came
// first). An error fails the task.
type PreBarrierHandler interface {
	PrepareSnapshotPreBarrier(id int64) error
}

// CheckpointListener is implemented by operators that act on checkpoint
// completion, such as two-phase-commit sinks committing what they staged.
type CheckpointListener interface {
	// NotifyCheckpointComplete says checkpoint id and every earlier one are
	// durable. It may be called again for the same id after a restore, so
	// it must be idempotent.
	NotifyCheckpointComplete(id int64) error
	// NotifyCheckpointAborted says checkpoint id will never complete.
	NotifyCheckpointAborted(id int64) error
}

// StateWriter collects one operator's snapshot: keyed state per key group
// and operator state as a list of items (redistributed on rescaling: every
// new subtask sees the items of every old one, as Flink's union list state).
type StateWriter struct {
	native   *statebackend.NativeSnapshot
	keyed    map[int][]byte
	items    [][]byte
	deferred []func(*StateWriter) error
}

// Defer schedules the expensive part of a snapshot: fn runs after the
// barrier went downstream, on another goroutine, writing into the same
// StateWriter (and nothing else may touch it meanwhile). The operator must
// not change what fn reads (copy-on-write).
func (w *StateWriter) Defer(fn func(*StateWriter) error) { w.deferred = append(w.deferred, fn) }

// runDeferred runs the deferred parts of the snapshot.
func (w *StateWriter) runDeferred() error {
	for _, fn := range w.deferred {
		if err := fn(w); err != nil {
			return err
		}
	}
	w.deferred = nil
	return nil
}

// NewStateWriter returns an empty writer.
func NewStateWriter() *StateWriter { return &StateWriter{keyed: map[int][]byte{}} }

// AppendKeyed appends b to the snapshot of key group kg.
func (w *StateWriter) AppendKeyed(kg int, b []byte) { w.keyed[kg] = append(w.keyed[kg], b...) }

// KeyedBuffer returns the bytes written so far for kg, for in-place appends;
// store the result with SetKeyed.
func (w *StateWriter) KeyedBuffer(kg int) []byte { return w.keyed[kg] }

// SetKeyed replaces the snapshot of key group kg.
func (w *StateWriter) SetKeyed(kg int, b []byte) { w.keyed[kg] = b }

// SetNative attaches keyed state in a backend's native format.
func (w *StateWriter) SetNative(n *statebackend.NativeSnapshot) { w.native = n }

// releaseNative deletes the local files of the native snapshot, for a
// snapshot that will not be written.
func (w *StateWriter) releaseNative() {
	if w.native != nil {
		_ = w.native.Release()
		w.native = nil
	}
}

// AddItem adds an operator-state item.
func (w *StateWriter) AddItem(b []byte) { w.items = append(w.items, append([]byte(nil), b...)) }

// OperatorSnapshot is the finished snapshot of one operator subtask.
type OperatorSnapshot struct {
	// Keyed holds the snapshot of each non-empty key group, in key-group
	// order.
	Keyed []KeyGroupState
	Items [][]byte
	// Native, if not nil, is keyed state in a backend's native format
	// (next to the canonical Keyed blocks, which then hold timers).
	Native *statebackend.NativeSnapshot
}

// KeyGroupState is the snapshot of one key group.
type KeyGroupState struct {
	KeyGroup int
	Data     []byte
}

// Done returns the snapshot.
func (w *StateWriter) Done() OperatorSnapshot {
	s := OperatorSnapshot{Items: w.items, Native: w.native}
	for kg, b := range w.keyed {
		if len(b) > 0 {
			s.Keyed = append(s.Keyed, KeyGroupState{kg, b})
		}
	}
	sort.Slice(s.Keyed, func(i, j int) bool { return s.Keyed[i].KeyGroup < s.Keyed[j].KeyGroup })
	return s
}

// RestoreState is what an operator subtask restores from: the key groups of
// its new range and every item of the operator state.
type RestoreState struct {
	// CheckpointID is the checkpoint restored from.
	CheckpointID int64
	// Keyed maps a key group (absolute) to its snapshot bytes.
	Keyed map[int][]byte
	Items [][]byte
	// Native holds the native snapshots (of old subtasks) whose key groups
	// overlap the new range.
	Native []statebackend.NativeRestore
}

// TaskSnapshot is what a task stores for a checkpoint: the snapshots of its
// stateful operators, by position in the chain.
type TaskSnapshot struct {
	Ops map[int]OperatorSnapshot
}

// TaskID names a subtask in the checkpoint path: its vertex (the index of
// its chain of operators in the physical plan) and its index among that
// vertex's subtasks.
type TaskID struct {
	Vertex  int
	Subtask int
}

func (t TaskID) String() string { return fmt.Sprintf("%d/%d", t.Vertex, t.Subtask) }

// SnapshotStore stores a task's part of a checkpoint (package checkpoint
// implements it). The task calls it from its own snapshot goroutine, so
// the subtasks of a job write their parts concurrently; it must be safe
// for concurrent use.
type SnapshotStore interface {
	// WritePart stores snap as task's part of checkpoint id and returns
	// the handle the acknowledgement carries. Unless final is set, it
	// releases the local files of the snapshot's native state once they are
	// stored (or not: on error too). A final snapshot (of a finished task)
	// is written into every later checkpoint, and keeps them.
	WritePart(ctx context.Context, id int64, task TaskID, snap TaskSnapshot, final bool) (SnapshotHandle, error)
}

// SnapshotHandle describes a stored part to the checkpoint driver: where
// it is, its size and checksums, and where each operator's state is in it.
// The runtime only passes it on.
type SnapshotHandle interface {
	// StoredBytes is the size of what the part stored.
	StoredBytes() int64
}

// MailKind says what a Mail asks of a task.
type MailKind uint8

// Mail kinds.
const (
	// MailTrigger asks a source task to take checkpoint ID and emit its
	// barrier.
	MailTrigger MailKind = iota + 1
	// MailComplete tells that checkpoint ID completed.
	MailComplete
	// MailAbort tells that checkpoint ID was aborted.
	MailAbort
	// MailStop tells a task that the job ended and it may exit; a running
	// task stops where it is (after a stop-with-savepoint).
	MailStop
	// MailWriteFinal asks a finished task to write its final state as its
	// part of checkpoint ID (it sees no more barriers) and acknowledge it.
	MailWriteFinal
)

// Mail is a message from the checkpoint driver to a task.
type Mail struct {
	Kind MailKind
	ID   int64
	// Ack asks the task to report ReportNotified once it handled a
	// MailComplete (a savepoint that stops the job waits for that).
	Ack bool
	// Drain, on a MailTrigger, asks a source to emit the final watermark
	// before the barrier (a stop with drain; see Drainer).
	Drain bool
}

// ReportKind says what a task reports to the checkpoint driver.
type ReportKind uint8

// Report kinds.
const (
	// ReportAck: the task stored its part of checkpoint ID; Handle
	// describes it.
	ReportAck ReportKind = iota + 1
	// ReportDecline: the task could not take checkpoint ID.
	ReportDecline
	// ReportFinished: the task ended its input and took its final
	// snapshot, which it writes into every later checkpoint when asked
	// (MailWriteFinal).
	ReportFinished
	// ReportNotified: the task handled MailComplete for ID.
	ReportNotified
)

// Report is a message from a task to the checkpoint driver.
type Report struct {
	Kind   ReportKind
	Task   TaskID
	ID     int64
	Handle SnapshotHandle
	Reason string
	// Subsumed, with ReportDecline: the task gave ID up because the
	// barrier of a newer checkpoint overtook it (no checkpoint failure).
	Subsumed bool
	// Timing is when the phases of the task's part of checkpoint ID
	// happened (with ReportAck; zero for a finished task's final part).
	Timing CheckpointTiming
}

// CheckpointTiming holds the wall-clock times (Unix nanoseconds) of one
// task's part of a checkpoint, for checkpoint statistics and traces.
// Alignment runs from the first barrier received to the last (a source
// task: both are when the trigger arrived); the snapshot from then to the
// end of its asynchronous part (SyncEnd ends the synchronous capture, after
// which the barrier goes downstream); the upload from the snapshot's end
// to UploadEnd, when the part was written to checkpoint storage.
type CheckpointTiming struct {
	AlignStart, AlignEnd int64
	SyncEnd              int64
	SnapshotEnd          int64
	UploadEnd            int64
}

// Checkpointing connects a task to the checkpoint driver. Nil on a task
// means checkpoints are off.
type Checkpointing struct {
	// Task names the subtask in reports and in the parts it stores.
	Task TaskID
	// Store stores the task's snapshot parts.
	Store SnapshotStore
	// Mailbox receives the driver's mail.
	Mailbox chan Mail
	// Reports is where the task sends acknowledgements; the driver drains it
	// continuously.
	Reports chan<- Report
	// ExactlyOnce aligns barriers; otherwise they are only tracked.
	ExactlyOnce bool
}
