package expr

import (
	"strconv"
	"strings"
)

// parseDateLenient reads a string as Flink's DateTimeUtils.parseDate does
// for CAST(s AS DATE) and TO_DATE(s): anything from the first space on is
// ignored (a timestamp string gives its date, '2017-09-15 00:00:00' is
// 2017-09-15), and 'yyyy', 'yyyy-M' and 'yyyy-M-d' are accepted (a missing
// month or day is 1), each part trimmed of spaces; the year must lie in
// 0..9999. DATE literals keep the strict form (parseDateText).
func parseDateLenient(s string) (int64, bool) {
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	ymd := [3]int{0, 1, 1}
	for i := 0; i < 3; i++ {
		p, rest, more := s, "", false
		if i < 2 {
			p, rest, more = strings.Cut(s, "-")
		}
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 9 || strings.TrimLeft(p, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, false
		}
		ymd[i] = n
		if !more {
			break
		}
		s = rest
	}
	if ymd[0] < 0 || ymd[0] > 9999 {
		return 0, false
	}
	return daysOf(ymd[0], ymd[1], ymd[2])
}
