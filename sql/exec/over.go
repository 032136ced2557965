package exec

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// OverAggSpec describes an OVER aggregation (Flink's
// StreamExecOverAggregate): agg(...) OVER (PARTITION BY PartitionKeys
// ORDER BY the time attribute TimeCol ASC, ROWS|RANGE BETWEEN
// (Preceding | UNBOUNDED) PRECEDING AND CURRENT ROW).
type OverAggSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// PartitionKeys are the PARTITION BY columns; empty runs every row
	// in one partition (one subtask), as in Flink.
	PartitionKeys []int
	// TimeCol is the rowtime column the window is ordered by (TIMESTAMP(3)
	// or TIMESTAMP_LTZ(3): its milliseconds are the event time), or
	// ProcTime for processing time.
	TimeCol int
	// Rows makes the frame a ROWS frame (counted in rows); otherwise it is
	// a RANGE frame (in milliseconds of the time attribute, rows with
	// equal times are peers that see each other).
	Rows bool
	// Unbounded is UNBOUNDED PRECEDING; otherwise Preceding bounds the
	// frame: ROWS: the number of rows before the current one; RANGE: the
	// milliseconds before the current row's time.
	Unbounded bool
	Preceding int64
	// Aggs are the aggregate calls, in output order.
	Aggs []AggCall
	// StateTTL is Flink's table.exec.state.ttl (0 = none): the idle state
	// retention of the functions that have one (see OverAggregate).
	StateTTL time.Duration
	// UID and Name identify the operator (default name "OverAggregate").
	UID, Name string
	// Counters, if set, receives the operator's late-row count.
	Counters *Counters
}

func (s OverAggSpec) rangeBounded() bool { return !s.Rows && !s.Unbounded }
func (s OverAggSpec) rowsBounded() bool  { return s.Rows && !s.Unbounded }

func (s OverAggSpec) compile() (*aggSet, error) {
	if err := checkKeys(s.InputTypes, s.PartitionKeys, "partition key"); err != nil {
		return nil, err
	}
	if s.TimeCol != ProcTime {
		if s.TimeCol < 0 || s.TimeCol >= len(s.InputTypes) {
			return nil, fmt.Errorf("sql/exec: OverAggregate: time column %d out of range (%d input columns)", s.TimeCol, len(s.InputTypes))
		}
		if t := s.InputTypes[s.TimeCol]; t.Root != row.TypeTimestamp && t.Root != row.TypeTimestampLTZ {
			return nil, fmt.Errorf("sql/exec: OverAggregate: time column %d is %v, not a TIMESTAMP or TIMESTAMP_LTZ", s.TimeCol, t)
		}
	}
	if !s.Unbounded && s.Preceding < 0 {
		return nil, fmt.Errorf("sql/exec: OverAggregate: negative PRECEDING offset %d", s.Preceding)
	}
	if s.StateTTL < 0 {
		return nil, errors.New("sql/exec: OverAggregate: negative state TTL")
	}
	if err := s.checkOverRetract(); err != nil {
		return nil, err
	}
	// Bounded frames retract the rows leaving them, so MIN, MAX,
	// FIRST_VALUE and LAST_VALUE keep multisets (Flink's WithRetract
	// functions); unbounded frames never retract.
	return newAggSet(s.Aggs, s.InputTypes, !s.Unbounded)
}

// OutputTypes returns the output columns' types: the input's, then the
// aggregate results.
func (s OverAggSpec) OutputTypes() ([]row.Type, error) {
	set, err := s.compile()
	if err != nil {
		return nil, err
	}
	return append(append([]row.Type(nil), s.InputTypes...), set.resultTypes()...), nil
}

