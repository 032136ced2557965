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
		case *ast.QuantifiedExpr:
			out = scalarSubqueries(x.Expr, out)
			return false
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
	if len(scalarSubqueries(e, nil)) > 0 || hasSubqueryPred(e) {
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

// joinScalars plans scalar subqueries as Flink does once it has
// decorrelated them: each uncorrelated one is joined to from by a LEFT
// join without a condition (one subtask), so a value is NULL while the
// subquery has no row and every row is updated when its value changes. A
// subquery must give at most one row: one whose plan does not prove it
// (an aggregation without GROUP BY, LIMIT 1, one VALUES row) gets Flink's
// SINGLE_VALUE aggregate, which fails the job on a second row. Correlated
// ones are decorrelated (correlatedScalar). The returned scope has the
// subqueries' values after from's columns, and refs maps each subquery to
// its value's column.
func (b *Binder) joinScalars(from Rel, sc *scope, subs []*ast.SubqueryExpr) (Rel, *scope, map[*ast.SubqueryExpr]expr.Expr, error) {
	return b.joinScalarsOver(from, from, sc, subs)
}

// joinScalarsOver is joinScalars over from, whose first columns are
// those of base, from which from derives by joins that append columns
// (and filters): the value generators of correlated subqueries
// (correlatedScalar) take the outer values from base, so that the plan
// of n correlated subqueries is not 2^n copies of the outer input.
func (b *Binder) joinScalarsOver(from, base Rel, sc *scope, subs []*ast.SubqueryExpr) (Rel, *scope, map[*ast.SubqueryExpr]expr.Expr, error) {
	refs := map[*ast.SubqueryExpr]expr.Expr{}
	sc = sc.withoutTimeAttrs()
	for _, s := range subs {
		if m := markOf(s); m != nil {
			// IN (subquery) or EXISTS as a value (subquery_mark.go).
			var err error
			if from, err = b.joinMark(s, m, from, base, sc, scalarHook(refs), len(refs)); err != nil {
				return nil, nil, nil, err
			}
			lw := len(from.Columns()) - 1
			t := from.Columns()[lw].Type
			refs[s] = expr.Ref(lw, t)
			sc.cols = append(sc.cols, scopeCol{Name: "$scalar" + strconv.Itoa(len(refs)-1), Index: lw, Type: t, merged: true})
			continue
		}
		// An uncorrelated scalar subquery is a query of its own: in the
		// batch mode its aggregate without GROUP BY has a row over no
		// input (batch_agg.go), as COUNT(*) = 0.
		saved := b.scalarTop
		b.scalarTop = b.depth + 1
		sub, err := b.Query(s.Query)
		b.scalarTop = saved
		if err != nil && strings.Contains(err.Error(), "not found") {
			// It may name columns of the enclosing query.
			var ok bool
			if from, ok, err = b.correlatedScalar(s, from, base, sc, len(refs)); ok && err == nil {
				lw := len(from.Columns()) - 1
				t := from.Columns()[lw].Type
				refs[s] = expr.Ref(lw, t)
				sc.cols = append(sc.cols, scopeCol{Name: "$scalar" + strconv.Itoa(len(refs)-1), Index: lw, Type: t, merged: true})
				continue
			}
		} else if err != nil && strings.Contains(err.Error(), "is not being grouped") {
			// An outer column next to the aggregates of its select
			// list ((SELECT MIN(x) + o.y FROM t)); else the error as is.
			if next, ok, cerr := b.correlatedScalar(s, from, base, sc, len(refs)); ok && cerr == nil {
				from = next
				lw := len(from.Columns()) - 1
				t := from.Columns()[lw].Type
				refs[s] = expr.Ref(lw, t)
				sc.cols = append(sc.cols, scopeCol{Name: "$scalar" + strconv.Itoa(len(refs)-1), Index: lw, Type: t, merged: true})
				continue
			}
		}
		if err != nil {
			return nil, nil, nil, err
		}
		name := "$scalar" + strconv.Itoa(len(refs))
		if from, err = joinScalar(s, from, sub, name); err != nil {
			return nil, nil, nil, err
		}
		lw := len(from.Columns()) - 1
		t := from.Columns()[lw].Type
		refs[s] = expr.Ref(lw, t)
		sc.cols = append(sc.cols, scopeCol{Name: name, Index: lw, Type: t, merged: true})
	}
	return from, sc, refs, nil
}

// joinScalar appends the value of the uncorrelated scalar subquery sub
// to from's columns, as column name: a LEFT join without condition, with
// SINGLE_VALUE over sub unless its plan proves at most one row.
func joinScalar(s *ast.SubqueryExpr, from, sub Rel, name string) (Rel, error) {
	cols := sub.Columns()
	if len(cols) != 1 {
		return nil, errAt(s, "a scalar subquery must return one column, not %d", len(cols))
	}
	if !atMostOneRow(sub) {
		sub = singleValue(sub, nil, "$f0")
	}
	left := from.Columns()
	lw := len(left)
	t := cols[0].Type
	t.TimeAttr = row.NoTimeAttr
	t.Nullable = true // NULL while the subquery has no row
	sub, err := castTo(sub, []Column{{Name: name, Type: t}})
	if err != nil {
		return nil, errAt(s, "%v", err)
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
	return &Calc{In: j, Projects: projs, Cols: out}, nil
}

// singleValue is Calcite's SINGLE_VALUE over a subquery whose plan does
// not prove one row: r grouped by its columns keys, with the
// SINGLE_VALUE of its last column (named name) after them. The job fails
// when a group gets a second row (exec.ErrSingleValue).
func singleValue(r Rel, keys []int, name string) Rel {
	in := r.Columns()
	var cols []Column
	for _, k := range keys {
		c := in[k]
		c.Type.TimeAttr = row.NoTimeAttr
		cols = append(cols, c)
	}
	v := len(in) - 1
	t := in[v].Type
	t.TimeAttr = row.NoTimeAttr
	t.Nullable = true
	cols = append(cols, Column{Name: name, Type: t})
	return &Aggregate{In: r, Keys: keys, Cols: cols,
		Aggs: []AggCall{{Func: "SINGLE_VALUE", Args: []int{v}, Filter: -1, Type: t, Name: name}}}
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
	case *Join:
		// The batch mode's aggregate over no rows (batch_agg.go).
		return n.Type == LeftJoin && atMostOneRow(n.Left) && atMostOneRow(n.Right)
	case *Rank:
		return len(n.PartitionKeys) == 0 && n.Strategy == TopN && n.End >= 0 && n.End-n.Start < 1
	}
	return false
}

// scalarHook binds the subqueries refs maps to their columns.
func scalarHook(refs map[*ast.SubqueryExpr]expr.Expr) func(ast.Expr) (expr.Expr, bool, error) {
	return func(e ast.Expr) (expr.Expr, bool, error) {
		switch n := e.(type) {
		case *ast.SubqueryExpr:
			if x, ok := refs[n]; ok {
				return x, true, nil
			}
		case *ast.InExpr, *ast.ExistsExpr, *ast.QuantifiedExpr:
			// A value joined by joinMark (subquery_mark.go).
			for s, x := range refs {
				if markOf(s) == e {
					return x, true, nil
				}
			}
		}
		return nil, false, nil
	}
}

// joinAggScalars joins the scalar subqueries of an aggregation's select
// list and HAVING to its output agg, as Flink plans them (the subquery's
// LEFT join above the aggregate): agg's columns keep their places and the
// values follow them. A correlated one may refer to the group keys that
// are columns of the FROM clause (rw maps them to agg's columns). hook
// binds the subqueries to their columns (nil: none).
func (b *Binder) joinAggScalars(s *ast.Select, agg Rel, rw *aggRewrite, items []selectItem) (Rel, func(ast.Expr) (expr.Expr, bool, error), error) {
	var subs []*ast.SubqueryExpr
	for _, it := range items {
		subs = b.aggScalars(it.e, false, subs)
	}
	subs = b.aggScalars(s.Having, false, subs)
	if len(subs) == 0 {
		return agg, nil, nil
	}
	refs := map[*ast.SubqueryExpr]expr.Expr{}
	base := agg     // the value generators' input (joinScalarsOver)
	var keys *scope // the group keys by name, over agg's columns
	for i, x := range subs {
		if m := markOf(x); m != nil {
			// IN (subquery) or EXISTS as a value (subquery_mark.go), its
			// values over the group keys.
			if keys == nil {
				keys = groupKeyScope(agg, rw)
			}
			var err error
			if agg, err = b.joinMark(x, m, agg, base, keys, scalarHook(refs), i); err != nil {
				return nil, nil, err
			}
			lw := len(agg.Columns()) - 1
			refs[x] = expr.Ref(lw, agg.Columns()[lw].Type)
			continue
		}
		sub, err := b.Query(x.Query)
		if err != nil && strings.Contains(err.Error(), "not found") {
			if keys == nil {
				keys = groupKeyScope(agg, rw)
			}
			var ok bool
			var next Rel
			if next, ok, err = b.correlatedScalar(x, agg, base, keys, i); ok && err == nil {
				agg = next
				lw := len(agg.Columns()) - 1
				refs[x] = expr.Ref(lw, agg.Columns()[lw].Type)
				continue
			}
			if err != nil && strings.Contains(err.Error(), "not found") {
				return nil, nil, errAt(x, "a correlated scalar subquery in the select list or HAVING of an aggregation may refer to the outer query's group keys only (%v)", err)
			}
		}
		if err != nil {
			return nil, nil, err
		}
		if agg, err = joinScalar(x, agg, sub, "$scalar"+strconv.Itoa(i)); err != nil {
			return nil, nil, err
		}
		lw := len(agg.Columns()) - 1
		refs[x] = expr.Ref(lw, agg.Columns()[lw].Type)
	}
	return agg, scalarHook(refs), nil
}

// groupKeyScope returns the scope of an aggregation's output in which a
// correlated subquery names the group keys: the FROM clause's columns that
// are group keys, at their output columns.
func groupKeyScope(agg Rel, rw *aggRewrite) *scope {
	out := agg.Columns()
	sc := &scope{}
	if rw.in == nil || rw.in.sc == nil {
		return sc
	}
	for _, c := range rw.in.sc.cols {
		i, ok := rw.keyCol[expr.Ref(c.Index, c.Type).String()]
		if !ok {
			continue
		}
		c.Index, c.Type = i, out[i].Type
		sc.cols = append(sc.cols, c)
	}
	return sc
}

// onScalars plans the scalar subqueries of n's ON condition as Calcite's
// SubQueryRemoveRule does for a join: each is joined to the join's right
// input (a LEFT join without condition), whose columns its value follows.
// It returns that input as a leaf and the hook binding the subqueries in
// the ON condition; the join drops the values (dropTail).
func (b *Binder) onScalars(n *fromNode, subs []*ast.SubqueryExpr) (*fromNode, func(ast.Expr) (expr.Expr, bool, error), error) {
	if n.r.gen != nil || n.r.sysTime != nil || n.l.sysTime != nil {
		return nil, nil, errAt(subs[0], "a scalar subquery in the ON condition of a lateral, lookup or temporal join is not supported")
	}
	r, err := b.planFrom(n.r, nil)
	if err != nil {
		return nil, nil, err
	}
	refs := map[*ast.SubqueryExpr]expr.Expr{}
	base := r // the value generators' input (joinScalarsOver)
	for i, x := range subs {
		if m := markOf(x); m != nil {
			// IN (subquery), EXISTS, SOME/ALL (subquery_mark.go): over the
			// right input, whose columns its value may name (Calcite's
			// SubQueryRemoveRule joins it there).
			if r, err = b.joinMark(x, m, r, base, n.r.sc, nil, i); err != nil {
				if strings.Contains(err.Error(), "not found") {
					return nil, nil, errAt(x, "a subquery in ON may name the columns of the join's right input only (%v)", err)
				}
				return nil, nil, err
			}
			w := len(r.Columns()) - 1
			refs[x] = expr.Ref(n.l.width+w, r.Columns()[w].Type)
			continue
		}
		sub, err := b.Query(x.Query)
		if err != nil {
			if strings.Contains(err.Error(), "not found") {
				return nil, nil, errAt(x, "a correlated scalar subquery in ON is not supported yet (%v)", err)
			}
			return nil, nil, err
		}
		if r, err = joinScalar(x, r, sub, "$scalar"+strconv.Itoa(i)); err != nil {
			return nil, nil, err
		}
		w := len(r.Columns()) - 1
		refs[x] = expr.Ref(n.l.width+w, r.Columns()[w].Type)
	}
	return &fromNode{rel: r, sc: scopeOf(r, ""), width: len(r.Columns())}, scalarHook(refs), nil
}

// dropTail keeps r's first n columns.
func dropTail(r Rel, n int) Rel {
	cols := r.Columns()[:n]
	projs := make([]expr.Expr, n)
	for i, c := range cols {
		projs[i] = expr.Ref(i, c.Type)
	}
	return &Calc{In: r, Projects: projs, Cols: cols}
}

// aggScalars returns the scalar subqueries of an aggregation's select list
// or HAVING expression e: those in the arguments of aggregate calls
// (inArgs), joined below the aggregation, or the others, joined above.
func (b *Binder) aggScalars(e ast.Expr, inArgs bool, out []*ast.SubqueryExpr) []*ast.SubqueryExpr {
	if e == nil {
		return out
	}
	ast.Inspect(e, func(n ast.Node) bool {
		x, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		if _, isAgg := isAggCall(x, b.Funcs); isAgg {
			if inArgs {
				out = scalarSubqueries(x, out)
				out = markSubqueries(x, out) // subquery_mark.go
			}
			return false
		}
		switch y := x.(type) {
		case *ast.SubqueryExpr:
			if !inArgs {
				out = append(out, y)
			}
			return false
		case *ast.ExistsExpr:
			if !inArgs {
				out = append(out, markWrap(y)) // subquery_mark.go
			}
			return false
		case *ast.InExpr:
			if y.Query != nil {
				out = b.aggScalars(y.Expr, inArgs, out)
				if !inArgs {
					out = append(out, markWrap(y))
				}
				return false
			}
		case *ast.QuantifiedExpr:
			out = b.aggScalars(y.Expr, inArgs, out)
			if !inArgs {
				out = append(out, markWrap(y))
			}
			return false
		}
		return true
	})
	return out
}

// joinAggArgScalars joins the scalar subqueries in the arguments of an
// aggregation's calls (SUM(x * (SELECT rate FROM r))) to its input from,
// as Flink plans them (below the aggregate), and returns the input, its
// scope and the subqueries' columns (nil: none). A window aggregation
// does not take them.
func (b *Binder) joinAggArgScalars(s *ast.Select, from Rel, sc *scope, items []selectItem) (Rel, *scope, map[*ast.SubqueryExpr]expr.Expr, error) {
	var subs []*ast.SubqueryExpr
	for _, it := range items {
		subs = b.aggScalars(it.e, true, subs)
	}
	subs = b.aggScalars(s.Having, true, subs)
	if len(subs) == 0 {
		return from, sc, nil, nil
	}
	if _, ok := from.(*WindowTVF); ok {
		return nil, nil, nil, errAt(subs[0], "a scalar subquery in the arguments of a window aggregation's calls is not supported")
	}
	return b.joinScalars(from, sc, subs)
}
