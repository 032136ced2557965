package weir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	icheckpoint "github.com/weirstream/weir/internal/checkpoint"
)

// CheckpointEvent describes a checkpoint or savepoint that ended, as
// Options.OnCheckpoint receives it.
type CheckpointEvent struct {
	// ID is the checkpoint's id; Savepoint says it was a savepoint.
	ID        int64
	Savepoint bool
	// Completed is false for one that failed or was aborted; Failure then
	// says why.
	Completed bool
	Failure   string
	// Triggered is when the checkpoint was triggered (zero for the final
	// checkpoint of a bounded job, which no trigger started); Ended when it
	// completed or failed; Duration runs from one to the other.
	Triggered, Ended time.Time
	Duration         time.Duration
	// Size is the bytes of the subtasks' parts (state size); Checkpointed
	// the bytes written for this checkpoint (with incremental state, less
	// than the state's full size).
	Size, Checkpointed int64
	// Alignment is the longest barrier alignment of its subtasks: from the
	// first barrier a subtask received to the last.
	Alignment time.Duration
	// NumSubtasks is the job's number of subtasks; Subtasks holds those
	// that acknowledged the checkpoint, in the order of the plan.
	NumSubtasks int
	Subtasks    []CheckpointSubtask
}

// CheckpointSubtask is one subtask's part of a checkpoint. Its times are
// zero for a subtask that had finished its input before the checkpoint
// and only contributed its final state.
type CheckpointSubtask struct {
	// Vertex is the name of the subtask's chain, as the plan shows it.
	Vertex  string
	Subtask int
	// AlignStart is when the first barrier reached the subtask (a source:
	// the trigger), AlignEnd when the last did and the snapshot started.
	AlignStart, AlignEnd time.Time
	// SyncEnd ends the snapshot's synchronous part (the barrier then goes
	// downstream); SnapshotEnd its asynchronous part; UploadEnd the
	// writing of the subtask's part to checkpoint storage; Acknowledged is
	// when the checkpoint coordinator received its acknowledgement.
	SyncEnd, SnapshotEnd, UploadEnd, Acknowledged time.Time
	// Size and Checkpointed are the subtask's shares of the event's.
	Size, Checkpointed int64
}

// Alignment returns the subtask's alignment time.
func (s CheckpointSubtask) Alignment() time.Duration { return s.AlignEnd.Sub(s.AlignStart) }

func unixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// checkpointEvent converts the driver's event.
func checkpointEvent(e icheckpoint.Event) CheckpointEvent {
	out := CheckpointEvent{ID: e.ID, Savepoint: e.Savepoint, Completed: e.Completed, Failure: e.Reason,
		Triggered: e.Triggered, Ended: e.Ended, Duration: e.Duration, Size: e.Size, Checkpointed: e.Checkpointed,
		Alignment: e.Alignment(), NumSubtasks: e.Tasks}
	for _, s := range e.Subtasks {
		out.Subtasks = append(out.Subtasks, CheckpointSubtask{Vertex: s.Vertex, Subtask: s.Subtask,
			AlignStart: unixNanos(s.Timing.AlignStart), AlignEnd: unixNanos(s.Timing.AlignEnd),
			SyncEnd: unixNanos(s.Timing.SyncEnd), SnapshotEnd: unixNanos(s.Timing.SnapshotEnd),
			UploadEnd: unixNanos(s.Timing.UploadEnd), Acknowledged: s.Acked, Size: s.Size, Checkpointed: s.Checkpointed})
	}
	return out
}