// OverAggregate appends to every input row the aggregates of its frame,
// as Flink's over-aggregate functions do; the output is append-only and
// the input must be (a -U, +U or -D row fails the job naming the
// operator).
//
// Event time (TimeCol a rowtime column): rows wait in state until the
// watermark passes their time and are then emitted in time order (rows
// of one time in arrival order):
//
//   - ROWS n PRECEDING (RowTimeRowsBoundedPrecedingFunction): a row is
//     late when its time is not after the last time the partition
//     processed; each row sees itself and the n rows before it.
//   - RANGE INTERVAL PRECEDING (RowTimeRangeBoundedPrecedingFunction): as
//     above for lateness; all rows of one time see each other (peers) and
//     the rows at most the interval older. The partition's state is
//     cleared once the watermark passes the newest row's time + 1.5 x
//     the interval.
//   - UNBOUNDED PRECEDING (RowTime{Rows,Range}UnboundedPrecedingFunction):
//     a row is late when its time is not after the watermark. ROWS: each
//     row sees the rows before it; RANGE: rows of one time are peers.
//
// Late rows are dropped and counted (late_records_dropped_total,
// Counters.LateRecordsDropped). Output rows carry their rowtime as event
// timestamp.
//
// Processing time (TimeCol ProcTime): ROWS n PRECEDING and UNBOUNDED
// PRECEDING (ROWS or RANGE alike, ProcTimeUnboundedPrecedingFunction)
// emit each row on arrival; RANGE INTERVAL PRECEDING
// (ProcTimeRangeBoundedPrecedingFunction) emits the rows that arrived in
// one millisecond together (peers) when the clock passes it.
//
// State is keyed by the partition key, so it is checkpointed and
// rescales. With StateTTL set, the partitions of event-time ROWS and
// UNBOUNDED frames and of processing-time ROWS frames are cleared after
// 1.5 x StateTTL of processing time without input (Flink's cleanup
// timers of KeyedProcessFunctionWithCleanupState), unless rows wait for a
// watermark; the processing-time UNBOUNDED accumulators expire with the
// state TTL. RANGE frames clean up by themselves as above.
func OverAggregate(in weir.Stream[row.Row], spec OverAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, spec.PartitionKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &overFn{spec: spec}).DefaultName("OverAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// overFn is the keyed function of OverAggregate. Per partition key:
//
//	over-acc       value: the encoded accumulators (aggSet)
//	over-distinct  map: DISTINCT tuple -> count (call index + tuple)
//	over-rows      map: time -> the rows of that time not yet out of every
//	               frame (or not yet emitted), row.Codec encodings back to back
//	over-last      value: the last time processed (event-time bounded
//	               frames: rows not after it are late)
//	over-count     value: rows in the frame (ROWS bounded)
//	over-smallest  value: the oldest time in over-rows (processing-time ROWS)
//	over-cleanup   value: the time of the pending cleanup timer
type overFn struct {
	spec     OverAggSpec
	set      *aggSet
	codec    *row.Codec
	acc      state.Value[string]
	distinct state.Map[string, int64]
	rows     state.Map[int64, string]
	last     state.Value[int64]
	count    state.Value[int64]
	smallest state.Value[int64]
	cleanup  state.Value[int64]
	metric   *int64
	// minTTL and maxTTL are the idle state retention (ms); 0 disables it.
	minTTL, maxTTL int64
	// offset is Flink's precedingOffset: ROWS: the frame's size in rows
	// (n + 1); RANGE: the interval in ms.
	offset int64
	times  []int64
	vals   []row.Value
	// fallible: an accumulator can refuse a row (aggSet.canFail).
	fallible bool
}

func (f *overFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	set, err := f.spec.compile()
	if err != nil {
		return err
	}
	f.set = set
	f.fallible = set.canFail()
	f.codec = row.NewCodec(f.spec.InputTypes)
	f.offset = f.spec.Preceding
	if f.spec.Rows {
		f.offset++
	}
	if ms := f.spec.StateTTL.Milliseconds(); ms > 1 {
		f.minTTL, f.maxTTL = ms, ms*3/2
	}
	var ttl state.TTL
	if f.proc() && f.spec.Unbounded {
		// ProcTimeUnboundedPrecedingFunction keeps only accumulators,
		// with the state TTL.
		ttl = stateTTL(f.spec.StateTTL)
		f.minTTL, f.maxTTL = 0, 0
	}
	st := ctx.State()
	f.acc = state.GetValue[string, string](st, state.Descriptor{Name: "over-acc", TTL: ttl})
	if set.hasDistinct() {
		f.distinct = state.GetMap[string, string, int64](st, state.Descriptor{Name: "over-distinct", TTL: ttl})
		set.useDistinctView(mapView{f.distinct})
		set.setNamespace(nil)
	}
	f.rows = state.GetMap[string, int64, string](st, state.Descriptor{Name: "over-rows"})
	f.last = state.GetValue[string, int64](st, state.Descriptor{Name: "over-last"})
	f.count = state.GetValue[string, int64](st, state.Descriptor{Name: "over-count"})
	f.smallest = state.GetValue[string, int64](st, state.Descriptor{Name: "over-smallest"})
	f.cleanup = state.GetValue[string, int64](st, state.Descriptor{Name: "over-cleanup"})
	f.metric = &ctx.Metrics().LateRecordsDropped
	return nil
}

func (f *overFn) proc() bool { return f.spec.TimeCol == ProcTime }

func (f *overFn) lateRow() {
	atomic.AddInt64(f.metric, 1)
	if f.spec.Counters != nil {
		f.spec.Counters.LateRecordsDropped.Add(1)
	}
}

func (f *overFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: OverAggregate doesn't support consuming update and delete changes: got a %v row %s", in.Kind, row.FormatRow(in, f.spec.InputTypes))
	}
	if len(in.Fields) != len(f.spec.InputTypes) {
		return fmt.Errorf("sql/exec: OverAggregate: input row has %d fields, want %d", len(in.Fields), len(f.spec.InputTypes))
	}
	if f.proc() {
		return f.procElement(ctx, in)
	}
	if f.minTTL > 0 && !f.spec.rangeBounded() {
		f.registerIdleCleanup(ctx)
	}
	v := in.Fields[f.spec.TimeCol]
	if v.IsNull() {
		return fmt.Errorf("sql/exec: OverAggregate: the rowtime column %d of row %s is NULL; the time attribute of an OVER window must not be NULL", f.spec.TimeCol, row.FormatRow(in, f.spec.InputTypes))
	}
	ts := v.Millis()
	if f.spec.Unbounded {
		wm := ctx.CurrentWatermark()
		if ts <= wm {
			f.lateRow()
			return nil
		}
		// One timer per key: the next watermark processes every row
		// at or before it.
		trigger := int64(0)
		if wm >= 0 {
			trigger = wm + 1
		}
		ctx.RegisterEventTimeTimer(trigger)
		f.appendRow(ts, in)
		return nil
	}
	last, _ := f.last.Value()
	if ts <= last {
		f.lateRow()
		return nil
	}
	if !f.appendRow(ts, in) {
		ctx.RegisterEventTimeTimer(ts)
	}
	if f.spec.rangeBounded() {
		f.registerRangeCleanup(ctx, ts, false)
	}
	return nil
}

