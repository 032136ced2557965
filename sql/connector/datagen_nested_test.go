package connector_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TestDatagenNestedOptions checks the options of the parts of random
// collection and ROW columns, which Flink's RandomGeneratorVisitor reads
// under '<column>.element', '<column>.key', '<column>.value' and
// '<column>.<field>' (visit(MultisetType) visits the element type as
// name + ".element"): the elements of a MULTISET stay in
// 'fields.m.element.min'..'max', a map's keys and values in theirs, a
// string element has 'fields.a.element.length' characters, a row field
// its null-rate, at any depth; a nested option of the wrong type is
// refused naming it.
func TestDatagenNestedOptions(t *testing.T) {
	spec := `
m MULTISET<INT>
a ARRAY<STRING>
mp MAP<TINYINT, BIGINT>
r ROW<x INT, y ARRAY<MULTISET<SMALLINT>>>
'connector' = 'datagen'
'number-of-rows' = '50'
'rows-per-second' = '1000000'
'fields.m.length' = '10'
'fields.m.element.min' = '1'
'fields.m.element.max' = '3'
'fields.a.element.length' = '4'
'fields.mp.key.min' = '0'
'fields.mp.key.max' = '1'
'fields.mp.value.min' = '5'
'fields.mp.value.max' = '6'
'fields.r.x.null-rate' = '1'
'fields.r.y.length' = '2'
'fields.r.y.element.element.min' = '7'
'fields.r.y.element.element.max' = '7'
`
	ctx := table(t, "gen", spec)
	s, err := connector.Default().CreateSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	var rows []row.Row
	st.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error { rows = append(rows, r); return nil }))
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 50 {
		t.Fatalf("%d rows", len(rows))
	}
	types := ctx.Schema.Types()
	in := func(v row.Value, lo, hi int64) bool { return !v.IsNull() && v.Int() >= lo && v.Int() <= hi }
	for _, r := range rows {
		bad := func(i int, why string) {
			t.Fatalf("%s = %s: %s", ctx.Schema.Columns[i].Name, row.Format(r.Fields[i], types[i]), why)
		}
		m := r.Fields[0].MapOf()
		if len(m.Keys) == 0 || len(m.Keys) > 3 {
			bad(0, "want 1 to 3 distinct elements")
		}
		for _, k := range m.Keys {
			if !in(k, 1, 3) {
				bad(0, "an element outside fields.m.element.min..max [1, 3]")
			}
		}
		a := r.Fields[1].Elems()
		if len(a) != 3 {
			bad(1, "want 3 elements")
		}
		for _, e := range a {
			if len(e.Str()) != 4 {
				bad(1, "an element not of fields.a.element.length 4")
			}
		}
		mp := r.Fields[2].MapOf()
		for j, k := range mp.Keys {
			if !in(k, 0, 1) || !in(mp.Values[j], 5, 6) {
				bad(2, "a key outside [0, 1] or a value outside [5, 6]")
			}
		}
		f := r.Fields[3].Elems()
		if !f[0].IsNull() {
			bad(3, "x not NULL at fields.r.x.null-rate 1")
		}
		if len(f[1].Elems()) != 2 {
			bad(3, "y not of fields.r.y.length 2")
		}
		for _, ms := range f[1].Elems() {
			if ks := ms.MapOf().Keys; len(ks) != 1 || !in(ks[0], 7, 7) {
				bad(3, "a multiset of y not {7=n}")
			}
		}
	}
	for opt, want := range map[string]string{
		"'fields.m.element.length' = '2'": "option 'fields.m.element.length' is for string, binary and collection columns, not INT",
		"'fields.a.element.min' = '2'":    "option 'fields.a.element.min' is for numeric columns, not STRING",
		"'fields.m.element.max' = 'x'":    "fields.m.element.max",
	} {
		_, err := connector.Default().CreateSource(table(t, "gen", "m MULTISET<INT>\na ARRAY<STRING>\n'connector' = 'datagen'\n"+opt+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", opt, err, want)
		}
	}
}

// TestDatagenVarCharLength checks the default length of random VARCHAR(n)
// values: n, as Flink's RandomGeneratorVisitor
// (getLengthOption(varCharType::getLength)), 100 only for STRING
// (VarCharType.MAX_LENGTH); at the top level and as an element.
// (VARBINARY(n) takes the same path.)
func TestDatagenVarCharLength(t *testing.T) {
	ctx := table(t, "gen", "v VARCHAR(150)\nb VARCHAR(120)\na ARRAY<VARCHAR(130)>\ns STRING\n'connector' = 'datagen'\n'number-of-rows' = '2'\n")
	s, err := connector.Default().CreateSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	var rows []row.Row
	st.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error { rows = append(rows, r); return nil }))
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		got := []int{len(r.Fields[0].Str()), len(r.Fields[1].Str()), len(r.Fields[2].Elems()[0].Str()), len(r.Fields[3].Str())}
		if want := []int{150, 120, 130, 100}; !slices.Equal(got, want) {
			t.Errorf("lengths of VARCHAR(150), VARCHAR(120), an ARRAY<VARCHAR(130)> element, STRING: %v, want %v", got, want)
		}
	}
}
