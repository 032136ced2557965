package plan

import (
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/udf"
)

// In the batch mode an aggregation without GROUP BY has one row also over
// no input rows, as Flink's batch planner gives it (SELECT COUNT(*) FROM
// an empty table is 0; SUM, MIN, ... are NULL); the streaming mode emits
// nothing until a row arrives, as Flink's streaming GroupAggregate. Weir's
// batch mode runs the streaming operators, so the planner adds the row:
//
//	Calc(CASE WHEN $m IS NULL THEN <value over no rows> ELSE agg END)
//	  LeftJoin(Values(one row), Calc(agg, TRUE AS $m))
//
// and the batch result's final table (exec.Final) holds the aggregate's
// row once it exists, the row over no input otherwise. Done for the
// SELECTs atTopSelect names (the top-level query's, a view's, a derived
// table's, a WITH item's, a set operation input's, an uncorrelated
// subquery's; not a correlated subquery's, whose decorrelation reads the
// aggregate itself) when every call's value over no rows is known (a
// user-defined function's is the GetValue of a fresh accumulator, taken
// when planning).

// batchEmptyAggregate returns agg wrapped as above, or agg unchanged.
func batchEmptyAggregate(at ast.Node, agg *Aggregate) (Rel, error) {
	if len(agg.Keys) > 0 || len(agg.Aggs) == 0 {
		return agg, nil
	}
	cols := agg.Columns()
	empty := make([]expr.Expr, len(agg.Aggs))
	for j, call := range agg.Aggs {
		v, ok := emptyAggValue(call)
		if !ok {
			return agg, nil
		}
		empty[j] = v
	}
	marked := &Calc{In: agg, Cols: append(append([]Column(nil), cols...), Column{Name: "$nonempty", Type: row.Boolean().NotNull()})}
	for i, c := range cols {
		marked.Projects = append(marked.Projects, expr.Ref(i, c.Type))
	}
	marked.Projects = append(marked.Projects, expr.BoolLiteral(true))
	one := &Values{Rows: [][]expr.Expr{{expr.BoolLiteral(true)}}, Cols: []Column{{Name: "$one", Type: row.Boolean().NotNull()}}}
	j, err := makeJoin(at, LeftJoin, one, marked, nil)
	if err != nil {
		return nil, err
	}
	jc := j.Columns()
	mark := expr.Ref(1+len(cols), jc[1+len(cols)].Type)
	isMissing, err := expr.NewCall("IS NULL", mark)
	if err != nil {
		return nil, err
	}
	out := &Calc{In: j, Cols: append([]Column(nil), cols...)}
	for i, c := range cols {
		out.Projects = append(out.Projects, &expr.Case{
			Whens: []expr.Expr{isMissing},
			Thens: []expr.Expr{empty[i]},
			Else:  expr.Ref(1+i, jc[1+i].Type),
			T:     c.Type,
		})
	}
	return out, nil
}

// emptyAggValue is the value of a built-in aggregate call over no rows
// (Flink's getValue of a fresh accumulator), typed as the call; false
// when unknown here.
func emptyAggValue(call AggCall) (expr.Expr, bool) {
	if call.UDF != nil {
		// Flink's getValue of a fresh accumulator. A GetValue that
		// fails over no rows keeps the aggregate without the row (the
		// failure would be the job's, and only over an empty input).
		// A panic there (a GetValue that reads a first row) is such a
		// failure too, recovered as the runtime's udf.Guard does: it
		// must not crash the planner.
		var v row.Value
		err := udf.Guard(call.Func+" (GetValue)", nil, nil, func() error {
			var err error
			v, err = call.UDF.NewAccumulator().Value()
			return err
		})
		if err != nil {
			return nil, false
		}
		return expr.Lit(v, call.Type), true
	}
	switch {
	case call.Func == "COUNT" || call.Func == "$SUM0":
		return expr.Lit(row.Int(0), call.Type), true
	case strings.HasPrefix(call.Func, "JSON_OBJECTAGG"):
		return expr.Lit(row.Str("{}"), call.Type), true
	case strings.HasPrefix(call.Func, "JSON_ARRAYAGG"):
		return expr.Lit(row.Str("[]"), call.Type), true
	case call.Func == "COLLECT":
		return expr.Lit(row.Map(nil, nil), call.Type), true
	}
	if !call.Type.Nullable {
		return nil, false
	}
	return expr.Lit(row.Value{}, call.Type), true
}

