package exec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// IntervalJoinSpec configures IntervalJoin. The time condition is
//
//	l.time BETWEEN r.time - LowerBound AND r.time + UpperBound
//
// that is r.time - LowerBound <= l.time <= r.time + UpperBound, with both
// bounds inclusive (the planner turns a strict bound into an inclusive one
// a millisecond tighter, as Flink does). LowerBound may be negative, but
// -LowerBound must not exceed UpperBound.
type IntervalJoinSpec struct {
	// Type is INNER, LEFT, RIGHT or FULL.
	Type JoinType
	// LeftTypes and RightTypes are the field types of the inputs.
	LeftTypes, RightTypes []row.Type
	// LeftKeys and RightKeys are the equi-join key columns (may be empty:
	// then all rows share one key and the join runs on one subtask's
	// state).
	LeftKeys, RightKeys []int
	// LeftTime and RightTime are the time attribute columns (TIMESTAMP or
	// TIMESTAMP_LTZ; their epoch milliseconds are used). Ignored with
	// ProcTime.
	LeftTime, RightTime int
	// LowerBound and UpperBound are the interval, truncated to
	// milliseconds.
	LowerBound, UpperBound time.Duration
	// ProcTime makes it a processing-time interval join (Flink's
	// ProcTimeIntervalJoin): a row's time is the processing time at which
	// it arrives and its state is cleaned up by processing-time timers.
	ProcTime bool
	// Condition is the optional residual condition (nil = none).
	Condition JoinCondition
}

func (s *IntervalJoinSpec) check() error {
	if s.Type > FullJoin {
		return fmt.Errorf("sql/exec: interval join: join type %s is not supported (INNER, LEFT, RIGHT or FULL)", s.Type)
	}
	if len(s.LeftKeys) != len(s.RightKeys) {
		return fmt.Errorf("sql/exec: interval join: %d left and %d right key columns", len(s.LeftKeys), len(s.RightKeys))
	}
	for i := range s.LeftKeys {
		l, r := s.LeftKeys[i], s.RightKeys[i]
		if l < 0 || l >= len(s.LeftTypes) || r < 0 || r >= len(s.RightTypes) {
			return fmt.Errorf("sql/exec: interval join: key pair %d (%d, %d) out of range", i, l, r)
		}
		if err := checkJoinKeyTypes(s.LeftTypes[l], s.RightTypes[r]); err != nil {
			return fmt.Errorf("sql/exec: interval join: key pair %d: %w", i, err)
		}
	}
	if !s.ProcTime {
		if s.LeftTime < 0 || s.LeftTime >= len(s.LeftTypes) || !s.LeftTypes[s.LeftTime].IsTimestamp() {
			return fmt.Errorf("sql/exec: interval join: left time column %d is not a timestamp column", s.LeftTime)
		}
		if s.RightTime < 0 || s.RightTime >= len(s.RightTypes) || !s.RightTypes[s.RightTime].IsTimestamp() {
			return fmt.Errorf("sql/exec: interval join: right time column %d is not a timestamp column", s.RightTime)
		}
	}
	if -s.LowerBound.Milliseconds() > s.UpperBound.Milliseconds() {
		return errors.New("sql/exec: interval join: the interval is empty (lower bound above upper bound)")
	}
	return nil
}

// intervalRow is a row kept in interval join state, with whether it has
// been joined (emitted) at least once.
type intervalRow struct {
	Row     string
	Emitted bool
}

