package exec

import (
	"math"
	"time"
)

// Windows over a TIMESTAMP_LTZ time attribute (or processing time) are
// aligned in the session time zone, as Flink's (TimeWindowUtil): a row's
// instant is shifted to the zone's wall clock read as UTC milliseconds,
// windows are cut on that axis, and window_start/window_end are those wall
// clock values (TIMESTAMP(3)). The operators keep windows keyed by these
// shifted ends (for TIMESTAMP time attributes and the UTC zone they are
// the instants, as before). A window fires when the watermark (or the
// clock) reaches the instant of its end - 1 (Flink's
// toEpochMillsForTimer: in a DST gap the first instant after the gap, in
// an overlap the later of the two instants), and its window_time is the
// instant of end - 1 (Flink's toEpochMills: java.time's rule, the offset
// before the transition in a gap and the earlier offset in an overlap).

const hourMillis = int64(time.Hour / time.Millisecond)

// zoneOffset returns loc's offset from UTC at the instant ms, in ms.
func zoneOffset(ms int64, loc *time.Location) int64 {
	_, off := time.UnixMilli(ms).In(loc).Zone()
	return int64(off) * 1000
}

// shifted reports whether w's windows are aligned in a zone other than
// UTC.
func (w Window) shifted() bool { return w.Zone != nil && w.Zone != time.UTC }

// local returns the wall clock of the instant t in w's zone, as epoch
// milliseconds read in UTC (Flink's toUtcTimestampMills); t itself
// without a zone.
func (w Window) local(t int64) int64 {
	if !w.shifted() || t == math.MinInt64 || t == math.MaxInt64 {
		return t
	}
	return t + zoneOffset(t, w.Zone)
}

// epoch returns the instant at which w's zone shows the wall clock l
// (java.time's LocalDateTime.atZone: in a gap the offset before it, in an
// overlap the earlier offset).
func (w Window) epoch(l int64) int64 {
	if !w.shifted() {
		return l
	}
	return wallEpoch(l, w.Zone)
}

func wallEpoch(l int64, loc *time.Location) int64 {
	day := 24 * hourMillis
	before := zoneOffset(l-day, loc)
	after := zoneOffset(l+day, loc)
	e1 := l - before
	v1 := zoneOffset(e1, loc) == before
	e2 := l - after
	v2 := before != after && zoneOffset(e2, loc) == after
	switch {
	case v1 && v2:
		return min(e1, e2) // an overlap: the earlier instant
	case v1:
		return e1
	case v2:
		return e2
	}
	return e1 // a gap: the offset before it
}

// timer returns the instant at which a window whose last millisecond is
// the wall clock l fires (Flink's toEpochMillsForTimer).
func (w Window) timer(l int64) int64 {
	if !w.shifted() || l == math.MaxInt64 {
		return l
	}
	return wallTimer(l, w.Zone)
}

func wallTimer(l int64, loc *time.Location) int64 {
	t1 := wallEpoch(l, loc)
	t2 := wallEpoch(l+hourMillis, loc)
	switch {
	case t1 == t2: // l is in a gap: the first instant after it
		return t1 - t1%hourMillis
	case t2-t1 > hourMillis: // l is in an overlap: its later instant
		return t1 + hourMillis
	}
	return t1
}

// fire returns the instant at which the window (or slice) ending at the
// wall clock end fires: its end - 1.
func (w Window) fire(end int64) int64 { return w.timer(end - 1) }

// fixedOffset reports whether w's windows map one-to-one onto their
// timers: no zone, or a zone without transitions, so the window that a
// timer at ts fires ends at local(ts) + 1.
func (w Window) fixedOffset() bool {
	if !w.shifted() {
		return true
	}
	return !hasTransitions(w.Zone)
}

// hasTransitions reports whether loc's offset changes between 1900 and
// 2100 (sampled twice a year).
func hasTransitions(loc *time.Location) bool {
	var first int
	for y := 1900; y <= 2100; y++ {
		for _, m := range []time.Month{time.January, time.July} {
			_, off := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).In(loc).Zone()
			if y == 1900 && m == time.January {
				first = off
			} else if off != first {
				return true
			}
		}
	}
	return false
}

// endOfTimer returns the wall clock end of the window whose timer is ts,
// for a fixedOffset window.
func (w Window) endOfTimer(ts int64) int64 { return w.local(ts) + 1 }
