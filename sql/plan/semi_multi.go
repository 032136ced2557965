package plan

import (
	"strings"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// semiJoinRow plans (x1, ..., xn) [NOT] IN (SELECT y1, ..., yn ...) as
// Flink's FlinkSubQueryRemoveRule does: a semi join on x1 = y1 AND ...
// AND xn = yn (and the correlation of a correlated subquery); NOT IN an
// anti join whose condition is null-aware column by column, (xi = yi OR
// xi IS NULL OR yi IS NULL), for the pairs where either side is nullable
// (Flink's (ai = bi OR IS NULL(ai = bi))), so that a row goes when some
// subquery row is not FALSE against it (SQL's NOT IN is then FALSE or
// UNKNOWN) and stays when the subquery is empty.
func (b *Binder) semiJoinRow(from Rel, sc *scope, in *ast.InExpr, fields []ast.Expr, hook func(ast.Expr) (expr.Expr, bool, error)) (Rel, error) {
	eb := &exprBinder{sc: sc, fns: b.Funcs, hook: hook}
	xs := make([]expr.Expr, len(fields))
	for i, f := range fields {
		x, err := eb.bind(f)
		if err != nil {
			return nil, err
		}
		xs[i] = x
	}
	n := len(xs)
	var d *decorrelated
	var ys []expr.Expr
	right, qerr := b.ownQuery(in.Query)
	if qerr == nil {
		rc := right.Columns()
		if len(rc) != n {
			return nil, errAt(in, "the subquery of IN must select %d columns, as many as the values before IN, not %d", n, len(rc))
		}
		d = &decorrelated{right: right}
		for i, c := range rc {
			ys = append(ys, expr.Ref(i, c.Type))
		}
	} else {
		what := "IN"
		if in.Not {
			what = "NOT IN"
		}
		sel, ok := in.Query.(*ast.Select)
		if !ok {
			return nil, errAt(in, "a correlated %s subquery of several columns over a set operation, ORDER BY, LIMIT or VALUES is not supported yet (%v)", what, qerr)
		}
		if len(sel.Items) != n {
			return nil, errAt(in, "the subquery of IN must select %d columns, as many as the values before IN, not %d", n, len(sel.Items))
		}
		var err error
		if d, err = b.decorrelate(in, sel, from, sc, what); err != nil {
			return nil, err
		}
		switch {
		case d.lostRows:
			return nil, errAt(in, "a correlated %s subquery of several columns over an aggregation without GROUP BY is not supported yet", what)
		case d.ys != nil:
			ys = d.ys
		default:
			rb := &exprBinder{sc: d.rsc, fns: b.Funcs}
			for _, it := range sel.Items {
				if _, star := it.Expr.(*ast.Star); star {
					return nil, errAt(in, "the subquery of IN must list its columns, not *")
				}
				y, err := rb.bind(it.Expr)
				if err != nil {
					return nil, errAt(in, "a correlated %s subquery of several columns may refer to the outer query in its WHERE only: %v", what, err)
				}
				ys = append(ys, y)
			}
		}
	}
	return buildSemiRow(in, from, xs, ys, d)
}

// buildSemiRow builds the semi (anti) join of semiJoinRow: xs over from's
// columns, ys over d.right's.
func buildSemiRow(in *ast.InExpr, from Rel, xs, ys []expr.Expr, d *decorrelated) (Rel, error) {
	lw := len(from.Columns())
	var lkeys, rkeys, residual []expr.Expr
	for i := range xs {
		x, y := xs[i], ys[i]
		if !in.Not || (!x.Type().Nullable && !y.Type().Nullable) {
			lkeys, rkeys = append(lkeys, x), append(rkeys, y)
			continue
		}
		yr := mapRefs(y, func(i int) int { return i + lw })
		eq, err := expr.NewCall("=", x, yr)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		xn, err := expr.NewCall("IS NULL", x)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		yn, err := expr.NewCall("IS NULL", yr)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		c, err := expr.NewCall("OR", eq, xn, yn)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		residual = append(residual, c)
	}
	lkeys = append(lkeys, d.outer...)
	rkeys = append(rkeys, d.inner...)
	residual = append(residual, d.residual...)
	return buildSemi(in, from, d.right, lkeys, rkeys, residual, in.Not)
}

// hasSubqueryPred reports whether e holds an IN (subquery) or EXISTS
// outside the subqueries it holds.
func hasSubqueryPred(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ExistsExpr, *ast.QuantifiedExpr:
			found = true
			return false
		case *ast.InExpr:
			if x.Query != nil {
				found = true
				return false
			}
		case *ast.SubqueryExpr:
			return false
		}
		return !found
	})
	return found
}

// nestedSubquery plans a conjunct e of the WHERE of a correlated IN or
// EXISTS subquery that holds subqueries itself, over the subquery's FROM
// (right, its scope rsc): an IN/EXISTS conjunct is a semi (anti) join of
// right, scalar subqueries and IN/EXISTS values are joined to right and e
// filters it (Flink decorrelates such a nested subquery when it names the
// subquery's columns only). ok is false when e holds no subquery. One
// that names the outer query fails as Flink's decorrelator does.
func (b *Binder) nestedSubquery(e ast.Expr, right Rel, rsc *scope) (Rel, bool, error) {
	subs := markSubqueries(e, scalarSubqueries(e, nil))
	if len(subs) == 0 {
		return nil, false, nil
	}
	outer := func(err error) error {
		if strings.Contains(err.Error(), "not found") {
			return errAt(e, "unexpected correlate variable $cor0 in the plan: a subquery nested in a correlated subquery may name that subquery's columns only (%v)", err)
		}
		return err
	}
	if rest, conds := splitSubqueryConds(e); rest == nil && len(conds) > 0 {
		for _, c := range conds {
			var err error
			if right, err = b.semiJoin(right, rsc, c); err != nil {
				return nil, true, outer(err)
			}
		}
		return right, true, nil
	}
	lw := len(right.Columns())
	joined, jsc, refs, err := b.joinScalars(right, rsc, subs)
	if err != nil {
		return nil, true, outer(err)
	}
	x, err := (&exprBinder{sc: jsc, fns: b.Funcs, hook: scalarHook(refs)}).bind(e)
	if err != nil {
		return nil, true, outer(err)
	}
	if err := checkBoolean(e, x, "WHERE"); err != nil {
		return nil, true, err
	}
	f, err := filtered(joined, []expr.Expr{x})
	if err != nil {
		return nil, true, errAt(e, "%v", err)
	}
	return dropTail(f, lw), true, nil
}
