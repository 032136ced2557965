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
// Other watermarks do not flush, unless the function implements
// WatermarkFlusher and asks for it: a function that holds records emits
// them later than the watermark that followed them, so it suits outputs
// that carry no event time (Flink's SQL group aggregation in processing-time
// mini-batch mode, whose assigner replaces the input's watermarks by its
// own). In FlushBundle the context has no current key: set one with
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
// no held record is emitted behind a watermark that passed it).
type WatermarkFlusher interface {
	FlushesOnWatermark(wm int64) bool
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
	scheduleOn(p.ctx, &p.kctx, at, fn)
}

// scheduleOn schedules fn at processing time at on the task of the
// operator whose keyed context is c.
func scheduleOn[K comparable, O any](op *runtime.OperatorContext, c *KeyedContext[K, O], at int64, fn func(ctx *KeyedContext[K, O], now int64) error) {
	op.Time.Schedule(at, func(now int64) error {
		c.ts, c.err, c.domain = runtime.NoTimestamp, nil, ProcessingTime
		if err := fn(c, now); err != nil {
			return opError(op, err)
		}
		return c.err
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
func (p *keyedProcessOp[K, I, O]) PrepareSnapshotPreBarrier(int64) error { return p.flushBundle() }

// Finish flushes the function's bundle at the end of input.
func (p *keyedProcessOp[K, I, O]) Finish() error { return p.flushBundle() }