// IntervalJoin joins two append-only streams on equal keys and a time
// interval (Flink's RowTimeIntervalJoin, or ProcTimeIntervalJoin with
// spec.ProcTime). Each row is kept in keyed state, by time, until the
// other side's time (the watermark, or processing time) has passed the
// end of the interval it can still join; then it is removed, and for an
// outer side emitted padded with NULLs if it never joined. A row that
// arrives when the other side has already passed its interval is not kept:
// it joins the rows still in state, and an outer row that joined none is
// emitted padded at once.
//
// The output is append-only: left columns, then right columns. As in
// Flink, an event-time join holds its output watermark back by the larger
// of the interval's two sides, so that the rows it emits (whose time
// attributes lie up to that far behind the input watermark) are not late
// downstream.
func IntervalJoin(left, right weir.Stream[row.Row], spec IntervalJoinSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	lower, upper := spec.LowerBound.Milliseconds(), spec.UpperBound.Milliseconds()
	fn := &intervalJoinFn{
		spec:   spec,
		lcodec: row.NewCodec(spec.LeftTypes), rcodec: row.NewCodec(spec.RightTypes),
		// As Flink: the left row may be up to leftRelative before the
		// right row, up to rightRelative after it.
		leftRelative: lower, rightRelative: upper,
	}
	fn.minCleanUp = (fn.leftRelative + fn.rightRelative) / 2
	ks := weir.ConnectKeyed(
		weir.KeyBy(left, joinKeySelector(spec.LeftKeys, spec.LeftTypes)),
		weir.KeyBy(right, joinKeySelector(spec.RightKeys, spec.RightTypes)))
	name := "IntervalJoin(" + spec.Type.String() + ")"
	out := weir.CoProcessKeyed[string, row.Row, row.Row, row.Row](ks, fn).DefaultName(name)
	if spec.ProcTime {
		return out, nil
	}
	delay := max(fn.leftRelative, fn.rightRelative, 0)
	return weir.Transform(out, "WatermarkDelay", func(o operator.Output[row.Row]) operator.OneInput[row.Row] {
		return &watermarkDelay{out: o, delay: delay}
	}), nil
}

// watermarkDelay forwards records and holds watermarks back by delay ms
// (Flink's KeyedCoProcessOperatorWithWatermarkDelay).
type watermarkDelay struct {
	out   operator.Output[row.Row]
	delay int64
}

func (*watermarkDelay) Open(*operator.Context) error { return nil }
func (*watermarkDelay) Finish() error                { return nil }
func (*watermarkDelay) Close() error                 { return nil }

func (w *watermarkDelay) ProcessElement(r row.Row, ts int64) error {
	return w.out.ProcessElement(r, ts)
}

func (w *watermarkDelay) ProcessWatermark(wm int64) error {
	if wm != operator.MaxWatermark && wm > operator.MinWatermark+w.delay {
		wm -= w.delay
	}
	return w.out.ProcessWatermark(wm)
}

func (w *watermarkDelay) ProcessWatermarkStatus(idle bool) error {
	return w.out.ProcessWatermarkStatus(idle)
}

type intervalJoinFn struct {
	spec                        IntervalJoinSpec
	lcodec, rcodec              *row.Codec
	leftRelative, rightRelative int64
	minCleanUp                  int64

	leftCache, rightCache state.Map[int64, []intervalRow]
	// leftTimer holds the cleanup time of the right cache, rightTimer
	// that of the left cache (Flink's naming: a left row registers the
	// timer on the right).
	leftTimer, rightTimer state.Value[int64]

	// Per subtask, not in state (as Flink's fields): lower bounds of the
	// times still worth scanning in each cache.
	leftExpiration, rightExpiration int64
	times                           []int64
}

func (f *intervalJoinFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	st := ctx.State()
	f.leftCache = state.GetMap[string, int64, []intervalRow](st, state.Descriptor{Name: "ij-left"})
	f.rightCache = state.GetMap[string, int64, []intervalRow](st, state.Descriptor{Name: "ij-right"})
	f.leftTimer = state.GetValue[string, int64](st, state.Descriptor{Name: "ij-left-timer"})
	f.rightTimer = state.GetValue[string, int64](st, state.Descriptor{Name: "ij-right-timer"})
	return nil
}

type ijCtx = weir.KeyedContext[string, row.Row]

// operatorTime is the time both sides have reached: the watermark (0
// before the first positive one), or processing time.
func (f *intervalJoinFn) operatorTime(ctx *ijCtx) int64 {
	if f.spec.ProcTime {
		return ctx.CurrentProcessingTime()
	}
	if wm := ctx.CurrentWatermark(); wm > 0 {
		return wm
	}
	return 0
}

func (f *intervalJoinFn) expiration(opTime, relative int64) int64 {
	if opTime == math.MaxInt64 {
		return math.MaxInt64
	}
	return opTime - relative - 1
}

