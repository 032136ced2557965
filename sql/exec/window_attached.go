package exec

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// AttachedWindowAggSpec describes a window aggregation over an input
// whose rows already carry their window (Flink's
// WindowAttachedWindowingStrategy): GROUP BY window_start, window_end
// [, keys] over the output of another window aggregation (a cascaded
// window aggregation). Each row belongs to the one window of its
// window_start and window_end columns; nothing is sliced or assigned.
type AttachedWindowAggSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// WindowStart and WindowEnd are the input's window columns.
	WindowStart, WindowEnd int
	// GroupKeys are the grouping columns besides the window, in output
	// order.
	GroupKeys []int
	// Aggs are the aggregate calls, in output order (no DISTINCT).
	Aggs []AggCall
	// Zone is the session time zone when the windows are over a
	// TIMESTAMP_LTZ time attribute: window_end is then a wall clock value
	// (see WindowRankSpec.Zone).
	Zone *time.Location
	// WindowTime, when set, is the type of a window_time column appended
	// after window_end: the window's end - 1 ms (in Zone's wall clock
	// when set), the row's timestamp. Flink outputs it when the cascade
	// groups by its input's window_time (a rowtime attribute again).
	WindowTime *row.Type
	// UID and Name identify the operator (default name "WindowAggregate").
	UID, Name string
	// Counters, if set, receives the operator's counters.
	Counters *Counters
}

func (s AttachedWindowAggSpec) compile() (*aggSet, error) {
	if err := checkWindowColumns(s.InputTypes, s.WindowStart, s.WindowEnd); err != nil {
		return nil, fmt.Errorf("sql/exec: attached window aggregate: %w", err)
	}
	if err := checkKeys(s.InputTypes, s.GroupKeys, "group key"); err != nil {
		return nil, err
	}
	set, err := newAggSet(s.Aggs, s.InputTypes, false)
	if err != nil {
		return nil, err
	}
	if set.hasDistinct() {
		return nil, fmt.Errorf("sql/exec: attached window aggregate: DISTINCT aggregate calls are not supported")
	}
	return set, nil
}

// OutputTypes returns the output column types: the group keys, the
// aggregate results, then window_start and window_end (the input's
// types).
func (s AttachedWindowAggSpec) OutputTypes() ([]row.Type, error) {
	set, err := s.compile()
	if err != nil {
		return nil, err
	}
	out := append(keyTypes(s.InputTypes, s.GroupKeys), set.resultTypes()...)
	out = append(out, s.InputTypes[s.WindowStart], s.InputTypes[s.WindowEnd])
	if s.WindowTime != nil {
		out = append(out, *s.WindowTime)
	}
	return out, nil
}

// AttachedWindowAggregate aggregates an append-only stream whose rows
// carry their window (Flink's window aggregation with a window-attached
// windowing strategy, as in a cascaded window aggregation): per group
// key and window it keeps one accumulator and emits one +I row (keys,
// results, window_start, window_end) when the watermark reaches the
// window's end - 1 ms, with that time as its timestamp (the window's
// window_time); then the window's state is dropped. A row whose window
// has already fired is late: it is dropped and counted.
//
// The operator is keyed by the group keys and the window (each key holds
// one window), so windows of an aggregation without keys spread over the
// subtasks.
func AttachedWindowAggregate(in weir.Stream[row.Row], spec AttachedWindowAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	cols := append(append([]int(nil), spec.GroupKeys...), spec.WindowStart, spec.WindowEnd)
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, cols))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &attachedWindowAggFn{spec: spec, keyCols: cols}).DefaultName("WindowAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// attachedWindowAggFn is the keyed function of AttachedWindowAggregate:
// the key is the group keys, window_start and window_end; its state
// "attached-window-aggs" is the window's encoded accumulators, and one
// event-time timer at the window's end - 1 is pending while it exists.
type attachedWindowAggFn struct {
	spec     AttachedWindowAggSpec
	keyCols  []int
	keyTypes []row.Type
	set      *aggSet
	acc      state.Value[string]
	metric   *int64
	// global marks the second phase of a two-phase aggregation: input
	// rows are AttachedLocalWindowAggregate's (keys, window_start,
	// window_end, accumulators); part holds one's decoded accumulators.
	global bool
	part   *aggSet
}

func (f *attachedWindowAggFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	set, err := f.spec.compile()
	if err != nil {
		return err
	}
	f.set = set
	f.keyTypes = keyTypes(f.spec.InputTypes, f.keyCols)
	f.acc = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "attached-window-aggs"})
	f.metric = &ctx.Metrics().LateRecordsDropped
	return nil
}

