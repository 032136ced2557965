package weir

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"reflect"

	"errors"

	"github.com/weirstream/weir/internal/errkind"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/runtime"
)

// PollStatus is what a SourceReader reports after a poll.
type PollStatus = runtime.PollStatus

// Poll statuses.
const (
	// MoreAvailable: the reader has more records now.
	MoreAvailable = runtime.MoreAvailable
	// NothingAvailable: the reader will have more later; the task waits for
	// the reader's Available channel (if it implements Availability) or a
	// processing-time callback it scheduled.
	NothingAvailable = runtime.NothingAvailable
	// EndOfInput: the reader is exhausted.
	EndOfInput = runtime.EndOfInput
)

// Source creates the readers of a source: one per subtask. A source is
// bounded if its readers eventually return EndOfInput.
type Source[T any] interface {
	CreateReader(ctx SourceContext) (SourceReader[T], error)
}

// SourceContext tells a reader which subtask it serves.
type SourceContext struct {
	Subtask, Parallelism int
	Logger               *slog.Logger
	// Time lets a reader read the clock and schedule a wake-up (for
	// example a rate limiter returning NothingAvailable).
	Time ProcessingTimeService
	// Restored holds, when the job restarts from a checkpoint, the items
	// that every reader of the previous run stored (CheckpointedReader);
	// the reader resumes the splits it owns from them. Nil on a fresh start.
	Restored [][]byte
	// RestoredFrom is the checkpoint restored from (0 on a fresh start).
	RestoredFrom int64
}

// SourceReader reads the splits of one subtask. Poll emits a bounded number
// of records (a few hundred to a few thousand) and returns.
type SourceReader[T any] interface {
	Poll(ctx context.Context, out *SourceOutput[T]) (PollStatus, error)
	Close() error
}

// Availability is implemented by readers that can signal new data after
// returning NothingAvailable.
type Availability interface {
	Available() <-chan struct{}
}

// SourceOutput receives a reader's records. Records emitted through it
// directly belong to one implicit split; readers of several splits (files,
// partitions) emit through Split so that each split has its own watermark.
type SourceOutput[T any] struct {
	main   SplitOutput[T]
	splits map[string]*SplitOutput[T]
	op     *sourceOp[T]
}

// SplitOutput emits the records of one split and tracks its watermark and
// idleness.
type SplitOutput[T any] struct {
	op        *sourceOp[T]
	gen       WatermarkGenerator[T]
	count     int64
	lastCount int64
	lastMove  int64 // processing time the split last produced records
	idle      bool
}

// Collect emits v with the timestamp the strategy assigns (or none).
func (o *SourceOutput[T]) Collect(v T) { o.main.CollectWithTimestamp(v, runtime.NoTimestamp) }

// CollectWithTimestamp emits v with the source's timestamp ts (the
// strategy's assigner, if any, overrides it).
func (o *SourceOutput[T]) CollectWithTimestamp(v T, ts int64) { o.main.CollectWithTimestamp(v, ts) }

// Split returns the output of split id, creating it on first use.
func (o *SourceOutput[T]) Split(id string) *SplitOutput[T] {
	if s, ok := o.splits[id]; ok {
		return s
	}
	s := o.op.newSplit()
	o.splits[id] = s
	return s
}

// EmitWatermark emits a watermark directly, for sources whose input carries
// its own watermarks. A watermark not above the last one is ignored.
func (o *SourceOutput[T]) EmitWatermark(wm int64) {
	op := o.op
	op.flush()
	if op.err != nil || wm <= op.lastWM {
		return
	}
	op.lastWM = wm
	op.aligned()
	op.ctx.Metrics.CurrentWatermark = wm
	op.err = op.out.ProcessWatermark(wm)
}

// MarkIdle tells downstream operators that this source is idle until it
// emits again, so it does not hold back their watermark.
func (o *SourceOutput[T]) MarkIdle() {
	op := o.op
	op.flush()
	if op.err != nil || op.idle {
		return
	}
	op.setIdle(true)
	op.err = op.out.ProcessWatermarkStatus(true)
}

