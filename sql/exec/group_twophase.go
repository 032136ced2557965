package exec

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
)

// Two-phase (local/global) group aggregation, as Flink's
// TwoStageOptimizedAggregateRule plans it with mini-batch on:
//
//	LocalGroupAggregate -> Exchange(hash on the group keys) -> GlobalGroupAggregate
//
// The local aggregate (Flink's MiniBatchLocalGroupAggFunction) runs
// where its input runs, unkeyed and stateless: it folds the rows of a
// mini-batch into accumulators per group key in memory and emits one row
// per key when the batch is flushed (size reached, interval boundary,
// before a checkpoint barrier, on the final watermark, at the end of
// input). That row is the group keys then one BYTES column: the encoding
// of the batch's accumulators (aggSet.appendTo, DISTINCT multisets
// inline, the row count taking retractions off as Flink's count1$
// record counter).
//
// The global aggregate (Flink's MiniBatchGlobalGroupAggFunction) is the
// mini-batch GroupAggregate's keyed function with another flush: it
// merges the accumulator rows of a key into the group's accumulators
// (same state names and encoding, same key encoding, and the planner
// gives it the one-phase operator's uid), then emits the group's net
// change as the one-phase aggregate does. So a snapshot of either plan
// restores into the other: the local aggregate holds nothing across a
// checkpoint.

// TwoPhaseSupported reports whether every call of spec can merge
// accumulators the way the global aggregate needs (Flink's
// AggregateUtil.doAllSupportPartialMerge, with Weir's accumulators):
// FIRST_VALUE and LAST_VALUE never (Flink's have no merge); LISTAGG not
// over retracting input (Weir's accumulator cannot retract a value it has
// not seen) nor DISTINCT (the merged order would not be the arrival
// order); a user-defined function only with Merge.
func TwoPhaseSupported(spec GroupAggSpec) bool {
	for _, c := range spec.Aggs {
		switch c.Func {
		case FirstValue, LastValue, Lag, ArrayAgg:
			return false
		case JSONObjectAggNullOnNull, JSONObjectAggAbsentOnNull, JSONArrayAggNullOnNull, JSONArrayAggAbsentOnNull, Percentile:
			return false
		case ListAgg:
			if !spec.InsertOnly || c.Distinct {
				return false
			}
		case UserDefined:
			if c.UDF == nil || !c.UDF.CanMerge() {
				return false
			}
		}
	}
	return true
}

func (s GroupAggSpec) checkTwoPhase() (*aggSet, error) {
	set, err := s.compile()
	if err != nil {
		return nil, err
	}
	if !s.MiniBatch.Enabled() {
		return nil, fmt.Errorf("sql/exec: two-phase group aggregation needs mini-batch")
	}
	if !TwoPhaseSupported(s) || s.perCallDistinct {
		return nil, fmt.Errorf("sql/exec: an aggregate call cannot merge accumulators: two-phase group aggregation is not possible")
	}
	return set, nil
}

// LocalOutputTypes returns the types of the local aggregate's rows: the
// group keys, the accumulators' encoding (BYTES), and whether the row was
// emitted at the end of an interval (BOOLEAN: the global aggregate then
// handles its batch right away, as Flink's does on the mini-batch
// watermark that follows such rows, instead of at the next interval's
// end).
func (s GroupAggSpec) LocalOutputTypes() []row.Type {
	return append(keyTypes(s.InputTypes, s.GroupKeys), row.BytesType().WithNullable(false), row.Boolean().WithNullable(false))
}

// LocalGroupAggregate is the first phase of a two-phase group
// aggregation (see above): stateless, it runs chained to in at in's
// parallelism. spec is the aggregation's (with MiniBatch enabled); its
// Name defaults to "LocalGroupAggregate". Its output goes to
// GlobalGroupAggregate with the same spec.
func LocalGroupAggregate(in weir.Stream[row.Row], spec GroupAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.checkTwoPhase(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	name := spec.Name
	if name == "" {
		name = "LocalGroupAggregate"
	}
	// At its input's parallelism, so that the edge is a forward one: a
	// row and its retraction, which come from the same input subtask,
	// then reach the global aggregate in order (a rebalance could deliver
	// a retraction's accumulators before those of its row).
	out := weir.Transform(in, name, func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return &localGroupAgg{spec: spec, out: out}
	})
	if p := in.Parallelism(); p > 0 {
		out = out.SetParallelism(p)
	}
	return out, nil
}

