package weir

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/runtime"
)

// Sink creates the writers of a sink, one per subtask.
type Sink[T any] interface {
	CreateWriter(ctx SinkContext) (SinkWriter[T], error)
}

// SinkContext tells a writer which subtask it serves.
type SinkContext struct {
	Subtask, Parallelism int
	// OperatorName is the sink's name, for error messages.
	OperatorName string
	// Restored is set when the job restored a checkpoint or savepoint that
	// has state of this sink (its staged committables, possibly none).
	Restored bool
	// Time is the task's processing-time clock (nil if the operator has
	// none): writers that measure durations in processing time, such as
	// the time-based rolling policies of the file sinks, read it, so that
	// they agree with the ProcessingTimeWriter's checks (Flink's file sink
	// takes a part file's creation and last-update times from the
	// processing-time service).
	Time ProcessingTimeService
}

// SinkWriter writes one subtask's records (Flink's SinkWriter). Its methods
// are called from the subtask's goroutine only.
//
// The ctx passed to Write, Flush (and a TwoPhaseCommitWriter's PreCommit
// and Commit) is the task's context: it is done when the job is cancelled
// or fails. A call that blocks (a full producer buffer, a flush waiting
// for acknowledgements, a commit retrying) must return once ctx is done,
// with an error wrapping ctx.Err(), so that cancelling a job never waits
// on an external system. Writers must not keep ctx beyond the call.
type SinkWriter[T any] interface {
	// Write handles one record with its event timestamp.
	Write(ctx context.Context, v T, ts int64) error
	// Flush makes written records durable or visible; endOfInput is true
	// for the final flush of a bounded job.
	Flush(ctx context.Context, endOfInput bool) error
	// Close releases the writer's resources; it is called once, on
	// success and on failure (also after cancellation), and must not
	// block for long.
	Close() error
}

// Rec is one record of a run handed to a BatchWriter: a value V and its
// event timestamp TS (NoTimestamp if none). It is the type of
// operator.Rec.
type Rec[T any] = runtime.Rec[T]

// BatchWriter is an optional interface of a SinkWriter: a writer that
// implements it is given the records that reach the sink together in one
// WriteBatch call (a run of up to a few hundred records: the records a
// source's poll or an exchange's batch brings through a chain of
// stateless operators) instead of one Write call each, which saves a call
// per record. Any SinkWriter may implement it; the sink operator uses it
// whenever its input comes in runs, and Write for single records.
//
// WriteBatch must have exactly the effect of calling Write for each record
// of recs in order: the engine calls Flush, PreCommit and WriteWatermark
// only between runs, never inside one, so a checkpoint or a watermark
// sees either all of a run or none of it, as with Write. recs is
// read-only and valid only during the call: keep copies, not the slice.
// ctx is the task's context, as for Write. On error WriteBatch returns
// the number of records of recs it handled, the failing one included
// (len(recs) if it cannot tell), and the job fails as after a failed
// Write.
type BatchWriter[T any] interface {
	WriteBatch(ctx context.Context, recs []Rec[T]) (int, error)
}

// WatermarkWriter is implemented by sink writers that want the watermarks
// of their input (Flink's SinkWriter.writeWatermark). ctx is the task's
// context, as for Write.
type WatermarkWriter interface {
	WriteWatermark(ctx context.Context, wm int64) error
}

// ProcessingTimeWriter is implemented by sink writers that act on
// processing time even when no record arrives (Flink's file sink checks its
// rolling policy on a processing-time timer every
// sink.rolling-policy.check-interval). The sink operator calls
// OnProcessingTime on the subtask's goroutine, between records, every
// ProcessingTimeInterval (read once, when the writer is created; <= 0: never)
// until the input ends. now is the processing time in milliseconds since
// the epoch; ctx is the task's context, as for Write.
type ProcessingTimeWriter interface {
	ProcessingTimeInterval() time.Duration
	OnProcessingTime(ctx context.Context, now int64) error
}

