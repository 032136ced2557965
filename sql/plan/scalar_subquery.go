package plan

import (
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// scalarSubqueries returns the scalar subqueries (SELECT ...) used as
// values in e, not those inside other subqueries.
func scalarSubqueries(e ast.Node, out []*ast.SubqueryExpr) []*ast.SubqueryExpr {
	if e == nil {
		return out
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SubqueryExpr:
			out = append(out, x)
			return false
		case *ast.ExistsExpr:
			return false
		case *ast.InExpr:
			if x.Query != nil {
				// x IN (SELECT ...): only x may hold scalar subqueries.
				out = scalarSubqueries(x.Expr, out)
				return false
			}
		}
		return true
	})
	return out
}

// splitScalarConds takes the conjuncts holding scalar subqueries out of a
// WHERE condition: they are bound once the subqueries are joined.
func splitScalarConds(e ast.Expr) (rest, scalar ast.Expr) {
	if e == nil {
		return nil, nil
	}
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == ast.OpAnd {
		lr, ls := splitScalarConds(b.Left)
		rr, rs := splitScalarConds(b.Right)
		return andAST(lr, rr), andAST(ls, rs)
	}
	if len(scalarSubqueries(e, nil)) > 0 {
		return nil, e
	}
	return e, nil
}

func andAST(a, b ast.Expr) ast.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &ast.BinaryExpr{Pos: a.Position(), Op: ast.OpAnd, Left: a, Right: b}
}

// joinScalars plans uncorrelated scalar subqueries as Flink does once it
// has decorrelated them: each is joined to from by a LEFT join without a
// condition (one subtask), so a value is NULL while the subquery has no
// row and every row is updated when its value changes. A subquery must
// give at most one row: Weir takes those whose plan proves it (an
// aggregation without GROUP BY, LIMIT 1, one VALUES row); Flink's
// SINGLE_VALUE check at run time, for the others, is not there yet. The
// returned scope has the subqueries' values after from's columns, and
// refs maps each subquery to its value's column.
func (b *Binder) joinScalars(from Rel, sc *scope, subs []*ast.SubqueryExpr) (Rel, *scope, map[*ast.SubqueryExpr]expr.Expr, error) {
	refs := map[*ast.SubqueryExpr]expr.Expr{}
	sc = sc.withoutTimeAttrs()
	for _, s := range subs {
		sub, err := b.Query(s.Query)
		if err != nil {
			if strings.Contains(err.Error(), "not found") {
				return nil, nil, nil, errAt(s, "scalar subquery: %s (correlated scalar subqueries, naming columns of the enclosing query, are not supported yet)", strings.TrimPrefix(err.Error(), "sql: "))
			}
			return nil, nil, nil, err
		}
		cols := sub.Columns()
		if len(cols) != 1 {
			return nil, nil, nil, errAt(s, "a scalar subquery must return one column, not %d", len(cols))
		}
		if !atMostOneRow(sub) {
			return nil, nil, nil, errAt(s, "a scalar subquery must return at most one row: Weir takes one whose plan proves it (an aggregation without GROUP BY, LIMIT 1); a run-time check of other subqueries (Flink's SINGLE_VALUE) is not supported yet")
		}
		left := from.Columns()
		lw := len(left)
		name := "$scalar" + strconv.Itoa(len(refs))
		t := cols[0].Type
		t.TimeAttr = row.NoTimeAttr
		t.Nullable = true // NULL while the subquery has no row
		sub, err = castTo(sub, []Column{{Name: name, Type: t}})
		if err != nil {
			return nil, nil, nil, errAt(s, "%v", err)
		}
		// No condition: one subtask, by a constant key on both sides, as
		// the binder plans a join without equality.
		one := expr.Lit(row.Int(0), row.IntType().NotNull())
		ll, rr := withExtra(from, []expr.Expr{one}), withExtra(sub, []expr.Expr{one})
		var jcols []Column
		for _, c := range ll.Columns() {
			c.Type.TimeAttr = row.NoTimeAttr
			jcols = append(jcols, c)
		}
		for i, c := range rr.Columns() {
			c.Type.Nullable = true
			if i == 1 {
				c.Name = "$k0_r"
			}
			jcols = append(jcols, c)
		}
		j := &Join{joinCommon{Left: ll, Right: rr, Type: LeftJoin, LeftKeys: []int{lw}, RightKeys: []int{1}, Cols: jcols}}
		projs := make([]expr.Expr, 0, lw+1)
		out := make([]Column, 0, lw+1)
		for i := range lw {
			projs = append(projs, expr.Ref(i, jcols[i].Type))
			out = append(out, jcols[i])
		}
		projs = append(projs, expr.Ref(lw+1, jcols[lw+1].Type))
		out = append(out, jcols[lw+1])
		from = &Calc{In: j, Projects: projs, Cols: out}
		refs[s] = expr.Ref(len(left), t)
		sc.cols = append(sc.cols, scopeCol{Name: name, Index: len(left), Type: t, merged: true})
	}
	return from, sc, refs, nil
}

// atMostOneRow reports whether r's plan gives at most one row at a time.
func atMostOneRow(r Rel) bool {
	switch n := r.(type) {
	case *Aggregate:
		return len(n.Keys) == 0
	case *Calc:
		return atMostOneRow(n.In)
	case *Values:
		return len(n.Rows) <= 1
	case *Rank:
		return len(n.PartitionKeys) == 0 && n.Strategy == TopN && n.End >= 0 && n.End-n.Start < 1
	}
	return false
}

// scalarHook binds the subqueries refs maps to their columns.
func scalarHook(refs map[*ast.SubqueryExpr]expr.Expr) func(ast.Expr) (expr.Expr, bool, error) {
	return func(e ast.Expr) (expr.Expr, bool, error) {
		if s, ok := e.(*ast.SubqueryExpr); ok {
			if x, ok := refs[s]; ok {
				return x, true, nil
			}
		}
		return nil, false, nil
	}
}
