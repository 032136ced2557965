package window

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// AssignerContext gives an assigner the processing time.
type AssignerContext interface {
	// CurrentProcessingTime returns processing time in milliseconds.
	CurrentProcessingTime() int64
}

// Assigner maps each record to the windows it belongs to (Flink's
// WindowAssigner).
type Assigner[T any, W Window] interface {
	// AssignWindows returns the windows of v, whose event timestamp is ts
	// (NoTimestamp if none). It appends to buf[:0] and returns the result,
	// so the caller can reuse one buffer for every record.
	AssignWindows(v T, ts int64, ctx AssignerContext, buf []W) ([]W, error)
	// DefaultTrigger is the trigger used unless another is set.
	DefaultTrigger() Trigger[T, W]
	// IsEventTime tells whether windows end by the watermark (event time)
	// or by the clock (processing time); lateness applies to the former.
	IsEventTime() bool
}

// MergingAssigner is an assigner whose windows merge when they overlap
// (sessions).
type MergingAssigner[T any, W Window] interface {
	Assigner[T, W]
	// MergeWindows calls merge for every group of windows that must merge,
	// with the resulting window. It may reorder windows.
	MergeWindows(windows []W, merge func(result W, merged []W))
}

// Validator is implemented by assigners, triggers and evictors whose
// settings can be invalid; the window operator checks them when it opens.
type Validator interface {
	Validate() error
}

// NoTimestamp is the timestamp of a record that has none (math.MinInt64).
const NoTimestamp int64 = math.MinInt64

var errNoTimestamp = errors.New("window: record has no timestamp: event-time windows need timestamps " +
	"(use a WatermarkStrategy with timestamps, or a processing-time assigner)")

func millis(d time.Duration) int64 { return d.Milliseconds() }

// Tumbling assigns each record to one window of a fixed size; windows are
// aligned to the epoch plus an offset. Build it with TumblingEventTime or
// TumblingProcessingTime.
type Tumbling[T any] struct {
	size, offset int64
	proc         bool
}

// TumblingEventTime returns tumbling windows of size by event time.
func TumblingEventTime[T any](size time.Duration) Tumbling[T] {
	return Tumbling[T]{size: millis(size)}
}

// TumblingProcessingTime returns tumbling windows of size by processing time.
func TumblingProcessingTime[T any](size time.Duration) Tumbling[T] {
	return Tumbling[T]{size: millis(size), proc: true}
}

// WithOffset shifts window starts by offset (e.g. -8h for days in UTC+8);
// its absolute value must be smaller than the size.
func (a Tumbling[T]) WithOffset(offset time.Duration) Tumbling[T] {
	a.offset = millis(offset)
	return a
}

// Size returns the window size in milliseconds.
func (a Tumbling[T]) Size() int64 { return a.size }

// Validate checks size and offset.
func (a Tumbling[T]) Validate() error {
	if a.size <= 0 {
		return fmt.Errorf("window: tumbling window size must be at least 1ms, got %dms", a.size)
	}
	if a.offset <= -a.size || a.offset >= a.size {
		return fmt.Errorf("window: tumbling window offset %dms must satisfy |offset| < size (%dms)", a.offset, a.size)
	}
	return nil
}

// AssignWindows returns the one window containing the record's timestamp
// (or the current processing time).
func (a Tumbling[T]) AssignWindows(_ T, ts int64, ctx AssignerContext, buf []TimeWindow) ([]TimeWindow, error) {
	if a.proc {
		ts = ctx.CurrentProcessingTime()
	} else if ts == NoTimestamp {
		return buf[:0], errNoTimestamp
	}
	start := StartWithOffset(ts, a.offset, a.size)
	return append(buf[:0], TimeWindow{Start: start, End: start + a.size}), nil
}

// DefaultTrigger is EventTimeTrigger or ProcessingTimeTrigger.
func (a Tumbling[T]) DefaultTrigger() Trigger[T, TimeWindow] { return defaultTimeTrigger[T](a.proc) }

// IsEventTime reports whether the windows are by event time.
func (a Tumbling[T]) IsEventTime() bool { return !a.proc }

func defaultTimeTrigger[T any](proc bool) Trigger[T, TimeWindow] {
	if proc {
		return ProcessingTimeTrigger[T, TimeWindow]{}
	}
	return EventTimeTrigger[T, TimeWindow]{}
}

// Sliding assigns each record to the size/slide overlapping windows of
// length size that start every slide. Build it with SlidingEventTime or
// SlidingProcessingTime.
type Sliding[T any] struct {
	size, slide, offset int64
	proc                bool
}

// SlidingEventTime returns sliding windows by event time.
func SlidingEventTime[T any](size, slide time.Duration) Sliding[T] {
	return Sliding[T]{size: millis(size), slide: millis(slide)}
}

// SlidingProcessingTime returns sliding windows by processing time.
func SlidingProcessingTime[T any](size, slide time.Duration) Sliding[T] {
	return Sliding[T]{size: millis(size), slide: millis(slide), proc: true}
}

