package window

import (
	"fmt"
	"math"
	"slices"
)

// Window is the constraint every window type satisfies: a comparable value
// (it names state and timers) with a largest timestamp that still belongs to
// it.
type Window interface {
	comparable
	// MaxTimestamp is the largest timestamp in the window. Event-time
	// windows fire when the watermark reaches it; results carry it as their
	// timestamp.
	MaxTimestamp() int64
}

// TimeWindow is the time interval [Start, End) in milliseconds.
type TimeWindow struct {
	Start, End int64
}

// MaxTimestamp returns End-1, the last millisecond in the window.
func (w TimeWindow) MaxTimestamp() int64 { return w.End - 1 }

// Intersects reports whether w and o overlap or touch, as Flink defines it
// (Start <= o.End && End >= o.Start): sessions that touch are merged.
func (w TimeWindow) Intersects(o TimeWindow) bool {
	return w.Start <= o.End && w.End >= o.Start
}

// Cover returns the smallest window that contains both w and o.
func (w TimeWindow) Cover(o TimeWindow) TimeWindow {
	return TimeWindow{Start: min(w.Start, o.Start), End: max(w.End, o.End)}
}

// String formats the window as [Start,End).
func (w TimeWindow) String() string { return fmt.Sprintf("[%d,%d)", w.Start, w.End) }

// GlobalWindow is the single window that holds every record of a key. It
// never ends: only a trigger can make it emit.
type GlobalWindow struct{}

// MaxTimestamp returns the largest int64: the global window never ends.
func (GlobalWindow) MaxTimestamp() int64 { return math.MaxInt64 }

// String returns "GlobalWindow".
func (GlobalWindow) String() string { return "GlobalWindow" }

// StartWithOffset returns the start of the window of length size, aligned to
// offset, that contains ts (Flink's TimeWindow.getWindowStartWithOffset). It
// is correct for negative timestamps: the window start is never after ts.
func StartWithOffset(ts, offset, size int64) int64 {
	rem := (ts - offset) % size
	if rem < 0 {
		return ts - (rem + size)
	}
	return ts - rem
}

// MergeTimeWindows sorts windows by start and merges those that intersect,
// calling merge once for every group of two or more windows with the window
// covering the group and the group's windows (Flink's
// TimeWindow.mergeWindows). The slice passed to merge is only valid during
// the call. windows is sorted in place.
func MergeTimeWindows(windows []TimeWindow, merge func(result TimeWindow, merged []TimeWindow)) {
	if len(windows) < 2 {
		return
	}
	slices.SortFunc(windows, func(a, b TimeWindow) int {
		if a.Start != b.Start {
			if a.Start < b.Start {
				return -1
			}
			return 1
		}
		switch {
		case a.End < b.End:
			return -1
		case a.End > b.End:
			return 1
		}
		return 0
	})
	first := 0
	cur := windows[0]
	flush := func(end int) {
		if end-first > 1 {
			merge(cur, windows[first:end])
		}
	}
	for i := 1; i < len(windows); i++ {
		if cur.Intersects(windows[i]) {
			cur = cur.Cover(windows[i])
			continue
		}
		flush(i)
		first, cur = i, windows[i]
	}
	flush(len(windows))
}