// appendRow adds r to the rows of time ts and reports whether that time
// had rows already.
func (f *overFn) appendRow(ts int64, r row.Row) bool {
	enc, ok := f.rows.Get(ts)
	f.rows.Put(ts, string(f.codec.Append([]byte(enc), r)))
	return ok
}

// decodeRows decodes the rows of one time.
func (f *overFn) decodeRows(enc string) ([]row.Row, error) {
	b := []byte(enc)
	var out []row.Row
	for off := 0; off < len(b); {
		r, n, err := f.codec.Decode(b[off:])
		if err != nil {
			return nil, fmt.Errorf("sql/exec: OverAggregate: state: %w", err)
		}
		out = append(out, r)
		off += n
	}
	return out, nil
}

func (f *overFn) encodeRows(rs []row.Row) string {
	var b []byte
	for _, r := range rs {
		b = f.codec.Append(b, r)
	}
	return string(b)
}

// registerIdleCleanup is Flink's registerProcessingCleanupTimer: a
// processing-time timer maxTTL after now, moved only when the pending
// one is less than minTTL away.
func (f *overFn) registerIdleCleanup(ctx *weir.KeyedContext[string, row.Row]) {
	now := ctx.CurrentProcessingTime()
	cur, ok := f.cleanup.Value()
	if ok && now+f.minTTL <= cur {
		return
	}
	t := now + f.maxTTL
	ctx.RegisterProcessingTimeTimer(t)
	if ok {
		ctx.DeleteProcessingTimeTimer(cur)
	}
	f.cleanup.Update(t)
}