// EmitSide emits v with timestamp ts (NoTimestamp for none) to the side
// output tag of the source operator, for records that are not part of the
// main stream, such as dead letters. It reports whether a stream reads that
// side output; if none does, v is not emitted. An error downstream fails the
// job after the current Poll, as for Collect.
func EmitSide[T, X any](out *SourceOutput[T], tag OutputTag[X], v X, ts int64) bool {
	op := out.op
	o := op.out.sideOutput(tag.id)
	if o == nil {
		return false
	}
	// The main output's pending records go first, as they came first.
	op.flush()
	if op.err != nil {
		return true
	}
	so, ok := o.(runtime.Output[X])
	if !ok {
		op.err = fmt.Errorf("weir: side output %q has another record type than %T", tag.id, v)
		return true
	}
	op.err = so.ProcessElement(v, ts)
	return true
}

// ReleaseSplit forgets a finished split, so it no longer holds back the
// watermark.
func (o *SourceOutput[T]) ReleaseSplit(id string) { delete(o.splits, id) }

// Collect emits v with the strategy's timestamp (or none).
func (s *SplitOutput[T]) Collect(v T) { s.CollectWithTimestamp(v, runtime.NoTimestamp) }

// CollectWithTimestamp emits v; the strategy's assigner, if any, overrides ts.
func (s *SplitOutput[T]) CollectWithTimestamp(v T, ts int64) {
	op := s.op
	// The fast path, small enough to be inlined into a reader's loop: a
	// batching source without timestamp assigner or watermark generator
	// only appends the record to its pending run.
	// After an error, records appended here are dropped by flush.
	if n := len(op.pending); n < op.fastLen {
		s.count++
		op.pending = op.pending[:n+1]
		r := &op.pending[n]
		r.V, r.TS = v, ts
		return
	}
	s.collect(v, ts)
}

// collect is CollectWithTimestamp's general path.
func (s *SplitOutput[T]) collect(v T, ts int64) {
	op := s.op
	if op.err != nil {
		return
	}
	if op.idle {
		op.setIdle(false)
		if op.err = op.out.ProcessWatermarkStatus(false); op.err != nil {
			return
		}
	}
	if op.assign != nil {
		ts = op.assign(v)
	}
	if s.gen != nil {
		s.gen.OnEvent(v, ts)
	}
	s.count++
	if op.run == nil {
		op.err = op.out.main.ProcessElement(v, ts)
		return
	}
	// Fields are stored one by one: a composite literal is built on the
	// stack and copied, and that copy's wide loads of the narrow stores
	// just made stall the pipeline (store forwarding fails).
	n := len(op.pending)
	op.pending = op.pending[:n+1]
	r := &op.pending[n]
	r.V = v
	r.TS = ts
	if n+1 == cap(op.pending) {
		op.flush()
	}
}

// sourceRunSize is the most records a source collects before it hands
// them down its chain in one call: small enough that a run and the runs
// of the operators after it stay in the first-level cache.
const sourceRunSize = 256

type sourceOp[T any] struct {
	baseOp
	src      Source[T]
	strategy WatermarkStrategy[T]
	assign   func(T) int64
	interval int64
	reader   SourceReader[T]
	output   SourceOutput[T]
	out      *outputs[T]
	err      error
	lastWM   int64
	lastEmit int64
	idle     bool
	avail    <-chan struct{}
	ended    bool
	// run is the main output's batch path, nil if it has none: records
	// are then handed down one by one. With a batch path they are
	// collected in pending (at most runSize) and handed down in one call
	// when it is full, and before anything that must follow them: a
	// watermark, a status change, a side-output record, the end of the
	// poll (so before timers, checkpoint barriers and the end of input).
	run     runtime.BatchOutput[T]
	pending []runtime.Rec[T]
	// plain: run is set and there is no timestamp assigner or watermark
	// generator. fastLen is then, while the source is not idle, one less
	// than pending's capacity (0 otherwise): CollectWithTimestamp's fast
	// path appends while pending is shorter.
	plain   bool
	fastLen int
	runSize int
	scrub   bool // T holds pointers: clear pending after each run
	// align is the subtask's watermark alignment group (nil: none);
	// paused, while it waits for the group, is the channel closed when
	// the group's lowest watermark rises.
	align  *aligner
	paused <-chan struct{}
}

