package connector

import (
	"math"
	"time"

	"github.com/weirstream/weir/row"
)

// TIMESTAMP values run from 0000 to 9999 (Flink's range), and databases
// hold wider ones; nanoseconds since 1970 in an int64 (time.Unix(0, ns),
// UnixNano) only cover 1677-09-21 to 2262-04-11 and wrap around outside:
// 1000-01-01 became 2169-02-08. The conversions below go through epoch
// milliseconds and the nanoseconds within the millisecond, as
// row.Timestamp holds them.

// timestampTime returns the instant of a TIMESTAMP or TIMESTAMP_LTZ value
// as a UTC time.Time (for TIMESTAMP, its wall clock as UTC).
func timestampTime(v row.Value) time.Time {
	return time.UnixMilli(v.Millis()).UTC().Add(time.Duration(v.NanoOfMilli()))
}

// timeTimestamp makes a TIMESTAMP or TIMESTAMP_LTZ value of precision p
// (0..9) from an instant: the digits of its fraction beyond p dropped
// (towards the past, as truncNanos).
func timeTimestamp(x time.Time, p int) row.Value {
	sec, ns := x.Unix(), int64(x.Nanosecond())
	if p >= 0 && p < 9 {
		ns -= ns % int64(math.Pow10(9-p))
	}
	return row.Timestamp(sec*1000+ns/1e6, int32(ns%1e6))
}
