package kafka

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

type jsonInner struct {
	ID   int    `json:"id"`
	Note string `json:"note,omitempty"`
}

type jsonDoc struct {
	Key    string    `json:"key"`
	Seq    int64     `json:"seq"`
	Inner  jsonInner `json:"inner"`
	Ignore string    `json:"-"`
	Opt    *int      `json:"opt,omitempty"`
}

// TestJSONSerde: a record holds exactly one JSON value with only JSON
// whitespace around it; null and empty values are bad records;
// FailOnMissingField names the first missing field (nested ones with
// their path); reasons carry no repeated prefixes.
func TestJSONSerde(t *testing.T) {
	const full = `{"key":"a","seq":1,"inner":{"id":2}}`
	for _, tc := range []struct {
		name, in            string
		strict, missing     bool
		field, reasonPrefix string // expected error (reasonPrefix "" = accepted)
	}{
		{name: "plain", in: full},
		{name: "whitespace around", in: " \t\r\n" + full + "\n\r\t "},
		{name: "trailing garbage", in: `{"key":"a"} GARBAGE`, reasonPrefix: "json: 7 bytes after the value, starting \"GARBAGE\""},
		{name: "trailing garbage, strict", in: `{"key":"a"} GARBAGE`, strict: true, reasonPrefix: "json: 7 bytes after the value, starting \"GARBAGE\""},
		{name: "two values", in: `{"key":"a"} {"key":"b"}`, reasonPrefix: "json: 11 bytes after the value"},
		{name: "two values, strict", in: `{"key":"a"}{"key":"b"}`, strict: true, reasonPrefix: "json: 11 bytes after the value"},
		{name: "non-JSON whitespace", in: full + "\u00a0", reasonPrefix: "json: 2 bytes after the value"},
		{name: "vertical tab", in: full + "\v", reasonPrefix: "json: 1 bytes after the value"},
		{name: "null", in: "null", reasonPrefix: "json: the value is null"},
		{name: "null, missing", in: " null ", missing: true, reasonPrefix: "json: the value is null"},
		{name: "empty", in: "", reasonPrefix: "json: empty record value"},
		{name: "truncated", in: `{"key":`, reasonPrefix: "json: unexpected end"},
		{name: "syntax", in: `{"key" "a"}`, reasonPrefix: "json: invalid character"},
		{name: "type", in: `{"key":1}`, field: "key", reasonPrefix: "cannot decode a JSON number into string"},
		{name: "unknown, strict", in: `{"key":"a","zzz":1}`, strict: true, reasonPrefix: `json: unknown field "zzz"`},
		{name: "missing allowed", in: `{"key":"a"}`},
		{name: "missing", in: `{"key":"a","inner":{"id":2}}`, missing: true, field: "seq", reasonPrefix: "missing"},
		{name: "nested missing", in: `{"key":"a","seq":1,"inner":{}}`, missing: true, field: "inner.id", reasonPrefix: "missing"},
		{name: "present as null", in: `{"key":null,"seq":1,"inner":{"id":null}}`, missing: true},
		{name: "case-insensitive", in: `{"KEY":"a","Seq":1,"inner":{"ID":2}}`, missing: true},
		{name: "all present", in: full, missing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := JSONSerde[jsonDoc]{DisallowUnknownFields: tc.strict, FailOnMissingField: tc.missing}
			_, err := s.Deserialize(&kgo.Record{Value: []byte(tc.in)})
			if tc.reasonPrefix == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a DecodeError", err)
			}
			field, reason := rejection(err)
			if field != tc.field || !strings.HasPrefix(reason, tc.reasonPrefix) && !strings.HasPrefix(de.Reason, tc.reasonPrefix) {
				t.Fatalf("field %q reason %q, want field %q reason starting %q", field, reason, tc.field, tc.reasonPrefix)
			}
			if strings.Contains(reason, "json: json") || strings.HasPrefix(reason, "kafka") || (field != "" && strings.Contains(reason, field+`"`)) {
				t.Fatalf("reason %q repeats a prefix or the field", reason)
			}
		})
	}
	// A pointer type takes null.
	if v, err := (JSONSerde[*jsonDoc]{}).Deserialize(&kgo.Record{Value: []byte("null")}); err != nil || v != nil {
		t.Fatalf("null into a pointer: %v %v", v, err)
	}
	if _, err := (JSONSerde[jsonDoc]{}).Serialize(jsonDoc{}); err != nil {
		t.Fatal(err)
	}
	if _, err := (JSONSerde[func()]{}).Serialize(func() {}); err == nil || strings.Contains(err.Error(), "json: json") {
		t.Fatalf("serializing a func: %v", err)
	}
}

// FuzzJSONSerde checks that the JSON deserializer never panics and only
// accepts a single valid JSON value.
func FuzzJSONSerde(f *testing.F) {
	f.Add([]byte(`{"key":"a","seq":1,"inner":{"id":2}}`))
	f.Add([]byte(`{"key":"a"} GARBAGE`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []JSONSerde[jsonDoc]{{}, {DisallowUnknownFields: true, FailOnMissingField: true}} {
			if _, err := s.Deserialize(&kgo.Record{Value: b}); err == nil && !jsonValid(b) {
				t.Fatalf("accepted %q", b)
			}
		}
	})
}
