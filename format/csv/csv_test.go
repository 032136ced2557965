package csv_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/format/csv"
	"github.com/weirstream/weir/format/internal/rowgen"
	"github.com/weirstream/weir/row"
)

var schema = row.NewSchema(
	row.Col("i", row.IntType()),
	row.Col("s", row.String()),
	row.Col("d", row.DecimalType(6, 2)),
	row.Col("ts", row.TimestampType(3)),
	row.Col("a", row.ArrayType(row.IntType())),
)

// TestDecode checks decoding with Flink's csv options.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		opts     csv.Options
	}{
		{in: `1,abc,1.5,2020-12-30 12:13:14.123,1;2;3`, want: `+I[1, abc, 1.50, 2020-12-30 12:13:14.123, [1, 2, 3]]`},
		{in: `1,"a,""b""",,,`, want: `+I[1, a,"b", NULL, NULL, NULL]`},
		{in: `1||2.5|2020-12-30 12:13:14|`, opts: csv.Options{FieldDelimiter: '|'}, want: `+I[1, , 2.50, 2020-12-30 12:13:14.000, NULL]`},
		{in: `'1'	'x'	3	n/a	n/a`, opts: csv.Options{FieldDelimiter: '\t', QuoteCharacter: '\'', NullLiteral: "n/a", HasNullLiteral: true},
			want: `+I[1, x, 3.00, NULL, NULL]`},
		{in: `1,a\,b,2,,4|5`, opts: csv.Options{EscapeCharacter: '\\', ArrayElementDelimiter: "|"}, want: `+I[1, a,b, 2.00, NULL, [4, 5]]`},
		{in: `"1",x,2,,`, opts: csv.Options{DisableQuoteCharacter: true}, want: `error: csv: field i: "\"1\"" is not an integer`},
		{in: `# comment`, opts: csv.Options{AllowComments: true}, want: `(no row)`},
		{in: `1,x`, want: `error: csv: Row length mismatch. 5 fields expected but was 2.`},
		{in: `x,y,z,,`, opts: csv.Options{IgnoreParseErrors: true}, want: `+I[NULL, y, NULL, NULL, NULL]`},
		{in: `1,"x`, want: `error: csv: unterminated quoted field`},
		{in: `1,x,99999,,`, want: `+I[1, x, NULL, NULL, NULL]`},
	} {
		d, err := csv.NewDecoder(schema, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		r, ok, err := d.Decode([]byte(tc.in))
		got := "(no row)"
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case ok:
			got = row.FormatRow(r, schema.Types())
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestEncode checks quoting and the null literal.
func TestEncode(t *testing.T) {
	r := row.Of(row.Int(7), row.Str(`say "hi", bye`), row.Null(), row.Timestamp(1609330394120, 0), row.Array([]row.Value{row.Int(1), row.Int(2)}))
	for _, tc := range []struct {
		opts csv.Options
		want string
	}{
		{csv.Options{}, `7,"say ""hi"", bye",,2020-12-30 12:13:14.12,1;2`},
		{csv.Options{FieldDelimiter: ';', NullLiteral: "NULL", HasNullLiteral: true, ArrayElementDelimiter: "|"}, `7;"say ""hi"", bye";NULL;2020-12-30 12:13:14.12;1|2`},
	} {
		e, err := csv.NewEncoder(schema, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got  %s\nwant %s", b, tc.want)
		}
	}
}

// TestRoundTrip: decode(encode(r)) == r for random flat schemas (arrays
// and rows of scalars) under random options. Strings are non-NULL (CSV
// writes NULL and "" alike unless a null literal is set) and hold no
// array delimiter inside arrays.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := csv.Options{
			FieldDelimiter:        rapid.SampledFrom([]rune{',', ';', '\t', '|'}).Draw(t, "delim"),
			AllowComments:         rapid.Bool().Draw(t, "comments"),
			ArrayElementDelimiter: "~",
		}
		if rapid.Bool().Draw(t, "escape") {
			opts.EscapeCharacter = '\\'
		}
		c := rowgen.Config{Nested: true, NoMap: true, ScalarsInArrays: true, NonNullStrings: true, NonEmptyBytes: true,
			StringFilter: func(s string) bool { return !strings.Contains(s, "~") }}
		s := rowgen.Schema(t, c)
		r := rowgen.Row(t, c, s)
		if rapid.Bool().Draw(t, "nullLiteral") {
			opts.NullLiteral, opts.HasNullLiteral = `\N`, true
		}
		e, err := csv.NewEncoder(s, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := csv.NewDecoder(s, opts)
		got, ok, err := d.Decode(b)
		if len(b) == 0 || (opts.AllowComments && b[0] == '#') {
			return // an empty or comment line is not a record
		}
		if err != nil || !ok {
			t.Fatalf("decoding %q: %v", b, err)
		}
		if !equalCSV(e, got, r, s) {
			t.Fatalf("%s\nencoded %q\ndecoded %s", row.FormatRow(r, s.Types()), b, row.FormatRow(got, s.Types()))
		}
	})
}

