package exec

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// Mini-batch deduplication on processing time (Flink's
// ProcTimeMiniBatchDeduplicateKeepFirstRowFunction and
// ProcTimeMiniBatchDeduplicateKeepLastRowFunction in a
// KeyedMapBundleOperator with a CountBundleTrigger): the operator holds
// one row per key in memory, the first (keep-first) or the last
// (keep-last) of the batch, and handles each held row as the
// deduplication without mini-batch handles a row, in the order of the
// keys' first rows. A batch is handled when it has received
// MiniBatch.Size rows (every row counts, as Flink's trigger), at the next
// multiple of MiniBatch.Interval in processing time, before a checkpoint
// barrier, on the final watermark and at the end of input (the engine's
// BundleFlusher). Keep-first emits what it emits without mini-batch;
// keep-last emits a key's last row of a batch only (the rows it replaced
// in the batch are never emitted). The state is the operator's without
// mini-batch (same operator, state names and encoding): savepoints
// restore with mini-batch on or off.
//
// Event-time deduplication keeps its per-row function under mini-batch:
// Flink's RowTimeMiniBatchDeduplicateFunction emits every change of a
// batch (for the versioned tables of temporal joins), that is the rows
// without mini-batch, and flushes its batches on the mini-batch
// watermarks of an event-time assigner, which Weir does not have.

// dedupBundle is the batch of a mini-batch deduplication: the held row of
// each key, the keys in the order of their first row.
type dedupBundle struct {
	keys  []string
	rows  map[string]*heldRow
	count int64
	timer bool
	free  []*heldRow
}

// heldRow is a key's row in a batch and its timestamp.
type heldRow struct {
	r  row.Row
	ts int64
}

// buffer adds in to the batch: it becomes its key's held row unless the
// key holds one and the operator keeps the first row.
func (f *dedupFn) buffer(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	b := f.mb
	key := ctx.Key()
	h := b.rows[key]
	switch {
	case h == nil:
		if n := len(b.free); n > 0 {
			h, b.free = b.free[n-1], b.free[:n-1]
		} else {
			h = &heldRow{}
		}
		b.rows[key] = h
		b.keys = append(b.keys, key)
		h.r, h.ts = in, ctx.Timestamp()
	case f.spec.KeepLast:
		h.r, h.ts = in, ctx.Timestamp()
	}
	b.count++
	if !b.timer {
		b.timer = true
		iv := f.spec.MiniBatch.Interval.Milliseconds()
		now := ctx.CurrentProcessingTime()
		ctx.ScheduleProcessingTimeCallback(now-now%iv+iv, f.onInterval)
	}
	if b.count >= f.spec.MiniBatch.Size {
		return f.FlushBundle(ctx)
	}
	return nil
}

// onInterval handles the batch at an interval boundary.
func (f *dedupFn) onInterval(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	f.mb.timer = false
	return f.FlushBundle(ctx)
}

// FlushBundle handles the held rows key by key (weir.BundleFlusher).
func (f *dedupFn) FlushBundle(ctx *weir.KeyedContext[string, row.Row]) error {
	b := f.mb
	if b == nil || b.count == 0 {
		return nil
	}
	f.flushing = true
	defer func() { f.flushing = false }()
	for _, key := range b.keys {
		h := b.rows[key]
		if err := ctx.SetCurrentKey(key); err != nil {
			return err
		}
		f.ts = h.ts
		if err := f.process(ctx, h.r); err != nil {
			return err
		}
		h.r = row.Row{}
		b.free = append(b.free, h)
	}
	clear(b.rows)
	clear(b.keys)
	b.keys = b.keys[:0]
	b.count = 0
	return nil
}
