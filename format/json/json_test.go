package json_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/format/internal/rowgen"
	"github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// TestDecode checks decoding against Flink's JSON format behaviour; the
// decoded rows are shown with row.FormatRow (Flink's print format).
func TestDecode(t *testing.T) {
	s := row.NewSchema(
		row.Col("i", row.IntType()),
		row.Col("d", row.DecimalType(5, 2)),
		row.Col("s", row.String()),
		row.Col("ts", row.TimestampType(3)),
		row.Col("b", row.BytesType()),
		row.Col("a", row.ArrayType(row.BigInt())),
		row.Col("r", row.RowType(row.Col("x", row.Boolean()))),
		row.Col("m", row.MapType(row.String(), row.Double())),
	)
	for _, tc := range []struct {
		in, want string
		opts     json.Options
	}{
		{in: `{"i": 1, "d": 1.005, "s": "x", "ts": "2020-12-30 12:13:14.123", "b": "AQI=", "a": [1, null], "r": {"x": true}, "m": {"k": 1.5, "j": 2}}`,
			want: `+I[1, 1.01, x, 2020-12-30 12:13:14.123, x'0102', [1, NULL], (TRUE), {k=1.5, j=2.0}]`},
		// Quoted numbers read, non-string values become their JSON text in
		// a STRING column, overflowing decimals are NULL, missing fields NULL.
		{in: `{"i": "42", "d": 12345.6, "s": {"y": [1, 2.50]}}`,
			want: `+I[42, NULL, {"y":[1,2.50]}, NULL, NULL, NULL, NULL, NULL]`},
		{in: `{"ts": "2020-12-30T12:13:14"}`, opts: json.Options{Timestamp: json.ISO8601},
			want: `+I[NULL, NULL, NULL, 2020-12-30 12:13:14.000, NULL, NULL, NULL, NULL]`},
		{in: `{"i": 2147483648}`, want: `error: json: field i: 2147483648 is out of range for INT`},
		{in: `{"i": "x"}`, opts: json.Options{IgnoreParseErrors: true},
			want: `+I[NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]`},
		{in: `{"s": "x"}`, opts: json.Options{FailOnMissingField: true}, want: `error: json: field i: Could not find field with name 'i'.`},
		// Flink reads a non-boolean as Boolean.parseBoolean of its text:
		// only "true" (any case) is TRUE.
		{in: `{"r": {"x": 1}}`, want: `+I[NULL, NULL, NULL, NULL, NULL, NULL, (FALSE), NULL]`},
		{in: `{"r": {"x": "TRUE"}}`, want: `+I[NULL, NULL, NULL, NULL, NULL, NULL, (TRUE), NULL]`},
		{in: `{"a": [1, "b"]}`, want: `error: json: field a[1]: "b" is not an integer`},
		{in: `{"i": 1} x`, want: `error: json: malformed JSON: unexpected data after the JSON value`},
		{in: `[1]`, want: `error: json: the record is not a JSON object`},
		{in: `null`, want: `(no row)`},
	} {
		d, err := json.NewDecoder(s, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		r, ok, err := d.Decode([]byte(tc.in))
		got := "(no row)"
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case ok:
			got = row.FormatRow(r, s.Types())
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestEncode checks the JSON Flink writes: decimals as Java's BigDecimal
// prints them (or plain), timestamps in the SQL or ISO-8601 style with a
// 'Z' for TIMESTAMP_LTZ, bytes in base64, map null keys by mode.
func TestEncode(t *testing.T) {
	s := row.NewSchema(
		row.Col("d", row.DecimalType(10, 7)),
		row.Col("ts", row.TimestampType(3)),
		row.Col("ltz", row.TimestampLTZType(6)),
		row.Col("t", row.TimeType(0)),
		row.Col("dt", row.DateType()),
		row.Col("f", row.Double()),
		row.Col("b", row.BytesType()),
		row.Col("m", row.MapType(row.String(), row.IntType())),
	)
	r := row.Of(row.Int(1), row.Timestamp(1609330394123, 0), row.Timestamp(1609330394000, 500000),
		row.Int(3661e9), row.Int(18626), row.Float(1e10), row.Bytes([]byte("hi")),
		row.Map([]row.Value{row.Null(), row.Str("a")}, []row.Value{row.Int(1), row.Int(2)}))
	for _, tc := range []struct {
		opts json.Options
		want string
	}{
		{json.Options{MapNullKey: json.MapNullKeyDrop},
			`{"d":1E-7,"ts":"2020-12-30 12:13:14.123","ltz":"2020-12-30 12:13:14.0005Z","t":"01:01:01","dt":"2020-12-30","f":1.0E10,"b":"aGk=","m":{"a":2}}`},
		{json.Options{MapNullKey: json.MapNullKeyLiteral, MapNullKeyLiteral: "nil", DecimalAsPlainNumber: true, Timestamp: json.ISO8601},
			`{"d":0.0000001,"ts":"2020-12-30T12:13:14.123","ltz":"2020-12-30T12:13:14.0005Z","t":"01:01:01","dt":"2020-12-30","f":1.0E10,"b":"aGk=","m":{"nil":1,"a":2}}`},
		{json.Options{}, `error: json: field m: JSON format doesn't support to serialize map data with null keys. You can drop null key entries or encode null in literals by specifying map-null-key.mode option.`},
	} {
		e, err := json.NewEncoder(s, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Append(nil, r)
		got := string(b)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// TestRoundTrip: decode(encode(r)) == r for random schemas and rows.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rowgen.Config{Nested: true}
		s := rowgen.Schema(t, c)
		r := rowgen.Row(t, c, s)
		opts := json.Options{DecimalAsPlainNumber: rapid.Bool().Draw(t, "plain")}
		if rapid.Bool().Draw(t, "iso") {
			opts.Timestamp = json.ISO8601
		}
		e, err := json.NewEncoder(s, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := json.NewDecoder(s, opts)
		got, ok, err := d.Decode(b)
		if err != nil || !ok {
			t.Fatalf("decoding %s: %v", b, err)
		}
		if !row.EqualRows(got, r, s.Types()) {
			t.Fatalf("%s\nencoded %s\ndecoded %s", row.FormatRow(r, s.Types()), b, row.FormatRow(got, s.Types()))
		}
	})
}

var fuzzSchema = row.NewSchema(
	row.Col("i", row.BigInt()),
	row.Col("d", row.DecimalType(20, 3)),
	row.Col("s", row.String()),
	row.Col("ts", row.TimestampLTZType(9)),
	row.Col("b", row.BytesType()),
	row.Col("a", row.ArrayType(row.RowType(row.Col("x", row.Double()), row.Col("y", row.DateType())))),
	row.Col("m", row.MapType(row.String(), row.ArrayType(row.Boolean()))),
)

// FuzzDecode: the decoder never panics, and what it decodes encodes and
// decodes back to the same row.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"i": 1, "d": "1.5", "s": "x", "ts": "2020-01-01 00:00:00.123456789Z"}`,
		`{"a": [{"x": 1e300, "y": "2020-02-29"}], "m": {"k": [true, null]}, "b": "AAA="}`, `null`, `{"s": [1, {"z": null}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, _ := json.NewDecoder(fuzzSchema, json.Options{})
		r, ok, err := d.Decode(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "json: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if !ok {
			return
		}
		e, _ := json.NewEncoder(fuzzSchema, json.Options{})
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatalf("encoding a decoded row: %v", err)
		}
		r2, ok, err := d.Decode(b)
		if err != nil || !ok || !row.EqualRows(r, r2, fuzzSchema.Types()) {
			t.Fatalf("%s → %s → %v %v", in, b, err, ok)
		}
	})
}

// TestEncodeIgnoreNullFields: with IgnoreNullFields (Flink's
// json.encode.ignore-null-fields) NULL members of the record and of
// nested ROWs are left out; NULL array elements and map values are kept.
func TestEncodeIgnoreNullFields(t *testing.T) {
	s := row.NewSchema(
		row.Col("a", row.IntType()),
		row.Col("b", row.String()),
		row.Col("r", row.RowType(row.Col("x", row.IntType()), row.Col("y", row.String()))),
		row.Col("arr", row.ArrayType(row.IntType())),
		row.Col("m", row.MapType(row.String(), row.IntType())),
	)
	rows := []row.Row{
		row.Of(row.Null(), row.Str("s"), row.Nested([]row.Value{row.Null(), row.Str("y")}),
			row.Array([]row.Value{row.Int(1), row.Null()}), row.Map([]row.Value{row.Str("k")}, []row.Value{row.Null()})),
		row.Of(row.Int(1), row.Null(), row.Null(), row.Null(), row.Null()),
		row.Of(row.Null(), row.Null(), row.Nested([]row.Value{row.Null(), row.Null()}), row.Null(), row.Null()),
	}
	for _, tc := range []struct {
		ignore bool
		want   []string
	}{
		{false, []string{
			`{"a":null,"b":"s","r":{"x":null,"y":"y"},"arr":[1,null],"m":{"k":null}}`,
			`{"a":1,"b":null,"r":null,"arr":null,"m":null}`,
			`{"a":null,"b":null,"r":{"x":null,"y":null},"arr":null,"m":null}`}},
		{true, []string{
			`{"b":"s","r":{"y":"y"},"arr":[1,null],"m":{"k":null}}`,
			`{"a":1}`,
			`{"r":{}}`}},
	} {
		e, err := json.NewEncoder(s, json.Options{IgnoreNullFields: tc.ignore})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			b, err := e.Append(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want[i] {
				t.Errorf("ignore=%v row %d: got  %s\nwant %s", tc.ignore, i, b, tc.want[i])
			}
		}
	}
}

// TestVariant: a VARIANT column reads any JSON value as PARSE_JSON would
// (a repeated key keeps the last value, a JSON null is SQL NULL) and is
// written as nested JSON, in arrays and rows too.
func TestVariant(t *testing.T) {
	s := row.NewSchema(
		row.Col("v", row.VariantType()),
		row.Col("a", row.ArrayType(row.VariantType())),
		row.Col("r", row.RowType(row.Col("x", row.VariantType()))),
	)
	d, err := json.NewDecoder(s, json.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := json.NewEncoder(s, json.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, row, out string }{
		{`{"v": {"b": [1, 2.50, 1e2, "x<"], "a": {"k": 1, "k": 2}}, "a": [true, null, 7], "r": {"x": "s"}}`,
			`+I[{"a":{"k":2},"b":[1,2.50,100.0,"x<"]}, [true, NULL, 7], ("s")]`,
			`{"v":{"a":{"k":2},"b":[1,2.50,100.0,"x<"]},"a":[true,null,7],"r":{"x":"s"}}`},
		{`{"v": null, "a": [], "r": {"x": 3.0}}`, `+I[NULL, [], (3.0)]`, `{"v":null,"a":[],"r":{"x":3.0}}`},
		{`{"v": 12}`, `+I[12, NULL, NULL]`, `{"v":12,"a":null,"r":null}`},
	} {
		r, ok, err := d.Decode([]byte(tc.in))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", tc.in, ok, err)
		}
		if got := row.FormatRow(r, s.Types()); got != tc.row {
			t.Errorf("%s: decoded\n got %s\nwant %s", tc.in, got, tc.row)
		}
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.out {
			t.Errorf("%s: encoded\n got %s\nwant %s", tc.in, b, tc.out)
		}
	}
}
