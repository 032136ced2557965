// Package operator is Weir's public operator contract: what a stream
// operator implements to run inside a task, and what the task gives it.
// The DataStream API (package weir), cep and the SQL planner build their
// operators on it, and a user adds one with weir.Transform or
// weir.TransformTwo, as Flink's DataStream#transform takes a
// OneInputStreamOperator.
//
// # Lifecycle
//
// A task creates one operator instance per subtask. It calls Open once,
// before any record, with a Context that says where the operator runs;
// keyed state and timers are registered there. Records and watermarks
// follow, then Finish once every input ended (a bounded job, after the
// final watermark MaxWatermark), and Close on success and on failure.
//
// # Concurrency
//
// Every call is made by the task's one goroutine: an operator never locks
// its own fields. The Output an operator writes to is only used from that
// goroutine too. A Snapshotter's deferred writes (StateWriter.Defer) are
// the one exception: they run on the task's snapshot goroutine and must
// read only what the operator no longer changes (a copy, or data under
// copy-on-write).
//
// # Checkpoints
//
// An operator with state implements Snapshotter: SnapshotState runs when
// the checkpoint's barrier is aligned on every input, before the barrier
// goes downstream. It restores from Context.Restore in Open. An operator
// that commits side effects (a two-phase-commit sink) implements
// CheckpointListener. Timestamps are milliseconds of event time;
// NoTimestamp marks a record without one.
package operator

import "github.com/weirstream/weir/internal/runtime"

// The contract's types are defined by the task runtime (internal/runtime)
// and named here, so that code outside the module can implement them.

const (
	// NoTimestamp marks a record that carries no event timestamp.
	NoTimestamp = runtime.NoTimestamp
	// MinWatermark is the watermark before any has been seen.
	MinWatermark = runtime.MinWatermark
	// MaxWatermark is the final watermark of a bounded input: it fires every
	// event-time timer and window.
	MaxWatermark = runtime.MaxWatermark
)

// Output receives a stream of records and control events of type T:
// ProcessElement(v, ts) per record (the hot path), ProcessWatermark(wm)
// and ProcessWatermarkStatus(idle). Chained operators, record writers and
// fan-outs all implement it; calls are made only by the owning task's
// goroutine.
type Output[T any] = runtime.Output[T]

// Lifecycle is the part of an operator that the task drives outside the
// record path: Open(ctx) before any record (state and timers are
// registered there), Finish() once all input ended (the operator may still
// emit), Close() on success and on failure.
type Lifecycle = runtime.Lifecycle

// OneInput is an operator with one (possibly unioned) input: a Lifecycle
// and an Output of its input type.
type OneInput[In any] = runtime.OneInput[In]

// TwoInput is an operator with two inputs of different types
// (ProcessElement1, ProcessElement2); the task combines their watermarks
// (the minimum, idle inputs left out) before calling ProcessWatermark.
type TwoInput[In1, In2 any] = runtime.TwoInput[In1, In2]

// Rec is one record of a run: a value V and its event timestamp TS
// (NoTimestamp if none).
type Rec[T any] = runtime.Rec[T]

// BatchOutput is an Output that also takes a run of records in one call,
// ProcessBatch(recs) (n int, err error): the batch path of a chain. A
// source hands the records of a poll down its chain in runs, and an
// exchange hands each batch it receives to the head of a chain, whenever
// the next operator implements BatchOutput; the built-in stateless
// operators (Map, Filter, Union), sinks and record writers do. An operator
// given to weir.Transform may implement it too, to save one call per
// record; the Output it writes to implements it as well. ProcessBatch
// must have exactly the effect of ProcessElement for each record in turn;
// recs is read-only for the callee and valid only during the call. It
// returns len(recs), or on error the number of records handled, the
// failing one included. Watermarks, status changes, barriers and the end
// of input never overtake a run: they arrive between runs.
type BatchOutput[T any] = runtime.BatchOutput[T]

// Context is what an operator learns in Open about where it runs: name and
// uid, subtask and parallelism, its key-group range, the processing-time
// service, logger, metrics, the state to restore (nil on a fresh start),
// and the task's context.Context (Context.Context), done when the job is
// cancelled or fails, for the blocking calls an operator makes.
type Context = runtime.OperatorContext

// MailboxExecutor (Context.Mailbox) lets an operator hand work done on its
// own goroutines back to the task's goroutine: Post(fn) from any goroutine
// queues fn to run between records; Yield(ctx), called inside one of the
// operator's calls, runs pending actions of this operator and those after
// it in the chain, blocking until one is posted. It is how the async I/O
// operator emits completed requests and waits for capacity, as Flink's
// AsyncWaitOperator does with its MailboxExecutor.
type MailboxExecutor = runtime.MailboxExecutor

// Metrics are counters an operator updates; the task publishes them.
type Metrics = runtime.OperatorMetrics

// ProcessingTimeService is the processing-time clock of a task: Now() in
// milliseconds, and Schedule(at, fn) to run fn on the task's goroutine once
// processing time reaches at.
type ProcessingTimeService = runtime.ProcessingTimeService

// Snapshotter is implemented by operators with state: SnapshotState(id, w)
// runs on the task's goroutine when the checkpoint's barrier was aligned,
// and what it writes must be a copy (or deferred with StateWriter.Defer
// over copy-on-write data). The id is 0 for the final snapshot of a task
// that finished its input.
type Snapshotter = runtime.Snapshotter

// PreBarrierHandler is implemented by operators that hold records outside
// their state (a mini-batch buffer): PrepareSnapshotPreBarrier(id) runs
// when the checkpoint's barrier was aligned, on every operator of the chain
// head first and before any of them snapshots or the barrier goes on, so
// the operator emits what it holds and nothing is lost or counted twice by
// a restore (Flink's prepareSnapshotPreBarrier). The id is 0 before the
// final snapshot of a task that finished its input. An error fails the
// task.
type PreBarrierHandler = runtime.PreBarrierHandler

// CheckpointListener is implemented by operators that act on checkpoint
// completion, such as two-phase-commit sinks: NotifyCheckpointComplete(id)
// (idempotent: it may come again for the same id after a restore) and
// NotifyCheckpointAborted(id).
type CheckpointListener = runtime.CheckpointListener

// StateWriter collects one operator subtask's snapshot: keyed state per
// key group (AppendKeyed), and operator state as items (AddItem) that are
// all given to every new subtask on a restore, as Flink's union list state.
type StateWriter = runtime.StateWriter

// RestoreState is what an operator subtask restores from
// (Context.Restore): the key groups of its range and every operator-state
// item.
type RestoreState = runtime.RestoreState