// equalCSV compares scalar columns exactly; ARRAY and ROW columns must
// encode to the same text again (an empty element, an empty array and
// NULL share their text without a null literal: CSV's own ambiguity).
func equalCSV(e *csv.Encoder, a, b row.Row, s row.Schema) bool {
	for i, c := range s.Columns {
		if c.Type.Root != row.TypeArray && c.Type.Root != row.TypeRow && !row.Equal(a.Fields[i], b.Fields[i], c.Type) {
			return false
		}
	}
	x, err1 := e.Append(nil, a)
	y, err2 := e.Append(nil, b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// FuzzDecode: the decoder never panics, errors carry the package prefix,
// and a decoded row encodes and decodes back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`1,abc,1.5,2020-12-30 12:13:14.123,1;2;3`, `1,"a,""b""",,,`, `"`, `,,,,`} {
		f.Add([]byte(s))
	}
	flat := row.NewSchema(row.Col("i", row.IntType()), row.Col("s", row.String()), row.Col("d", row.DecimalType(6, 2)),
		row.Col("ts", row.TimestampType(3)), row.Col("b", row.BytesType()))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, _ := csv.NewDecoder(flat, csv.Options{})
		r, ok, err := d.Decode(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "csv: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if !ok {
			return
		}
		e, _ := csv.NewEncoder(flat, csv.Options{})
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		r2, ok, err := d.Decode(b)
		if err != nil || !ok || !row.EqualRows(r, r2, flat.Types()) {
			t.Fatalf("%q → %q → %v %v", in, b, err, ok)
		}
	})
}

// TestEncodeDecimalNotation: DECIMALs are written with their scale
// (Java's toPlainString of the value as it is), as Flink's CSV serializer
// without csv.write-bigdecimal-in-scientific-notation or with 'false';
// with DecimalScientific ('true') trailing zeros are stripped, then
// written as Java's BigDecimal.toString (Flink's CsvFormatFactoryTest:
// 100000 as DECIMAL(10, 3) is 1E+5).
func TestEncodeDecimalNotation(t *testing.T) {
	for _, tc := range []struct {
		p, s       int
		in         string
		plain, sci string
	}{
		{10, 3, "100000", "100000.000", "1E+5"},
		{10, 2, "12.50", "12.50", "12.5"},
		{10, 2, "-12.50", "-12.50", "-12.5"},
		{10, 2, "0.00", "0.00", "0"},
		{10, 0, "0", "0", "0"},
		{10, 0, "7", "7", "7"},
		{10, 0, "120", "120", "1.2E+2"},
		{10, 2, "-3000.00", "-3000.00", "-3E+3"},
		{10, 2, "1234.56", "1234.56", "1234.56"},
		{10, 2, "-0.01", "-0.01", "-0.01"},
		{12, 10, "0.000001", "0.0000010000", "0.000001"},
		{12, 10, "0.0000001", "0.0000001000", "1E-7"},
		{12, 10, "-0.00000012", "-0.0000001200", "-1.2E-7"},
		{38, 10, "0.000000001", "0.0000000010", "1E-9"},
		{38, 2, "123456789012345678901234567890.10", "123456789012345678901234567890.10", "123456789012345678901234567890.1"},
		{38, 0, "12345678901234567890123456789000000", "12345678901234567890123456789000000", "1.2345678901234567890123456789E+34"},
	} {
		typ := row.DecimalType(tc.p, tc.s)
		s := row.NewSchema(row.Col("d", typ))
		dec, err := csv.NewDecoder(s, csv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, ok, err := dec.Decode([]byte(tc.in))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", tc.in, ok, err)
		}
		for _, m := range []struct {
			sci  bool
			want string
		}{{false, tc.plain}, {true, tc.sci}} {
			e, err := csv.NewEncoder(s, csv.Options{DecimalScientific: m.sci})
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.Append(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != m.want {
				t.Errorf("DECIMAL(%d, %d) %s scientific=%v: got %s, want %s", tc.p, tc.s, tc.in, m.sci, b, m.want)
			}
			if back, ok, err := dec.Decode(b); err != nil || !ok || !row.EqualRows(r, back, s.Types()) {
				t.Errorf("%s does not read back: %v %v", b, ok, err)
			}
		}
	}
}
