package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// Literals from SQL text. Each returns a NOT NULL Literal of the type
// Flink gives the literal.

// NumericLiteral types an unsigned numeric literal as Flink does: an
// integer is INT if it fits, else BIGINT, else DECIMAL(n, 0); a literal
// with a point is DECIMAL(p, s) exactly as written (1.5 is DECIMAL(2, 1),
// 0.25 is DECIMAL(2, 2)); a literal with an exponent is DOUBLE (1e3).
func NumericLiteral(text string) (*Literal, error) {
	s := strings.TrimSpace(text)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	bad := func() (*Literal, error) { return nil, fmt.Errorf("expr: invalid numeric literal %q", text) }
	if s == "" {
		return bad()
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || strings.ContainsAny(s, "xXpP_") || strings.ContainsAny(s, "nN") {
			return bad()
		}
		if neg {
			f = -f
		}
		return Lit(row.Float(f), tDouble.NotNull()), nil
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return bad()
			}
		}
	}
	if intPart == "" && frac == "" {
		return bad()
	}
	if !hasPoint {
		digits := intPart
		if neg {
			digits = "-" + digits
		}
		if i, err := strconv.ParseInt(digits, 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return Lit(row.Int(i), tInt.NotNull()), nil
			}
			return Lit(row.Int(i), tBigInt.NotNull()), nil
		}
	}
	trimmed := strings.TrimLeft(intPart, "0")
	p := len(trimmed) + len(frac)
	if p == 0 {
		p = 1
	}
	if p > row.MaxDecimalPrecision {
		return nil, fmt.Errorf("expr: numeric literal %q exceeds DECIMAL precision %d", text, row.MaxDecimalPrecision)
	}
	t := row.DecimalType(max(p, len(frac)), len(frac)).NotNull()
	v, err := row.ParseDecimal(strings.TrimSpace(text), t)
	if err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	return Lit(v, t), nil
}

// StringLiteral is a character literal: CHAR(n) NOT NULL, n its length in
// characters (Flink: 'ab' is CHAR(2) NOT NULL).
func StringLiteral(s string) *Literal {
	return Lit(row.Str(s), row.Char(utf8.RuneCountInString(s)).NotNull())
}

// BoolLiteral is TRUE or FALSE, BOOLEAN NOT NULL.
func BoolLiteral(b bool) *Literal { return Lit(row.Bool(b), tBoolean.NotNull()) }

// BinaryLiteral is X'0aff': BINARY(n) NOT NULL.
func BinaryLiteral(b []byte) *Literal {
	return Lit(row.Bytes(b), row.Binary(len(b)).NotNull())
}

// ParseDate parses a DATE literal's text, yyyy-MM-dd (one-digit month and
// day accepted): DATE NOT NULL.
func ParseDate(s string) (*Literal, error) {
	d, ok := parseDateText(strings.TrimSpace(s))
	if !ok {
		return nil, fmt.Errorf("expr: invalid DATE literal %q", s)
	}
	return Lit(row.Int(d), row.DateType().NotNull()), nil
}

// ParseTime parses a TIME literal's text, HH:mm:ss[.fffffffff]: TIME(p)
// NOT NULL, p the number of fractional digits written.
func ParseTime(s string) (*Literal, error) {
	s = strings.TrimSpace(s)
	n, ok := parseTimeText(s)
	if !ok {
		return nil, fmt.Errorf("expr: invalid TIME literal %q", s)
	}
	return Lit(row.Int(n), row.TimeType(fractionDigits(s)).NotNull()), nil
}

// ParseTimestamp parses a TIMESTAMP literal's text, yyyy-MM-dd
// HH:mm:ss[.fffffffff]: TIMESTAMP(p) NOT NULL, p the number of fractional
// digits written (Flink: TIMESTAMP '2020-01-01 00:00:00' is TIMESTAMP(0)).
func ParseTimestamp(s string) (*Literal, error) {
	s = strings.TrimSpace(s)
	ms, nano, ok := parseTimestampText(s)
	if !ok {
		return nil, fmt.Errorf("expr: invalid TIMESTAMP literal %q", s)
	}
	return Lit(row.Timestamp(ms, nano), row.TimestampType(fractionDigits(s)).NotNull()), nil
}

func fractionDigits(s string) int {
	if i := strings.LastIndexByte(s, '.'); i >= 0 && strings.Contains(s, ":") && i > strings.LastIndexByte(s, ':') {
		return len(s) - i - 1
	}
	return 0
}