// aligned tells the alignment group the subtask's watermark and whether it
// is out (idle or finished).
func (s *sourceOp[T]) aligned() {
	if s.align != nil {
		s.align.g.set(s.align.src, s.align.sub, s.lastWM, s.idle || s.ended)
	}
}

// setIdle records whether the source's output is idle.
func (s *sourceOp[T]) setIdle(idle bool) {
	if s.idle != idle {
		s.idle = idle
		s.aligned()
	}
	s.fastLen = 0
	if s.plain && !idle {
		s.fastLen = cap(s.pending) - 1
	}
}

// flush hands the pending records down the chain.
func (s *sourceOp[T]) flush() {
	if len(s.pending) == 0 {
		return
	}
	if s.err == nil {
		_, s.err = s.run.ProcessBatch(s.pending)
	}
	if s.scrub {
		clear(s.pending)
	}
	s.pending = s.pending[:0]
}

// flushingTime is the processing-time service of a batching source's
// reader: what a reader's callback emits is handed down when it returns.
type flushingTime[T any] struct {
	runtime.ProcessingTimeService
	op *sourceOp[T]
}

func (f flushingTime[T]) Schedule(at int64, fn func(now int64) error) {
	f.ProcessingTimeService.Schedule(at, func(now int64) error {
		err := fn(now)
		f.op.flush()
		return err
	})
}

func (s *sourceOp[T]) newSplit() *SplitOutput[T] {
	sp := &SplitOutput[T]{op: s, lastMove: s.ctx.Time.Now()}
	if s.strategy.Generator != nil {
		sp.gen = s.strategy.Generator()
	}
	return sp
}

func (s *sourceOp[T]) Open(ctx *runtime.OperatorContext) error {
	s.ctx = ctx
	s.assign = s.strategy.Timestamp
	if s.strategy.NewTimestamp != nil {
		s.assign = s.strategy.NewTimestamp()
	}
	s.lastWM = runtime.MinWatermark
	if s.align != nil {
		s.align.sub, s.align.limit = ctx.Subtask, runtime.MinWatermark
		s.align.g.join(s.align.src, ctx.Subtask, ctx.Parallelism)
	}
	s.output = SourceOutput[T]{splits: map[string]*SplitOutput[T]{}, op: s}
	s.output.main = *s.newSplit()
	sc := SourceContext{Subtask: ctx.Subtask, Parallelism: ctx.Parallelism, Logger: ctx.Logger, Time: ctx.Time}
	if runtime.HasBatchPath(s.out.main) && s.runSize > 1 {
		s.run = runtime.BatchOf(s.out.main)
		s.pending = make([]runtime.Rec[T], 0, s.runSize)
		s.scrub = holdsPointers(reflect.TypeFor[T]())
		sc.Time = flushingTime[T]{ProcessingTimeService: ctx.Time, op: s}
		s.plain = s.assign == nil && s.strategy.Generator == nil
		s.setIdle(false)
	}
	if ctx.Restore != nil {
		sc.Restored, sc.RestoredFrom = ctx.Restore.Items, ctx.Restore.CheckpointID
		if sc.Restored == nil {
			sc.Restored = [][]byte{}
		}
	}
	r, err := s.src.CreateReader(sc)
	if err != nil {
		return opError(ctx, err)
	}
	s.reader = r
	if a, ok := r.(Availability); ok {
		s.avail = a.Available()
	}
	if s.interval > 0 && (s.strategy.Generator != nil || s.strategy.IdleTimeout > 0) {
		// Emit watermarks and detect idleness on a processing-time timer
		// too, so a reader waiting for input (NothingAvailable) does not
		// hold the watermark back (Flink's periodic emitter).
		var tick func(now int64) error
		tick = func(now int64) error {
			if now-s.lastEmit >= s.interval && !s.ended {
				s.lastEmit = now
				if err := s.emitWatermark(now); err != nil {
					return err
				}
			}
			if !s.ended {
				ctx.Time.Schedule(now+s.interval, tick)
			}
			return nil
		}
		ctx.Time.Schedule(ctx.Time.Now()+s.interval, tick)
	}
	return nil
}

