package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
)

// Two-phase (local/global) window aggregation, as Flink's
// TwoStageOptimizedWindowAggregateRule plans it (no mini-batch needed):
//
//	LocalWindowAggregate -> Exchange(hash on the group keys) -> GlobalWindowAggregate
//
// The local aggregate (Flink's LocalSlicingWindowAggOperator) runs where
// its input runs, unkeyed and stateless: it folds each row into the
// accumulators of its group key and slice (the window for TUMBLE, the
// slide for HOP, the step for CUMULATE: a row is in exactly one slice)
// in memory, and emits one row per key and slice, the group keys, the
// encoding of the slice's accumulators (BYTES, aggSet.appendTo, with its
// row count) and the slice's end (BIGINT, milliseconds), when
//
//   - a watermark passes a slice end - 1 (it may fire a window: the rows
//     go out before it, so the global aggregate sees each row under the
//     same watermark as the one-phase aggregate would, and drops as late
//     exactly the rows it would drop),
//   - the buffer holds localWindowMaxEntries keys and slices,
//   - a checkpoint barrier comes (PrepareSnapshotPreBarrier: the local
//     aggregate holds nothing across a checkpoint), or input ends.
//
// The global aggregate (Flink's SlicingWindowOperator over a
// GlobalAggCombiner) is WindowAggregate's keyed function with another
// input: it merges a slice's accumulators into every window of the slice
// that has not fired (or, for sliced HOP windows, into the slice), and
// drops the slice's rows as late when all have. Its state names, state
// encoding, key encoding and timers are the one-phase operator's, and the
// planner gives it the one-phase operator's uid, so a snapshot of either
// plan restores into the other.

// localWindowMaxEntries bounds the local aggregate's buffer (keys and
// slices); Flink bounds its by managed memory.
const localWindowMaxEntries = 1 << 14

// WindowTwoPhaseSupported reports whether spec can run in two phases:
// event-time TUMBLE, HOP or CUMULATE windows (processing time is not
// materialised in one node, as in Flink; SESSION windows are not sliced)
// over an append-only input, every call merging accumulators (Flink's
// AggregateUtil.doAllSupportPartialMerge: not FIRST_VALUE, LAST_VALUE; a
// user-defined function only with Merge) and none DISTINCT (whose
// multisets the window operator keeps per window in its own state).
func WindowTwoPhaseSupported(spec WindowAggSpec) bool {
	if spec.TimeCol == ProcTime || spec.Window.Kind == SessionWindow || spec.UpdatingInput || spec.perWindow {
		return false
	}
	for _, c := range spec.Aggs {
		if c.Distinct || !mergeable(c.Func) || onePhaseOnly(c.Func) {
			return false
		}
		if c.Func == UserDefined && (c.UDF == nil || !c.UDF.CanMerge()) {
			return false
		}
	}
	return true
}

func (s WindowAggSpec) checkTwoPhase() error {
	if _, err := s.compile(); err != nil {
		return err
	}
	if !WindowTwoPhaseSupported(s) {
		return fmt.Errorf("sql/exec: two-phase window aggregation is not possible for %v (processing time, SESSION, updating input, DISTINCT or a call that cannot merge)", s.Window)
	}
	return nil
}

// LocalWindowOutputTypes returns the types of the local aggregate's rows:
// the group keys, the accumulators' encoding (BYTES) and the slice end
// (BIGINT, milliseconds).
func (s WindowAggSpec) LocalWindowOutputTypes() []row.Type {
	return append(keyTypes(s.InputTypes, s.GroupKeys), row.BytesType().WithNullable(false), row.BigInt().WithNullable(false))
}

// sliceUnit returns the length of a slice of w (TUMBLE, HOP, CUMULATE).
func (w Window) sliceUnit() int64 {
	switch w.Kind {
	case HopWindow:
		return w.Slide.Milliseconds()
	case CumulateWindow:
		return w.Step.Milliseconds()
	}
	return w.Size.Milliseconds()
}

// sliceEndOf returns the end of the slice of w holding the time t.
func (w Window) sliceEndOf(t int64) int64 {
	u := w.sliceUnit()
	return t - mod(t-w.Offset.Milliseconds(), u) + u
}