// registerRangeCleanup is the cleanup timer of bounded RANGE frames: the
// partition's state can go once time passes ts + the interval; the timer
// is set at ts + 1.5 x the interval + 1 (event or processing time).
func (f *overFn) registerRangeCleanup(ctx *weir.KeyedContext[string, row.Row], ts int64, proc bool) {
	minT := ts + f.offset + 1
	maxT := ts + f.offset + f.offset/2 + 1
	cur, ok := f.cleanup.Value()
	if ok && cur >= minT {
		return
	}
	if proc {
		ctx.RegisterProcessingTimeTimer(maxT)
	} else {
		ctx.RegisterEventTimeTimer(maxT)
	}
	f.cleanup.Update(maxT)
}

func (f *overFn) clearAll() {
	f.acc.Clear()
	if f.distinct != nil {
		f.distinct.Clear()
	}
	f.rows.Clear()
	f.last.Clear()
	f.count.Clear()
	f.smallest.Clear()
	f.cleanup.Clear()
}

// loadAcc loads the partition's accumulators (empty when it has none).
func (f *overFn) loadAcc() error {
	enc, ok := f.acc.Value()
	if !ok {
		f.set.reset()
		return nil
	}
	return f.set.decode(enc)
}

// emit sends in with the current aggregate values appended.
func (f *overFn) emit(ctx *weir.KeyedContext[string, row.Row], in row.Row, ts int64) {
	fields := make([]row.Value, 0, len(in.Fields)+len(f.set.calls))
	fields = append(append(fields, in.Fields...), f.vals...)
	ctx.CollectWithTimestamp(row.Row{Kind: row.Insert, Fields: fields}, ts)
}

// oldestTime returns the smallest time of over-rows (which is not empty).
func (f *overFn) oldestTime() int64 {
	oldest := int64(1<<63 - 1)
	for t := range f.rows.All() {
		oldest = min(oldest, t)
	}
	return oldest
}

// sortedTimes returns the times of over-rows in ascending order.
func (f *overFn) sortedTimes() []int64 {
	f.times = f.times[:0]
	for t := range f.rows.All() {
		f.times = append(f.times, t)
	}
	slices.Sort(f.times)
	return f.times
}

func (f *overFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	if f.proc() {
		return f.procTimer(ctx, ts)
	}
	if ctx.TimeDomain() == weir.ProcessingTime {
		return f.idleCleanup(ctx)
	}
	switch {
	case f.spec.Unbounded:
		return f.unboundedTimer(ctx)
	case f.spec.Rows:
		return f.rowsTimer(ctx, ts)
	}
	return f.rangeTimer(ctx, ts)
}

// idleCleanup clears an event-time partition whose cleanup timer fired,
// unless rows still wait for a watermark (then it waits another period).
func (f *overFn) idleCleanup(ctx *weir.KeyedContext[string, row.Row]) error {
	if f.minTTL == 0 {
		return nil
	}
	pending := false
	if f.spec.Unbounded {
		pending = !f.rows.IsEmpty()
	} else {
		last, _ := f.last.Value()
		for t := range f.rows.All() {
			if t > last {
				pending = true
				break
			}
		}
	}
	if pending {
		f.cleanup.Clear()
		f.registerIdleCleanup(ctx)
		return nil
	}
	f.clearAll()
	return nil
}