func (s *sourceOp[T]) Close() error {
	if s.reader != nil {
		return s.reader.Close()
	}
	return nil
}

// Available is the reader's availability, or the alignment group's while
// the subtask waits for it.
func (s *sourceOp[T]) Available() <-chan struct{} {
	if s.paused != nil {
		return s.paused
	}
	return s.avail
}

func (s *sourceOp[T]) PollNext(ctx context.Context) (runtime.PollStatus, error) {
	if s.align != nil {
		if s.paused = s.align.paused(s.lastWM); s.paused != nil {
			return runtime.NothingAvailable, nil
		}
	}
	st, err := s.reader.Poll(ctx, &s.output)
	s.flush()
	if err != nil {
		return st, opError(s.ctx, err)
	}
	if s.err != nil {
		return st, s.err
	}
	if st == runtime.EndOfInput {
		s.ended = true
		s.aligned()
		s.ctx.Metrics.CurrentWatermark = runtime.MaxWatermark
		return st, s.out.ProcessWatermark(runtime.MaxWatermark)
	}
	if s.strategy.Generator != nil || s.strategy.IdleTimeout > 0 {
		now := s.ctx.Time.Now()
		if now-s.lastEmit >= s.interval {
			s.lastEmit = now
			if err := s.emitWatermark(now); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// Drain ends the source's event time for a stop with drain
// (runtime.Drainer): what the reader emitted goes out, then the final
// watermark, active even if the source was idle; no periodic watermark
// follows and the task polls the reader no more.
func (s *sourceOp[T]) Drain() error {
	if s.flush(); s.err != nil {
		return s.err
	}
	s.ended = true
	s.aligned() // out of its alignment group
	if s.idle {
		s.setIdle(false)
		if err := s.out.ProcessWatermarkStatus(false); err != nil {
			return err
		}
	}
	s.ctx.Metrics.CurrentWatermark = runtime.MaxWatermark
	return s.out.ProcessWatermark(runtime.MaxWatermark)
}

// emitWatermark combines the splits' watermarks: the minimum over splits
// that are not idle. If every split is idle the output becomes idle.
func (s *sourceOp[T]) emitWatermark(now int64) error {
	if s.flush(); s.err != nil {
		return s.err
	}
	wm := runtime.MaxWatermark
	active := 0
	visit := func(sp *SplitOutput[T]) {
		if sp.count != sp.lastCount {
			sp.lastCount, sp.lastMove, sp.idle = sp.count, now, false
		} else if s.strategy.IdleTimeout > 0 && now-sp.lastMove >= s.strategy.IdleTimeout.Milliseconds() {
			sp.idle = true
		}
		if sp.idle {
			return
		}
		active++
		w := runtime.MinWatermark
		if sp.gen != nil {
			w = sp.gen.Watermark()
		}
		if w < wm {
			wm = w
		}
	}
	if s.output.main.count > 0 || len(s.output.splits) == 0 {
		visit(&s.output.main)
	}
	for _, sp := range s.output.splits {
		visit(sp)
	}
	if active == 0 {
		if !s.idle && s.strategy.IdleTimeout > 0 {
			s.setIdle(true)
			return s.out.ProcessWatermarkStatus(true)
		}
		return nil
	}
	if s.idle {
		s.setIdle(false)
		if err := s.out.ProcessWatermarkStatus(false); err != nil {
			return err
		}
	}
	if wm > s.lastWM && wm != runtime.MaxWatermark {
		s.lastWM = wm
		s.aligned()
		s.ctx.Metrics.CurrentWatermark = wm
		return s.out.ProcessWatermark(wm)
	}
	return nil
}

// ProcessElement, ProcessWatermark and ProcessWatermarkStatus are never
// called on a source; they exist to satisfy runtime.Output for uniformity.
func (s *sourceOp[T]) ProcessWatermark(int64) error      { return nil }
func (s *sourceOp[T]) ProcessWatermarkStatus(bool) error { return nil }

// FromSource adds a source to the job, with a watermark strategy.
func FromSource[T any](env *Environment, src Source[T], strategy WatermarkStrategy[T], name string) Stream[T] {
	interval := env.opts.AutoWatermarkInterval.Milliseconds()
	if env.opts.AutoWatermarkInterval < 0 {
		interval = 0
	}
	var group *alignGroup
	var member int
	if strategy.AlignGroup != "" && strategy.MaxDrift > 0 {
		group, member = env.aligns.add(strategy.AlignGroup)
	}
	n := newNode[T](env, "Source: "+name, 0, func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error) {
		op := &sourceOp[T]{src: src, strategy: strategy, interval: interval, out: newOutputs[T](outs), runSize: sourceRunSize}
		if group != nil {
			op.align = &aligner{g: group, src: member, drift: strategy.MaxDrift.Milliseconds()}
		}
		return graph.Instance{Op: op, Source: op}, nil
	})
	return Stream[T]{env: env, node: n}
}

// FromSlice is a bounded source of the given values, split across the
// source's subtasks (subtask i reads indexes i, i+p, i+2p, ...). It runs with
// parallelism 1 unless set otherwise.
func FromSlice[T any](env *Environment, values []T) Stream[T] {
	s := FromSource[T](env, sliceSource[T](values), WatermarkStrategy[T]{}, "Collection")
	return s.SetParallelism(1)
}

type sliceSource[T any] []T

func (s sliceSource[T]) CreateReader(ctx SourceContext) (SourceReader[T], error) {
	r := &sliceReader[T]{values: s, next: ctx.Subtask, step: ctx.Parallelism, subtask: ctx.Subtask}
	if ctx.Restored != nil {
		next, err := restorePosition(ctx.Restored, ctx.Subtask, ctx.Parallelism)
		if err != nil {
			return nil, err
		}
		r.next = next
	}
	return r, nil
}

// Collection readers store (subtask, parallelism, next index): their split
// is defined by the parallelism, so they restore only at the same one.
func encodePosition(subtask, parallelism, next int) []byte {
	b := binary.AppendUvarint(nil, uint64(subtask))
	b = binary.AppendUvarint(b, uint64(parallelism))
	return binary.AppendUvarint(b, uint64(next))
}

func restorePosition(items [][]byte, subtask, parallelism int) (int, error) {
	for _, it := range items {
		s, a := binary.Uvarint(it)
		p, b := binary.Uvarint(it[max(a, 0):])
		n, c := binary.Uvarint(it[max(a+b, 0):])
		if a <= 0 || b <= 0 || c <= 0 || a+b+c != len(it) || s > math.MaxInt32 || p > math.MaxInt32 || n > math.MaxInt {
			return 0, errkind.Mark(errors.New("collection source: corrupt position"), errkind.Corruption)
		}
		if int(p) != parallelism {
			return 0, fmt.Errorf("collection source: stored at parallelism %d, restored at %d", p, parallelism)
		}
		if int(s) == subtask {
			return int(n), nil
		}
	}
	return 0, fmt.Errorf("collection source: no stored position for subtask %d", subtask)
}

type sliceReader[T any] struct {
	values              []T
	next, step, subtask int
}

func (r *sliceReader[T]) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{encodePosition(r.subtask, r.step, r.next)}, nil
}

func (r *sliceReader[T]) Poll(_ context.Context, out *SourceOutput[T]) (PollStatus, error) {
	for n := 0; n < 1024 && r.next < len(r.values); n++ {
		out.Collect(r.values[r.next])
		r.next += r.step
	}
	if r.next >= len(r.values) {
		return EndOfInput, nil
	}
	return MoreAvailable, nil
}

func (r *sliceReader[T]) Close() error { return nil }

// TimestampedValue is a value with an event timestamp, for FromTimestamped.
type TimestampedValue[T any] struct {
	Value T
	TS    int64
}

// FromTimestamped is a bounded source of timestamped values, emitted in
// order by one subtask, with watermarks from strategy (whose Timestamp, if
// nil, is the values' TS).
func FromTimestamped[T any](env *Environment, values []TimestampedValue[T], strategy WatermarkStrategy[T]) Stream[T] {
	return FromSource[T](env, tsSource[T](values), strategy, "Collection").SetParallelism(1)
}

type tsSource[T any] []TimestampedValue[T]

func (s tsSource[T]) CreateReader(ctx SourceContext) (SourceReader[T], error) {
	if ctx.Parallelism != 1 {
		return nil, fmt.Errorf("timestamped collection source runs with parallelism 1, not %d", ctx.Parallelism)
	}
	r := &tsReader[T]{values: s}
	if ctx.Restored != nil {
		next, err := restorePosition(ctx.Restored, 0, 1)
		if err != nil {
			return nil, err
		}
		r.next = next
	}
	return r, nil
}

func (r *tsReader[T]) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{encodePosition(0, 1, r.next)}, nil
}

