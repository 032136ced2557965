package exec

import (
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// MiniBatch configures the mini-batch of a GroupAggregate (Flink's
// table.exec.mini-batch.*, MiniBatchGroupAggFunction in a
// KeyedMapBundleOperator): rows are held per group key in memory and a
// batch is handled at once, each group's accumulators read and written
// once per batch and its net change emitted once. The zero value is off.
type MiniBatch struct {
	// Interval is table.exec.mini-batch.allow-latency: a batch is handled
	// at the latest at the next multiple of Interval in processing time
	// (where Flink's processing-time MiniBatchAssigner emits its
	// mini-batch watermark). Zero turns mini-batch off.
	Interval time.Duration
	// Size is table.exec.mini-batch.size: a batch is handled once it
	// holds Size rows (Flink's CountBundleTrigger). It must be > 0 when
	// Interval is set.
	Size int64
}

// Enabled reports whether m turns mini-batch on.
func (m MiniBatch) Enabled() bool { return m.Interval > 0 }

func (m MiniBatch) check() error {
	if !m.Enabled() {
		return nil
	}
	if m.Interval < time.Millisecond {
		return fmt.Errorf("sql/exec: MiniBatch Latency must be greater than 0 ms (it is %s)", m.Interval)
	}
	if m.Size <= 0 {
		return fmt.Errorf("sql/exec: mini-batch size must be > 0 (it is %d)", m.Size)
	}
	return nil
}

// bundle is the batch a mini-batch GroupAggregate holds: each key's rows
// in arrival order, the keys in the order of their first row (so that a
// batch's output order is deterministic).
type bundle struct {
	keys  []string
	rows  map[string]*keyRows
	count int64
	// timer: a flush callback is scheduled; soon: one right away
	// (global aggregate).
	timer, soon bool
	free        []*keyRows
}

// keyRows are one key's rows in a bundle, with the timestamp of the last
// (that of the rows the key's change is emitted with).
type keyRows struct {
	rows []row.Row
	ts   int64
}

// buffer adds a row to the bundle; a full bundle is handled at once, and
// the first row of a bundle schedules its handling at the next interval
// boundary.
func (f *groupAggFn) buffer(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	b := f.mb
	key := ctx.Key()
	kr := b.rows[key]
	if kr == nil {
		if n := len(b.free); n > 0 {
			kr, b.free = b.free[n-1], b.free[:n-1]
		} else {
			kr = &keyRows{}
		}
		b.rows[key] = kr
		b.keys = append(b.keys, key)
	}
	kr.rows = append(kr.rows, in)
	kr.ts = ctx.Timestamp()
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

// onInterval handles the bundle at an interval boundary.
func (f *groupAggFn) onInterval(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	f.mb.timer = false
	return f.FlushBundle(ctx)
}

// HoldsRecords implements weir.WatermarkHolder: while the batch holds
// rows, watermarks wait and go on after the batch is handled, so that no
// group's change is emitted behind a watermark that passed its rows.
// Flink's processing-time MiniBatchAssigner replaces the input's
// watermarks by its own at each batch's end, before which the bundle
// operator finishes its bundle; Weir keeps the input's watermarks and
// lets them through at a batch's end.
func (f *groupAggFn) HoldsRecords() bool { return f.mb != nil && f.mb.count > 0 }

// FlushBundle handles the rows held, key by key (weir.BundleFlusher): the
// engine calls it before a checkpoint barrier, on the final watermark and
// at the end of input; buffer on a full bundle, onInterval at the
// interval. It first writes the changed accumulators the cache holds
// (group_cache.go), so that a snapshot sees every group's state.
func (f *groupAggFn) FlushBundle(ctx *weir.KeyedContext[string, row.Row]) error {
	f.last = nil // see groupAggFn.last
	if err := f.flushCache(ctx); err != nil {
		return err
	}
	b := f.mb
	if b == nil || b.count == 0 {
		return nil
	}
	for _, key := range b.keys {
		kr := b.rows[key]
		if err := ctx.SetCurrentKey(key); err != nil {
			return err
		}
		flush := f.flushKey
		if f.global {
			flush = f.flushKeyGlobal
		}
		if err := flush(ctx, kr); err != nil {
			return err
		}
		clear(kr.rows)
		kr.rows = kr.rows[:0]
		b.free = append(b.free, kr)
	}
	clear(b.rows)
	clear(b.keys)
	b.keys = b.keys[:0]
	b.count = 0
	return nil
}

// flushKey applies one key's rows of the bundle, in arrival order, to its
// accumulators read once, writes them once and emits the group's net
// change, as Flink's MiniBatchGroupAggFunction#finishBundle: +I for a new
// group, -U (with GenerateUpdateBefore) and +U for a changed one (nothing
// when the result is unchanged, without state TTL), -D for a group left
// empty; retractions that come first for a group without state are
// ignored.
func (f *groupAggFn) flushKey(ctx *weir.KeyedContext[string, row.Row], kr *keyRows) error {
	if err := f.checkLegacy(); err != nil {
		return err
	}
	if f.otherVals != nil {
		f.moveValue()
	}
	rows := kr.rows
	enc, ok := f.acc.Value()
	first := !ok
	if first {
		i := 0
		for i < len(rows) && rows[i].Kind.IsRetract() {
			i++
		}
		if i > 0 && f.spec.Counters != nil {
			f.spec.Counters.IgnoredRetractions.Add(int64(i))
		}
		if rows = rows[i:]; len(rows) == 0 {
			return nil
		}
	}
	if err := f.loadAccs(enc, first); err != nil {
		return err
	}
	f.prev = f.set.appendValues(f.prev[:0])
	for _, r := range rows {
		f.set.apply(r, r.Kind.IsRetract())
		if f.shared != nil {
			f.shared.flush()
		}
	}
	f.next = f.set.appendValues(f.next[:0])
	last := rows[len(rows)-1]
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: GroupAggregate on a mini-batch of %d rows ending with %s: %w", len(rows), row.FormatRow(last, f.spec.InputTypes), err)
	}
	if f.emitBatch(ctx, first, f.set.rows != 0, last, kr.ts) {
		f.drop()
	}
	return nil
}

// emitBatch stores the group's accumulators after a batch (f.set, with
// f.prev its values before and f.next after) and emits the batch's one
// net change: +I for a new group, -U/+U (or +U) when the values changed,
// nothing when they did not, -D when the group lost its last row (keep is
// false). It reports whether the group is gone (the caller drops its
// state).
func (f *groupAggFn) emitBatch(ctx *weir.KeyedContext[string, row.Row], first, keep bool, last row.Row, ts int64) (gone bool) {
	if keep {
		f.acc.Update(f.set.encode())
		switch {
		case first:
			ctx.CollectWithTimestamp(f.output(row.Insert, last, f.next), ts)
		case f.spec.StateTTL <= 0 && equalValues(f.prev, f.next, f.set):
		default:
			if f.spec.GenerateUpdateBefore {
				ctx.CollectWithTimestamp(f.output(row.UpdateBefore, last, f.prev), ts)
			}
			ctx.CollectWithTimestamp(f.output(row.UpdateAfter, last, f.next), ts)
		}
		return false
	}
	if !first {
		ctx.CollectWithTimestamp(f.output(row.Delete, last, f.prev), ts)
	}
	return true
}