// ownQuery binds q, an IN or EXISTS subquery, as a query of its own: if
// it is uncorrelated (binds without the enclosing query), its SELECT counts
// as top-level for atTopSelect as an uncorrelated scalar subquery's, so
// that in the batch mode its aggregate without GROUP BY has a row over no
// input (x NOT IN (SELECT MAX(v) FROM empty) is NULL, not TRUE). A
// correlated one fails to bind here and is decorrelated by the caller.
func (b *Binder) ownQuery(q ast.QueryExpr) (Rel, error) {
	saved := b.scalarTop
	b.scalarTop = b.depth + 1
	defer func() { b.scalarTop = saved }()
	return b.Query(q)
}

// batchEmptyGroupingSet gives an aggregation by grouping sets (agg, from
// expandGroupingSets: nk keys, $e, the calls) that has the empty set ()
// (GROUPING SETS (.., ()), ROLLUP, CUBE) the empty set's row also over
// no input, as Flink's batch planner and PostgreSQL do: the keys NULL,
// the calls' values over no rows. The other sets have no rows then.
//
//	Calc(CASE WHEN $m IS NULL THEN <the empty set's row> ELSE agg END)
//	  FullJoin(Values($e of ()), Calc(agg, TRUE AS $m)) ON $e = agg.$e
//
// agg unchanged when some call's value over no rows is unknown.
func batchEmptyGroupingSet(at ast.Node, agg *Aggregate, nk int) (Rel, error) {
	cols := agg.Columns()
	empty := make([]expr.Expr, len(agg.Aggs))
	for j, call := range agg.Aggs {
		v, ok := emptyAggValue(call)
		if !ok {
			return agg, nil
		}
		empty[j] = v
	}
	eType := cols[nk].Type
	allOut := expr.Lit(row.Int(groupingID(nil, nk)), eType)
	marked := &Calc{In: agg, Cols: append(append([]Column(nil), cols...), Column{Name: "$nonempty", Type: row.Boolean().NotNull()})}
	for i, c := range cols {
		marked.Projects = append(marked.Projects, expr.Ref(i, c.Type))
	}
	marked.Projects = append(marked.Projects, expr.BoolLiteral(true))
	one := &Values{Rows: [][]expr.Expr{{allOut}}, Cols: []Column{{Name: "$eall", Type: eType}}}
	cond, err := expr.NewCall("=", expr.Ref(0, eType), expr.Ref(1+nk, eType))
	if err != nil {
		return nil, err
	}
	j, err := makeJoin(at, FullJoin, one, marked, []expr.Expr{cond})
	if err != nil {
		return nil, err
	}
	jc := j.Columns()
	isMissing, err := expr.NewCall("IS NULL", expr.Ref(1+len(cols), jc[1+len(cols)].Type))
	if err != nil {
		return nil, err
	}
	out := &Calc{In: j, Cols: append([]Column(nil), cols...)}
	for i, c := range cols {
		var whenMissing expr.Expr
		switch {
		case i < nk:
			whenMissing = expr.Lit(row.Null(), c.Type)
		case i == nk:
			whenMissing = allOut
		default:
			whenMissing = empty[i-nk-1]
		}
		out.Projects = append(out.Projects, &expr.Case{
			Whens: []expr.Expr{isMissing},
			Thens: []expr.Expr{whenMissing},
			Else:  expr.Ref(1+i, jc[1+i].Type),
			T:     c.Type,
		})
	}
	return out, nil
}