// ParseInterval parses an interval literal: INTERVAL 'text' qualifier,
// qualifier one of YEAR, YEAR TO MONTH, MONTH, DAY, DAY TO HOUR, DAY TO
// MINUTE, DAY TO SECOND, HOUR, HOUR TO MINUTE, HOUR TO SECOND, MINUTE,
// MINUTE TO SECOND, SECOND. Text is e.g. '1-2' (YEAR TO MONTH), '3
// 04:05:06.789' (DAY TO SECOND), '-10' (SECOND), '1.5' (SECOND). The
// result is INTERVAL YEAR TO MONTH (months) or INTERVAL DAY TO SECOND(3)
// (milliseconds) NOT NULL; the precision of the leading field is not
// enforced.
func ParseInterval(text, qualifier string) (*Literal, error) {
	q := strings.Join(strings.Fields(strings.ToUpper(qualifier)), " ")
	from, to, _ := strings.Cut(q, " TO ")
	if to == "" {
		to = from
	}
	order := []string{"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"}
	fi, ti := indexOf(order, from), indexOf(order, to)
	bad := func() (*Literal, error) {
		return nil, fmt.Errorf("expr: invalid interval literal '%s' %s", text, qualifier)
	}
	if fi < 0 || ti < fi || (fi <= 1 && ti > 1) {
		return bad()
	}
	s := strings.TrimSpace(text)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, strings.TrimSpace(s[1:])
	} else if strings.HasPrefix(s, "+") {
		s = strings.TrimSpace(s[1:])
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' || r == '-' })
	if len(parts) != ti-fi+1 {
		return bad()
	}
	var total int64 // months, or nanoseconds
	mult := map[string]int64{"YEAR": 12, "MONTH": 1, "DAY": 86400e9, "HOUR": 3600e9, "MINUTE": 60e9, "SECOND": 1e9}
	for k, p := range parts {
		unit := order[fi+k]
		if unit == "SECOND" {
			secs, frac, _ := strings.Cut(p, ".")
			n, err := strconv.ParseInt(secs, 10, 64)
			if err != nil || n < 0 || len(frac) > 9 || !allDigits(frac) {
				return bad()
			}
			fr, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			total += n*1e9 + fr
			continue
		}
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return bad()
		}
		total += int64(n) * mult[unit]
	}
	if neg {
		total = -total
	}
	if fi <= 1 {
		return Lit(row.Int(total), row.IntervalYearMonth().NotNull()), nil
	}
	return Lit(row.Int(total/1e6), row.IntervalDayTime().NotNull()), nil
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoiN parses 1..max ASCII digits.
func atoiN(s string, maxLen int) (int, bool) {
	if s == "" || len(s) > maxLen || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// daysOf returns days since the epoch of a valid civil date.
func daysOf(y, m, d int) (int64, bool) {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, false
	}
	return floorDiv(t.Unix(), 86400), true
}

// parseDateText parses [-]yyyy-M-d.
func parseDateText(s string) (int64, bool) {
	ys, rest, ok := strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	ms, ds, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	y, ok1 := atoiN(ys, 4)
	m, ok2 := atoiN(ms, 2)
	d, ok3 := atoiN(ds, 2)
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	return daysOf(y, m, d)
}

// parseTimeText parses H:m[:s[.fffffffff]] into nanoseconds of the day.
func parseTimeText(s string) (int64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, ok1 := atoiN(parts[0], 2)
	m, ok2 := atoiN(parts[1], 2)
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	var sec, frac int64
	if len(parts) == 3 {
		ss, fs, hasFrac := strings.Cut(parts[2], ".")
		si, ok := atoiN(ss, 2)
		if !ok || si > 59 {
			return 0, false
		}
		sec = int64(si)
		if hasFrac {
			if fs == "" || len(fs) > 9 || !allDigits(fs) {
				return 0, false
			}
			f, _ := strconv.ParseInt((fs + "000000000")[:9], 10, 64)
			frac = f
		}
	}
	return (int64(h)*3600+int64(m)*60+sec)*1e9 + frac, true
}

// parseTimestampText parses yyyy-M-d[( |T)H:m[:s[.f]]] into epoch millis
// and nanoseconds within the millisecond.
func parseTimestampText(s string) (ms int64, nanoOfMilli int32, ok bool) {
	ds, ts, hasTime := strings.Cut(s, " ")
	if !hasTime {
		ds, ts, hasTime = strings.Cut(s, "T")
	}
	days, ok := parseDateText(ds)
	if !ok {
		return 0, 0, false
	}
	var nanos int64
	if hasTime {
		if nanos, ok = parseTimeText(strings.TrimSpace(ts)); !ok {
			return 0, 0, false
		}
	}
	return days*msPerDay + nanos/1e6, int32(nanos % 1e6), true
}
