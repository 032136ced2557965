package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Java date-time patterns (SimpleDateFormat / DateTimeFormatter letters),
// as DATE_FORMAT, TO_TIMESTAMP, TO_DATE, UNIX_TIMESTAMP and FROM_UNIXTIME
// take them. Supported letters:
//
//	G era (AD)            y year (yy: two digits)   M month (MMM Jan, MMMM January)
//	d day of month        D day of year             E day name (EEE Mon, EEEE Monday)
//	u day of week 1=Mon   a AM/PM                   H hour 0-23    k hour 1-24
//	K hour 0-11           h hour 1-12               m minute       s second
//	S fraction of second (SSS milliseconds, up to 9 digits)
//	Z offset +0800        X offset Z/+08/+08:00 (X/XX/XXX)
//	'text' literal text   '' a quote
//
// Other ASCII letters are rejected so that an unsupported pattern fails
// loudly instead of printing the letter.

type dtToken struct {
	letter byte // 0 for literal text
	count  int
	lit    string
}

// DateTimePattern is a parsed Java date-time pattern.
type DateTimePattern struct {
	toks []dtToken
}

// ParseDateTimePattern parses a Java date-time pattern ("yyyy-MM-dd
// HH:mm:ss.SSS").
func ParseDateTimePattern(p string) (*DateTimePattern, error) {
	var toks []dtToken
	addLit := func(s string) {
		if n := len(toks); n > 0 && toks[n-1].letter == 0 {
			toks[n-1].lit += s
			return
		}
		toks = append(toks, dtToken{lit: s})
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				addLit("'")
				i += 2
				continue
			}
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("expr: unterminated quote in date-time pattern %q", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			addLit(b.String())
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("GyMdDEuaHkKhmsSZX", rune(c)) {
				return nil, fmt.Errorf("expr: unsupported letter %q in date-time pattern %q", c, p)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			if j-i > 9 {
				return nil, fmt.Errorf("expr: too many %q in date-time pattern %q", c, p)
			}
			toks = append(toks, dtToken{letter: c, count: j - i})
			i = j
		default:
			addLit(string(c))
			i++
		}
	}
	return &DateTimePattern{toks: toks}, nil
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// Format prints the wall time t (its zone is printed by Z/X) with
// nanosecond precision.
func (p *DateTimePattern) Format(t time.Time) string {
	var buf [64]byte
	return string(p.appendFormat(buf[:0], t))
}

// appendFormat appends t printed with the pattern to b.
func (p *DateTimePattern) appendFormat(b []byte, t time.Time) []byte {
	for _, tk := range p.toks {
		n := tk.count
		switch tk.letter {
		case 0:
			b = append(b, tk.lit...)
		case 'G':
			b = append(b, "AD"...)
		case 'y':
			if n == 2 {
				b = appendPad(b, t.Year()%100, 2)
			} else {
				b = appendPad(b, t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = appendPad(b, int(t.Month()), n)
			}
		case 'd':
			b = appendPad(b, t.Day(), n)
		case 'D':
			b = appendPad(b, t.YearDay(), n)
		case 'E':
			if n >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = appendPad(b, wd, n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = appendPad(b, t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = appendPad(b, h, n)
		case 'K':
			b = appendPad(b, t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = appendPad(b, h, n)
		case 'm':
			b = appendPad(b, t.Minute(), n)
		case 's':
			b = appendPad(b, t.Second(), n)
		case 'S':
			if n <= 9 {
				var ns [16]byte
				b = append(b, appendPad(ns[:0], t.Nanosecond(), 9)[:n]...)
			} else {
				b = append(b, pad(t.Nanosecond(), 9)[:n]...)
			}
		case 'Z':
			b = append(b, t.Format("-0700")...)
		case 'X':
			_, off := t.Zone()
			switch {
			case off == 0:
				b = append(b, "Z"...)
			case n == 1:
				b = append(b, t.Format("-07")...)
			case n == 2:
				b = append(b, t.Format("-0700")...)
			default:
				b = append(b, t.Format("-07:00")...)
			}
		}
	}
	return b
}

// appendPad appends n as pad(n, width) prints it.
func appendPad(b []byte, n, width int) []byte {
	if n < 0 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	var d [20]byte
	x := strconv.AppendInt(d[:0], int64(n), 10)
	for range width - len(x) {
		b = append(b, '0')
	}
	return append(b, x...)
}

// isNumericLetter reports whether a token prints as digits.
func (tk dtToken) numeric() bool {
	switch tk.letter {
	case 'y', 'd', 'D', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S':
		return true
	case 'M':
		return tk.count <= 2
	}
	return false
}

// Parse reads s with the pattern. Fields absent from the pattern default
// to 1970-01-01 00:00:00; the result is in loc unless the text carries an
// offset (Z/X). The whole string must be consumed (as java.time's
// DateTimeFormatter requires).
func (p *DateTimePattern) Parse(s string, loc *time.Location) (time.Time, error) {
	return p.parse(s, loc, false)
}

// ParsePrefix is Parse that ignores text after the pattern, as Java's
// SimpleDateFormat.parse does (UNIX_TIMESTAMP).
func (p *DateTimePattern) ParsePrefix(s string, loc *time.Location) (time.Time, error) {
	return p.parse(s, loc, true)
}

func (p *DateTimePattern) parse(s string, loc *time.Location, prefix bool) (time.Time, error) {
	year, month, day, hour, minute, sec, nano := 1970, 1, 1, 0, 0, 0, 0
	pm, hasAmPm, hour12 := false, false, false
	var zone *time.Location
	i := 0
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("expr: %q does not match the date-time pattern", s)
	}
	for k, tk := range p.toks {
		if tk.letter == 0 {
			if !strings.HasPrefix(s[i:], tk.lit) {
				return bad()
			}
			i += len(tk.lit)
			continue
		}
		if tk.numeric() {
			maxw := 10
			if k+1 < len(p.toks) && p.toks[k+1].numeric() {
				maxw = tk.count // adjacent numeric fields: fixed width
			}
			j := i
			for j < len(s) && j-i < maxw && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i {
				return bad()
			}
			digits := s[i:j]
			n, err := strconv.Atoi(digits)
			if err != nil {
				return bad()
			}
			i = j
			switch tk.letter {
			case 'y':
				if tk.count == 2 && len(digits) == 2 {
					n += 2000
				}
				year = n
			case 'M':
				month = n
			case 'd':
				day = n
			case 'H', 'k':
				hour = n % 24
			case 'K', 'h':
				hour, hour12 = n%12, true
			case 'm':
				minute = n
			case 's':
				sec = n
			case 'S':
				if len(digits) > 9 {
					return bad()
				}
				nano, _ = strconv.Atoi((digits + "000000000")[:9])
			}
			continue
		}
		switch tk.letter {
		case 'M':
			found := false
			for m := time.January; m <= time.December; m++ {
				for _, name := range []string{m.String(), m.String()[:3]} {
					if len(s)-i >= len(name) && strings.EqualFold(s[i:i+len(name)], name) {
						month, found = int(m), true
						i += len(name)
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				return bad()
			}
		case 'E':
			found := false
			for d := time.Sunday; d <= time.Saturday; d++ {
				for _, name := range []string{d.String(), d.String()[:3]} {
					if len(s)-i >= len(name) && strings.EqualFold(s[i:i+len(name)], name) {
						found = true
						i += len(name)
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				return bad()
			}
		case 'a':
			if len(s)-i < 2 {
				return bad()
			}
			switch strings.ToUpper(s[i : i+2]) {
			case "AM":
			case "PM":
				pm = true
			default:
				return bad()
			}
			hasAmPm = true
			i += 2
		case 'G':
			if !strings.HasPrefix(s[i:], "AD") {
				return bad()
			}
			i += 2
		case 'Z', 'X':
			if i < len(s) && s[i] == 'Z' {
				zone = time.UTC
				i++
				continue
			}
			j := i
			if j >= len(s) || (s[j] != '+' && s[j] != '-') {
				return bad()
			}
			j++
			for j < len(s) && ((s[j] >= '0' && s[j] <= '9') || s[j] == ':') && j-i < 6 {
				j++
			}
			off := strings.ReplaceAll(s[i+1:j], ":", "")
			if len(off) != 2 && len(off) != 4 {
				return bad()
			}
			hh, _ := strconv.Atoi(off[:2])
			mm := 0
			if len(off) == 4 {
				mm, _ = strconv.Atoi(off[2:])
			}
			secs := hh*3600 + mm*60
			if s[i] == '-' {
				secs = -secs
			}
			zone = time.FixedZone("", secs)
			i = j
		}
	}
	if i != len(s) && !prefix {
		return bad()
	}
	if hasAmPm && hour12 && pm {
		hour += 12
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return bad()
	}
	if zone == nil {
		zone = loc
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nano, zone)
	if t.Day() != day {
		return bad()
	}
	return t, nil
}
