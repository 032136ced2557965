package weir

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
)

// IntervalJoinStreams are two keyed streams about to be interval-joined;
// call Between to set the interval.
type IntervalJoinStreams[K comparable, A, B any] struct {
	left  KeyedStream[K, A]
	right KeyedStream[K, B]
}

// IntervalJoin joins two keyed streams by key and event time (Flink's
// KeyedStream.intervalJoin): a left record a and a right record b with the
// same key are joined when
//
//	a.ts + lower <= b.ts <= a.ts + upper
//
// with the bounds set by Between (inclusive unless made exclusive). Both
// streams must carry event timestamps; a record without one fails the job.
func IntervalJoin[K comparable, A, B any](left KeyedStream[K, A], right KeyedStream[K, B]) IntervalJoinStreams[K, A, B] {
	return IntervalJoinStreams[K, A, B]{left: left, right: right}
}

// Between sets the interval, relative to the left record's timestamp, in
// which right records join it. lower may be negative; it must not exceed
// upper (the job fails when built otherwise). Bounds are truncated to
// milliseconds.
func (j IntervalJoinStreams[K, A, B]) Between(lower, upper time.Duration) IntervalJoined[K, A, B] {
	return IntervalJoined[K, A, B]{
		left: j.left, right: j.right,
		lower: lower.Milliseconds(), upper: upper.Milliseconds(),
		lowerInclusive: true, upperInclusive: true,
	}
}

// IntervalJoined is a configured interval join; process it with ProcessJoin.
type IntervalJoined[K comparable, A, B any] struct {
	left                           KeyedStream[K, A]
	right                          KeyedStream[K, B]
	lower, upper                   int64
	lowerInclusive, upperInclusive bool
	lateLeft, lateRight            string
}

// LowerBoundExclusive makes the lower bound exclusive: b.ts > a.ts + lower.
func (j IntervalJoined[K, A, B]) LowerBoundExclusive() IntervalJoined[K, A, B] {
	j.lowerInclusive = false
	return j
}

// UpperBoundExclusive makes the upper bound exclusive: b.ts < a.ts + upper.
func (j IntervalJoined[K, A, B]) UpperBoundExclusive() IntervalJoined[K, A, B] {
	j.upperInclusive = false
	return j
}

// SideOutputLeftLateData sends left records that arrive behind the watermark
// to tag (read it with SideOutput on the join's result) instead of dropping
// them.
func (j IntervalJoined[K, A, B]) SideOutputLeftLateData(tag OutputTag[A]) IntervalJoined[K, A, B] {
	j.lateLeft = tag.id
	return j
}

// SideOutputRightLateData sends late right records to tag instead of
// dropping them.
func (j IntervalJoined[K, A, B]) SideOutputRightLateData(tag OutputTag[B]) IntervalJoined[K, A, B] {
	j.lateRight = tag.id
	return j
}

// JoinContext is given to a ProcessJoinFunction for each joined pair.
type JoinContext[O any] struct {
	left, right, ts int64
	out             *outputs[O]
	err             error
}

// LeftTimestamp returns the left record's timestamp.
func (c *JoinContext[O]) LeftTimestamp() int64 { return c.left }

// RightTimestamp returns the right record's timestamp.
func (c *JoinContext[O]) RightTimestamp() int64 { return c.right }

// Timestamp returns the pair's timestamp: the larger of the two.
func (c *JoinContext[O]) Timestamp() int64 { return c.ts }

// Collect emits a record with the pair's timestamp.
func (c *JoinContext[O]) Collect(v O) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, c.ts)
	}
}

func (c *JoinContext[O]) sideOutput(id string) (any, int64) { return c.out.sideOutput(id), c.ts }
func (c *JoinContext[O]) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// ProcessJoinFunction handles each joined pair of an interval join (Flink's
// ProcessJoinFunction). Implement Opener and Closer for set-up and
// tear-down.
type ProcessJoinFunction[A, B, O any] interface {
	// ProcessElement handles one joined pair; it may emit any number of
	// records (with the pair's timestamp) and side outputs.
	ProcessElement(left A, right B, ctx *JoinContext[O]) error
}

// ProcessJoinFunc adapts a function to ProcessJoinFunction.
type ProcessJoinFunc[A, B, O any] func(left A, right B, ctx *JoinContext[O]) error

// ProcessElement calls f.
func (f ProcessJoinFunc[A, B, O]) ProcessElement(left A, right B, ctx *JoinContext[O]) error {
	return f(left, right, ctx)
}

