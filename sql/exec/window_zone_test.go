package exec

import (
	"testing"
	"time"
)

// TestWindowZoneInstants checks the wall clock ↔ instant conversions of
// windows over TIMESTAMP_LTZ against the values in the comments of Flink's
// TimeWindowUtil.toEpochMillsForTimer (America/Los_Angeles, 2021) and
// java.time's rules for LocalDateTime.atZone.
func TestWindowZoneInstants(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip(err)
	}
	wall := func(s string) int64 {
		v, err := time.Parse("2006-01-02 15:04:05.000", s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMilli()
	}
	for _, c := range []struct {
		loc          *time.Location
		wall         string
		epoch, timer int64
	}{
		{la, "2021-03-14 00:00:00.000", 1615708800000, 1615708800000},
		{la, "2021-03-14 01:00:00.000", 1615712400000, 1615712400000},
		// In the gap: java.time moves the wall clock forward by the gap;
		// Flink's timer is the first instant after the gap (03:00 PDT).
		{la, "2021-03-14 02:00:00.000", 1615716000000, 1615716000000},
		{la, "2021-03-14 02:59:59.000", 1615719599000, 1615716000000},
		{la, "2021-03-14 03:00:00.000", 1615716000000, 1615716000000},
		// In the overlap: java.time takes the earlier offset (PDT);
		// Flink's timer the later instant (PST).
		{la, "2021-11-07 00:00:00.000", 1636268400000, 1636268400000},
		{la, "2021-11-07 01:00:00.000", 1636272000000, 1636275600000},
		{la, "2021-11-07 02:00:00.000", 1636279200000, 1636279200000},
		{sh, "1970-01-01 08:00:05.000", 5000, 5000},
	} {
		w := Window{Zone: c.loc}
		l := wall(c.wall)
		if got := w.epoch(l); got != c.epoch {
			t.Errorf("%s %s: epoch %d, want %d", c.loc, c.wall, got, c.epoch)
		}
		if got := w.timer(l); got != c.timer {
			t.Errorf("%s %s: timer %d, want %d", c.loc, c.wall, got, c.timer)
		}
		if c.epoch != c.timer || c.wall[11:13] == "02" {
			continue // not a round trip
		}
		if got := w.local(c.epoch); got != l {
			t.Errorf("%s: local(%d) = %d, want %d", c.loc, c.epoch, got, l)
		}
	}
	if (Window{}).shifted() || (Window{Zone: time.UTC}).shifted() {
		t.Error("no zone or UTC must not shift")
	}
	if !(Window{Zone: time.FixedZone("+08", 8*3600)}).fixedOffset() || (Window{Zone: la}).fixedOffset() {
		t.Error("fixedOffset: a fixed zone is fixed, Los Angeles is not")
	}
}
