package row_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

func TestParseJSONVariant(t *testing.T) {
	for _, c := range []struct {
		in, json string
		kind     row.VariantKind
	}{
		{`1`, `1`, row.VariantInt8},
		{`128`, `128`, row.VariantInt16},
		{`-129`, `-129`, row.VariantInt16},
		{`32768`, `32768`, row.VariantInt32},
		{`2147483648`, `2147483648`, row.VariantInt64},
		{`-9223372036854775808`, `-9223372036854775808`, row.VariantInt64},
		{`9223372036854775808`, `9223372036854775808`, row.VariantDecimal},
		{`123456789012345678901234567890123456789`, `1.2345678901234568E38`, row.VariantDouble},
		{`-0`, `0`, row.VariantInt8},
		{`3.14`, `3.14`, row.VariantDecimal},
		{`0.10`, `0.10`, row.VariantDecimal},
		{`-0.005`, `-0.005`, row.VariantDecimal},
		{`-0.0`, `0.0`, row.VariantDecimal},
		{`0.000000000000000000000000000000000000001`, `1.0E-39`, row.VariantDouble},
		{`1e10`, `1.0E10`, row.VariantDouble},
		{`-1.5e3`, `-1500.0`, row.VariantDouble},
		{`1E-10`, `1.0E-10`, row.VariantDouble},
		{` true `, `true`, row.VariantTrue},
		{`false`, `false`, row.VariantFalse},
		{"\tnull\n", `null`, row.VariantNull},
		{`"a\"b\\c\/d\u00e9\ud83d\ude80\n\u0001"`, `"a\"b\\c/dé🚀\n\u0001"`, row.VariantString},
		{`[]`, `[]`, row.VariantArray},
		{`[1, "x", [null], {}]`, `[1,"x",[null],{}]`, row.VariantArray},
		{`{"b": 1, "a": {"d": [2.50], "c": null}}`, `{"a":{"c":null,"d":[2.50]},"b":1}`, row.VariantObject},
		{`{"schlüssel":"Grüße","キー":["äöü"]}`, `{"schlüssel":"Grüße","キー":["äöü"]}`, row.VariantObject},
	} {
		enc, err := row.ParseJSONVariant(c.in, false)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if err := row.ValidateVariant(enc); err != nil {
			t.Errorf("%q: invalid encoding: %v", c.in, err)
		}
		if got := row.VariantJSON(enc); got != c.json {
			t.Errorf("%q: JSON %s, want %s", c.in, got, c.json)
		}
		if got := row.VariantKindOf(enc); got != c.kind {
			t.Errorf("%q: kind %v, want %v", c.in, got, c.kind)
		}
	}
}

func TestParseJSONVariantErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `[1,]`, `{"a":1,}`, `01`, `-01`, `1.`, `.5`, `1e`, `1e+`, `+5`, `--1`,
		`NaN`, `Infinity`, `-Infinity`, `1e400`, `-1e400`, `5 6`, `{} x`, `'a'`, `{a:1}`,
		`"\x"`, `"\u12"`, `"\ud800"`, `"\udc00x"`, "\"a\x01\"", "\"\xff\"", `tru`, `nul`,
		"\ufeff1", "1\x00", `[` + strings.Repeat(`[`, row.MaxVariantDepth) + strings.Repeat(`]`, row.MaxVariantDepth+1),
	} {
		if enc, err := row.ParseJSONVariant(in, true); err == nil {
			t.Errorf("%q: parsed as %s, want an error", in, row.VariantJSON(enc))
		}
	}
	// What follows an element or a field is named.
	for in, want := range map[string]string{`[1 2]`: `expected ',' or ']'`, `{"a":1 "b":2}`: `expected ',' or '}'`} {
		if _, err := row.ParseJSONVariant(in, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %s", in, err, want)
		}
	}
	// Depth MaxVariantDepth is fine.
	deep := strings.Repeat(`[`, row.MaxVariantDepth) + strings.Repeat(`]`, row.MaxVariantDepth)
	if _, err := row.ParseJSONVariant(deep, false); err != nil {
		t.Errorf("depth %d: %v", row.MaxVariantDepth, err)
	}
}

