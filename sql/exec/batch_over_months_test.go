package exec

import (
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// TestMonthShiftedCompare checks RANGE bounds in months against dates
// worked out by hand: the day is clamped to the shifted month's last
// (leap years included), before 1970 too, and a TIMESTAMP keeps its time
// of day and sub-millisecond part.
func TestMonthShiftedCompare(t *testing.T) {
	day := func(y int, m time.Month, d int) row.Value {
		return row.Int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	ts := func(y int, m time.Month, d, h, mi, s, ms int, nano int32) row.Value {
		return row.Timestamp(time.Date(y, m, d, h, mi, s, ms*1e6, time.UTC).UnixMilli(), nano)
	}
	date, stamp := row.DateType(), row.TimestampType(9)
	cases := []struct {
		name   string
		y, x   row.Value
		months int64
		neg    bool
		t      row.Type
		want   int
	}{
		{"jan31+1 is feb29 (leap)", day(2024, 2, 29), day(2024, 1, 31), 1, false, date, 0},
		{"jan31+1 is before mar1", day(2024, 3, 1), day(2024, 1, 31), 1, false, date, 1},
		{"jan31+1 is after feb28", day(2024, 2, 28), day(2024, 1, 31), 1, false, date, -1},
		{"jan31+1 is feb28 (2023)", day(2023, 2, 28), day(2023, 1, 31), 1, false, date, 0},
		{"mar31-1 is feb29", day(2024, 2, 29), day(2024, 3, 31), 1, true, date, 0},
		{"mar31-1 before 1970", day(1969, 2, 28), day(1969, 3, 31), 1, true, date, 0},
		{"feb29+12 is feb28", day(2025, 2, 28), day(2024, 2, 29), 12, false, date, 0},
		{"dec31+2 crosses the year", day(2025, 2, 28), day(2024, 12, 31), 2, false, date, 0},
		{"zero months", day(2024, 5, 5), day(2024, 5, 5), 0, true, date, 0},
		{"ts keeps the time", ts(2024, 2, 29, 9, 59, 59, 500, 0), ts(2024, 3, 31, 9, 59, 59, 500, 0), 1, true, stamp, 0},
		{"ts a ms later", ts(2024, 2, 29, 9, 59, 59, 501, 0), ts(2024, 3, 31, 9, 59, 59, 500, 0), 1, true, stamp, 1},
		{"ts nanos of the key", ts(2024, 2, 29, 9, 59, 59, 500, 10), ts(2024, 3, 31, 9, 59, 59, 500, 20), 1, true, stamp, -1},
	}
	for _, c := range cases {
		if got := monthShiftedCompare(c.y, c.x, c.months, c.neg, c.t); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}
