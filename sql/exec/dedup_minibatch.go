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
// in the batch are never emitted). Watermarks that come while rows are
// held wait and go on after the batch (weir.WatermarkHolder). The state
// is the operator's without mini-batch (same operator, state names and
// encoding): savepoints restore with mini-batch on or off.
//
// On event time (Flink's RowTimeMiniBatchDeduplicateFunction) the operator
// holds every row of a key in the batch, in arrival order, and handles
// them one by one as the deduplication without mini-batch does when the
// batch is flushed: it emits every change (the versioned tables of
// temporal joins need them), later. With CompactChanges (Flink's
// RowTimeMiniBatchLatestChangeDeduplicateFunction) it holds one row per
// key, the one the deduplication would keep of the batch's rows (keep-last:
// the latest rowtime, the last among equal ones; keep-first: the
// earliest, the first among equal ones), and handles it alone: only the
// batch's net change goes out. An event-time batch is flushed when it
// holds MiniBatch.Size rows, before a watermark that reaches the end of
// an interval (k*Interval-1, where Flink's RowTime MiniBatchAssigner
// emits its mini-batch watermark), before a checkpoint barrier and at the
// end of input; not on processing time. The other watermarks wait while
// rows are held and go on after them (Flink's assigner forwards none
// between two ends of intervals; weir.WatermarkHolder). The state is the
// per-row operator's: savepoints restore with
// mini-batch on or off.

// dedupBundle is the batch of a mini-batch deduplication: the held row of
// each key, the keys in the order of their first row.
type dedupBundle struct {
	keys  []string
	rows  map[string]*heldRow
	count int64
	timer bool
	free  []*heldRow
	// Event time, as Flink's RowTime MiniBatchAssigner: the greatest
	// watermark seen (from 0) and the one that ends the batch (the last
	// millisecond of an interval: interval-1 first, then the end of the
	// interval after the one that ended the last batch); started is
	// false before the first watermark.
	wm, next int64
	started  bool
}

// heldRow is a key's row in a batch and its timestamp; on event time
// without CompactChanges, more holds the key's later rows of the batch.
type heldRow struct {
	r    row.Row
	ts   int64
	more []heldRow
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
	case f.spec.RowTime && !f.spec.CompactChanges:
		h.more = append(h.more, heldRow{r: in, ts: ctx.Timestamp()})
	case f.spec.RowTime:
		if f.keepsNew(h.r, in) {
			h.r, h.ts = in, ctx.Timestamp()
		}
	case f.spec.KeepLast:
		h.r, h.ts = in, ctx.Timestamp()
	}
	b.count++
	if !f.spec.RowTime && !b.timer {
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

// keepsNew reports whether the event-time deduplication keeps in rather
// than held (Flink's shouldKeepCurrentRow): keep-last a rowtime later or
// equal, keep-first an earlier one.
func (f *dedupFn) keepsNew(held, in row.Row) bool {
	t := f.spec.Types[f.spec.TimeCol]
	c := row.Compare(in.Fields[f.spec.TimeCol], held.Fields[f.spec.TimeCol], t)
	if f.spec.KeepLast {
		return c >= 0
	}
	return c < 0
}

// FlushesOnWatermark implements weir.WatermarkFlusher: an event-time
// batch is flushed before a watermark that reaches the last millisecond
// of the interval after the greatest watermark seen (k*interval-1, where
// Flink's RowTime MiniBatchAssigner emits its mini-batch watermark, on
// which the bundle operator finishes its bundle; it starts from 0, so
// watermarks below interval-1 never end a batch).
func (f *dedupFn) FlushesOnWatermark(wm int64) bool {
	b := f.mb
	if b == nil || !f.spec.RowTime || wm == weir.MaxWatermark {
		// The final watermark flushes anyway (and would overflow the
		// interval's end).
		return false
	}
	iv := f.spec.MiniBatch.Interval.Milliseconds()
	if !b.started {
		// Flink's assigner opens with watermark 0 and its first end at
		// interval-1.
		b.started, b.wm, b.next = true, 0, iv-1
	}
	b.wm = max(b.wm, wm)
	if b.wm < b.next {
		return false
	}
	// The next end is the last millisecond of the watermark's interval,
	// or of the following one when the watermark is that millisecond.
	end := b.wm - b.wm%iv + iv - 1
	if end <= b.wm {
		end += iv
	}
	b.next = end
	return b.count > 0
}

// HoldsRecords implements weir.WatermarkHolder: the watermarks that come
// while the batch holds rows wait and go on after them when it is flushed,
// so no held row goes out behind a watermark that passed it. On event
// time, Flink's RowTime MiniBatchAssigner forwards none between two ends
// of intervals (and a batch is not cut short by one); on processing time,
// its ProcTimeMiniBatchAssigner forwards no input watermark at all.
func (f *dedupFn) HoldsRecords() bool { return f.mb != nil && f.mb.count > 0 }

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
		for _, m := range h.more {
			f.ts = m.ts
			if err := f.process(ctx, m.r); err != nil {
				return err
			}
		}
		h.r = row.Row{}
		clear(h.more)
		h.more = h.more[:0]
		b.free = append(b.free, h)
	}
	clear(b.rows)
	clear(b.keys)
	b.keys = b.keys[:0]
	b.count = 0
	return nil
}