// newJobID returns a random job id: 32 hex digits, as Flink's JobID.
func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Span names and attribute keys of the traces a job emits (see
// docs/observability.md).
const (
	tracerName = "github.com/weirstream/weir"

	spanJob               = "weir.job"
	spanSavepoint         = "weir.savepoint"
	spanCheckpoint        = "weir.checkpoint"
	spanCheckpointTrigger = "weir.checkpoint.trigger"
	spanCheckpointSubtask = "weir.checkpoint.subtask"
	spanCheckpointAlign   = "weir.checkpoint.align"
	spanCheckpointSnap    = "weir.checkpoint.snapshot"
	spanCheckpointUpload  = "weir.checkpoint.upload"
	spanCheckpointDone    = "weir.checkpoint.complete"
	spanLatency           = "weir.latency"
)

// jobTracer emits a job's spans: one span for the job's life (restarts are
// its events), one for each savepoint call, and one trace per checkpoint,
// built when the checkpoint ended from the times the driver collected (so
// nothing is traced on the tasks' goroutines). Nil is a tracer that emits
// nothing. Its methods may be called from any goroutine.
type jobTracer struct {
	tr       trace.Tracer
	job      trace.Span
	jobCtx   context.Context
	jobAttrs []attribute.KeyValue
}

// newJobTracer starts the job's span; tp nil means no tracing.
func newJobTracer(ctx context.Context, tp trace.TracerProvider, name, id string) *jobTracer {
	if tp == nil {
		return nil
	}
	t := &jobTracer{tr: tp.Tracer(tracerName)}
	t.jobAttrs = []attribute.KeyValue{attribute.String("job.name", name), attribute.String("job.id", id)}
	t.jobCtx, t.job = t.tr.Start(context.WithoutCancel(ctx), spanJob, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(t.jobAttrs...))
	return t
}

// restart records a failed attempt that is restarted.
func (t *jobTracer) restart(attempt int, err error) {
	if t == nil {
		return
	}
	t.job.AddEvent("restart", trace.WithAttributes(attribute.Int("job.attempt", attempt), attribute.String("error", err.Error())))
}

// end ends the job's span with its outcome.
func (t *jobTracer) end(err error, canceled bool) {
	if t == nil {
		return
	}
	switch {
	case canceled:
		t.job.AddEvent("cancel")
		t.job.SetAttributes(attribute.String("job.state", string(JobCanceled)))
	case err != nil:
		t.job.RecordError(err)
		t.job.SetStatus(codes.Error, err.Error())
		t.job.SetAttributes(attribute.String("job.state", string(JobFailed)))
	default:
		t.job.SetAttributes(attribute.String("job.state", string(JobFinished)))
	}
	t.job.End()
}

// savepoint starts the span of a savepoint call; end it with the result.
func (t *jobTracer) savepoint(ctx context.Context, dir string, stop bool) func(path string, err error) {
	if t == nil {
		return func(string, error) {}
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = t.jobCtx
	}
	_, sp := t.tr.Start(ctx, spanSavepoint, trace.WithAttributes(append(t.jobAttrs[:len(t.jobAttrs):len(t.jobAttrs)],
		attribute.String("savepoint.dir", dir), attribute.Bool("savepoint.stop", stop))...))
	if stop {
		t.job.AddEvent("stop-with-savepoint")
	}
	return func(path string, err error) {
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		} else {
			sp.SetAttributes(attribute.String("savepoint.path", path))
		}
		sp.End()
	}
}

