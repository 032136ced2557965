package plan

import (
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// OVER windows together with GROUP BY or aggregates in one SELECT, as
// Calcite defines them: the aggregation runs first, then the windows run
// over its rows (after HAVING). bindAggregate plans every aggregate call
// the select list names, those in OVER arguments and in the windows'
// PARTITION BY and ORDER BY (named windows too) included; postAggregate
// then binds the windows over the aggregation's output with the binder
// that maps group keys and aggregate calls to its columns, so
// SUM(SUM(x)) OVER (PARTITION BY k) is SUM over the column of SUM(x), and
// a column that is neither grouped nor inside an aggregate is refused as
// in the select list ("Expression 'x' is not being grouped").
//
// The batch mode plans a BatchOverAggregate (or a batch Rank for
// ROW_NUMBER() alone, a Top-N when an enclosing query bounds it); the
// stream mode plans what it plans without GROUP BY over the updating
// aggregation: a Rank (Flink's Top-N over an aggregation, when an
// enclosing WHERE bounds it), while an OVER aggregation is refused as
// Flink's OverAggregate refuses update changes.

// anyOver reports whether a select list has an OVER call anywhere outside
// subqueries.
func anyOver(items []selectItem) bool {
	return hasOver(items) || hasOverAggregate(items)
}

// withOver returns a copy of eb that binds the OVER calls in its over map
// (set by the caller) to the window's columns.
func (eb *exprBinder) withOver() *exprBinder {
	post := *eb
	post.over = map[string]expr.Expr{}
	return &post
}

// overAggregated plans the OVER windows of an aggregating select list
// over agg, the aggregation's output (post binds over it), with HAVING
// as the filter before the windows.
func (b *Binder) overAggregated(s *ast.Select, agg Rel, post *exprBinder, items []selectItem) (Rel, error) {
	// The items without OVER first, so that a column neither grouped nor
	// aggregated is named where the select list first uses it.
	for _, it := range items {
		if !anyOver([]selectItem{it}) {
			if _, err := post.bind(it.e); err != nil {
				return nil, err
			}
		}
	}
	var having expr.Expr
	if s.Having != nil {
		var err error
		if having, err = post.bind(s.Having); err != nil {
			return nil, err
		}
		if err := checkBoolean(s.Having, having, "HAVING"); err != nil {
			return nil, err
		}
	}
	switch {
	case b.Batch && needsBatchOver(items):
		return b.bindBatchOver(s, agg, post, having, items)
	case hasOverAggregate(items):
		return b.bindOver(s, agg, post, having, items)
	}
	return b.bindRowNumber(agg, post, having, items)
}
