package file

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzSplitCSV checks splitCSV against encoding/csv, the reference, on
// one-line records: same fields, or both an error.
func FuzzSplitCSV(f *testing.F) {
	for _, s := range []string{`a,b,c`, `"a,b",c`, `"a""b",`, `a"b`, `"a"b`, `"open`, `,,`, ` "x"`, `"é",ü`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if line == "" || strings.ContainsAny(line, "\r\n") {
			return
		}
		fields, _, err := splitCSV([]byte(line), ',', nil, nil)
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		want, werr := r.Read()
		if werr == io.EOF {
			return
		}
		if (err != nil) != (werr != nil) {
			t.Fatalf("splitCSV(%q) error %v, encoding/csv error %v", line, err, werr)
		}
		if err != nil {
			return
		}
		got := make([]string, len(fields))
		for i, f := range fields {
			got[i] = string(f)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("splitCSV(%q) = %q, encoding/csv %q", line, got, want)
		}
	})
}

// FuzzCSVFieldRoundTrip checks that fields written by appendCSVField read
// back unchanged, also across lines.
func FuzzCSVFieldRoundTrip(f *testing.F) {
	f.Add("a", "b,c", `"q"`)
	f.Add("", " lead", "x\ny")
	f.Add("\r\n", "\t", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := []string{a, b, c}
		var rec []byte
		for i, s := range in {
			if i > 0 {
				rec = append(rec, ',')
			}
			rec = appendCSVField(rec, s, ',')
		}
		fields, _, err := splitCSV(rec, ',', nil, nil)
		if err != nil {
			t.Fatalf("splitCSV(%q): %v", rec, err)
		}
		got := make([]string, len(fields))
		for i, f := range fields {
			got[i] = string(f)
		}
		if !slices.Equal(got, in) {
			t.Fatalf("round trip of %q via %q gave %q", in, rec, got)
		}
	})
}

type fuzzRec struct {
	ID   int64     `json:"id" csv:"id"`
	Name string    `json:"name" csv:"name"`
	X    float32   `json:"x" csv:"x"`
	OK   *bool     `json:"ok" csv:"ok"`
	At   time.Time `json:"at" csv:"at"`
	U    uint8     `json:"u" csv:"u"`
	D    time.Duration
}

// FuzzCSVDecode feeds arbitrary records to the CSV decoder: no panic, and a
// record that decodes encodes and decodes again to the same value.
func FuzzCSVDecode(f *testing.F) {
	f.Add("1,ann,1.5,true,2026-01-01T00:00:00Z,7,1s")
	f.Add(`2,"a,b",NaN,,,,`)
	f.Add(`x,y,z,maybe,yesterday,300,soon`)
	f.Add(`3,"multi` + "\n" + `line",-0,false,2026-01-01T00:00:00.123+02:00,0,-1h2m`)
	schema, err := newCSVSchema[fuzzRec]()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		d := &csvDecoder[fuzzRec]{schema: schema, comma: ','}
		if _, err := d.header([]byte("id,name,x,ok,at,u,D")); err != nil {
			t.Fatal(err)
		}
		var v fuzzRec
		field, err := d.decode([]byte(rec), &v)
		if err != nil {
			if field != "" && !slices.Contains(d.names, field) {
				t.Fatalf("error names field %q, not a column", field)
			}
			return
		}
		e := &csvEncoder[fuzzRec]{schema: schema, comma: ','}
		line, err := e.encode(v)
		if err != nil {
			t.Fatalf("encode %+v: %v", v, err)
		}
		var w fuzzRec
		if _, err := d.decode(bytes.TrimSuffix(line, []byte{'\n'}), &w); err != nil {
			t.Fatalf("decode of encoded %q: %v", line, err)
		}
		if !equalFuzzRec(v, w) {
			t.Fatalf("round trip %q -> %+v -> %q -> %+v", rec, v, line, w)
		}
	})
}

func equalFuzzRec(a, b fuzzRec) bool {
	sameX := a.X == b.X || (a.X != a.X && b.X != b.X) // NaN
	sameOK := (a.OK == nil) == (b.OK == nil) && (a.OK == nil || *a.OK == *b.OK)
	return a.ID == b.ID && a.Name == b.Name && sameX && sameOK && a.At.Equal(b.At) && a.U == b.U && a.D == b.D
}

// FuzzJSONDecode feeds arbitrary lines to the JSON decoder in its modes
// (lax, strict, FailOnMissingField): no panic, the strict modes accept no
// more than the lax one and decode what they accept alike, and an error
// names a field only if it is a type, unknown-field or missing-field error.
// The key scanner of FailOnMissingField sees the keys encoding/json sees.
func FuzzJSONDecode(f *testing.F) {
	f.Add(`{"id":1,"name":"a"}`)
	f.Add(`{"id":"x"}`)
	f.Add(`{"id":1} {"id":2}`)
	f.Add(`{"zzz":1}`)
	f.Add(`null`)
	f.Add(`{"at":"not a time"}`)
	f.Add("{}\v")
	f.Add(`{"id":1} GARBAGE`)
	f.Add(`{"id":1,"name":"a","x":1,"ok":null,"at":"2026-01-01T00:00:00Z","u":1,"D":null}`)
	f.Add(`{"i\u0064":1,"NAME":"a","x":[1,{"y":"}"}],"ok":true}`)
	required, err := requiredJSONFields[fuzzRec]()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var lax, strict, req fuzzRec
		lf, lerr := (&jsonDecoder[fuzzRec]{}).decode([]byte(line), &lax)
		sf, serr := (&jsonDecoder[fuzzRec]{strict: true}).decode([]byte(line), &strict)
		rf, rerr := (&jsonDecoder[fuzzRec]{required: required}).decode([]byte(line), &req)
		if lerr != nil && serr == nil {
			t.Fatalf("strict accepted %q, lax rejected it: %v", line, lerr)
		}
		if lerr != nil && rerr == nil {
			t.Fatalf("FailOnMissingField accepted %q, lax rejected it: %v", line, lerr)
		}
		for _, c := range []struct {
			field string
			err   error
		}{{lf, lerr}, {sf, serr}, {rf, rerr}} {
			if c.field == "" {
				continue
			}
			var te *json.UnmarshalTypeError
			if !errors.As(c.err, &te) && !strings.Contains(c.err.Error(), "unknown field") &&
				!strings.Contains(c.err.Error(), "missing field") && !strings.Contains(c.err.Error(), "is null") {
				t.Fatalf("field %q named for error %v", c.field, c.err)
			}
		}
		if lerr == nil && serr == nil && !equalFuzzRec(lax, strict) {
			t.Fatalf("modes decoded %q differently: %+v vs %+v", line, lax, strict)
		}
		if lerr == nil && rerr == nil && !equalFuzzRec(lax, req) {
			t.Fatalf("modes decoded %q differently: %+v vs %+v", line, lax, req)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &m) != nil || m == nil {
			return
		}
		got := map[string]bool{}
		if err := objectKeys([]byte(line), func(k []byte, null bool) { got[string(k)] = null }); err != nil {
			t.Fatalf("objectKeys(%q): %v", line, err)
		}
		if len(got) != len(m) {
			t.Fatalf("objectKeys(%q) found %v, encoding/json %d keys", line, got, len(m))
		}
		for k, raw := range m {
			null, ok := got[k]
			if !ok || null != (string(raw) == "null") {
				t.Fatalf("objectKeys(%q): key %q null=%v found=%v, raw %s", line, k, null, ok, raw)
			}
		}
	})
}
