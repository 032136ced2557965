package nexmark

import (
	"testing"
	"time"
)

// TestDayMinute checks the hand-written DATE_FORMAT of q15-q17 against the
// time package, around the epoch, leap days, century rules and the ends
// of years 0 and 9999.
func TestDayMinute(t *testing.T) {
	check := func(ms int64) {
		t.Helper()
		tm := time.UnixMilli(ms).UTC()
		if got, want := day(Time(ms)), tm.Format("2006-01-02"); got != want {
			t.Fatalf("day(%d) = %s, want %s", ms, got, want)
		}
		if got, want := minute(Time(ms)), tm.Format("15:04"); got != want {
			t.Fatalf("minute(%d) = %s, want %s", ms, got, want)
		}
	}
	for _, base := range []int64{0, DefaultBaseTime, 951782400000 /* 2000-02-29 */, 4107542400000 /* 2100-03-01 */, -62167219200000 /* 0000-01-01 */, 253402300799999 /* 9999-12-31 end */, -2208988800000 /* 1900-01-01 */} {
		for d := int64(-3000); d <= 3000; d += 7 {
			check(base + d)
			check(base + d*61000)
			check(base + d*msPerDay/7)
		}
	}
	for ms := int64(-800 * msPerDay); ms < 800*msPerDay; ms += msPerDay/3 + 12345 {
		check(ms)
	}
	for y := -5; y <= 10005; y += 1 {
		ms := time.Date(y, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		check(ms)
		check(ms - 1)
	}
}