// ScheduleProcessingTime registers w's periodic OnProcessingTime calls with
// the task's processing-time service, for operators that drive a
// ProcessingTimeWriter themselves. It does nothing when w does not
// implement ProcessingTimeWriter, its interval is not positive or ctx has
// no processing-time service. ctxOf returns the context to pass.
func ScheduleProcessingTime(ctx *runtime.OperatorContext, w any, ctxOf func() context.Context) {
	ptw, ok := w.(ProcessingTimeWriter)
	if !ok || ctx.Time == nil {
		return
	}
	iv := ptw.ProcessingTimeInterval().Milliseconds()
	if iv <= 0 {
		return
	}
	var tick func(now int64) error
	tick = func(now int64) error {
		if err := ptw.OnProcessingTime(ctxOf(), now); err != nil {
			return err
		}
		ctx.Time.Schedule(now+iv, tick)
		return nil
	}
	ctx.Time.Schedule(ctx.Time.Now()+iv, tick)
}

// DataSink is the operator that writes a stream to a sink.
type DataSink struct {
	node *graph.Node
}

// Name sets the sink operator's name.
func (d DataSink) Name(name string) DataSink { d.node.SetName(name); return d }

// UID sets the sink operator's stable id.
func (d DataSink) UID(uid string) DataSink { d.node.UID = uid; return d }

// ID returns the sink operator's position in the job graph: without a
// UID, its state is stored under its name and this number.
func (d DataSink) ID() int { return d.node.ID }

// SetParallelism sets the sink's number of subtasks.
func (d DataSink) SetParallelism(p int) DataSink { d.node.Parallelism = p; return d }

// DisableChaining runs the sink in its own subtasks.
func (d DataSink) DisableChaining() DataSink { d.node.NoChain = true; return d }

// sinkOp drives a SinkWriter. Every call to the writer gets the task's
// context from s.ctx.Context (see runtime.OperatorContext.Context): the
// operator interfaces take no context on the per-record path, so the sink
// operator reads the one its task owns rather than keeping a copy.
type sinkOp[T any] struct {
	baseOp
	sink   Sink[T]
	writer SinkWriter[T]
	wmw    WatermarkWriter
	tpc    TwoPhaseCommitWriter[T]
	// bw is the writer's batch path, nil if it has none.
	bw BatchWriter[T]
	// pending are committables staged for checkpoints not yet complete,
	// oldest first.
	pending []pendingCommit
	// lastID is the last checkpoint whose barrier the sink saw.
	lastID int64
	// tctx is the task's context (taskContext), kept from Open for the
	// per-record Write.
	tctx context.Context
}

func (s *sinkOp[T]) Open(ctx *runtime.OperatorContext) error {
	s.ctx = ctx
	s.tctx = s.taskContext()
	w, err := s.sink.CreateWriter(SinkContext{Subtask: ctx.Subtask, Parallelism: ctx.Parallelism, OperatorName: ctx.Name, Restored: ctx.Restore != nil, Time: ctx.Time})
	if err != nil {
		return opError(ctx, err)
	}
	s.writer = w
	s.wmw, _ = w.(WatermarkWriter)
	s.tpc, _ = w.(TwoPhaseCommitWriter[T])
	s.bw, _ = w.(BatchWriter[T])
	ScheduleProcessingTime(ctx, w, func() context.Context { return s.taskContext() })
	if ctx.Restore != nil {
		s.lastID = ctx.Restore.CheckpointID // ids continue after it
	}
	if ctx.Restore != nil && s.tpc != nil {
		// Everything staged in the restored checkpoint belongs to a
		// completed checkpoint: commit it (again, if it already was).
		for _, it := range ctx.Restore.Items {
			p, err := decodePending(it)
			if err != nil {
				return opError(ctx, fmt.Errorf("restoring staged commits: %w", err))
			}
			if err := s.tpc.Commit(s.taskContext(), p.items); err != nil {
				return opError(ctx, fmt.Errorf("committing staged output of checkpoint %d after restore: %w", p.id, err))
			}
		}
	}
	return nil
}

// taskContext is the context of the task running the sink: done when the
// job is cancelled or fails.
func (s *sinkOp[T]) taskContext() context.Context {
	if c := s.ctx.Context; c != nil {
		return c
	}
	return context.Background()
}