func (f *attachedWindowAggFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if f.global {
		return f.processGlobal(ctx, in)
	}
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: attached window aggregate: input must be append-only, got a %s row", in.Kind)
	}
	if len(in.Fields) != len(f.spec.InputTypes) {
		return fmt.Errorf("sql/exec: attached window aggregate: input row has %d fields, want %d", len(in.Fields), len(f.spec.InputTypes))
	}
	fire, late, err := windowFireTime(ctx, in, f.spec.WindowEnd, f.spec.Zone)
	if err != nil {
		return fmt.Errorf("sql/exec: attached window aggregate: %w", err)
	}
	// A NULL window_start or window_end (the padded side of an outer
	// window join) is no window: the row is late (windowFireTime).
	if late || in.Fields[f.spec.WindowStart].IsNull() {
		f.late(1)
		return nil
	}
	enc, ok := f.acc.Value()
	if ok {
		if err := f.set.decode(enc); err != nil {
			return err
		}
	} else {
		f.set.reset()
		ctx.RegisterEventTimeTimer(fire)
	}
	f.set.apply(in, false)
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: WindowAggregate on row %s: %w", row.FormatRow(in, f.spec.InputTypes), err)
	}
	f.acc.Update(f.set.encode())
	return nil
}

func (f *attachedWindowAggFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	enc, ok := f.acc.Value()
	if !ok {
		return nil
	}
	f.acc.Clear()
	if err := f.set.decode(enc); err != nil {
		return err
	}
	if f.set.rows == 0 {
		return nil
	}
	key, err := decodeKey(make([]row.Value, 0, len(f.keyTypes)), ctx.Key(), f.keyTypes)
	if err != nil {
		return err
	}
	nk := len(f.spec.GroupKeys)
	fields := make([]row.Value, 0, nk+len(f.set.calls)+3)
	fields = append(fields, key[:nk]...)
	fields = f.set.appendValues(fields)
	if err := f.set.failed(); err != nil {
		return err
	}
	fields = append(fields, key[nk], key[nk+1])
	if f.spec.WindowTime != nil {
		fields = append(fields, row.Timestamp(Window{Zone: f.spec.Zone}.epoch(key[nk+1].Millis()-1), 0))
	}
	ctx.CollectWithTimestamp(row.Row{Kind: row.Insert, Fields: fields}, ts)
	return nil
}

func (f *attachedWindowAggFn) late(n int64) {
	atomic.AddInt64(f.metric, n)
	if f.spec.Counters != nil {
		f.spec.Counters.LateRecordsDropped.Add(n)
	}
}

// Two phases (Flink's TwoStageOptimizedWindowAggregateRule applies to a
// window-attached windowing too): AttachedLocalWindowAggregate folds the
// rows of each group key and window in memory and emits, before every
// watermark (a watermark may fire a window: the global aggregate then sees
// each row under the watermark the one-phase one would), at a checkpoint
// barrier and at the end of input, one row per key and window: the group
// keys, window_start, window_end and the accumulators (BYTES,
// aggSet.appendTo). AttachedGlobalWindowAggregate merges them; its key,
// state and timers are the one-phase operator's, so a snapshot of either
// plan restores into the other under the same uid.

// AttachedLocalWindowAggregate is the first phase of a two-phase attached
// window aggregation: stateless, it runs chained to in at in's
// parallelism. Its output goes to AttachedGlobalWindowAggregate with the
// same spec.
func AttachedLocalWindowAggregate(in weir.Stream[row.Row], spec AttachedWindowAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	name := spec.Name
	if name == "" {
		name = "LocalWindowAggregate"
	}
	out := weir.Transform(in, name, func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return &attachedLocalAgg{spec: spec, out: out}
	})
	if p := in.Parallelism(); p > 0 {
		out = out.SetParallelism(p)
	}
	return out, nil
}