func (f *intervalJoinFn) rowTime(ctx *ijCtx, r row.Row, col int) (int64, error) {
	if f.spec.ProcTime {
		return ctx.CurrentProcessingTime(), nil
	}
	v := r.Fields[col]
	if v.IsNull() {
		return 0, errors.New("sql/exec: interval join: NULL time attribute")
	}
	return v.Millis(), nil
}

func (f *intervalJoinFn) ProcessElement1(ctx *ijCtx, in row.Row) error {
	return f.process(ctx, in, true)
}

func (f *intervalJoinFn) ProcessElement2(ctx *ijCtx, in row.Row) error {
	return f.process(ctx, in, false)
}

func (f *intervalJoinFn) process(ctx *ijCtx, in row.Row, isLeft bool) error {
	s := &f.spec
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: interval join: input must be append-only, got a %s row", in.Kind)
	}
	inTypes, inKeys, timeCol, inCodec := s.LeftTypes, s.LeftKeys, s.LeftTime, f.lcodec
	otherCache, ownCache, otherCodec := f.rightCache, f.leftCache, f.rcodec
	// The other side's rows qualify between t - before and t + after.
	before, after := f.rightRelative, f.leftRelative
	otherExp := &f.rightExpiration
	otherOuter, inOuter := s.Type.rightOuter(), s.Type.leftOuter()
	otherTimer := f.rightTimer // the timer cleaning our own cache
	if !isLeft {
		inTypes, inKeys, timeCol, inCodec = s.RightTypes, s.RightKeys, s.RightTime, f.rcodec
		otherCache, ownCache, otherCodec = f.leftCache, f.rightCache, f.lcodec
		before, after = f.leftRelative, f.rightRelative
		otherExp = &f.leftExpiration
		otherOuter, inOuter = inOuter, otherOuter
		otherTimer = f.leftTimer
	}
	if len(in.Fields) != len(inTypes) {
		return fmt.Errorf("sql/exec: interval join: input row has %d fields, want %d", len(in.Fields), len(inTypes))
	}
	opTime := f.operatorTime(ctx)
	t, err := f.rowTime(ctx, in, timeCol)
	if err != nil {
		return err
	}
	lowerQ, upperQ := t-before, t+after
	emitted := false
	nullKey := hasNullKey(in, inKeys)

	if *otherExp < upperQ {
		*otherExp = f.expiration(opTime, before)
		// Visit the other cache in time order, for a deterministic output.
		f.times = f.times[:0]
		for ts := range otherCache.All() {
			f.times = append(f.times, ts)
		}
		slices.Sort(f.times)
		for _, ts := range f.times {
			rows, _ := otherCache.Get(ts)
			updated := false
			if ts >= lowerQ && ts <= upperQ && !nullKey {
				for i := range rows {
					o, _, err := otherCodec.Decode([]byte(rows[i].Row))
					if err != nil {
						return fmt.Errorf("sql/exec: interval join: state: %w", err)
					}
					ok, err := f.cond(in, o, isLeft)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					emitted = true
					f.emitPair(ctx, in, o, isLeft)
					if otherOuter && !rows[i].Emitted {
						rows[i].Emitted = true
						updated = true
					}
				}
			}
			if ts <= *otherExp {
				if otherOuter {
					if err := f.emitUnjoined(ctx, rows, otherCodec, !isLeft); err != nil {
						return err
					}
				}
				otherCache.Remove(ts)
			} else if updated {
				otherCache.Put(ts, rows)
			}
		}
	}
	// Keep the row while the other side may still send rows it joins.
	if opTime < upperQ {
		rows, _ := ownCache.Get(t)
		rows = append(rows, intervalRow{Row: string(inCodec.Append(nil, in)), Emitted: emitted})
		ownCache.Put(t, rows)
		if _, ok := otherTimer.Value(); !ok {
			f.registerCleanUp(ctx, t, isLeft)
		}
	} else if !emitted && inOuter {
		f.emitPadded(ctx, in, isLeft)
	}
	return nil
}

