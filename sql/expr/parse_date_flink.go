package expr

import "strings"

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
		n, ok := digitsOf(p)
		if !ok {
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

// digitsOf parses a run of up to 9 ASCII digits with spaces around it
// (Java's isInteger on the trimmed part, then Integer.parseInt).
func digitsOf(p string) (int, bool) {
	i, j := 0, len(p)
	for i < j && p[i] == ' ' {
		i++
	}
	for j > i && p[j-1] == ' ' {
		j--
	}
	if i == j || j-i > 9 {
		return 0, false
	}
	n := 0
	for ; i < j; i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
