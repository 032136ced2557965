// Package text converts scalar SQL values to and from the text forms that
// Flink's JSON and CSV formats use: dates, times and timestamps in the SQL
// or ISO-8601 style, decimals as Java's BigDecimal prints them. It is
// shared by the format packages; its functions are pure and safe for
// concurrent use.
package text

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/row"
)

// Style is the timestamp text style (Flink's timestamp-format.standard).
type Style uint8

// Timestamp styles.
const (
	// SQL is "yyyy-MM-dd HH:mm:ss.s{0,9}" (Flink's default).
	SQL Style = iota
	// ISO8601 is "yyyy-MM-ddTHH:mm:ss.s{0,9}".
	ISO8601
)

// ParseDate parses yyyy-MM-dd into days since the epoch.
func ParseDate(s string) (int64, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date (yyyy-MM-dd)", s)
	}
	return floorDiv(t.Unix(), 86400), nil
}

// ParseTime parses HH:mm:ss[.fffffffff] into nanoseconds of the day,
// truncated to precision p (Flink keeps at most milliseconds, p <= 3).
func ParseTime(s string, p int) (int64, error) {
	bad := fmt.Errorf("%q is not a time (HH:mm:ss[.fraction])", s)
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, bad
	}
	h, e1 := strconv.Atoi(s[0:2])
	m, e2 := strconv.Atoi(s[3:5])
	sec, e3 := strconv.Atoi(s[6:8])
	if e1 != nil || e2 != nil || e3 != nil || h > 23 || m > 59 || sec > 59 || h < 0 || m < 0 || sec < 0 {
		return 0, bad
	}
	frac, err := parseFraction(s[8:])
	if err != nil {
		return 0, bad
	}
	n := int64(h*3600+m*60+sec)*1e9 + frac
	return truncate(n, p), nil
}

func truncate(nanos int64, p int) int64 {
	if p >= 9 || p < 0 {
		return nanos
	}
	unit := int64(1)
	for i := p; i < 9; i++ {
		unit *= 10
	}
	return nanos - nanos%unit
}

func parseFraction(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if s[0] != '.' || len(s) < 2 || len(s) > 10 {
		return 0, fmt.Errorf("bad fraction")
	}
	var n int64
	for i := 1; i < 10; i++ {
		n *= 10
		if i < len(s) {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("bad fraction")
			}
			n += int64(c - '0')
		}
	}
	return n, nil
}

// ParseTimestamp parses a timestamp in style st; ltz requires the trailing
// 'Z' of a TIMESTAMP_LTZ (Flink writes one). The fraction is truncated to
// precision p.
func ParseTimestamp(s string, st Style, ltz bool, p int) (row.Value, error) {
	sep := byte(' ')
	want := "yyyy-MM-dd HH:mm:ss[.fraction]"
	if st == ISO8601 {
		sep, want = 'T', "yyyy-MM-ddTHH:mm:ss[.fraction]"
	}
	if ltz {
		want += "Z"
	}
	bad := fmt.Errorf("%q is not a timestamp (%s)", s, want)
	if ltz {
		if !strings.HasSuffix(s, "Z") {
			return row.Value{}, bad
		}
		s = s[:len(s)-1]
	}
	if len(s) < 19 || s[10] != sep {
		return row.Value{}, bad
	}
	days, err := ParseDate(s[:10])
	if err != nil {
		return row.Value{}, bad
	}
	tod, err := ParseTime(s[11:], p)
	if err != nil {
		return row.Value{}, bad
	}
	ms := days*86400000 + tod/1e6
	return row.Timestamp(ms, int32(tod%1e6)), nil
}

// FormatTimestamp prints a timestamp in style st with the shortest
// fraction that shows it exactly (none for a whole second), as Flink's
// formatter (appendFraction(NANO_OF_SECOND, 0, 9, true)) does, and a
// trailing 'Z' for a TIMESTAMP_LTZ.
func FormatTimestamp(v row.Value, st Style, ltz bool) string {
	t := time.UnixMilli(v.Millis()).UTC()
	layout := "2006-01-02 15:04:05"
	if st == ISO8601 {
		layout = "2006-01-02T15:04:05"
	}
	s := t.Format(layout) + shortFraction(int64(t.Nanosecond())+int64(v.NanoOfMilli()))
	if ltz {
		s += "Z"
	}
	return s
}

// FormatTime prints nanoseconds of the day as HH:mm:ss, the shortest
// fraction after it.
func FormatTime(nanos int64) string {
	return row.FormatTime(nanos-nanos%1e9, 0) + shortFraction(nanos%1e9)
}

func shortFraction(n int64) string {
	if n == 0 {
		return ""
	}
	s := strconv.FormatInt(n+1e9, 10)[1:]
	return "." + strings.TrimRight(s, "0")
}

// FormatDate prints days since the epoch as yyyy-MM-dd.
func FormatDate(days int64) string { return row.FormatDate(days) }

// JavaDecimalString prints a DECIMAL as Java's BigDecimal.toString: plain
// unless the adjusted exponent is below -6, then scientific ("1E-7",
// "1.23E-8"). A DECIMAL's scale is never negative, so large values are
// always plain.
func JavaDecimalString(v row.Value, t row.Type) string {
	u := row.DecimalUnscaled(v, t)
	digits := new(big.Int).Abs(u).Text(10)
	adjusted := -t.Scale + len(digits) - 1
	if adjusted >= -6 {
		return row.DecimalString(v, t)
	}
	var b strings.Builder
	if u.Sign() < 0 {
		b.WriteByte('-')
	}
	b.WriteString(digits[:1])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteString("E")
	b.WriteString(strconv.Itoa(adjusted))
	return b.String()
}

// ParseDecimal parses a decimal number, rounding half up to t's scale as
// Flink's DecimalData.fromBigDecimal; ok is false (Flink: NULL) when the
// value has more digits than t's precision.
func ParseDecimal(s string, t row.Type) (v row.Value, ok bool, err error) {
	r, good := new(big.Rat).SetString(strings.TrimSpace(s))
	if !good {
		return row.Value{}, false, fmt.Errorf("%q is not a decimal number", s)
	}
	v, ok = row.DecimalFromRat(r, t)
	return v, ok, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// IntRange returns the bounds of an integer type.
func IntRange(t row.Type) (lo, hi int64) {
	switch t.Root {
	case row.TypeTinyInt:
		return -128, 127
	case row.TypeSmallInt:
		return -32768, 32767
	case row.TypeInt:
		return -2147483648, 2147483647
	}
	return -9223372036854775808, 9223372036854775807
}

// ParseInt parses an integer of type t, checking its range.
func ParseInt(s string, t row.Type) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	lo, hi := IntRange(t)
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range for %s", n, t.WithNullable(true))
	}
	return n, nil
}

// ParseFloat parses a FLOAT or DOUBLE as Java's parseDouble does for the
// usual spellings (NaN, Infinity, -Infinity included).
func ParseFloat(s string, t row.Type) (float64, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "NaN", "Infinity", "-Infinity", "+Infinity":
		s = strings.Replace(s, "Infinity", "Inf", 1)
	}
	bits := 64
	if t.Root == row.TypeFloat {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}