// ProcessJoin runs the interval join, calling fn for every joined pair.
//
// Semantics follow Flink's IntervalJoinOperator. Each side's records are
// buffered per key in state, by timestamp. A new record is joined with the
// buffered records of the other side whose timestamps fall in its interval;
// the pair's timestamp is the larger of the two. Records whose timestamp is
// behind the operator's watermark (the minimum of both inputs' watermarks)
// are late: they are dropped and counted, or sent to the late-data side
// outputs. An event-time timer per key and timestamp removes buffered
// records once the watermark shows that no record that may still arrive can
// join them.
func ProcessJoin[K comparable, A, B, O any](j IntervalJoined[K, A, B], fn ProcessJoinFunction[A, B, O]) Stream[O] {
	return twoInput(j.left.s, j.right.s, "IntervalJoin", func(out *outputs[O]) (runtime.TwoInput[A, B], error) {
		return newIntervalJoinOp(j, fn, out)
	})
}

func newIntervalJoinOp[K comparable, A, B, O any](j IntervalJoined[K, A, B], fn ProcessJoinFunction[A, B, O], out *outputs[O]) (*intervalJoinOp[K, A, B, O], error) {
	if fn == nil {
		return nil, errors.New("ProcessJoin needs a function")
	}
	if j.lower > j.upper {
		return nil, fmt.Errorf("interval join: lower bound %dms exceeds upper bound %dms", j.lower, j.upper)
	}
	lower, upper := j.lower, j.upper
	// Make both bounds inclusive, as Flink does, so that the join needs no
	// more checks.
	if !j.lowerInclusive {
		lower = satAdd(lower, 1)
	}
	if !j.upperInclusive {
		upper = satAdd(upper, -1)
	}
	op := &intervalJoinOp[K, A, B, O]{
		key1: j.left.key, key2: j.right.key, fn: fn,
		lower: lower, upper: upper,
		lateLeftTag: j.lateLeft, lateRightTag: j.lateRight,
	}
	op.out = out
	return op, nil
}

// joinTimer is the namespace of an interval join's cleanup timer: which
// side's buffer, and which timestamp in it, to remove.
type joinTimer struct {
	right  bool
	bucket int64
}

type intervalJoinOp[K comparable, A, B, O any] struct {
	forwardOp[O]
	keyed[K]
	key1         func(A) K
	key2         func(B) K
	fn           ProcessJoinFunction[A, B, O]
	raw          any
	lower, upper int64 // inclusive, relative to the left record
	left         statebackend.Map[struct{}, int64, []A]
	right        statebackend.Map[struct{}, int64, []B]
	timers       *runtime.TimerService[K, joinTimer]
	wm           int64
	jc           JoinContext[O]
	lateLeftTag  string
	lateRightTag string
	lateLeft     runtime.Output[A]
	lateRight    runtime.Output[B]
	rc           RuntimeContext
}

func (p *intervalJoinOp[K, A, B, O]) Open(ctx *runtime.OperatorContext) error {
	p.ctx = ctx
	p.fn = perSubtask(p.fn)
	p.raw = p.fn
	var err error
	if p.keyed, err = newKeyed[K](ctx); err != nil {
		return err
	}
	p.left = states.NewMap[K, struct{}, int64, []A](p.backend, statebackend.TTL{})
	p.right = states.NewMap[K, struct{}, int64, []B](p.backend, statebackend.TTL{})
	p.timers = keyedTimers[K, joinTimer](&p.keyed, ctx, "cleanup", p.cleanup,
		func(runtime.Timer[K, joinTimer]) error { return nil })
	p.wm = runtime.MinWatermark
	p.jc = JoinContext[O]{out: p.out}
	p.lateLeft, _ = p.out.sideOutput(p.lateLeftTag).(runtime.Output[A])
	p.lateRight, _ = p.out.sideOutput(p.lateRightTag).(runtime.Output[B])
	p.rc = RuntimeContext{op: ctx}
	if o, ok := p.raw.(Opener); ok {
		if err := o.Open(&p.rc); err != nil {
			return opError(ctx, err)
		}
	}
	return nil
}

func (p *intervalJoinOp[K, A, B, O]) Close() error {
	if c, ok := p.raw.(Closer); ok {
		return c.Close()
	}
	return nil
}

var errJoinNoTimestamp = errors.New("interval join: record has no event timestamp; interval joins run in event time, so the sources need a timestamp assigner")

// late reports whether a record at ts is behind the watermark.
func (p *intervalJoinOp[K, A, B, O]) late(ts int64) bool {
	return p.wm != runtime.MinWatermark && ts < p.wm
}