// WithOffset shifts window starts by offset; |offset| must be below slide.
func (a Sliding[T]) WithOffset(offset time.Duration) Sliding[T] {
	a.offset = millis(offset)
	return a
}

// Validate checks size, slide and offset.
func (a Sliding[T]) Validate() error {
	if a.size <= 0 || a.slide <= 0 {
		return fmt.Errorf("window: sliding window size (%dms) and slide (%dms) must be at least 1ms", a.size, a.slide)
	}
	if a.offset <= -a.slide || a.offset >= a.slide {
		return fmt.Errorf("window: sliding window offset %dms must satisfy |offset| < slide (%dms)", a.offset, a.slide)
	}
	return nil
}

// AssignWindows returns every window containing the timestamp, latest
// start first (as Flink does).
func (a Sliding[T]) AssignWindows(_ T, ts int64, ctx AssignerContext, buf []TimeWindow) ([]TimeWindow, error) {
	if a.proc {
		ts = ctx.CurrentProcessingTime()
	} else if ts == NoTimestamp {
		return buf[:0], errNoTimestamp
	}
	buf = buf[:0]
	last := StartWithOffset(ts, a.offset, a.slide)
	for start := last; start > ts-a.size; start -= a.slide {
		buf = append(buf, TimeWindow{Start: start, End: start + a.size})
	}
	return buf, nil
}

// DefaultTrigger is EventTimeTrigger or ProcessingTimeTrigger.
func (a Sliding[T]) DefaultTrigger() Trigger[T, TimeWindow] { return defaultTimeTrigger[T](a.proc) }

// IsEventTime reports whether the windows are by event time.
func (a Sliding[T]) IsEventTime() bool { return !a.proc }

// Session puts each record in a window [ts, ts+gap) and merges windows that
// touch or overlap, so a session ends after a gap of inactivity. The gap is
// static or computed per record (so it can differ per key). Build it with
// EventTimeSession, DynamicEventTimeSession, ProcessingTimeSession or
// DynamicProcessingTimeSession.
type Session[T any] struct {
	gap  int64
	gapf func(T) time.Duration
	proc bool
}

// EventTimeSession returns event-time sessions closed by a gap.
func EventTimeSession[T any](gap time.Duration) Session[T] {
	return Session[T]{gap: millis(gap)}
}

// DynamicEventTimeSession returns event-time sessions whose gap gap(v)
// comes from each record.
func DynamicEventTimeSession[T any](gap func(T) time.Duration) Session[T] {
	return Session[T]{gapf: gap}
}

// ProcessingTimeSession returns processing-time sessions closed by a gap.
func ProcessingTimeSession[T any](gap time.Duration) Session[T] {
	return Session[T]{gap: millis(gap), proc: true}
}

// DynamicProcessingTimeSession returns processing-time sessions whose gap
// comes from each record.
func DynamicProcessingTimeSession[T any](gap func(T) time.Duration) Session[T] {
	return Session[T]{gapf: gap, proc: true}
}

// Validate checks the static gap.
func (a Session[T]) Validate() error {
	if a.gapf == nil && a.gap <= 0 {
		return fmt.Errorf("window: session gap must be at least 1ms, got %dms", a.gap)
	}
	return nil
}

// AssignWindows returns [ts, ts+gap).
func (a Session[T]) AssignWindows(v T, ts int64, ctx AssignerContext, buf []TimeWindow) ([]TimeWindow, error) {
	if a.proc {
		ts = ctx.CurrentProcessingTime()
	} else if ts == NoTimestamp {
		return buf[:0], errNoTimestamp
	}
	gap := a.gap
	if a.gapf != nil {
		gap = millis(a.gapf(v))
		if gap <= 0 {
			return buf[:0], fmt.Errorf("window: dynamic session gap must be at least 1ms, got %dms", gap)
		}
	}
	return append(buf[:0], TimeWindow{Start: ts, End: ts + gap}), nil
}

// MergeWindows merges touching or overlapping sessions.
func (a Session[T]) MergeWindows(windows []TimeWindow, merge func(result TimeWindow, merged []TimeWindow)) {
	MergeTimeWindows(windows, merge)
}

// DefaultTrigger is EventTimeTrigger or ProcessingTimeTrigger.
func (a Session[T]) DefaultTrigger() Trigger[T, TimeWindow] { return defaultTimeTrigger[T](a.proc) }

// IsEventTime reports whether the sessions are by event time.
func (a Session[T]) IsEventTime() bool { return !a.proc }

// Global puts every record of a key into the one GlobalWindow. Its default
// trigger never fires: set a trigger (e.g. CountTrigger).
type Global[T any] struct{}

// AssignWindows returns the global window.
func (Global[T]) AssignWindows(_ T, _ int64, _ AssignerContext, buf []GlobalWindow) ([]GlobalWindow, error) {
	return append(buf[:0], GlobalWindow{}), nil
}

// DefaultTrigger is NeverTrigger.
func (Global[T]) DefaultTrigger() Trigger[T, GlobalWindow] { return NeverTrigger[T, GlobalWindow]{} }

// IsEventTime returns false, as in Flink: global windows are not subject to
// lateness.
func (Global[T]) IsEventTime() bool { return false }
