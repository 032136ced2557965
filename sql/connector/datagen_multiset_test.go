package connector_test

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TestDatagenMultiset checks random MULTISET columns as Flink's datagen
// makes them: at most 'fields.#.length' (default 3) distinct elements of
// the element type, each with a count in [0, 10], in ascending element
// order (an element drawn twice is one entry); the null-rate applies to
// the multiset.
func TestDatagenMultiset(t *testing.T) {
	spec := `
ms MULTISET<STRING>
mb MULTISET<BOOLEAN NOT NULL>
mn MULTISET<INT>
'connector' = 'datagen'
'number-of-rows' = '300'
'rows-per-second' = '1000000'
'fields.ms.length' = '5'
'fields.mn.null-rate' = '0.5'
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
	if len(rows) != 300 {
		t.Fatalf("%d rows", len(rows))
	}
	types := ctx.Schema.Types()
	counts := map[int64]int{}
	sizes := map[int]int{}
	nulls := 0
	for _, r := range rows {
		for i, v := range r.Fields {
			col, typ := ctx.Schema.Columns[i].Name, types[i]
			if v.IsNull() {
				if col != "mn" {
					t.Fatalf("%s is NULL without a null-rate", col)
				}
				nulls++
				continue
			}
			m := v.MapOf()
			max := 3
			if col == "mb" {
				max = 2 // three draws of two values: a repeat keeps one entry
			}
			if col == "ms" {
				max = 5
				sizes[len(m.Keys)]++
			}
			if len(m.Keys) == 0 || len(m.Keys) > max {
				t.Fatalf("%s: %s has %d entries, want 1 to %d", col, row.Format(v, typ), len(m.Keys), max)
			}
			for j, k := range m.Keys {
				if k.IsNull() {
					t.Fatalf("%s: %s has a NULL element", col, row.Format(v, typ))
				}
				if j > 0 && row.Compare(m.Keys[j-1], k, *typ.Elem) >= 0 {
					t.Fatalf("%s: %s is not in ascending element order", col, row.Format(v, typ))
				}
				if col == "ms" && len(k.Str()) != 100 {
					t.Fatalf("%s: element %q is not a random string of 100 characters", col, k.Str())
				}
				n := m.Values[j].Int()
				if n < 0 || n > 10 {
					t.Fatalf("%s: %s: count %d outside [0, 10]", col, row.Format(v, typ), n)
				}
				counts[n]++
			}
		}
	}
	for n := int64(0); n <= 10; n++ {
		if counts[n] == 0 {
			t.Errorf("no count %d in %d rows: %v", n, len(rows), counts)
		}
	}
	if sizes[5] == 0 {
		t.Errorf("no MULTISET<STRING> of 5 entries: %v", sizes)
	}
	if nulls < 100 || nulls > 200 {
		t.Errorf("%d NULLs of mn in 300 rows at null-rate 0.5", nulls)
	}
}