func (f *intervalJoinFn) cond(in, o row.Row, isLeft bool) (bool, error) {
	if f.spec.Condition == nil {
		return true, nil
	}
	var ok bool
	var err error
	if isLeft {
		ok, err = f.spec.Condition(in.Fields, o.Fields)
	} else {
		ok, err = f.spec.Condition(o.Fields, in.Fields)
	}
	if err != nil {
		return false, fmt.Errorf("sql/exec: interval join condition: %w", err)
	}
	return ok, nil
}

func (f *intervalJoinFn) emitPair(ctx *ijCtx, in, o row.Row, isLeft bool) {
	if isLeft {
		ctx.Collect(joinRows(row.Insert, in.Fields, o.Fields))
	} else {
		ctx.Collect(joinRows(row.Insert, o.Fields, in.Fields))
	}
}

// emitPadded emits r (of the left side if isLeft) padded with NULLs.
func (f *intervalJoinFn) emitPadded(ctx *ijCtx, r row.Row, isLeft bool) {
	if isLeft {
		ctx.Collect(joinRows(row.Insert, r.Fields, make([]row.Value, len(f.spec.RightTypes))))
	} else {
		ctx.Collect(joinRows(row.Insert, make([]row.Value, len(f.spec.LeftTypes)), r.Fields))
	}
}

func (f *intervalJoinFn) emitUnjoined(ctx *ijCtx, rows []intervalRow, c *row.Codec, isLeft bool) error {
	for _, ir := range rows {
		if ir.Emitted {
			continue
		}
		r, _, err := c.Decode([]byte(ir.Row))
		if err != nil {
			return fmt.Errorf("sql/exec: interval join: state: %w", err)
		}
		f.emitPadded(ctx, r, isLeft)
	}
	return nil
}

// registerCleanUp registers the timer that expires the cache of the side
// a row at rowTime was added to (left if isLeft).
func (f *intervalJoinFn) registerCleanUp(ctx *ijCtx, rowTime int64, isLeft bool) {
	var at int64
	if isLeft {
		at = rowTime + f.leftRelative + f.minCleanUp + 1
		f.rightTimer.Update(at)
	} else {
		at = rowTime + f.rightRelative + f.minCleanUp + 1
		f.leftTimer.Update(at)
	}
	if f.spec.ProcTime {
		ctx.RegisterProcessingTimeTimer(at)
	} else {
		ctx.RegisterEventTimeTimer(at)
	}
}

func (f *intervalJoinFn) OnTimer(ctx *ijCtx, ts int64) error {
	opTime := max(f.operatorTime(ctx), ts)
	if lt, ok := f.leftTimer.Value(); ok && lt == ts {
		f.rightExpiration = f.expiration(opTime, f.rightRelative)
		if err := f.removeExpired(ctx, f.rightExpiration, f.rightCache, f.leftTimer, false); err != nil {
			return err
		}
	}
	if rt, ok := f.rightTimer.Value(); ok && rt == ts {
		f.leftExpiration = f.expiration(opTime, f.leftRelative)
		if err := f.removeExpired(ctx, f.leftExpiration, f.leftCache, f.rightTimer, true); err != nil {
			return err
		}
	}
	return nil
}

func (f *intervalJoinFn) removeExpired(ctx *ijCtx, exp int64, cache state.Map[int64, []intervalRow], timer state.Value[int64], left bool) error {
	f.times = f.times[:0]
	for ts := range cache.All() {
		f.times = append(f.times, ts)
	}
	slices.Sort(f.times)
	earliest, any := int64(0), false
	outer := (left && f.spec.Type.leftOuter()) || (!left && f.spec.Type.rightOuter())
	c := f.rcodec
	if left {
		c = f.lcodec
	}
	for _, ts := range f.times {
		if ts <= exp {
			if outer {
				rows, _ := cache.Get(ts)
				if err := f.emitUnjoined(ctx, rows, c, left); err != nil {
					return err
				}
			}
			cache.Remove(ts)
			continue
		}
		if !any || ts < earliest {
			earliest, any = ts, true
		}
	}
	if any {
		f.registerCleanUp(ctx, earliest, left)
	} else {
		timer.Clear()
		cache.Clear()
	}
	return nil
}
