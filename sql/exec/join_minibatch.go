package exec

import (
	"bytes"
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// Mini-batch regular join (Flink's MiniBatchStreamingJoinOperator, FLIP-415).
//
// With JoinSpec.MiniBatch the INNER, LEFT, RIGHT and FULL join holds the
// rows of each input side in memory, per join key, instead of joining
// them on arrival. A row that arrives while the batch holds a row of the
// same side and join key with the same fields (the same encoding, the kind
// aside) and the opposite direction (an accumulation +I/+U against a
// retraction -U/-D) cancels that row: neither is joined (Flink's
// InputSideHasNoUniqueKeyBundle, the buffer of an input whose state keeps
// rows with their counts, as Weir's join state always does). When the
// batch is flushed the rows left are joined one by one exactly as without
// mini-batch, one side after the other: the right side first, then the
// left, except for a RIGHT join (left first), as Flink's
// MiniBatch*JoinStreamOperator classes do; within a side the join keys in
// the order of their first row and each key's rows in arrival order
// (Flink follows its hash maps' order there).
//
// A batch is flushed when both sides together received MiniBatch.Size
// rows since the last flush (every row counts, folded or not: Flink's
// CountCoBundleTrigger), at the next multiple of MiniBatch.Interval in
// processing time (where Flink's processing-time MiniBatchAssigner emits
// the watermark the operator flushes on), before a checkpoint barrier,
// on the final watermark and at the end of input (weir.BundleFlusher on a
// two-input keyed function). The output is what the join without
// mini-batch emits for the rows left after folding, in that order: the
// final table is the same; the updates a folded pair would have caused
// (a pair emitted and retracted, a padded row retracted and emitted
// again) are gone. The operator, its state names and encodings are the
// join's without mini-batch: savepoints restore with mini-batch on or off.

// joinBundle is the batch of a mini-batch join: the held rows of each
// side (0 left, 1 right) and the count of rows received.
type joinBundle struct {
	sides [2]sideBundle
	count int64
	timer bool
	// enc is scratch for a row's encoding.
	enc []byte
}

// sideBundle is one side's rows of a batch, by join key, the keys in the
// order of their first row.
type sideBundle struct {
	keys []string
	rows map[string]*keyBundle
	free []*keyBundle
}

// keyBundle is a side's rows of one join key in arrival order; a row
// folded away stays as dead. The encodings of the rows are in arena.
type keyBundle struct {
	rows  []bundledRow
	arena []byte
	// index maps an encoding to its live rows' positions, oldest first;
	// built once the key holds indexFrom rows (nil before: a scan is
	// cheaper for a few rows).
	index map[string][]int
}

// indexFrom is the number of rows of a key from which a keyBundle looks
// rows up by encoding in a map instead of scanning them.
const indexFrom = 8

// bundledRow is one held row and its timestamp; enc its encoding's bounds
// in the key's arena.
type bundledRow struct {
	r          row.Row
	ts         int64
	start, end int
	dead       bool
}

func newJoinBundle() *joinBundle {
	return &joinBundle{sides: [2]sideBundle{{rows: map[string]*keyBundle{}}, {rows: map[string]*keyBundle{}}}}
}

func (k *keyBundle) enc(i int) []byte { return k.arena[k.rows[i].start:k.rows[i].end] }

// fold removes the latest live row with encoding enc and the direction
// opposite to acc, and reports whether there was one. The live rows of one
// encoding all have the same direction (a row of the other direction
// would have folded one of them), so only the latest needs a look.
func (k *keyBundle) fold(enc []byte, acc bool) bool {
	last := -1
	if k.index != nil {
		if is := k.index[string(enc)]; len(is) > 0 {
			last = is[len(is)-1]
		}
	} else {
		for i := len(k.rows) - 1; i >= 0; i-- {
			if !k.rows[i].dead && bytes.Equal(k.enc(i), enc) {
				last = i
				break
			}
		}
	}
	if last < 0 || k.rows[last].r.Kind.IsAccumulate() == acc {
		return false
	}
	k.rows[last].dead = true
	if k.index != nil {
		is := k.index[string(enc)]
		if len(is) == 1 {
			delete(k.index, string(enc))
		} else {
			k.index[string(enc)] = is[:len(is)-1]
		}
	}
	return true
}

// add appends a live row with encoding enc.
func (k *keyBundle) add(r row.Row, ts int64, enc []byte) {
	start := len(k.arena)
	k.arena = append(k.arena, enc...)
	k.rows = append(k.rows, bundledRow{r: r, ts: ts, start: start, end: len(k.arena)})
	i := len(k.rows) - 1
	switch {
	case k.index != nil:
		k.index[string(enc)] = append(k.index[string(enc)], i)
	case len(k.rows) >= indexFrom:
		k.index = make(map[string][]int, len(k.rows))
		for j := range k.rows {
			if !k.rows[j].dead {
				e := string(k.enc(j))
				k.index[e] = append(k.index[e], j)
			}
		}
	}
}

// reset forgets the rows, keeping the buffers.
func (k *keyBundle) reset() {
	clear(k.rows) // no rows kept alive
	k.rows = k.rows[:0]
	k.arena = k.arena[:0]
	k.index = nil
}

// buffer adds in (a row of the left side if isLeft) to the batch, or
// folds it with a held row; a batch of MiniBatch.Size rows is flushed at
// once, and the first row of a batch schedules its flush at the next
// interval boundary.
func (f *regularJoinFn) buffer(ctx *weir.KeyedContext[string, row.Row], in row.Row, isLeft bool) error {
	s, b := &f.spec, f.mb
	side, types, codec := &b.sides[0], s.LeftTypes, f.lcodec
	if !isLeft {
		side, types, codec = &b.sides[1], s.RightTypes, f.rcodec
	}
	if len(in.Fields) != len(types) {
		return fmt.Errorf("sql/exec: join: input row has %d fields, want %d", len(in.Fields), len(types))
	}
	b.enc = codec.Append(b.enc[:0], in.WithKind(row.Insert))
	key := ctx.Key()
	k := side.rows[key]
	if k == nil {
		if n := len(side.free); n > 0 {
			k, side.free = side.free[n-1], side.free[:n-1]
		} else {
			k = &keyBundle{}
		}
		side.rows[key] = k
		side.keys = append(side.keys, key)
	}
	if !k.fold(b.enc, in.Kind.IsAccumulate()) {
		k.add(in, ctx.Timestamp(), b.enc)
	}
	b.count++
	if !b.timer {
		b.timer = true
		iv := s.MiniBatch.Interval.Milliseconds()
		now := ctx.CurrentProcessingTime()
		ctx.ScheduleProcessingTimeCallback(now-now%iv+iv, f.onInterval)
	}
	if b.count >= s.MiniBatch.Size {
		return f.FlushBundle(ctx)
	}
	return nil
}

// onInterval flushes the batch at an interval boundary.
func (f *regularJoinFn) onInterval(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	f.mb.timer = false
	return f.FlushBundle(ctx)
}

// HoldsRecords implements weir.WatermarkHolder: a watermark waits while
// rows are held and goes on after the batch is joined, so that no joined
// row is emitted behind a watermark that passed it (a sink committing
// partitions by partition time downstream would otherwise commit before
// them). Flink's MiniBatchStreamingJoinOperator finishes its bundle in
// processWatermark, where the watermarks come from the MiniBatchAssigner,
// at a batch's end only; Weir forwards the input's watermarks, so it
// holds them until the batch ends instead of ending the batch at each.
func (f *regularJoinFn) HoldsRecords() bool { return f.mb != nil && f.mb.count > 0 }

// FlushBundle joins the held rows (weir.BundleFlusher): the right side's
// then the left side's, the left side's first for a RIGHT join.
func (f *regularJoinFn) FlushBundle(ctx *weir.KeyedContext[string, row.Row]) error {
	b := f.mb
	if b == nil || b.count == 0 {
		return nil
	}
	b.count = 0
	f.flushing = true
	defer func() { f.flushing = false }()
	first := 1
	if f.spec.Type == RightJoin {
		first = 0
	}
	if err := f.flushSide(ctx, first); err != nil {
		return err
	}
	return f.flushSide(ctx, 1-first)
}

// flushSide joins the held rows of side i (0 left, 1 right) and forgets
// them.
func (f *regularJoinFn) flushSide(ctx *weir.KeyedContext[string, row.Row], i int) error {
	side := &f.mb.sides[i]
	for _, key := range side.keys {
		k := side.rows[key]
		if err := ctx.SetCurrentKey(key); err != nil {
			return err
		}
		for j := range k.rows {
			h := &k.rows[j]
			if h.dead {
				continue
			}
			f.ts, f.heldEnc = h.ts, k.enc(j)
			err := f.process(ctx, h.r, i == 0)
			f.heldEnc = nil
			if err != nil {
				return err
			}
		}
		k.reset()
		side.free = append(side.free, k)
	}
	clear(side.rows)
	clear(side.keys)
	side.keys = side.keys[:0]
	return nil
}

// collect emits r: with the held row's timestamp during a flush.
func (f *regularJoinFn) collect(ctx *weir.KeyedContext[string, row.Row], r row.Row) {
	if f.flushing {
		ctx.CollectWithTimestamp(r, f.ts)
		return
	}
	ctx.Collect(r)
}
