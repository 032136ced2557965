package http

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestSplitBody(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"", ""},
		{"  \n", ""},
		{`{"a":1}`, `line 1 {"a":1};`},
		{"{\n \"a\": 1\n}\n", "line 1 {\n \"a\": 1\n};"},
		{`[{"a":1}, 2 ,"x"]`, `element 1 {"a":1};element 2 2;element 3 "x";`},
		{"{\"a\":1}\r\n\n{\"b\":2}\nbad", `line 1 {"a":1};line 3 {"b":2};line 4 bad;`},
		{"[1,\n2", "line 1 [1,;line 2 2;"},
		{"[]", ""},
	} {
		var b strings.Builder
		err := splitBody([]byte(tc.body), func(unit string, n int, raw []byte) error {
			fmt.Fprintf(&b, "%s %d %s;", unit, n, raw)
			return nil
		})
		if err != nil || b.String() != tc.want {
			t.Errorf("splitBody(%q) = %q, %v; want %q", tc.body, b.String(), err, tc.want)
		}
	}
}

func FuzzSplitBody(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\":2}", "[1,2,3]", "{\n}", "a\r\nb", "[\"x\"", " [ ] "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		last := 0
		_ = splitBody(body, func(unit string, n int, raw []byte) error {
			if len(bytes.Trim(raw, jsonSpace)) == 0 {
				t.Fatalf("blank record %q from %q", raw, body)
			}
			if n <= last {
				t.Fatalf("record numbers not increasing: %d after %d", n, last)
			}
			last = n
			if unit == "line" && !bytes.Contains(body, raw) {
				t.Fatalf("line %q not in the body %q", raw, body)
			}
			return nil
		})
	})
}