type tsReader[T any] struct {
	values []TimestampedValue[T]
	next   int
}

func (r *tsReader[T]) Poll(_ context.Context, out *SourceOutput[T]) (PollStatus, error) {
	// One record per poll: with a negative AutoWatermarkInterval a
	// watermark follows every record, which makes event-time tests exact.
	if r.next < len(r.values) {
		v := r.values[r.next]
		out.CollectWithTimestamp(v.Value, v.TS)
		r.next++
	}
	if r.next >= len(r.values) {
		return EndOfInput, nil
	}
	return MoreAvailable, nil
}

func (r *tsReader[T]) Close() error { return nil }

// CheckpointListeningReader is implemented by source readers that act
// when a checkpoint completes, such as a Kafka reader committing the
// checkpointed offsets to a consumer group for monitoring. The call runs
// on the subtask's goroutine and must not block for long.
type CheckpointListeningReader interface {
	NotifyCheckpointComplete(checkpointID int64) error
}

// NotifyCheckpointComplete passes a completed checkpoint to the reader.
func (s *sourceOp[T]) NotifyCheckpointComplete(id int64) error {
	if l, ok := s.reader.(CheckpointListeningReader); ok {
		if err := l.NotifyCheckpointComplete(id); err != nil {
			return opError(s.ctx, err)
		}
	}
	return nil
}

