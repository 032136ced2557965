package plan

import (
	"slices"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestPushDownSourcesFilters checks the planner's side of the filter
// push-down with a source that takes every comparison with a literal,
// guaranteeing those on column a only: only deterministic conjuncts are
// offered, what is taken is in the scan, what is guaranteed leaves the
// Calc, what is taken but not guaranteed stays, the input plan is not
// modified, and the option off pushes nothing.
func TestPushDownSourcesFilters(t *testing.T) {
	bigint := row.BigInt()
	var offered []string
	tab := &Table{Name: "t", Columns: []Column{{"a", bigint}, {"b", bigint}}, Kinds: []ColumnKind{Physical, Physical},
		Rowtime: -1, Computed: make([]expr.Expr, 2)}
	tab.PushDown = &SourcePushDown{Filters: func(fs []expr.Expr) (accepted, remaining []bool) {
		for _, f := range fs {
			offered = append(offered, f.String())
			c, ok := f.(*expr.Call)
			_, lit := c.Args[len(c.Args)-1].(*expr.Literal)
			accepted = append(accepted, ok && c.Func.Name == "<" && lit)
			ref, _ := c.Args[0].(*expr.InputRef)
			remaining = append(remaining, !(ok && c.Func.Name == "<" && lit && ref != nil && ref.Index == 0))
		}
		return accepted, remaining
	}}
	lit := func(n int64) expr.Expr { return expr.Lit(row.Int(n), bigint.NotNull()) }
	aLess := expr.MustCall("<", expr.Ref(0, bigint), lit(5))
	bLess := expr.MustCall("<", expr.Ref(1, bigint), lit(7))
	aEq := expr.MustCall("=", expr.Ref(0, bigint), lit(1))
	rnd := expr.MustCall("<", expr.MustCall("RAND"), expr.Lit(row.Float(0.5), row.Double().NotNull()))
	cond := expr.MustCall("AND", expr.MustCall("AND", expr.MustCall("AND", aLess, bLess), aEq), rnd)
	scan := &Scan{Table: tab, Source: true}
	c := &Calc{In: scan, Projects: []expr.Expr{expr.Ref(1, bigint)}, Cond: cond, Cols: []Column{{"b", bigint}}}

	got, ok := PushDownSources(c, true).(*Calc)
	if !ok {
		t.Fatalf("got %s", Explain(got))
	}
	if c.Cond != cond || c.In != scan || scan.Filters != nil {
		t.Fatal("PushDownSources modified its input")
	}
	if want := []string{"<($0, 5:BIGINT)", "<($1, 7:BIGINT)", "=($0, 1:BIGINT)"}; !slices.Equal(offered, want) {
		t.Errorf("offered %v, want %v (RAND() is not)", offered, want)
	}
	s := got.In.(*Scan)
	var filters []string
	for _, f := range s.Filters {
		filters = append(filters, f.String())
	}
	if want := []string{"<($0, 5:BIGINT)", "<($1, 7:BIGINT)"}; !slices.Equal(filters, want) {
		t.Errorf("scan filters %v, want %v", filters, want)
	}
	if want := "AND(AND(<($1, 7:BIGINT), =($0, 1:BIGINT)), <(RAND(), 0.5))"; got.Cond.String() != want {
		t.Errorf("Calc condition %s, want %s", got.Cond, want)
	}
	if want := "TableSourceScan(table=[[default_catalog, default_database, t, filter=[and(<(a, 5:BIGINT), <(b, 7:BIGINT))]]], fields=[a, b], changelogMode=[I])\n"; Explain(s) != want {
		t.Errorf("EXPLAIN\n%s\nwant\n%s", Explain(s), want)
	}

	offered = nil
	if out := PushDownSources(c, false); out != Rel(c) || offered != nil {
		t.Errorf("with the option off: %s, offered %v", Explain(out), offered)
	}
}
