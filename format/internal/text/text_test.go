package text

import (
	"testing"

	"github.com/weirstream/weir/row"
)

func TestJavaDecimalString(t *testing.T) {
	for _, tc := range []struct {
		unscaled int64
		p, s     int
		want     string
	}{
		// Java's BigDecimal.toString: plain down to an adjusted exponent
		// of -6, scientific below.
		{1, 10, 7, "1E-7"},
		{123, 10, 10, "1.23E-8"},
		{-1, 10, 7, "-1E-7"},
		{1, 10, 6, "0.000001"},
		{1250, 10, 2, "12.50"},
		{0, 10, 7, "0E-7"}, // Java: new BigDecimal(BigInteger.ZERO, 7) prints 0E-7
		{7, 5, 0, "7"},
	} {
		v := row.Int(tc.unscaled)
		if got := JavaDecimalString(v, row.DecimalType(tc.p, tc.s)); got != tc.want {
			t.Errorf("%d scale %d: got %s, want %s", tc.unscaled, tc.s, got, tc.want)
		}
	}
}

func TestTimestamps(t *testing.T) {
	for _, tc := range []struct {
		in    string
		style Style
		ltz   bool
		p     int
		want  string // formatted back in the same style, or "error"
	}{
		{"2020-12-30 12:13:14.123", SQL, false, 3, "2020-12-30 12:13:14.123"},
		{"2020-12-30 12:13:14.123456789", SQL, false, 6, "2020-12-30 12:13:14.123456"},
		{"2020-12-30 12:13:14.100", SQL, false, 3, "2020-12-30 12:13:14.1"},
		{"2020-12-30T12:13:14", ISO8601, false, 3, "2020-12-30T12:13:14"},
		{"1969-12-31 23:59:59.999", SQL, false, 3, "1969-12-31 23:59:59.999"},
		{"2020-12-30 12:13:14Z", SQL, true, 3, "2020-12-30 12:13:14Z"},
		{"2020-12-30 12:13:14", SQL, true, 3, "error"},
		{"2020-12-30T12:13:14", SQL, false, 3, "error"},
		{"2020-13-30 12:13:14", SQL, false, 3, "error"},
		{"2020-12-30 24:13:14", SQL, false, 3, "error"},
		{"2020-12-30 12:13:14.1234567890", SQL, false, 9, "error"},
	} {
		v, err := ParseTimestamp(tc.in, tc.style, tc.ltz, tc.p)
		got := "error"
		if err == nil {
			got = FormatTimestamp(v, tc.style, tc.ltz)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s (%v)", tc.in, got, tc.want, err)
		}
	}
}

func TestDatesAndTimes(t *testing.T) {
	if d, err := ParseDate("1969-12-31"); err != nil || d != -1 {
		t.Errorf("1969-12-31: %d %v", d, err)
	}
	if d, err := ParseDate("2020-02-29"); err != nil || FormatDate(d) != "2020-02-29" {
		t.Errorf("2020-02-29: %d %v", d, err)
	}
	if _, err := ParseDate("2021-02-29"); err == nil {
		t.Error("2021-02-29 parsed")
	}
	if n, err := ParseTime("01:02:03.456789", 3); err != nil || n != 3723456000000 || FormatTime(n) != "01:02:03.456" {
		t.Errorf("time: %d %v %s", n, err, FormatTime(n))
	}
}
