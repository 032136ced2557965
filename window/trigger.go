package window

import (
	"fmt"
	"time"
)

// Result is a trigger's decision (Flink's TriggerResult).
type Result uint8

// Trigger results.
const (
	// Continue does nothing.
	Continue Result = iota
	// Fire evaluates the window function and emits its result; the
	// window's contents are kept.
	Fire
	// Purge discards the window's contents without emitting.
	Purge
	// FireAndPurge emits, then discards the contents.
	FireAndPurge
)

// IsFire reports whether r emits the window.
func (r Result) IsFire() bool { return r == Fire || r == FireAndPurge }

// IsPurge reports whether r discards the window's contents.
func (r Result) IsPurge() bool { return r == Purge || r == FireAndPurge }

// String returns the result's name.
func (r Result) String() string {
	switch r {
	case Continue:
		return "CONTINUE"
	case Fire:
		return "FIRE"
	case Purge:
		return "PURGE"
	case FireAndPurge:
		return "FIRE_AND_PURGE"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Int64State is a trigger's int64 value in the current key and window.
type Int64State interface {
	// Get returns the value, and false if there is none.
	Get() (int64, bool)
	// Set stores v.
	Set(v int64)
	// Clear removes the value.
	Clear()
}

// TriggerContext is what the window operator gives a trigger: the current
// key's timers and per-window state, scoped to the window being handled.
// Timers registered here call the trigger back with that window.
type TriggerContext interface {
	// CurrentWatermark returns the operator's current event time.
	CurrentWatermark() int64
	// CurrentProcessingTime returns processing time in milliseconds.
	CurrentProcessingTime() int64
	// RegisterEventTimeTimer asks for OnEventTime when the watermark
	// reaches ts. One timer per key, window and time.
	RegisterEventTimeTimer(ts int64)
	// DeleteEventTimeTimer removes an event-time timer.
	DeleteEventTimeTimer(ts int64)
	// RegisterProcessingTimeTimer asks for OnProcessingTime at ts.
	RegisterProcessingTimeTimer(ts int64)
	// DeleteProcessingTimeTimer removes a processing-time timer.
	DeleteProcessingTimeTimer(ts int64)
	// Int64State returns the trigger state called name in the current key
	// and window. Different triggers of one operator must use different
	// names.
	Int64State(name string) Int64State
	// MergeInt64State, valid only in OnMerge, folds the named state of
	// the windows being merged into the merged window's state with merge.
	MergeInt64State(name string, merge func(a, b int64) int64)
}

// Trigger decides when a window emits and when its contents are purged
// (Flink's Trigger). A trigger is shared by the operator's subtasks: keep
// per-window data in the context's state, never in the trigger value.
type Trigger[T any, W Window] interface {
	// OnElement is called for every element added to window w.
	OnElement(v T, ts int64, w W, ctx TriggerContext) Result
	// OnEventTime is called when an event-time timer of w fires.
	OnEventTime(time int64, w W, ctx TriggerContext) Result
	// OnProcessingTime is called when a processing-time timer of w fires.
	OnProcessingTime(time int64, w W, ctx TriggerContext) Result
	// CanMerge reports whether the trigger supports merging windows.
	CanMerge() bool
	// OnMerge is called with the merged window after windows merged; the
	// trigger re-registers its timers and merges its state. The timers
	// and state of the merged-away windows are cleared by the operator
	// calling Clear on each of them.
	OnMerge(w W, ctx TriggerContext)
	// Clear removes the trigger's timers and state of w; it is called when
	// the window is purged for good.
	Clear(w W, ctx TriggerContext)
}

// EventTimeTrigger fires once the watermark passes the window's end, and
// again for every element that arrives later (within the allowed
// lateness). It is the default trigger of event-time assigners.
type EventTimeTrigger[T any, W Window] struct{}

// OnElement fires at once for a window the watermark already passed;
// otherwise it registers a timer at the window's end.
func (EventTimeTrigger[T, W]) OnElement(_ T, _ int64, w W, ctx TriggerContext) Result {
	if w.MaxTimestamp() <= ctx.CurrentWatermark() {
		return Fire
	}
	ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	return Continue
}

// OnEventTime fires at the window's end.
func (EventTimeTrigger[T, W]) OnEventTime(time int64, w W, _ TriggerContext) Result {
	if time == w.MaxTimestamp() {
		return Fire
	}
	return Continue
}

// OnProcessingTime does nothing.
func (EventTimeTrigger[T, W]) OnProcessingTime(int64, W, TriggerContext) Result { return Continue }

// CanMerge returns true.
func (EventTimeTrigger[T, W]) CanMerge() bool { return true }

// OnMerge registers the merged window's timer unless the watermark passed
// it.
func (EventTimeTrigger[T, W]) OnMerge(w W, ctx TriggerContext) {
	if m := w.MaxTimestamp(); m > ctx.CurrentWatermark() {
		ctx.RegisterEventTimeTimer(m)
	}
}

// Clear deletes the window's timer.
func (EventTimeTrigger[T, W]) Clear(w W, ctx TriggerContext) {
	ctx.DeleteEventTimeTimer(w.MaxTimestamp())
}

// ProcessingTimeTrigger fires when processing time reaches the window's
// end. It is the default trigger of processing-time assigners.
type ProcessingTimeTrigger[T any, W Window] struct{}

// OnElement registers a processing-time timer at the window's end.
func (ProcessingTimeTrigger[T, W]) OnElement(_ T, _ int64, w W, ctx TriggerContext) Result {
	ctx.RegisterProcessingTimeTimer(w.MaxTimestamp())
	return Continue
}

// OnEventTime does nothing.
func (ProcessingTimeTrigger[T, W]) OnEventTime(int64, W, TriggerContext) Result { return Continue }

// OnProcessingTime fires.
func (ProcessingTimeTrigger[T, W]) OnProcessingTime(int64, W, TriggerContext) Result { return Fire }

// CanMerge returns true.
func (ProcessingTimeTrigger[T, W]) CanMerge() bool { return true }

// OnMerge registers the merged window's timer unless its time passed.
func (ProcessingTimeTrigger[T, W]) OnMerge(w W, ctx TriggerContext) {
	if m := w.MaxTimestamp(); m > ctx.CurrentProcessingTime() {
		ctx.RegisterProcessingTimeTimer(m)
	}
}

// Clear deletes the window's timer.
func (ProcessingTimeTrigger[T, W]) Clear(w W, ctx TriggerContext) {
	ctx.DeleteProcessingTimeTimer(w.MaxTimestamp())
}

// NeverTrigger never fires: the default of global windows.
type NeverTrigger[T any, W Window] struct{}

// OnElement does nothing.
func (NeverTrigger[T, W]) OnElement(T, int64, W, TriggerContext) Result { return Continue }

// OnEventTime does nothing.
func (NeverTrigger[T, W]) OnEventTime(int64, W, TriggerContext) Result { return Continue }

// OnProcessingTime does nothing.
func (NeverTrigger[T, W]) OnProcessingTime(int64, W, TriggerContext) Result { return Continue }

// CanMerge returns true.
func (NeverTrigger[T, W]) CanMerge() bool { return true }

// OnMerge does nothing.
func (NeverTrigger[T, W]) OnMerge(W, TriggerContext) {}

// Clear does nothing.
func (NeverTrigger[T, W]) Clear(W, TriggerContext) {}

const countState = "window.count"

// CountTrigger fires every time a window holds n more elements (its count
// restarts after each firing). It does not purge: wrap it in PurgingTrigger
// for that.
type CountTrigger[T any, W Window] struct {
	n int64
}

// Count returns a trigger firing every n elements.
func Count[T any, W Window](n int64) CountTrigger[T, W] { return CountTrigger[T, W]{n: n} }

// Validate checks n.
func (t CountTrigger[T, W]) Validate() error {
	if t.n <= 0 {
		return fmt.Errorf("window: count trigger needs a count of at least 1, got %d", t.n)
	}
	return nil
}

// OnElement counts and fires at n.
func (t CountTrigger[T, W]) OnElement(_ T, _ int64, _ W, ctx TriggerContext) Result {
	st := ctx.Int64State(countState)
	c, _ := st.Get()
	c++
	if c >= t.n {
		st.Clear()
		return Fire
	}
	st.Set(c)
	return Continue
}

// OnEventTime does nothing.
func (CountTrigger[T, W]) OnEventTime(int64, W, TriggerContext) Result { return Continue }

// OnProcessingTime does nothing.
func (CountTrigger[T, W]) OnProcessingTime(int64, W, TriggerContext) Result { return Continue }

// CanMerge returns true.
func (CountTrigger[T, W]) CanMerge() bool { return true }

// OnMerge adds up the merged windows' counts.
func (CountTrigger[T, W]) OnMerge(_ W, ctx TriggerContext) {
	ctx.MergeInt64State(countState, func(a, b int64) int64 { return a + b })
}

// Clear drops the count.
func (CountTrigger[T, W]) Clear(_ W, ctx TriggerContext) { ctx.Int64State(countState).Clear() }

// PurgingTrigger turns every Fire of the trigger it wraps into
// FireAndPurge.
type PurgingTrigger[T any, W Window] struct {
	Nested Trigger[T, W]
}

// Purging wraps t.
func Purging[T any, W Window](t Trigger[T, W]) PurgingTrigger[T, W] {
	return PurgingTrigger[T, W]{Nested: t}
}

func purging(r Result) Result {
	if r.IsFire() {
		return FireAndPurge
	}
	return r
}

// Validate checks the nested trigger.
func (t PurgingTrigger[T, W]) Validate() error {
	if t.Nested == nil {
		return fmt.Errorf("window: purging trigger without a nested trigger")
	}
	if v, ok := t.Nested.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// OnElement delegates and purges on fire.
func (t PurgingTrigger[T, W]) OnElement(v T, ts int64, w W, ctx TriggerContext) Result {
	return purging(t.Nested.OnElement(v, ts, w, ctx))
}

// OnEventTime delegates and purges on fire.
func (t PurgingTrigger[T, W]) OnEventTime(time int64, w W, ctx TriggerContext) Result {
	return purging(t.Nested.OnEventTime(time, w, ctx))
}

// OnProcessingTime delegates and purges on fire.
func (t PurgingTrigger[T, W]) OnProcessingTime(time int64, w W, ctx TriggerContext) Result {
	return purging(t.Nested.OnProcessingTime(time, w, ctx))
}

// CanMerge delegates.
func (t PurgingTrigger[T, W]) CanMerge() bool { return t.Nested.CanMerge() }

// OnMerge delegates.
func (t PurgingTrigger[T, W]) OnMerge(w W, ctx TriggerContext) { t.Nested.OnMerge(w, ctx) }

// Clear delegates.
func (t PurgingTrigger[T, W]) Clear(w W, ctx TriggerContext) { t.Nested.Clear(w, ctx) }

const fireTimeState = "window.continuous.fire-time"

func minInt64(a, b int64) int64 { return min(a, b) }

// ContinuousEventTimeTrigger fires every interval of event time while the
// window is open, aligned to multiples of the interval, and at the window's
// end.
type ContinuousEventTimeTrigger[T any, W Window] struct {
	interval int64
}

// ContinuousEventTime returns a trigger firing every interval of event
// time.
func ContinuousEventTime[T any, W Window](interval time.Duration) ContinuousEventTimeTrigger[T, W] {
	return ContinuousEventTimeTrigger[T, W]{interval: millis(interval)}
}

// Validate checks the interval.
func (t ContinuousEventTimeTrigger[T, W]) Validate() error {
	if t.interval <= 0 {
		return fmt.Errorf("window: continuous trigger interval must be at least 1ms, got %dms", t.interval)
	}
	return nil
}

func (t ContinuousEventTimeTrigger[T, W]) next(time int64, w W, st Int64State, ctx TriggerContext) {
	n := min(time+t.interval, w.MaxTimestamp())
	st.Set(n)
	ctx.RegisterEventTimeTimer(n)
}

// OnElement fires at once for a window the watermark passed; otherwise it
// registers the window-end timer and, if none is pending, the next
// periodic one.
func (t ContinuousEventTimeTrigger[T, W]) OnElement(_ T, ts int64, w W, ctx TriggerContext) Result {
	if w.MaxTimestamp() <= ctx.CurrentWatermark() {
		return Fire
	}
	ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	st := ctx.Int64State(fireTimeState)
	if _, ok := st.Get(); !ok {
		t.next(ts-(ts%t.interval), w, st, ctx)
	}
	return Continue
}

// OnEventTime fires at the window's end and at each periodic time.
func (t ContinuousEventTimeTrigger[T, W]) OnEventTime(time int64, w W, ctx TriggerContext) Result {
	if time == w.MaxTimestamp() {
		return Fire
	}
	st := ctx.Int64State(fireTimeState)
	if f, ok := st.Get(); ok && f == time {
		st.Clear()
		t.next(time, w, st, ctx)
		return Fire
	}
	return Continue
}

// OnProcessingTime does nothing.
func (ContinuousEventTimeTrigger[T, W]) OnProcessingTime(int64, W, TriggerContext) Result {
	return Continue
}

// CanMerge returns true.
func (ContinuousEventTimeTrigger[T, W]) CanMerge() bool { return true }

// OnMerge keeps the earliest pending fire time and re-registers it.
func (ContinuousEventTimeTrigger[T, W]) OnMerge(_ W, ctx TriggerContext) {
	ctx.MergeInt64State(fireTimeState, minInt64)
	if f, ok := ctx.Int64State(fireTimeState).Get(); ok {
		ctx.RegisterEventTimeTimer(f)
	}
}

// Clear deletes the pending periodic timer and its state.
func (ContinuousEventTimeTrigger[T, W]) Clear(_ W, ctx TriggerContext) {
	st := ctx.Int64State(fireTimeState)
	if f, ok := st.Get(); ok {
		ctx.DeleteEventTimeTimer(f)
		st.Clear()
	}
}

// ContinuousProcessingTimeTrigger fires every interval of processing time,
// aligned to multiples of the interval.
type ContinuousProcessingTimeTrigger[T any, W Window] struct {
	interval int64
}

// ContinuousProcessingTime returns a trigger firing every interval of
// processing time.
func ContinuousProcessingTime[T any, W Window](interval time.Duration) ContinuousProcessingTimeTrigger[T, W] {
	return ContinuousProcessingTimeTrigger[T, W]{interval: millis(interval)}
}

// Validate checks the interval.
func (t ContinuousProcessingTimeTrigger[T, W]) Validate() error {
	if t.interval <= 0 {
		return fmt.Errorf("window: continuous trigger interval must be at least 1ms, got %dms", t.interval)
	}
	return nil
}

func (t ContinuousProcessingTimeTrigger[T, W]) next(time int64, w W, st Int64State, ctx TriggerContext) {
	n := min(time+t.interval, w.MaxTimestamp())
	st.Set(n)
	ctx.RegisterProcessingTimeTimer(n)
}

// OnElement registers the next periodic timer if none is pending.
func (t ContinuousProcessingTimeTrigger[T, W]) OnElement(_ T, _ int64, w W, ctx TriggerContext) Result {
	st := ctx.Int64State(fireTimeState)
	if _, ok := st.Get(); !ok {
		now := ctx.CurrentProcessingTime()
		t.next(now-(now%t.interval), w, st, ctx)
	}
	return Continue
}

// OnEventTime does nothing.
func (ContinuousProcessingTimeTrigger[T, W]) OnEventTime(int64, W, TriggerContext) Result {
	return Continue
}

// OnProcessingTime fires at the pending periodic time and registers the
// next.
func (t ContinuousProcessingTimeTrigger[T, W]) OnProcessingTime(time int64, w W, ctx TriggerContext) Result {
	st := ctx.Int64State(fireTimeState)
	if f, ok := st.Get(); ok && f == time {
		st.Clear()
		t.next(time, w, st, ctx)
		return Fire
	}
	return Continue
}

// CanMerge returns true.
func (ContinuousProcessingTimeTrigger[T, W]) CanMerge() bool { return true }

// OnMerge keeps the earliest pending fire time and re-registers it.
func (ContinuousProcessingTimeTrigger[T, W]) OnMerge(_ W, ctx TriggerContext) {
	ctx.MergeInt64State(fireTimeState, minInt64)
	if f, ok := ctx.Int64State(fireTimeState).Get(); ok {
		ctx.RegisterProcessingTimeTimer(f)
	}
}

// Clear deletes the pending timer and its state.
func (ContinuousProcessingTimeTrigger[T, W]) Clear(_ W, ctx TriggerContext) {
	st := ctx.Int64State(fireTimeState)
	if f, ok := st.Get(); ok {
		ctx.DeleteProcessingTimeTimer(f)
		st.Clear()
	}
}