// unboundedTimer processes, in time order, the rows at or before the
// watermark (RowTime{Rows,Range}UnboundedPrecedingFunction).
func (f *overFn) unboundedTimer(ctx *weir.KeyedContext[string, row.Row]) error {
	times := f.sortedTimes()
	if len(times) == 0 {
		return nil
	}
	wm := ctx.CurrentWatermark()
	if err := f.loadAcc(); err != nil {
		return err
	}
	early := false
	for _, t := range times {
		if t > wm {
			early = true
			continue
		}
		enc, _ := f.rows.Get(t)
		rs, err := f.decodeRows(enc)
		if err != nil {
			return err
		}
		if f.spec.Rows {
			for _, r := range rs {
				if err := f.apply(r, false); err != nil {
					return err
				}
				if err := f.values(r); err != nil {
					return err
				}
				f.emit(ctx, r, t)
			}
		} else {
			for _, r := range rs {
				if err := f.apply(r, false); err != nil {
					return err
				}
			}
			if err := f.values(rs[len(rs)-1]); err != nil {
				return err
			}
			for _, r := range rs {
				f.emit(ctx, r, t)
			}
		}
		f.rows.Remove(t)
	}
	f.acc.Update(f.set.encode())
	if early {
		ctx.RegisterEventTimeTimer(wm + 1)
	}
	if f.minTTL > 0 {
		f.registerIdleCleanup(ctx)
	}
	return nil
}

// rowsTimer processes the rows of time ts in a ROWS n PRECEDING frame
// (RowTimeRowsBoundedPrecedingFunction): each row retracts the oldest row
// once the frame holds n + 1 rows.
func (f *overFn) rowsTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	if enc, ok := f.rows.Get(ts); ok {
		inputs, err := f.decodeRows(enc)
		if err != nil {
			return err
		}
		if err := f.loadAcc(); err != nil {
			return err
		}
		count, _ := f.count.Value()
		var retractList []row.Row
		retractTs, retractCnt := int64(0), 0
		for _, r := range inputs {
			if count >= f.offset {
				if retractList == nil {
					retractTs = f.oldestTime()
					enc, _ := f.rows.Get(retractTs)
					if retractList, err = f.decodeRows(enc); err != nil {
						return err
					}
				}
				if err := f.apply(retractList[retractCnt], true); err != nil {
					return err
				}
				retractCnt++
				if retractCnt == len(retractList) {
					f.rows.Remove(retractTs)
					retractList, retractCnt = nil, 0
				}
			} else {
				count++
			}
			if err := f.apply(r, false); err != nil {
				return err
			}
			if err := f.values(r); err != nil {
				return err
			}
			f.emit(ctx, r, ts)
		}
		if retractList != nil && retractCnt > 0 {
			f.rows.Put(retractTs, f.encodeRows(retractList[retractCnt:]))
		}
		f.count.Update(count)
		f.acc.Update(f.set.encode())
	}
	f.last.Update(ts)
	if f.minTTL > 0 {
		f.registerIdleCleanup(ctx)
	}
	return nil
}

// rangeTimer processes the rows of time ts in a RANGE INTERVAL PRECEDING
// frame (RowTimeRangeBoundedPrecedingFunction), or clears the partition
// when its cleanup timer fired.
func (f *overFn) rangeTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	if c, ok := f.cleanup.Value(); ok && c <= ts {
		f.clearAll()
		return nil
	}
	if enc, ok := f.rows.Get(ts); ok {
		if err := f.slideRange(ctx, ts, enc, ts); err != nil {
			return err
		}
	}
	f.last.Update(ts)
	return nil
}

// slideRange retracts the rows older than t - the interval, accumulates
// the rows of time t (encoded in enc) and emits them with one result,
// with event timestamp outTS.
func (f *overFn) slideRange(ctx *weir.KeyedContext[string, row.Row], t int64, enc string, outTS int64) error {
	inputs, err := f.decodeRows(enc)
	if err != nil {
		return err
	}
	if err := f.loadAcc(); err != nil {
		return err
	}
	// The rows that left the frame, in any order: retraction is
	// order-independent (Flink iterates its map state too).
	f.times = f.times[:0]
	for k := range f.rows.All() {
		if t-k > f.offset {
			f.times = append(f.times, k)
		}
	}
	for _, k := range f.times {
		old, _ := f.rows.Get(k)
		rs, err := f.decodeRows(old)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := f.apply(r, true); err != nil {
				return err
			}
		}
		f.rows.Remove(k)
	}
	for _, r := range inputs {
		if err := f.apply(r, false); err != nil {
			return err
		}
	}
	if err := f.values(inputs[len(inputs)-1]); err != nil {
		return err
	}
	for _, r := range inputs {
		f.emit(ctx, r, outTS)
	}
	f.acc.Update(f.set.encode())
	return nil
}