// NotifyCheckpointAborted is a no-op: readers keep no per-checkpoint state
// the core knows of.
func (s *sourceOp[T]) NotifyCheckpointAborted(int64) error { return nil }

// CheckpointedReader is implemented by source readers whose position must
// survive a failure. The items it returns are stored with the checkpoint;
// after a restore every reader of the source gets the items of every
// reader of the previous run (SourceContext.Restored) and keeps those of
// the splits it owns now, so a source can be restored at another
// parallelism.
type CheckpointedReader interface {
	SnapshotState(checkpointID int64) ([][]byte, error)
}

// SnapshotState stores the reader's position.
func (s *sourceOp[T]) SnapshotState(id int64, w *runtime.StateWriter) error {
	// The reader's position is past every record it emitted: those still
	// pending (none between polls) go down before the barrier.
	if s.flush(); s.err != nil {
		return s.err
	}
	r, ok := s.reader.(CheckpointedReader)
	if !ok {
		if s.ctx.Checkpointing {
			return fmt.Errorf("source reader %T cannot store its position (it does not implement weir.CheckpointedReader), so the job cannot be restored exactly", s.reader)
		}
		return nil
	}
	items, err := r.SnapshotState(id)
	if err != nil {
		return err
	}
	for _, it := range items {
		w.AddItem(it)
	}
	return nil
}