func TestParseJSONVariantDuplicateKeys(t *testing.T) {
	in := `{"k1":1,"k1":2,"k2":1.5,"k1":{"x":3}}`
	if _, err := row.ParseJSONVariant(in, false); !errors.Is(err, row.ErrVariantDuplicateKey) {
		t.Fatalf("err = %v, want ErrVariantDuplicateKey", err)
	}
	enc, err := row.ParseJSONVariant(in, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := row.VariantJSON(enc), `{"k1":{"x":3},"k2":1.5}`; got != want {
		t.Fatalf("last wins: %s, want %s", got, want)
	}
	// Nested duplicates too.
	if _, err := row.ParseJSONVariant(`[{"a":1,"a":1}]`, false); !errors.Is(err, row.ErrVariantDuplicateKey) {
		t.Fatalf("nested: err = %v", err)
	}
}

func TestVariantAccess(t *testing.T) {
	enc, err := row.ParseJSONVariant(`{"users":[{"id":1,"name":"Alice"}],"n":null}`, false)
	if err != nil {
		t.Fatal(err)
	}
	users, ok := row.VariantField(enc, "users")
	if !ok {
		t.Fatal("no users")
	}
	u, ok := row.VariantElem(users, 0)
	if !ok {
		t.Fatal("no users[0]")
	}
	name, _ := row.VariantField(u, "name")
	if s, ok := row.VariantStr(name); !ok || s != "Alice" {
		t.Fatalf("name = %q %v", s, ok)
	}
	if _, ok := row.VariantElem(users, 1); ok {
		t.Fatal("users[1] present")
	}
	if _, ok := row.VariantElem(users, -1); ok {
		t.Fatal("users[-1] present")
	}
	if _, ok := row.VariantField(enc, "missing"); ok {
		t.Fatal("missing present")
	}
	if n, ok := row.VariantField(enc, "n"); !ok || row.VariantKindOf(n) != row.VariantNull {
		t.Fatal("n is not a variant null")
	}
	if _, ok := row.VariantField(users, "x"); ok {
		t.Fatal("field of an array")
	}
}

func TestVariantCodec(t *testing.T) {
	types := []row.Type{row.IntType(), row.VariantType(), row.ArrayType(row.VariantType())}
	c := row.NewCodec(types)
	v1, _ := row.ParseJSONVariant(`{"a":[1,2.5,"x"],"b":null}`, false)
	v2, _ := row.ParseJSONVariant(`null`, false)
	r := row.Of(row.Int(7), row.Variant(v1), row.Array([]row.Value{row.Variant(v2), {}}))
	b := c.Append(nil, r)
	got, n, err := c.Decode(b)
	if err != nil || n != len(b) {
		t.Fatalf("decode: %v (%d of %d bytes)", err, n, len(b))
	}
	if s := row.FormatRow(got, types); s != `+I[7, {"a":[1,2.5,"x"],"b":null}, [null, NULL]]` {
		t.Fatalf("round trip: %s", s)
	}
	// A corrupt variant inside a row is a codec.ErrCorrupt.
	bad := append([]byte(nil), b...)
	i := strings.Index(string(bad), v1)
	bad[i] = 0x7f
	if _, _, err := c.Decode(bad); !errors.Is(err, codec.ErrCorrupt) {
		t.Fatalf("corrupt variant: err = %v", err)
	}
}

// FuzzVariant checks the parser against encoding/json's validity, that
// every parsed variant is a valid canonical encoding whose JSON parses
// back to the same bytes, and that the decoder (ValidateVariant) accepts
// only canonical encodings: anything it accepts prints and re-parses to
// the same bytes, and never panics.
func FuzzVariant(f *testing.F) {
	for _, s := range []string{`1`, `{"a":[1,2.5,"x"],"b":null}`, `[true,false,null]`, `"é\n"`,
		`1e10`, `-0.005`, `9223372036854775808`, `{"b":1,"a":2}`, `[[[]]]`} {
		f.Add(s)
		enc, _ := row.ParseJSONVariant(s, false)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, err := row.ParseJSONVariant(s, true)
		if err == nil {
			if !json.Valid([]byte(s)) {
				t.Fatalf("parsed invalid JSON %q", s)
			}
			if err := row.ValidateVariant(enc); err != nil {
				t.Fatalf("%q: parsed to an invalid encoding: %v", s, err)
			}
			// DOUBLE and DECIMAL print as text that may re-parse as the
			// other kind (Flink's too: 0e0 prints 0.0, a DECIMAL).
			js := row.VariantJSON(enc)
			again, err := row.ParseJSONVariant(js, false)
			if err != nil || (again != enc && !strings.ContainsAny(js, ".E")) {
				t.Fatalf("%q: JSON %s re-parses to a different variant (%v)", s, row.VariantJSON(enc), err)
			}
		} else if json.Valid([]byte(s)) && !strings.ContainsAny(s, "eE.") && len(s) < 100 {
			// Valid JSON fails only for too-deep nesting or numbers out of range.
			if !strings.Contains(err.Error(), "nesting") && !strings.Contains(err.Error(), "surrogate") &&
				!strings.Contains(err.Error(), "UTF-8") {
				t.Fatalf("%q: valid JSON refused: %v", s, err)
			}
		}
		if row.ValidateVariant(s) == nil {
			js := row.VariantJSON(s)
			again, err := row.ParseJSONVariant(js, false)
			if err != nil {
				t.Fatalf("%x: decoded variant prints unparsable JSON %s: %v", s, js, err)
			}
			if again != s && !strings.ContainsAny(js, ".E") {
				t.Fatalf("%x: not canonical: JSON %s parses to %x", s, js, again)
			}
		}
	})
}
