package expr

import (
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

func TestLiteralTypes(t *testing.T) {
	tests := []struct {
		lit  func() (*Literal, error)
		val  string
		typ  string
		fail bool
	}{
		{lit: func() (*Literal, error) { return NumericLiteral("1") }, val: "1", typ: "INT NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("2147483647") }, val: "2147483647", typ: "INT NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("3000000000") }, val: "3000000000", typ: "BIGINT NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("-2147483648") }, val: "-2147483648", typ: "INT NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("99999999999999999999") }, val: "99999999999999999999", typ: "DECIMAL(20, 0) NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("1.5") }, val: "1.5", typ: "DECIMAL(2, 1) NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("0.25") }, val: "0.25", typ: "DECIMAL(2, 2) NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("12.340") }, val: "12.340", typ: "DECIMAL(5, 3) NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral(".5") }, val: "0.5", typ: "DECIMAL(1, 1) NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("1e3") }, val: "1000.0", typ: "DOUBLE NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("1.5E-4") }, val: "1.5E-4", typ: "DOUBLE NOT NULL"},
		{lit: func() (*Literal, error) { return NumericLiteral("1x") }, fail: true},
		{lit: func() (*Literal, error) { return NumericLiteral("") }, fail: true},
		{lit: func() (*Literal, error) { return NumericLiteral(".") }, fail: true},
		{lit: func() (*Literal, error) { return NumericLiteral("1" + strings.Repeat("0", 40)) }, fail: true},
		{lit: func() (*Literal, error) { return StringLiteral("ab"), nil }, val: "ab", typ: "CHAR(2) NOT NULL"},
		{lit: func() (*Literal, error) { return StringLiteral("héllo"), nil }, val: "héllo", typ: "CHAR(5) NOT NULL"},
		{lit: func() (*Literal, error) { return BoolLiteral(true), nil }, val: "TRUE", typ: "BOOLEAN NOT NULL"},
		{lit: func() (*Literal, error) { return BinaryLiteral([]byte{0xa, 0xff}), nil }, val: "x'0aff'", typ: "BINARY(2) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseDate("2020-01-01") }, val: "2020-01-01", typ: "DATE NOT NULL"},
		{lit: func() (*Literal, error) { return ParseDate("1969-12-31") }, val: "1969-12-31", typ: "DATE NOT NULL"},
		{lit: func() (*Literal, error) { return ParseDate("2020-13-01") }, fail: true},
		{lit: func() (*Literal, error) { return ParseDate("2021-02-29") }, fail: true},
		{lit: func() (*Literal, error) { return ParseDate("20-01-01x") }, fail: true},
		{lit: func() (*Literal, error) { return ParseTime("12:34:56") }, val: "12:34:56", typ: "TIME(0) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseTime("12:34:56.125") }, val: "12:34:56.125", typ: "TIME(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseTime("24:00:00") }, fail: true},
		{lit: func() (*Literal, error) { return ParseTimestamp("2020-01-01 00:00:00.123") }, val: "2020-01-01 00:00:00.123", typ: "TIMESTAMP(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseTimestamp("2020-01-01 00:00:00") }, val: "2020-01-01 00:00:00", typ: "TIMESTAMP(0) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseTimestamp("1969-12-31 23:59:59.123456789") }, val: "1969-12-31 23:59:59.123456789", typ: "TIMESTAMP(9) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseTimestamp("2020-01-01 25:00:00") }, fail: true},
		{lit: func() (*Literal, error) { return ParseInterval("1-2", "YEAR TO MONTH") }, val: "+1-02", typ: "INTERVAL YEAR(2) TO MONTH NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("-1-2", "YEAR TO MONTH") }, val: "-1-02", typ: "INTERVAL YEAR(2) TO MONTH NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("14", "MONTH") }, val: "+1-02", typ: "INTERVAL YEAR(2) TO MONTH NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("3", "YEAR") }, val: "+3-00", typ: "INTERVAL YEAR(2) TO MONTH NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("3 04:05:06.789", "DAY TO SECOND") }, val: "+3 04:05:06.789", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("10", "SECOND") }, val: "+0 00:00:10.000", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("1.5", "SECOND") }, val: "+0 00:00:01.500", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("90", "minute") }, val: "+0 01:30:00.000", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("-5", "DAY") }, val: "-5 00:00:00.000", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("1:30", "HOUR TO MINUTE") }, val: "+0 01:30:00.000", typ: "INTERVAL DAY(2) TO SECOND(3) NOT NULL"},
		{lit: func() (*Literal, error) { return ParseInterval("1 2", "DAY") }, fail: true},
		{lit: func() (*Literal, error) { return ParseInterval("1", "YEAR TO DAY") }, fail: true},
		{lit: func() (*Literal, error) { return ParseInterval("x", "DAY") }, fail: true},
	}
	for i, tc := range tests {
		l, err := tc.lit()
		if tc.fail {
			if err == nil {
				t.Errorf("case %d: %s accepted", i, l)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if got := row.Format(l.Value, l.T); got != tc.val {
			t.Errorf("case %d: value %s, want %s", i, got, tc.val)
		}
		if got := l.T.String(); got != tc.typ {
			t.Errorf("case %d: type %s, want %s", i, got, tc.typ)
		}
	}
}

func TestDateTimePattern(t *testing.T) {
	ts := time.Date(2021, 9, 4, 8, 5, 6, 7_000_000, time.UTC)
	tests := []struct{ pat, want string }{
		{"yyyy-MM-dd HH:mm:ss", "2021-09-04 08:05:06"},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2021-09-04 08:05:06.007"},
		{"yy/M/d", "21/9/4"},
		{"MMM MMMM EEE EEEE", "Sep September Sat Saturday"},
		{"h a K k", "8 AM 8 8"},
		{"D u", "247 6"},
		{"'T'HH'h' ''", "T08h '"},
		{"yyyyMMddHHmmssSSS", "20210904080506007"},
		{"XXX Z", "Z +0000"},
	}
	for _, tc := range tests {
		p, err := ParseDateTimePattern(tc.pat)
		if err != nil {
			t.Errorf("%q: %v", tc.pat, err)
			continue
		}
		got := p.Format(ts)
		if got != tc.want {
			t.Errorf("format %q = %q, want %q", tc.pat, got, tc.want)
		}
		back, err := p.Parse(got, time.UTC)
		if err != nil {
			t.Errorf("parse %q with %q: %v", got, tc.pat, err)
			continue
		}
		if strings.ContainsAny(tc.pat, "HhKk") && strings.Contains(tc.pat, "yy") && strings.Contains(tc.pat, "mm") && !back.Equal(ts.Truncate(time.Second)) && !back.Equal(ts) {
			t.Errorf("round trip %q: %v, want %v", tc.pat, back, ts)
		}
	}
	for _, bad := range []string{"yyyy-qq", "'open", "yyyyyyyyyyy"} {
		if _, err := ParseDateTimePattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	p, _ := ParseDateTimePattern("yyyy-MM-dd HH:mm:ssXXX")
	got, err := p.Parse("2021-01-01 08:00:00+08:00", time.UTC)
	if err != nil || got.UTC() != time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("offset parse = %v, %v", got, err)
	}
	if _, err := p.Parse("2021-01-01 08:00:00", time.UTC); err == nil {
		t.Error("missing offset accepted")
	}
}
