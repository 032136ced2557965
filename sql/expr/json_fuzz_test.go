package expr

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzJSONPath feeds path specs (with or without a lax/strict mode) to the
// JSON path parser and evaluates those it accepts on a few documents, as
// JSON_VALUE, JSON_QUERY, JSON_EXISTS and JSON_LENGTH do: nothing may
// panic, an evaluation is repeatable, and a definite path whose keys
// print plainly round-trips through jsonPathString.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{"$", "lax $.a", "strict $.a.b[0]", "$.a[*].c", "$..name", "$[-1]", "$.*",
		"$['a b'][2]", `$."q"`, "a.b", "$.[", "$[0,1]", "$[1:2]", "$..*", " LAX  $[*][*]", "$.a.length()"} {
		f.Add(s)
	}
	docs := []string{`{"a":{"b":[1,{"c":2}],"name":"x"},"c":null}`, `[1,[2,3],{"name":[4]}]`, `null`, `"s"`, `{`, `{}`, `[]`}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := parseJSONSpec(spec)
		if err != nil {
			return // a path Weir does not read: the functions fail
		}
		wild := false
		for _, st := range p.steps {
			wild = wild || st.wild || st.deep
		}
		if wild != p.indefinite {
			t.Fatalf("%q: indefinite %v, steps %+v", spec, p.indefinite, p.steps)
		}
		for _, d := range docs {
			c1, c2 := jsonEvalPath(d, &p), jsonEvalPath(d, &p)
			if !reflect.DeepEqual(c1.obj, c2.obj) || (c1.err == nil) != (c2.err == nil) {
				t.Fatalf("%q on %s: not repeatable", spec, d)
			}
			if c1.err != nil && c1.obj != nil {
				t.Fatalf("%q on %s: both a value and an error", spec, d)
			}
			_, _, _ = jsonLength(d, &spec)
		}
		if p.err != nil || p.indefinite {
			return
		}
		for _, st := range p.steps {
			if !st.isIdx && (st.key == "" || strings.ContainsAny(st.key, `'"]`)) {
				return
			}
		}
		back, err := parseJSONPath(jsonPathString(p.steps))
		if err != nil || !reflect.DeepEqual(back, p.steps) && !(len(back) == 0 && len(p.steps) == 0) {
			t.Fatalf("%q: %s reparses to %+v (%v), want %+v", spec, jsonPathString(p.steps), back, err, p.steps)
		}
	})
}