// LocalWindowAggregate is the first phase of a two-phase window
// aggregation (see above): stateless, it runs chained to in at in's
// parallelism. spec is the aggregation's; its Name defaults to
// "LocalWindowAggregate". Its output goes to GlobalWindowAggregate with the
// same spec.
func LocalWindowAggregate(in weir.Stream[row.Row], spec WindowAggSpec) (weir.Stream[row.Row], error) {
	if err := spec.checkTwoPhase(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	name := spec.Name
	if name == "" {
		name = "LocalWindowAggregate"
	}
	out := weir.Transform(in, name, func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return &localWindowAgg{spec: spec, out: out, wm: math.MinInt64}
	})
	if p := in.Parallelism(); p > 0 {
		out = out.SetParallelism(p)
	}
	return out, nil
}

// GlobalWindowAggregate is the second phase of a two-phase window
// aggregation: in is LocalWindowAggregate's output, spec the same spec
// (its UID the one-phase WindowAggregate's, for savepoint compatibility).
// Its output is the one-phase WindowAggregate's. Name defaults to
// "GlobalWindowAggregate".
func GlobalWindowAggregate(in weir.Stream[row.Row], spec WindowAggSpec) (weir.Stream[row.Row], error) {
	if err := spec.checkTwoPhase(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	n := len(spec.GroupKeys)
	ks := weir.KeyBy(in, keySelector(keyTypes(spec.InputTypes, spec.GroupKeys), firstN(n)))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &windowAggFn{spec: spec, global: true}).DefaultName("GlobalWindowAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// localWindowAgg is the operator of LocalWindowAggregate.
type localWindowAgg struct {
	spec WindowAggSpec
	out  operator.Output[row.Row]
	key  func(row.Row) string
	// The buffer: each key and slice's accumulators (keyed by the key
	// and the slice's end), the key's columns, the slice's end and its
	// window's fire time.
	buffer localBuffer
	kbuf   []byte
	wm     int64 // the last watermark forwarded
}

func (l *localWindowAgg) Open(*operator.Context) error {
	l.key = keySelector(l.spec.InputTypes, l.spec.GroupKeys)
	l.buffer = newLocalBuffer(func() (*aggSet, error) { return newAggSet(l.spec.Aggs, l.spec.InputTypes, false) })
	return nil
}

func (l *localWindowAgg) ProcessElement(r row.Row, _ int64) error {
	if r.Kind != row.Insert {
		return fmt.Errorf("sql/exec: LocalWindowAggregate takes an append-only input, got a %v row", r.Kind)
	}
	v := r.Fields[l.spec.TimeCol]
	if v.IsNull() {
		return fmt.Errorf("sql/exec: the rowtime column %d is NULL; the time attribute of a window must not be NULL", l.spec.TimeCol)
	}
	end := l.spec.Window.sliceEndOf(l.spec.Window.local(v.Millis()))
	l.kbuf = binary.BigEndian.AppendUint64(append(l.kbuf[:0], l.key(r)...), uint64(end))
	a := l.buffer.accs[string(l.kbuf)]
	if a == nil {
		var err error
		if a, err = l.buffer.add(string(l.kbuf)); err != nil {
			return err
		}
		for _, i := range l.spec.GroupKeys {
			a.keys = append(a.keys, r.Fields[i])
		}
		a.end = end
		a.ts = l.spec.Window.fire(end)
	}
	a.set.apply(r, false)
	if err := a.set.failed(); err != nil {
		return fmt.Errorf("sql: LocalWindowAggregate on row %s: %w", row.FormatRow(r, l.spec.InputTypes), err)
	}
	if len(l.buffer.order) >= localWindowMaxEntries {
		return l.flush()
	}
	return nil
}

// flush emits one accumulator row per key and slice of the buffer and
// forgets the buffer.
func (l *localWindowAgg) flush() error {
	return l.buffer.flush(func(a *localAccs, enc []byte) error {
		fields := make([]row.Value, 0, len(a.keys)+2)
		fields = append(append(fields, a.keys...), row.Bytes(enc), row.Int(a.end))
		return l.out.ProcessElement(row.Row{Kind: row.Insert, Fields: fields}, a.ts)
	})
}

// PrepareSnapshotPreBarrier emits the buffer before the barrier goes on
// (operator.PreBarrierHandler): the local aggregate holds no state.
func (l *localWindowAgg) PrepareSnapshotPreBarrier(int64) error { return l.flush() }

// ProcessWatermark flushes the buffer before a watermark that passes a
// slice end - 1 (Flink's nextTriggerWatermark): windows end on slice
// ends, so a watermark that passes none fires no window, and the rows
// before and after it are late for the same windows.
func (l *localWindowAgg) ProcessWatermark(wm int64) error {
	if len(l.buffer.order) > 0 && (wm == operator.MaxWatermark || l.wm == math.MinInt64 ||
		l.spec.Window.sliceEndOf(l.spec.Window.local(wm)+1) != l.spec.Window.sliceEndOf(l.spec.Window.local(l.wm)+1)) {
		if err := l.flush(); err != nil {
			return err
		}
	}
	if wm > l.wm {
		l.wm = wm
	}
	return l.out.ProcessWatermark(wm)
}

func (l *localWindowAgg) ProcessWatermarkStatus(idle bool) error {
	return l.out.ProcessWatermarkStatus(idle)
}

func (l *localWindowAgg) Finish() error { return l.flush() }
func (l *localWindowAgg) Close() error  { return nil }

// processGlobal is ProcessElement of the global aggregate: in is a row of
// LocalWindowAggregate (group keys, accumulators, slice end).
func (f *windowAggFn) processGlobal(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	nk := len(f.spec.GroupKeys)
	if f.part == nil {
		f.part = f.set.clone(f.spec.InputTypes, false)
	}
	if err := f.part.decode(in.Fields[nk].Str()); err != nil {
		return fmt.Errorf("sql: GlobalWindowAggregate: accumulators of the local aggregate: %w", err)
	}
	end := in.Fields[nk+1].Int()
	if f.mem != nil {
		own, err := f.memOwns(ctx)
		if err != nil {
			return err
		}
		if own {
			return f.memMerge(ctx, end)
		}
	}
	wm := ctx.CurrentWatermark()
	if f.slices != nil {
		// A sliced HOP window: the local slice is the operator's slice.
		slide := f.spec.Window.Slide.Milliseconds()
		size := f.spec.Window.Size.Milliseconds()
		if f.spec.Window.fire(end+size-slide) <= wm {
			f.lateRows(f.part.rows)
			return nil
		}
		enc, ok := f.slices.Get(end)
		if ok {
			if err := f.set.decode(enc); err != nil {
				return err
			}
		} else {
			f.set.reset()
			first := end
			for f.spec.Window.fire(first) <= wm {
				first += slide
			}
			f.register(ctx, first, false)
		}
		f.set.merge(f.part)
		if err := f.set.failed(); err != nil {
			return fmt.Errorf("sql: GlobalWindowAggregate: %w", err)
		}
		f.slices.Put(end, f.set.encode())
		return nil
	}
	// The windows of the slice are those of its last millisecond.
	var err error
	added := false
	AssignWindows(f.spec.Window, end-1, func(_, wend int64) {
		if err != nil || f.spec.Window.fire(wend) <= wm {
			return
		}
		added = true
		enc, ok := f.windows.Get(wend)
		if ok {
			if err = f.set.decode(enc); err != nil {
				return
			}
		} else {
			f.set.reset()
			f.register(ctx, wend, false)
		}
		f.set.merge(f.part)
		if err = f.set.failed(); err != nil {
			err = fmt.Errorf("sql: GlobalWindowAggregate: %w", err)
			return
		}
		f.windows.Put(wend, f.set.encode())
	})
	if !added {
		f.lateRows(f.part.rows)
	}
	return err
}

// lateRows counts n rows dropped as late.
func (f *windowAggFn) lateRows(n int64) {
	atomic.AddInt64(f.metrics, n)
	if f.spec.Counters != nil {
		f.spec.Counters.LateRecordsDropped.Add(n)
	}
}