// GlobalGroupAggregate is the second phase of a two-phase group
// aggregation: in is LocalGroupAggregate's output, spec the same spec
// (its UID the one-phase GroupAggregate's, for savepoint compatibility).
// Its output is the one-phase GroupAggregate's changelog. Name defaults to
// "GlobalGroupAggregate".
func GlobalGroupAggregate(in weir.Stream[row.Row], spec GroupAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.checkTwoPhase(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	n := len(spec.GroupKeys)
	ks := weir.KeyBy(in, keySelector(keyTypes(spec.InputTypes, spec.GroupKeys), firstN(n)))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &groupAggFn{spec: spec, global: true}).DefaultName("GlobalGroupAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

func firstN(n int) []int {
	k := make([]int, n)
	for i := range k {
		k[i] = i
	}
	return k
}

// localGroupAgg is the operator of LocalGroupAggregate.
type localGroupAgg struct {
	spec GroupAggSpec
	out  operator.Output[row.Row]
	ctx  *operator.Context
	key  func(row.Row) string
	// The batch: each key's accumulators, keys in the order of their
	// first row (so that the output order is deterministic).
	batch localBuffer
	count int64
	timer bool
	// A watermark held back while the batch holds rows (as
	// weir.WatermarkHolder): it goes on after the batch's rows.
	wm     int64
	wmHeld bool
}

// localAccs are one key's accumulators in a local aggregate's buffer,
// the output columns before them (the key's, from its first row) and what
// the operator keeps beside them: the timestamp of the row to emit (the
// last row's, or the window's fire time) and a slice's end.
type localAccs struct {
	set  *aggSet
	keys []row.Value
	ts   int64
	end  int64
}

// localBuffer is the in-memory buffer of a local (first-phase)
// aggregate: accumulators per key, in the order of each key's first row
// (so that the output order is deterministic), recycled after a flush.
type localBuffer struct {
	newSet func() (*aggSet, error)
	order  []string
	accs   map[string]*localAccs
	free   []*localAccs
	buf    []byte
}

func newLocalBuffer(newSet func() (*aggSet, error)) localBuffer {
	return localBuffer{newSet: newSet, accs: map[string]*localAccs{}}
}

// add starts the accumulators of key k (not in the buffer), with empty
// keys.
func (b *localBuffer) add(k string) (*localAccs, error) {
	var a *localAccs
	if n := len(b.free); n > 0 {
		a, b.free = b.free[n-1], b.free[:n-1]
	} else {
		set, err := b.newSet()
		if err != nil {
			return nil, err
		}
		a = &localAccs{set: set}
	}
	a.keys = a.keys[:0]
	b.accs[k] = a
	b.order = append(b.order, k)
	return a, nil
}

// flush calls emit with each key's accumulators and their encoding (a
// buffer reused for the next key) in the buffer's order, and empties the
// buffer.
func (b *localBuffer) flush(emit func(a *localAccs, enc []byte) error) error {
	for _, k := range b.order {
		a := b.accs[k]
		b.buf = a.set.appendTo(b.buf[:0])
		if err := emit(a, b.buf); err != nil {
			return err
		}
		a.set.reset()
		clear(a.keys)
		b.free = append(b.free, a)
	}
	clear(b.accs)
	clear(b.order)
	b.order = b.order[:0]
	return nil
}

func (l *localGroupAgg) Open(ctx *operator.Context) error {
	l.ctx = ctx
	l.key = keySelector(l.spec.InputTypes, l.spec.GroupKeys)
	l.batch = newLocalBuffer(func() (*aggSet, error) {
		set, err := newAggSet(l.spec.Aggs, l.spec.InputTypes, !l.spec.InsertOnly)
		if err != nil {
			return nil, err
		}
		for _, k := range set.calls {
			if d, ok := k.acc.(*distinctAcc); ok {
				d.signed = true
			}
		}
		return set, nil
	})
	return nil
}

func (l *localGroupAgg) ProcessElement(r row.Row, ts int64) error {
	k := l.key(r)
	a := l.batch.accs[k]
	if a == nil {
		var err error
		if a, err = l.batch.add(k); err != nil {
			return err
		}
		for _, i := range l.spec.GroupKeys {
			a.keys = append(a.keys, r.Fields[i])
		}
	}
	a.set.apply(r, r.Kind.IsRetract())
	if err := a.set.failed(); err != nil {
		return fmt.Errorf("sql: LocalGroupAggregate on row %s: %w", row.FormatRow(r, l.spec.InputTypes), err)
	}
	a.ts = ts
	l.count++
	if !l.timer {
		l.timer = true
		iv := l.spec.MiniBatch.Interval.Milliseconds()
		now := l.ctx.Time.Now()
		l.ctx.Time.Schedule(now-now%iv+iv, func(int64) error {
			l.timer = false
			return l.flush(true)
		})
	}
	if l.count >= l.spec.MiniBatch.Size {
		return l.flush(false)
	}
	return nil
}

// flush emits one accumulator row per key of the batch and forgets the
// batch; interval tells that an interval ended.
func (l *localGroupAgg) flush(interval bool) error {
	if l.count == 0 {
		return nil
	}
	if err := l.batch.flush(func(a *localAccs, enc []byte) error {
		fields := make([]row.Value, 0, len(a.keys)+2)
		fields = append(append(fields, a.keys...), row.Bytes(enc), row.Bool(interval))
		return l.out.ProcessElement(row.Row{Kind: row.Insert, Fields: fields}, a.ts)
	}); err != nil {
		return err
	}
	l.count = 0
	if l.wmHeld {
		l.wmHeld = false
		return l.out.ProcessWatermark(l.wm)
	}
	return nil
}

// PrepareSnapshotPreBarrier emits the batch before the barrier goes on
// (operator.PreBarrierHandler): the local aggregate holds no state.
func (l *localGroupAgg) PrepareSnapshotPreBarrier(int64) error { return l.flush(true) }

// ProcessWatermark holds a watermark back while the batch holds rows, as
// the mini-batch GroupAggregate does (weir.WatermarkHolder): it goes on
// when the batch is flushed, after its rows, so that none of them is
// emitted behind it. The final watermark flushes the batch.
func (l *localGroupAgg) ProcessWatermark(wm int64) error {
	if wm == operator.MaxWatermark {
		l.wmHeld = false
		if err := l.flush(true); err != nil {
			return err
		}
	} else if l.count > 0 {
		l.wm, l.wmHeld = wm, true
		return nil
	}
	return l.out.ProcessWatermark(wm)
}

func (l *localGroupAgg) ProcessWatermarkStatus(idle bool) error {
	return l.out.ProcessWatermarkStatus(idle)
}

func (l *localGroupAgg) Finish() error { return l.flush(true) }
func (l *localGroupAgg) Close() error  { return nil }

// flushKeyGlobal is flushKey of the global aggregate: it merges the
// key's accumulator rows (from LocalGroupAggregate) into the group's
// accumulators read once, writes them once and emits the group's net
// change as flushKey does. A group whose row count is not positive after
// the merge is empty (retractions of a group without state, e.g. expired
// by the TTL, leave nothing, as in one phase).
func (f *groupAggFn) flushKeyGlobal(ctx *weir.KeyedContext[string, row.Row], kr *keyRows) error {
	if err := f.checkLegacy(); err != nil {
		return err
	}
	if f.otherVals != nil {
		f.moveValue()
	}
	if f.part == nil {
		set, err := newAggSet(f.spec.Aggs, f.spec.InputTypes, !f.spec.InsertOnly)
		if err != nil {
			return err
		}
		f.part = set
	}
	enc, ok := f.acc.Value()
	first := !ok
	if err := f.loadAccs(enc, first); err != nil {
		return err
	}
	f.prev = f.set.appendValues(f.prev[:0])
	nk := len(f.spec.GroupKeys)
	var net int64 // rows the batch added, net of retractions
	for _, r := range kr.rows {
		if _, err := f.part.decodeBytes([]byte(r.Fields[nk].Str())); err != nil {
			return fmt.Errorf("sql: GlobalGroupAggregate: accumulators of the local aggregate: %w", err)
		}
		net += f.part.rows
		f.mergePart()
	}
	f.next = f.set.appendValues(f.next[:0])
	last := kr.rows[len(kr.rows)-1]
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: GlobalGroupAggregate on a mini-batch of %d accumulator rows: %w", len(kr.rows), err)
	}
	if !f.emitBatch(ctx, first, f.set.rows > 0, last, kr.ts) {
		return nil
	}
	if first && f.spec.Counters != nil && net < 0 {
		f.spec.Counters.IgnoredRetractions.Add(-net)
	}
	f.drop()
	return nil
}

// mergePart merges the decoded local accumulators f.part into the
// group's f.set. The DISTINCT calls merge their local multisets' counts
// into the shared distinct state, one entry per tuple for all the calls
// sharing it (as one phase reads and writes it once per row): a call's
// inner accumulator sees a tuple whose count rises above 0 and the
// retraction of one whose count falls to 0 (counts never go below 0, as
// in one phase; insert-only counts stop at 1).
func (f *groupAggFn) mergePart() {
	f.set.rows += f.part.rows
	distinct := false
	for i, k := range f.set.calls {
		if d, ok := k.acc.(*distinctAcc); ok && d.shared != nil {
			distinct = true
			continue
		}
		k.acc.merge(f.part.calls[i].acc)
	}
	if !distinct {
		return
	}
	for _, v := range f.shared.views {
		// The view's calls, by slot, and the union of their tuples,
		// sorted so that the inner accumulators' order is deterministic.
		calls := f.viewCalls[:0]
		keys := f.partKeys[:0]
		seen := f.partSeen
		if seen == nil {
			seen = map[string]bool{}
			f.partSeen = seen
		}
		clear(seen)
		for i, k := range f.set.calls {
			d, ok := k.acc.(*distinctAcc)
			if !ok || d.shared != v {
				continue
			}
			od := f.part.calls[i].acc.(*distinctAcc)
			calls = append(calls, [2]*distinctAcc{d, od})
			for key := range od.entries {
				if !seen[key] {
					seen[key] = true
					keys = append(keys, key)
				}
			}
		}
		slices.Sort(keys)
		f.viewCalls, f.partKeys = calls, keys
		for _, key := range keys {
			var c []int64
			for _, dc := range calls {
				d, e := dc[0], dc[1].entries[key]
				if e == nil || e.n == 0 {
					continue
				}
				if c == nil {
					c, _ = v.load(e.vals)
				}
				old := c[d.slot]
				n := old + e.n
				if f.shared.insertOnly {
					n = min(n, 1)
				}
				n = max(n, 0)
				if n == old {
					continue
				}
				c[d.slot] = n
				v.dirty = true
				switch {
				case old <= 0 && n > 0:
					d.inner.accumulate(e.vals)
				case old > 0 && n <= 0:
					d.inner.retract(e.vals)
				}
			}
			f.shared.flush()
		}
	}
}

// globalSoon schedules the global aggregate's batch to be handled right
// after the current input when in ends a local aggregate's interval (or
// precedes a barrier, the final watermark, the end of input: the global
// aggregate flushes on those by itself anyway).
func (f *groupAggFn) globalSoon(ctx *weir.KeyedContext[string, row.Row], in row.Row) {
	if f.mb.count == 0 || f.mb.soon || !in.Fields[len(f.spec.GroupKeys)+1].Bool() {
		return
	}
	f.mb.soon = true
	ctx.ScheduleProcessingTimeCallback(ctx.CurrentProcessingTime(), func(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
		f.mb.soon = false
		return f.FlushBundle(ctx)
	})
}
