package expr

import (
	"time"

	"github.com/weirstream/weir/row"
)

// Adding and counting fixed-length units (weeks to nanoseconds) goes
// through seconds and nanoseconds, not a time.Duration: a Duration holds
// about 292 years (time.Duration(n)*24*time.Hour wrapped around for
// 106752 days and more, and Time.Sub saturates), while TIMESTAMP values
// span the years 0000 to 9999.

// addNanoUnits adds n units of u nanoseconds (u divides a second, or
// seconds divide u) to w.
func addNanoUnits(w time.Time, u, n int64) time.Time {
	var sec, ns int64
	if u >= 1e9 {
		sec = n * (u / 1e9)
	} else {
		per := 1e9 / u // units in a second
		sec = floorDiv(n, per)
		ns = (n - sec*per) * u
	}
	return time.Unix(w.Unix()+sec, int64(w.Nanosecond())+ns).In(w.Location())
}

// diffNanoUnits returns the number of whole units of u nanoseconds from x
// to y, truncated towards zero.
func diffNanoUnits(x, y time.Time, u int64) int64 {
	sec, ns := y.Unix()-x.Unix(), int64(y.Nanosecond()-x.Nanosecond())
	// The same sign for both parts (|ns| < 1 s).
	switch {
	case sec > 0 && ns < 0:
		sec, ns = sec-1, ns+1e9
	case sec < 0 && ns > 0:
		sec, ns = sec+1, ns-1e9
	}
	if u >= 1e9 {
		// |ns| < 1 s cannot take the count past a unit's boundary.
		return sec / (u / 1e9)
	}
	return sec*(1e9/u) + ns/u
}

// floorMilli drops the digits of w below the millisecond (towards the
// past): Flink's TIMESTAMPDIFF subtracts the operands' epoch milliseconds
// (TimestampData.getMillisecond) in units of a millisecond and more.
func floorMilli(w time.Time) time.Time {
	return w.Add(-time.Duration(w.Nanosecond() % 1e6))
}

// instantTime returns a TIMESTAMP_LTZ value's instant as a UTC time.Time.
func instantTime(v row.Value) time.Time {
	return time.UnixMilli(v.Millis()).UTC().Add(time.Duration(v.NanoOfMilli()))
}