// checkpoint emits the trace of a checkpoint that ended: a root span
// from trigger to end with a child for the trigger, one per subtask (with
// children for its alignment, snapshot and upload) and one for the
// completion (metadata written, or the failure).
func (t *jobTracer) checkpoint(e CheckpointEvent) {
	if t == nil {
		return
	}
	start := e.Triggered
	if start.IsZero() {
		start = e.Ended
		for _, s := range e.Subtasks {
			if !s.AlignStart.IsZero() && s.AlignStart.Before(start) {
				start = s.AlignStart
			}
		}
	}
	kind, status := "checkpoint", "completed"
	if e.Savepoint {
		kind = "savepoint"
	}
	if !e.Completed {
		status = "failed"
	}
	attrs := append(t.jobAttrs[:len(t.jobAttrs):len(t.jobAttrs)],
		attribute.Int64("checkpoint.id", e.ID),
		attribute.String("checkpoint.kind", kind),
		attribute.String("checkpoint.status", status),
		attribute.Int64("checkpoint.size_bytes", e.Size),
		attribute.Int64("checkpoint.checkpointed_size_bytes", e.Checkpointed),
		attribute.Int64("checkpoint.duration_ms", e.Ended.Sub(start).Milliseconds()),
		attribute.Int64("checkpoint.alignment_ms", e.Alignment.Milliseconds()),
		attribute.Int("checkpoint.subtasks", e.NumSubtasks),
		attribute.Int("checkpoint.acknowledged_subtasks", len(e.Subtasks)))
	ctx, root := t.tr.Start(context.Background(), spanCheckpoint, trace.WithNewRoot(), trace.WithTimestamp(start),
		trace.WithLinks(trace.Link{SpanContext: t.job.SpanContext()}), trace.WithAttributes(attrs...))
	id := attribute.Int64("checkpoint.id", e.ID)

	first, lastAck := e.Ended, start
	for _, s := range e.Subtasks {
		if !s.AlignStart.IsZero() && s.AlignStart.Before(first) {
			first = s.AlignStart
		}
		if s.Acknowledged.After(lastAck) {
			lastAck = s.Acknowledged
		}
	}
	if first.Before(start) {
		first = start
	}
	_, trig := t.tr.Start(ctx, spanCheckpointTrigger, trace.WithTimestamp(start), trace.WithAttributes(id))
	trig.End(trace.WithTimestamp(first))

	for _, s := range e.Subtasks {
		sub := []attribute.KeyValue{id, attribute.String("vertex", s.Vertex), attribute.Int("subtask", s.Subtask)}
		if s.AlignStart.IsZero() {
			_, sp := t.tr.Start(ctx, spanCheckpointSubtask, trace.WithTimestamp(s.Acknowledged),
				trace.WithAttributes(append(sub, attribute.Bool("final_state", true), attribute.Int64("size_bytes", s.Size))...))
			sp.End(trace.WithTimestamp(s.Acknowledged))
			continue
		}
		sctx, sp := t.tr.Start(ctx, spanCheckpointSubtask, trace.WithTimestamp(s.AlignStart),
			trace.WithAttributes(append(sub, attribute.Int64("size_bytes", s.Size), attribute.Int64("checkpointed_size_bytes", s.Checkpointed))...))
		child := func(name string, from, to time.Time, extra ...attribute.KeyValue) {
			_, c := t.tr.Start(sctx, name, trace.WithTimestamp(from), trace.WithAttributes(append(sub[:len(sub):len(sub)], extra...)...))
			c.End(trace.WithTimestamp(to))
		}
		child(spanCheckpointAlign, s.AlignStart, s.AlignEnd, attribute.Int64("alignment_ms", s.Alignment().Milliseconds()))
		child(spanCheckpointSnap, s.AlignEnd, s.SnapshotEnd, attribute.Int64("sync_ms", s.SyncEnd.Sub(s.AlignEnd).Milliseconds()))
		child(spanCheckpointUpload, s.SnapshotEnd, s.UploadEnd, attribute.Int64("size_bytes", s.Size))
		sp.End(trace.WithTimestamp(s.Acknowledged))
	}

	_, done := t.tr.Start(ctx, spanCheckpointDone, trace.WithTimestamp(lastAck), trace.WithAttributes(id))
	if !e.Completed {
		done.SetStatus(codes.Error, e.Failure)
		root.SetStatus(codes.Error, e.Failure)
	}
	done.End(trace.WithTimestamp(e.Ended))
	root.End(trace.WithTimestamp(e.Ended))
}

// latency emits the span of one latency marker: from its source to a sink.
func (t *jobTracer) latency(source, sink string, subtask int, emitted, received time.Time) {
	if t == nil {
		return
	}
	_, sp := t.tr.Start(t.jobCtx, spanLatency, trace.WithTimestamp(emitted), trace.WithAttributes(
		attribute.String("source", source), attribute.String("sink", sink), attribute.Int("subtask", subtask),
		attribute.Int64("latency_ms", received.Sub(emitted).Milliseconds())))
	sp.End(trace.WithTimestamp(received))
}