// SnapshotState flushes the writer; a two-phase-commit writer stages its
// output, and every staged commit not yet committed goes into the
// checkpoint.
func (s *sinkOp[T]) SnapshotState(id int64, w *runtime.StateWriter) error {
	if s.tpc == nil {
		if err := s.writer.Flush(s.taskContext(), false); err != nil {
			return opError(s.ctx, err)
		}
		return nil
	}
	if id == 0 {
		// The final snapshot of a finished sink stands for every checkpoint
		// after the last barrier it saw: the first of those to complete
		// commits it, never an earlier one.
		id = s.lastID + 1
	} else {
		s.lastID = id
	}
	items, err := s.tpc.PreCommit(s.taskContext(), id)
	if err != nil {
		return opError(s.ctx, err)
	}
	if len(items) > 0 {
		s.pending = append(s.pending, pendingCommit{id: id, items: items})
	}
	for _, p := range s.pending {
		w.AddItem(encodePending(p))
	}
	return nil
}

// NotifyCheckpointComplete commits what was staged for id and earlier
// checkpoints.
func (s *sinkOp[T]) NotifyCheckpointComplete(id int64) error {
	if s.tpc == nil {
		return nil
	}
	kept := s.pending[:0]
	for _, p := range s.pending {
		if p.id > id {
			kept = append(kept, p)
			continue
		}
		if err := s.tpc.Commit(s.taskContext(), p.items); err != nil {
			return opError(s.ctx, fmt.Errorf("commit of checkpoint %d: %w", p.id, err))
		}
	}
	s.pending = kept
	return nil
}

// NotifyCheckpointAborted keeps the staged output: the next checkpoint
// that completes commits it.
func (s *sinkOp[T]) NotifyCheckpointAborted(int64) error { return nil }

func (s *sinkOp[T]) ProcessElement(v T, ts int64) error {
	if err := s.writer.Write(s.tctx, v, ts); err != nil {
		return opError(s.ctx, err)
	}
	return nil
}

// ProcessBatch writes recs in order: in one WriteBatch call if the writer
// is a BatchWriter.
func (s *sinkOp[T]) ProcessBatch(recs []runtime.Rec[T]) (int, error) {
	if s.bw != nil {
		n, err := s.bw.WriteBatch(s.tctx, recs)
		if err != nil {
			return min(max(n, 1), len(recs)), opError(s.ctx, err)
		}
		return len(recs), nil
	}
	w, ctx := s.writer, s.tctx
	for i := range recs {
		if err := w.Write(ctx, recs[i].V, recs[i].TS); err != nil {
			return i + 1, opError(s.ctx, err)
		}
	}
	return len(recs), nil
}

func (s *sinkOp[T]) ProcessWatermark(wm int64) error {
	s.ctx.Metrics.CurrentWatermark = wm
	if s.wmw != nil {
		if err := s.wmw.WriteWatermark(s.taskContext(), wm); err != nil {
			return opError(s.ctx, err)
		}
	}
	return nil
}

func (s *sinkOp[T]) ProcessWatermarkStatus(bool) error { return nil }

func (s *sinkOp[T]) Finish() error {
	if err := s.writer.Flush(s.taskContext(), true); err != nil {
		return opError(s.ctx, err)
	}
	if s.tpc != nil && !s.ctx.Checkpointing {
		// Without checkpoints the end of input is the commit point.
		items, err := s.tpc.PreCommit(s.taskContext(), 0)
		if err != nil {
			return opError(s.ctx, err)
		}
		if err := s.tpc.Commit(s.taskContext(), items); err != nil {
			return opError(s.ctx, err)
		}
	}
	return nil
}

func (s *sinkOp[T]) Close() error {
	if s.writer == nil {
		return nil
	}
	return s.writer.Close()
}

// SinkTo writes the stream to sink.
func (s Stream[T]) SinkTo(sink Sink[T]) DataSink {
	n := newNode[struct{}](s.env, "Sink", 1, func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error) {
		op := &sinkOp[T]{sink: sink}
		return graph.Instance{Op: op, Inputs: []any{runtime.Output[T](op)}, Watermarks: op}, nil
	})
	connect(s, n, 0)
	return DataSink{node: n}
}

