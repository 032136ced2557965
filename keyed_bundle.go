package weir

import "github.com/weirstream/weir/internal/runtime"

// BundleFlusher is implemented by keyed process functions (ProcessKeyed,
// and two-input ones of CoProcessKeyed: see keyed_bundle_co.go)
// that hold records in memory, outside keyed state, to handle each key's records
// together (Flink's mini-batch bundle operators, AbstractMapBundleOperator).
// The operator calls FlushBundle, which must emit what the function holds
// and forget it:
//
//   - before a checkpoint's barrier goes downstream, and before any
//     operator of the chain snapshots (operator.PreBarrierHandler), so a
//     restore neither loses nor repeats a held record;
//   - when the final watermark (MaxWatermark) comes, before it goes on and
//     before event-time timers fire (the end of a bounded input, a stop
//     with drain);
//   - at the end of input (Finish).
//
// Other watermarks do not flush. A function whose held records must not
// go out behind a watermark that followed them implements WatermarkHolder
// (the watermark waits for the next flush) or WatermarkFlusher (the
// watermark flushes the bundle when the function asks for it); without
// either, held records are emitted later than the watermarks that
// followed them. In FlushBundle the context has no current key: set one with
// SetCurrentKey before touching state; records collected carry
// NoTimestamp unless given one with CollectWithTimestamp. A function flushes
// on its own conditions too (a size, in ProcessElement; a time, with
// ScheduleProcessingTimeCallback).
type BundleFlusher[K comparable, O any] interface {
	FlushBundle(ctx *KeyedContext[K, O]) error
}

// WatermarkFlusher is implemented by a BundleFlusher whose held records
// carry event time (Flink's mini-batch bundles behind a RowTime
// MiniBatchAssigner): the operator asks it before each watermark goes on
// and timers fire, and flushes the bundle first when it returns true (so
// no held record is emitted behind a watermark that passed it). It is
// asked about the final watermark (MaxWatermark) too, which flushes the
// bundle whatever it answers: a function that fires what it holds on a
// watermark thus tells the end of input from a barrier's flush.
type WatermarkFlusher interface {
	FlushesOnWatermark(wm int64) bool
}

// WatermarkHolder is implemented by a BundleFlusher whose output must stay
// ahead of the watermarks that follow its input (Flink's mini-batch SQL
// operators: their MiniBatchAssigner lets watermarks through only at a
// batch's end, where the bundle operators finish their bundle before
// forwarding it). While HoldsRecords reports true, the operator holds
// each watermark but the final one back: it fires no event-time timer
// and forwards nothing, and lets the latest held watermark go, timers
// first, as soon as the function holds nothing any more: after the
// ProcessElement or the ScheduleProcessingTimeCallback callback in which
// it flushed, or after the flush before a checkpoint's barrier. So the
// bundle keeps the size and interval it is configured with, and no
// record it holds goes out behind a watermark that passed it; a
// watermark reaches downstream at the latest when the batch is flushed.
type WatermarkHolder interface {
	HoldsRecords() bool
}

// wmHold is the watermark an operator holds back for its WatermarkHolder.
type wmHold struct {
	h    WatermarkHolder // nil: the function holds no watermark
	wm   int64
	held bool
}

// hold reports whether wm must wait (and remembers it): the function
// holds records and wm is not the final watermark. A watermark that goes
// on replaces one held before it (watermarks only grow).
func (w *wmHold) hold(wm int64) bool {
	if w.h == nil || wm == runtime.MaxWatermark || !w.h.HoldsRecords() {
		w.held = false
		return false
	}
	w.wm, w.held = wm, true
	return true
}

// release returns the held watermark once the function holds no record.
func (w *wmHold) release() (int64, bool) {
	if !w.held || w.h.HoldsRecords() {
		return 0, false
	}
	w.held = false
	return w.wm, true
}

// flushesOn reports whether the function asks for a flush before the
// watermark wm.
func (p *keyedProcessOp[K, I, O]) flushesOn(wm int64) bool {
	w, ok := p.fn.(WatermarkFlusher)
	return ok && p.bundle != nil && w.FlushesOnWatermark(wm)
}

// SetCurrentKey makes key the current key for the state accessed next and
// for timers registered next: for a function that handles records it held
// for several keys (BundleFlusher, a processing-time callback). In
// ProcessElement and OnTimer the operator has set the key already; a
// function that changes it there must set it back before it returns.
func (c *KeyedContext[K, O]) SetCurrentKey(key K) error { return c.kc.Set(key) }

// ScheduleProcessingTimeCallback runs fn on the task's goroutine once
// processing time reaches at (milliseconds), between records: an
// operator-level callback (Flink's ProcessingTimeService#registerTimer),
// not a per-key timer. It is not part of snapshots and not deduplicated,
// and fn finds no current key set (see SetCurrentKey). The function needs
// no OnTimer for it.
func (c *KeyedContext[K, O]) ScheduleProcessingTimeCallback(at int64, fn func(ctx *KeyedContext[K, O], now int64) error) {
	c.schedule(at, fn)
}

// scheduleCallback is ScheduleProcessingTimeCallback of the operator's
// context.
func (p *keyedProcessOp[K, I, O]) scheduleCallback(at int64, fn func(ctx *KeyedContext[K, O], now int64) error) {
	scheduleOn(p.ctx, &p.kctx, at, fn, p.releaseWatermark)
}

// releaseWatermark lets a held watermark go once the function holds no
// record (WatermarkHolder): event-time timers fire, then it is forwarded.
func (p *keyedProcessOp[K, I, O]) releaseWatermark() error {
	wm, ok := p.hold.release()
	if !ok {
		return nil
	}
	return p.advance(wm)
}

// scheduleOn schedules fn at processing time at on the task of the
// operator whose keyed context is c.
// after, if not nil, runs after fn (the operator releases a watermark
// it held).
func scheduleOn[K comparable, O any](op *runtime.OperatorContext, c *KeyedContext[K, O], at int64, fn func(ctx *KeyedContext[K, O], now int64) error, after func() error) {
	op.Time.Schedule(at, func(now int64) error {
		c.ts, c.err, c.domain = runtime.NoTimestamp, nil, ProcessingTime
		if err := fn(c, now); err != nil {
			return opError(op, err)
		}
		if c.err != nil || after == nil {
			return c.err
		}
		return after()
	})
}

// flushBundle calls the function's FlushBundle, if it has one.
func (p *keyedProcessOp[K, I, O]) flushBundle() error {
	if p.bundle == nil {
		return nil
	}
	c := &p.kctx
	c.ts, c.err, c.domain = runtime.NoTimestamp, nil, ProcessingTime
	if err := p.bundle.FlushBundle(c); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

// PrepareSnapshotPreBarrier flushes the function's bundle before the
// barrier (runtime.PreBarrierHandler).
// A watermark held back goes out after the flush, before the barrier.
func (p *keyedProcessOp[K, I, O]) PrepareSnapshotPreBarrier(int64) error {
	if err := p.flushBundle(); err != nil {
		return err
	}
	return p.releaseWatermark()
}

// Finish flushes the function's bundle at the end of input, then lets a
// watermark held back go.
func (p *keyedProcessOp[K, I, O]) Finish() error {
	if err := p.flushBundle(); err != nil {
		return err
	}
	return p.releaseWatermark()
}
