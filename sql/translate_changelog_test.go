package sql

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// TestSkipUpdateBefore checks which nodes under a sink without -U and
// primary key stay out of sub-plan reuse (as they ran apart before the
// changelog-mode inference): a group aggregation and the projections
// above it, nothing through a filter or another operator.
func TestSkipUpdateBefore(t *testing.T) {
	cols := []plan.Column{{Name: "k", Type: row.BigInt()}, {Name: "n", Type: row.BigInt().NotNull()}}
	src := &plan.Values{Cols: cols[:1]}
	agg := &plan.Aggregate{In: src, Keys: []int{0}, Aggs: []plan.AggCall{{Func: "COUNT", Filter: -1, Type: row.BigInt().NotNull(), Name: "n"}}, Cols: cols}
	proj := &plan.Calc{In: agg, Projects: []expr.Expr{expr.Ref(1, cols[1].Type)}, Cols: cols[1:]}
	proj2 := &plan.Calc{In: proj, Projects: []expr.Expr{expr.Ref(0, cols[1].Type)}, Cols: cols[1:]}
	filter := &plan.Calc{In: agg, Projects: []expr.Expr{expr.Ref(1, cols[1].Type)},
		Cond: expr.Lit(row.Bool(true), row.Boolean()), Cols: cols[1:]}
	join := &plan.Union{Ins: []plan.Rel{agg, agg}, Cols: cols}

	got := skipUpdateBefore(proj2)
	if len(got) != 3 || !got[agg] || !got[proj] || !got[proj2] {
		t.Errorf("projections over an aggregation: marked %v", got)
	}
	if got := skipUpdateBefore(agg); len(got) != 1 || !got[agg] {
		t.Errorf("an aggregation: marked %v", got)
	}
	for name, r := range map[string]plan.Rel{"filter": filter, "union": join, "values": src} {
		if got := skipUpdateBefore(r); got != nil {
			t.Errorf("%s: marked %v, want nothing", name, got)
		}
	}
}