func (p *intervalJoinOp[K, A, B, O]) ProcessElement1(v A, ts int64) error {
	if ts == runtime.NoTimestamp {
		return opError(p.ctx, errJoinNoTimestamp)
	}
	if p.late(ts) {
		if p.lateLeft != nil {
			return p.lateLeft.ProcessElement(v, ts)
		}
		p.ctx.Metrics.LateRecordsDropped++
		return nil
	}
	if err := p.kc.Set(p.key1(v)); err != nil {
		return opError(p.ctx, err)
	}
	buf, _ := p.left.Get(ts)
	p.left.Put(ts, append(buf, v))
	lo, hi := satAdd(ts, p.lower), satAdd(ts, p.upper)
	for rts, bs := range p.right.All() {
		if rts < lo || rts > hi {
			continue
		}
		for _, b := range bs {
			if err := p.emit(v, b, ts, rts); err != nil {
				return err
			}
		}
	}
	// The left record can join right records up to ts+upper. Records at or
	// behind the watermark are late, so once the watermark passes
	// ts+upper no joinable right record can arrive. Flink removes the
	// record when the watermark reaches ts+upper; Weir keeps it one
	// millisecond longer, so that a right record exactly at the watermark
	// (not late) still finds it.
	cleanup := ts
	if p.upper > 0 {
		cleanup = satAdd(ts, p.upper)
	}
	p.timers.RegisterEventTime(runtime.Timer[K, joinTimer]{
		TS: satAdd(cleanup, 1), Key: p.kc.Key, NS: joinTimer{bucket: ts}, KeyGroup: p.kc.KeyGroup,
	})
	return nil
}

func (p *intervalJoinOp[K, A, B, O]) ProcessElement2(v B, ts int64) error {
	if ts == runtime.NoTimestamp {
		return opError(p.ctx, errJoinNoTimestamp)
	}
	if p.late(ts) {
		if p.lateRight != nil {
			return p.lateRight.ProcessElement(v, ts)
		}
		p.ctx.Metrics.LateRecordsDropped++
		return nil
	}
	if err := p.kc.Set(p.key2(v)); err != nil {
		return opError(p.ctx, err)
	}
	buf, _ := p.right.Get(ts)
	p.right.Put(ts, append(buf, v))
	// a.ts + lower <= ts <= a.ts + upper  <=>  ts-upper <= a.ts <= ts-lower
	lo, hi := satAdd(ts, negate(p.upper)), satAdd(ts, negate(p.lower))
	for lts, as := range p.left.All() {
		if lts < lo || lts > hi {
			continue
		}
		for _, a := range as {
			if err := p.emit(a, v, lts, ts); err != nil {
				return err
			}
		}
	}
	// The right record can join left records up to ts-lower.
	cleanup := ts
	if p.lower < 0 {
		cleanup = satAdd(ts, negate(p.lower))
	}
	p.timers.RegisterEventTime(runtime.Timer[K, joinTimer]{
		TS: satAdd(cleanup, 1), Key: p.kc.Key, NS: joinTimer{right: true, bucket: ts}, KeyGroup: p.kc.KeyGroup,
	})
	return nil
}

func (p *intervalJoinOp[K, A, B, O]) emit(a A, b B, ats, bts int64) error {
	c := &p.jc
	c.left, c.right, c.ts, c.err = ats, bts, max(ats, bts), nil
	if err := p.fn.ProcessElement(a, b, c); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

// cleanup removes a buffered timestamp whose records can join no more.
func (p *intervalJoinOp[K, A, B, O]) cleanup(t runtime.Timer[K, joinTimer]) error {
	p.kc.SetKnown(t.Key, t.KeyGroup)
	if t.NS.right {
		p.right.Remove(t.NS.bucket)
	} else {
		p.left.Remove(t.NS.bucket)
	}
	return nil
}

func (p *intervalJoinOp[K, A, B, O]) ProcessWatermark(wm int64) error {
	p.wm = wm
	p.ctx.Metrics.CurrentWatermark = wm
	if err := p.timers.AdvanceWatermark(wm); err != nil {
		return err
	}
	return p.out.ProcessWatermark(wm)
}

// bufferedLen returns the number of timestamps buffered on each side, over
// all keys (for tests).
func (p *intervalJoinOp[K, A, B, O]) bufferedLen() (left, right int) {
	var keys []K
	_ = p.left.(statebackend.KeyLister[K, struct{}]).ForEachKey(func(k K, _ struct{}) { keys = append(keys, k) })
	for _, k := range keys {
		p.kc.SetKnown(k, p.kc.GroupOf(k))
		for range p.left.All() {
			left++
		}
	}
	keys = keys[:0]
	_ = p.right.(statebackend.KeyLister[K, struct{}]).ForEachKey(func(k K, _ struct{}) { keys = append(keys, k) })
	for _, k := range keys {
		p.kc.SetKnown(k, p.kc.GroupOf(k))
		for range p.right.All() {
			right++
		}
	}
	return left, right
}

// satAdd adds without wrapping around: results saturate at the int64 range.
func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// negate returns -x, saturating for MinInt64.
func negate(x int64) int64 {
	if x == math.MinInt64 {
		return math.MaxInt64
	}
	return -x
}