// AttachedGlobalWindowAggregate is the second phase: in is
// AttachedLocalWindowAggregate's output, spec the same spec (its UID the
// one-phase operator's). Its output is AttachedWindowAggregate's.
func AttachedGlobalWindowAggregate(in weir.Stream[row.Row], spec AttachedWindowAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	nk := len(spec.GroupKeys)
	cols := append(append([]int(nil), spec.GroupKeys...), spec.WindowStart, spec.WindowEnd)
	ks := weir.KeyBy(in, keySelector(keyTypes(spec.InputTypes, cols), firstN(nk+2)))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &attachedWindowAggFn{spec: spec, keyCols: cols, global: true}).DefaultName("GlobalWindowAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// processGlobal is ProcessElement of the global aggregate.
func (f *attachedWindowAggFn) processGlobal(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	nk := len(f.spec.GroupKeys)
	if f.part == nil {
		f.part = f.set.clone(f.spec.InputTypes, false)
	}
	if err := f.part.decode(in.Fields[nk+2].Str()); err != nil {
		return fmt.Errorf("sql: GlobalWindowAggregate: accumulators of the local aggregate: %w", err)
	}
	fire, late, err := windowFireTime(ctx, in, nk+1, f.spec.Zone)
	if err != nil {
		return fmt.Errorf("sql/exec: attached window aggregate: %w", err)
	}
	if late {
		f.late(f.part.rows)
		return nil
	}
	enc, ok := f.acc.Value()
	if ok {
		if err := f.set.decode(enc); err != nil {
			return err
		}
	} else {
		f.set.reset()
		ctx.RegisterEventTimeTimer(fire)
	}
	f.set.merge(f.part)
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: GlobalWindowAggregate: %w", err)
	}
	f.acc.Update(f.set.encode())
	return nil
}

// attachedLocalAgg is the operator of AttachedLocalWindowAggregate.
type attachedLocalAgg struct {
	spec AttachedWindowAggSpec
	out  operator.Output[row.Row]
	key  func(row.Row) string
	// The buffer: per key and window, the accumulators, the group keys,
	// window_start and window_end, and the window's fire time.
	buffer localBuffer
}

func (l *attachedLocalAgg) Open(*operator.Context) error {
	cols := append(append([]int(nil), l.spec.GroupKeys...), l.spec.WindowStart, l.spec.WindowEnd)
	l.key = keySelector(l.spec.InputTypes, cols)
	l.buffer = newLocalBuffer(func() (*aggSet, error) { return newAggSet(l.spec.Aggs, l.spec.InputTypes, false) })
	return nil
}

func (l *attachedLocalAgg) ProcessElement(r row.Row, _ int64) error {
	if r.Kind != row.Insert {
		return fmt.Errorf("sql/exec: LocalWindowAggregate takes an append-only input, got a %v row", r.Kind)
	}
	noWindow := r.Fields[l.spec.WindowStart].IsNull() || r.Fields[l.spec.WindowEnd].IsNull()
	if noWindow {
		// No window (the padded side of an outer window join): the
		// global aggregate drops it as late and counts it in
		// numLateRecordsDropped, as the one-phase aggregation does
		// (windowFireTime); the local one keeps it under NULL window
		// columns (dropping it here went uncounted).
		r = nullWindow(r, l.spec.WindowStart, l.spec.WindowEnd)
	}
	k := l.key(r)
	a := l.buffer.accs[k]
	if a == nil {
		var err error
		if a, err = l.buffer.add(k); err != nil {
			return err
		}
		for _, i := range l.spec.GroupKeys {
			a.keys = append(a.keys, r.Fields[i])
		}
		a.keys = append(a.keys, r.Fields[l.spec.WindowStart], r.Fields[l.spec.WindowEnd])
		if !noWindow {
			a.ts = Window{Zone: l.spec.Zone}.fire(r.Fields[l.spec.WindowEnd].Millis())
		}
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

// flush emits one row per key and window of the buffer (the group keys,
// window_start, window_end, the accumulators) and forgets the buffer.
func (l *attachedLocalAgg) flush() error {
	return l.buffer.flush(func(a *localAccs, enc []byte) error {
		fields := make([]row.Value, 0, len(a.keys)+1)
		fields = append(append(fields, a.keys...), row.Bytes(enc))
		return l.out.ProcessElement(row.Row{Kind: row.Insert, Fields: fields}, a.ts)
	})
}

// PrepareSnapshotPreBarrier emits the buffer before the barrier goes on.
func (l *attachedLocalAgg) PrepareSnapshotPreBarrier(int64) error { return l.flush() }

// ProcessWatermark emits the buffer before the watermark.
func (l *attachedLocalAgg) ProcessWatermark(wm int64) error {
	if err := l.flush(); err != nil {
		return err
	}
	return l.out.ProcessWatermark(wm)
}

func (l *attachedLocalAgg) ProcessWatermarkStatus(idle bool) error {
	return l.out.ProcessWatermarkStatus(idle)
}

func (l *attachedLocalAgg) Finish() error { return l.flush() }
func (l *attachedLocalAgg) Close() error  { return nil }
