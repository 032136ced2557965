package expr

import (
	"testing"

	"github.com/weirstream/weir/row"
)

// BenchmarkCastStringToDate compares the DATE parse of CAST(s AS DATE)
// before (strict parseDateText) and after (Flink's lenient parseDate,
// parseDateLenient) in one run.
func BenchmarkCastStringToDate(b *testing.B) {
	for _, bc := range []struct {
		name  string
		parse func(string) (int64, bool)
	}{{"strict", parseDateText}, {"lenient", parseDateLenient}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sum int64
			for i := 0; i < b.N; i++ {
				d, ok := bc.parse("2021-09-24")
				if !ok {
					b.Fatal("no date")
				}
				sum += d
			}
			_ = sum
		})
	}
}

func TestParseDateLenient(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2017-09-15", "2017-09-15"},
		{"2017-09-15 00:00:00", "2017-09-15"},
		{"2017-9-5", "2017-09-05"},
		{"2017", "2017-01-01"},
		{"2017-02", "2017-02-01"},
		{" 2017 - 02 - 03", "2017-02-03"},
		{"2017-02-30", ""},
		{"abc", ""},
		{"-2017-01-01", ""},
		{"10000-01-01", ""},
	} {
		d, ok := parseDateLenient(tc.in)
		got := ""
		if ok {
			got = row.FormatDate(d)
		}
		if got != tc.want {
			t.Errorf("parseDateLenient(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