// procElement handles a row on processing time.
func (f *overFn) procElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	now := ctx.CurrentProcessingTime()
	ts := ctx.Timestamp()
	switch {
	case f.spec.Unbounded:
		// ProcTimeUnboundedPrecedingFunction.
		if err := f.loadAcc(); err != nil {
			return err
		}
		if err := f.apply(in, false); err != nil {
			return err
		}
		f.acc.Update(f.set.encode())
		if err := f.values(in); err != nil {
			return err
		}
		f.emit(ctx, in, ts)
		return nil
	case f.spec.Rows:
		return f.procRows(ctx, in, now, ts)
	}
	// ProcTimeRangeBoundedPrecedingFunction: buffer the row under its
	// arrival millisecond, processed when the clock passes it.
	if !f.appendRow(now, in) {
		ctx.RegisterProcessingTimeTimer(now + 1)
		f.registerRangeCleanup(ctx, now, true)
	}
	return nil
}

// procRows is ProcTimeRowsBoundedPrecedingFunction: the row retracts the
// oldest row once the frame holds n + 1 rows, and is emitted at once.
func (f *overFn) procRows(ctx *weir.KeyedContext[string, row.Row], in row.Row, now, ts int64) error {
	if f.minTTL > 0 {
		f.registerIdleCleanup(ctx)
	}
	if err := f.loadAcc(); err != nil {
		return err
	}
	smallest, ok := f.smallest.Value()
	if !ok {
		smallest = now
		f.smallest.Update(now)
	}
	count, _ := f.count.Value()
	if count == f.offset {
		if enc, ok := f.rows.Get(smallest); ok {
			rs, err := f.decodeRows(enc)
			if err != nil {
				return err
			}
			if err := f.apply(rs[0], true); err != nil {
				return err
			}
			rs = rs[1:]
			if len(rs) > 0 {
				f.rows.Put(smallest, f.encodeRows(rs))
			} else {
				f.rows.Remove(smallest)
				next := int64(1<<63 - 1)
				for t := range f.rows.All() {
					next = min(next, t)
				}
				f.smallest.Update(next)
			}
		}
	} else {
		count++
		f.count.Update(count)
	}
	f.appendRow(now, in)
	if s, _ := f.smallest.Value(); s > now {
		// The frame had emptied: the new row is the oldest.
		f.smallest.Update(now)
	}
	if err := f.apply(in, false); err != nil {
		return err
	}
	f.acc.Update(f.set.encode())
	if err := f.values(in); err != nil {
		return err
	}
	f.emit(ctx, in, ts)
	return nil
}

// procTimer handles processing-time timers: the cleanup of ROWS frames,
// and the rows of one millisecond of RANGE frames (then their cleanup).
func (f *overFn) procTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	if f.spec.Rows {
		if f.minTTL > 0 {
			f.clearAll()
		}
		return nil
	}
	if f.spec.Unbounded {
		return nil
	}
	// The rows that arrived in the millisecond before ts. They are
	// processed before the cleanup check: a cleanup timer can only share
	// their timer with a zero interval, and then they leave no state
	// another row needs (Flink checks the cleanup first and would drop
	// them).
	if enc, ok := f.rows.Get(ts - 1); ok {
		if err := f.slideRange(ctx, ts-1, enc, weir.NoTimestamp); err != nil {
			return err
		}
	}
	if c, ok := f.cleanup.Value(); ok && c <= ts {
		f.clearAll()
	}
	return nil
}