// SinkFunc is a sink that calls fn for every record, from each subtask's
// goroutine; fn must be safe for concurrent use when parallelism > 1. ctx
// is the task's context (see SinkWriter): fn must return when it is done.
type SinkFunc[T any] func(ctx context.Context, v T, ts int64) error

// CreateWriter returns a writer calling f.
func (f SinkFunc[T]) CreateWriter(SinkContext) (SinkWriter[T], error) { return funcWriter[T](f), nil }

type funcWriter[T any] func(ctx context.Context, v T, ts int64) error

func (f funcWriter[T]) Write(ctx context.Context, v T, ts int64) error { return f(ctx, v, ts) }
func (f funcWriter[T]) Flush(context.Context, bool) error              { return nil }
func (f funcWriter[T]) Close() error                                   { return nil }

// Collected holds the records a Collect sink received.
type Collected[T any] struct {
	mu     sync.Mutex
	values []TimestampedValue[T]
}

// Values returns the records received so far, in arrival order per subtask.
func (c *Collected[T]) Values() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]T, len(c.values))
	for i, v := range c.values {
		out[i] = v.Value
	}
	return out
}

// Timestamped returns the records with their timestamps.
func (c *Collected[T]) Timestamped() []TimestampedValue[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]TimestampedValue[T](nil), c.values...)
}

// Collect gathers the stream's records in memory, for tests and small
// results: read them after Execute returns.
func Collect[T any](s Stream[T]) *Collected[T] {
	c := &Collected[T]{}
	d := s.SinkTo(SinkFunc[T](func(_ context.Context, v T, ts int64) error {
		c.mu.Lock()
		c.values = append(c.values, TimestampedValue[T]{Value: v, TS: ts})
		c.mu.Unlock()
		return nil
	}))
	d.node.Name = "Collect" // a default name: numbered if shared
	return c
}

// TwoPhaseCommitWriter is a SinkWriter that makes its output visible only
// when a checkpoint completes, for end-to-end exactly-once (Flink's
// TwoPhaseCommittingSink). The sink operator calls PreCommit when the
// checkpoint's barrier reaches it, stores the returned committables in the
// checkpoint, and calls Commit with them once the checkpoint completed —
// or, after a failure, once the job restored that checkpoint. Commit must
// therefore be idempotent: committing something already committed is not
// an error. After a restore every subtask of the sink receives the staged
// committables of every old subtask (whatever the new parallelism), so
// Commit may also run for the same committable on several subtasks at once.
//
// ctx is the task's context, as for SinkWriter.Write: PreCommit and Commit
// must return once it is done (the job was cancelled or failed); a commit
// interrupted that way is retried after the restore, like any other.
type TwoPhaseCommitWriter[T any] interface {
	SinkWriter[T]
	// PreCommit flushes what was written since the last checkpoint and
	// stages it; the committables describe what to make visible (Flink's
	// SinkWriter.prepareCommit).
	PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error)
	// Commit makes staged committables visible (Flink's Committer.commit).
	Commit(ctx context.Context, committables [][]byte) error
}

// pendingCommit is a checkpoint's committables awaiting completion.
type pendingCommit struct {
	id    int64
	items [][]byte
}

// encodePending stores a pending commit as an operator-state item:
// id, then each committable with its length.
func encodePending(p pendingCommit) []byte {
	b := binary.AppendVarint(nil, p.id)
	for _, it := range p.items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	return b
}

func decodePending(b []byte) (pendingCommit, error) {
	id, n := binary.Varint(b)
	if n <= 0 {
		return pendingCommit{}, fmt.Errorf("%w: pending commit id", codec.ErrCorrupt)
	}
	p := pendingCommit{id: id}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return pendingCommit{}, fmt.Errorf("%w: committable", codec.ErrCorrupt)
		}
		p.items = append(p.items, b[n:n+int(l)])
		b = b[n+int(l):]
	}
	return p, nil
}
