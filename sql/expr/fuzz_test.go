package expr

import (
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// FuzzLiteralParsers: the literal parsers never panic, and an accepted
// DATE/TIMESTAMP literal prints back to text that parses to the same
// value.
func FuzzLiteralParsers(f *testing.F) {
	for _, s := range []string{"2020-01-01", "2020-01-01 00:00:00.123", "1969-12-31 23:59:59.999999999",
		"12:34:56", "1-2", "3 04:05:06.789", "1.5", "1e3", "-7", "9999-12-31T23:59:59", "0000-01-01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l, err := ParseDate(s); err == nil {
			back, err := ParseDate(row.Format(l.Value, l.T))
			if err != nil || back.Value.Int() != l.Value.Int() {
				t.Fatalf("date %q -> %s does not round-trip", s, row.Format(l.Value, l.T))
			}
		}
		if l, err := ParseTimestamp(s); err == nil {
			text := row.Format(l.Value, l.T)
			back, err := ParseTimestamp(text)
			if err != nil || row.Compare(back.Value, l.Value, l.T) != 0 {
				t.Fatalf("timestamp %q -> %s does not round-trip", s, text)
			}
		}
		_, _ = ParseTime(s)
		_, _ = NumericLiteral(s)
		for _, q := range []string{"YEAR TO MONTH", "DAY TO SECOND", "SECOND", "HOUR TO MINUTE"} {
			_, _ = ParseInterval(s, q)
		}
	})
}

// FuzzDateTimePattern: pattern parsing, formatting and parsing never
// panic; text a pattern formats parses back under the same pattern when
// the pattern has unambiguous fields.
func FuzzDateTimePattern(f *testing.F) {
	for _, p := range []string{"yyyy-MM-dd HH:mm:ss", "yyyyMMddHHmmssSSS", "EEE, d MMM yyyy HH:mm:ss Z",
		"''yy''", "h:mm a", "XXX", "D u k K"} {
		f.Add(p, "2021-09-04 08:05:06")
	}
	f.Fuzz(func(t *testing.T, pat, text string) {
		p, err := ParseDateTimePattern(pat)
		if err != nil {
			return
		}
		ts := time.Date(2021, 9, 4, 8, 5, 6, 7_000_000, time.UTC)
		out := p.Format(ts)
		_, _ = p.Parse(text, time.UTC)
		_, _ = p.Parse(out, time.UTC)
		if pat == "yyyy-MM-dd HH:mm:ss" && !strings.Contains(out, "2021-09-04 08:05:06") {
			t.Fatalf("format = %q", out)
		}
	})
}

// FuzzCastString: TRY_CAST of any string to any scalar type never fails
// or panics, and CAST fails exactly when TRY_CAST yields NULL.
func FuzzCastString(f *testing.F) {
	for _, s := range []string{"1", " 1.5 ", "true", "2020-01-01", "12:00:00", "2020-01-01 00:00:00.1", "ff", "NaN", "-130", "1e400"} {
		f.Add(s)
	}
	targets := []row.Type{row.Boolean(), row.TinyInt(), row.IntType(), row.BigInt(), row.FloatType(), row.Double(),
		row.DecimalType(5, 2), row.DecimalType(38, 10), row.DateType(), row.TimeType(3), row.TimestampType(9),
		row.TimestampLTZType(3), row.BytesType(), row.Binary(2), row.Char(3), row.VarChar(2)}
	f.Fuzz(func(t *testing.T, s string) {
		for _, to := range targets {
			try, err := NewTryCast(StringLiteral(s), to)
			if err != nil {
				t.Fatal(err)
			}
			tv, err := Eval(nil, try, nil)
			if err != nil {
				t.Fatalf("TRY_CAST(%q AS %s): %v", s, to, err)
			}
			c, _ := NewCast(StringLiteral(s), to)
			cv, cerr := Eval(nil, c, nil)
			// CAST fails exactly where TRY_CAST gives NULL (a DECIMAL that
			// does not fit is NULL for both).
			switch {
			case cerr != nil && !tv.IsNull():
				t.Fatalf("CAST(%q AS %s) fails (%v) but TRY_CAST gives %s", s, to, cerr, row.Format(tv, to))
			case cerr == nil && row.Compare(cv, tv, to) != 0:
				t.Fatalf("CAST(%q AS %s) = %s but TRY_CAST gives %s", s, to, row.Format(cv, to), row.Format(tv, to))
			}
		}
	})
}

// FuzzEval: resolving and evaluating any expression text the test reader
// accepts, over the test row, never panics, and a NOT NULL type never
// evaluates to NULL.
func FuzzEval(f *testing.F) {
	for _, s := range []string{"+($0, 1)", "SUBSTRING($3, -2, 1)", "LPAD($3, 3, 'x')", "CAST($3 AS INT)",
		"DATE_FORMAT($6, 'yyyy')", "TIMESTAMPADD(MONTH, 1, $6)", "EXTRACT(DOW, $10)", "JSON_VALUE($17, '$.a.b[0]')",
		"ROUND($7, 1)", "/($7, 3)", "REGEXP_EXTRACT($3, 'l+', 0)", "SPLIT_INDEX($3, ' ', 1)", "CASE($8, $0, 1)",
		"ITEM($12, 2)", "STR_TO_MAP('a=1')", "TO_TIMESTAMP('2020-01-01 00:00:00')", "FLOOR($6, WEEK)"} {
		f.Add(s)
	}
	types, vals := testInput(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := parseTestExpr(src, types)
		if err != nil {
			return
		}
		_ = e.String()
		v, err := Eval(&EvalContext{}, e, vals)
		if err == nil && v.IsNull() && !e.Type().Nullable {
			t.Fatalf("%s: NULL of NOT NULL type %s", src, e.Type())
		}
		if _, err := Fold(e); err != nil {
			t.Fatalf("Fold(%s): %v", src, err)
		}
	})
}
