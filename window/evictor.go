package window

import (
	"fmt"
	"time"
)

// Element is a window element with its event timestamp, as evictors see it.
type Element[T any] struct {
	Value T
	TS    int64
}

// EvictorContext gives an evictor the operator's clocks.
type EvictorContext interface {
	// CurrentWatermark returns the operator's current event time.
	CurrentWatermark() int64
	// CurrentProcessingTime returns processing time in milliseconds.
	CurrentProcessingTime() int64
}

// Evictor removes elements from a window when it fires, before or after the
// window function runs (Flink's Evictor). A window operator with an evictor
// keeps every element of its windows, even with reduce or aggregate.
type Evictor[T any, W Window] interface {
	// EvictBefore returns the elements to keep before the function runs.
	// It may reuse elems' backing array.
	EvictBefore(elems []Element[T], w W, ctx EvictorContext) []Element[T]
	// EvictAfter returns the elements to keep after the function ran.
	EvictAfter(elems []Element[T], w W, ctx EvictorContext) []Element[T]
}

// CountEvictor keeps at most n elements, dropping the oldest (first added).
type CountEvictor[T any, W Window] struct {
	n     int64
	after bool
}

// CountEvict keeps the last n elements, evicting before the function runs.
func CountEvict[T any, W Window](n int64) CountEvictor[T, W] { return CountEvictor[T, W]{n: n} }

// After makes the evictor run after the function instead of before.
func (e CountEvictor[T, W]) After() CountEvictor[T, W] {
	e.after = true
	return e
}

// Validate checks n.
func (e CountEvictor[T, W]) Validate() error {
	if e.n <= 0 {
		return fmt.Errorf("window: count evictor needs a count of at least 1, got %d", e.n)
	}
	return nil
}

func (e CountEvictor[T, W]) evict(elems []Element[T]) []Element[T] {
	if int64(len(elems)) <= e.n {
		return elems
	}
	return elems[int64(len(elems))-e.n:]
}

// EvictBefore keeps the last n unless the evictor runs after.
func (e CountEvictor[T, W]) EvictBefore(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

// EvictAfter keeps the last n if the evictor runs after.
func (e CountEvictor[T, W]) EvictAfter(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}

// TimeEvictor keeps the elements whose timestamp is within size of the
// window's newest element: it drops those with TS <= newest-size.
type TimeEvictor[T any, W Window] struct {
	size  int64
	after bool
}

// TimeEvict keeps the elements within size of the newest, evicting before
// the function runs.
func TimeEvict[T any, W Window](size time.Duration) TimeEvictor[T, W] {
	return TimeEvictor[T, W]{size: millis(size)}
}

// After makes the evictor run after the function instead of before.
func (e TimeEvictor[T, W]) After() TimeEvictor[T, W] {
	e.after = true
	return e
}

// Validate checks the size.
func (e TimeEvictor[T, W]) Validate() error {
	if e.size < 0 {
		return fmt.Errorf("window: time evictor size must not be negative, got %dms", e.size)
	}
	return nil
}

func (e TimeEvictor[T, W]) evict(elems []Element[T]) []Element[T] {
	if len(elems) == 0 || elems[0].TS == NoTimestamp {
		return elems // no timestamps: nothing to compare
	}
	newest := NoTimestamp
	for _, el := range elems {
		newest = max(newest, el.TS)
	}
	cut := newest - e.size
	kept := elems[:0]
	for _, el := range elems {
		if el.TS > cut {
			kept = append(kept, el)
		}
	}
	return kept
}

// EvictBefore drops old elements unless the evictor runs after.
func (e TimeEvictor[T, W]) EvictBefore(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

// EvictAfter drops old elements if the evictor runs after.
func (e TimeEvictor[T, W]) EvictAfter(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}

// DeltaEvictor drops the elements whose delta to the window's last element
// is at least a threshold.
type DeltaEvictor[T any, W Window] struct {
	threshold float64
	delta     func(a, b T) float64
	after     bool
}

// DeltaEvict drops elements e with delta(e, last) >= threshold, evicting
// before the function runs.
func DeltaEvict[T any, W Window](threshold float64, delta func(a, b T) float64) DeltaEvictor[T, W] {
	return DeltaEvictor[T, W]{threshold: threshold, delta: delta}
}

// After makes the evictor run after the function instead of before.
func (e DeltaEvictor[T, W]) After() DeltaEvictor[T, W] {
	e.after = true
	return e
}

// Validate checks the delta function.
func (e DeltaEvictor[T, W]) Validate() error {
	if e.delta == nil {
		return fmt.Errorf("window: delta evictor without a delta function")
	}
	return nil
}

func (e DeltaEvictor[T, W]) evict(elems []Element[T]) []Element[T] {
	if len(elems) == 0 {
		return elems
	}
	last := elems[len(elems)-1].Value
	kept := elems[:0]
	for _, el := range elems {
		if e.delta(el.Value, last) < e.threshold {
			kept = append(kept, el)
		}
	}
	return kept
}

// EvictBefore drops far elements unless the evictor runs after.
func (e DeltaEvictor[T, W]) EvictBefore(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

// EvictAfter drops far elements if the evictor runs after.
func (e DeltaEvictor[T, W]) EvictAfter(elems []Element[T], _ W, _ EvictorContext) []Element[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}
