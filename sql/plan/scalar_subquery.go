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
		if err != nil && strings.Contains(err.Error(), "not found") {
			// It may name columns of the enclosing query.
			var ok bool
			if from, ok, err = b.correlatedScalar(s, from, sc, len(refs)); ok && err == nil {
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

// correlatedScalar plans a correlated scalar subquery of the form Flink
// decorrelates into a join with an aggregation: (SELECT agg(..) FROM t
// WHERE t.k = outer.k [AND conditions on t]) becomes the aggregation of
// t grouped by its correlation columns, LEFT joined to from on them, so
// that a row with no match gets NULL, or 0 for COUNT (as Calcite's
// decorrelation gives COUNT of an empty group). The value is appended to
// from's columns. ok is false when the subquery is not of that form
// (err then says why).
func (b *Binder) correlatedScalar(s *ast.SubqueryExpr, from Rel, sc *scope, n int) (Rel, bool, error) {
	sel, isSel := s.Query.(*ast.Select)
	if !isSel || sel.From == nil || len(sel.Items) != 1 || len(sel.GroupBy) > 0 || sel.Having != nil || sel.Distinct {
		return nil, false, errAt(s, "correlated scalar subqueries are supported as SELECT agg(..) FROM t WHERE t.col = outer.col [AND ...] only")
	}
	if _, isJoin := sel.From.(*ast.Join); isJoin {
		return nil, false, errAt(s, "a correlated scalar subquery over a join is not supported yet")
	}
	item := sel.Items[0].Expr
	if !containsAgg(item, b.Funcs) {
		return nil, false, errAt(s, "a correlated scalar subquery must select an aggregate (SELECT MAX(..) ...), so that it gives one row per outer row")
	}
	_, rsc, err := b.bindFrom(sel.From)
	if err != nil {
		return nil, false, err
	}
	rb, ob := &exprBinder{sc: rsc, fns: b.Funcs}, &exprBinder{sc: sc, fns: b.Funcs}
	var local ast.Expr
	var inner []ast.Expr
	var outer []expr.Expr
	var conj func(e ast.Expr) error
	conj = func(e ast.Expr) error {
		if x, ok := e.(*ast.BinaryExpr); ok && x.Op == ast.OpAnd {
			if err := conj(x.Left); err != nil {
				return err
			}
			return conj(x.Right)
		}
		if _, err := rb.bind(e); err == nil {
			local = andAST(local, e)
			return nil
		}
		if x, ok := e.(*ast.BinaryExpr); ok && x.Op == ast.OpEq {
			for _, p := range [][2]ast.Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
				if _, err := rb.bind(p[0]); err != nil {
					continue
				}
				if o, err := ob.bind(p[1]); err == nil {
					inner, outer = append(inner, p[0]), append(outer, o)
					return nil
				}
			}
		}
		return errAt(e, "a correlated scalar subquery may relate to the outer query only by equalities (inner column = outer column); %s is not one", e)
	}
	if sel.Where != nil {
		if err := conj(sel.Where); err != nil {
			return nil, false, err
		}
	}
	if len(inner) == 0 {
		return nil, false, errAt(s, "a correlated scalar subquery needs an equality with the outer query in its WHERE")
	}
	// SELECT k1, .., agg FROM t WHERE local GROUP BY k1, ..
	agg := &ast.Select{Pos: sel.Pos, From: sel.From, Where: local, GroupBy: inner}
	for i, k := range inner {
		agg.Items = append(agg.Items, &ast.SelectItem{Pos: sel.Pos, Expr: k, Alias: &ast.Ident{Pos: sel.Pos, Name: "$ck" + strconv.Itoa(i)}})
	}
	agg.Items = append(agg.Items, &ast.SelectItem{Pos: sel.Pos, Expr: item, Alias: &ast.Ident{Pos: sel.Pos, Name: "$v"}})
	right, err := b.Query(agg)
	if err != nil {
		return nil, false, err
	}
	rc := right.Columns()
	nk := len(inner)
	// Join keys of common types: computed key columns on both sides.
	var lx, rx []expr.Expr
	for i := range inner {
		lt, rt := outer[i].Type(), rc[i].Type
		lt.TimeAttr, rt.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
		t, ok := expr.LeastRestrictive(lt, rt)
		if !ok {
			return nil, false, errAt(s, "correlation %s: types %s and %s have no common type", inner[i], rt, lt)
		}
		le, re := outer[i], expr.Expr(expr.Ref(i, rc[i].Type))
		if !lt.Equal(t) {
			if le, err = expr.NewCast(le, t); err != nil {
				return nil, false, errAt(s, "%v", err)
			}
		}
		if !rt.Equal(t) {
			if re, err = expr.NewCast(re, t); err != nil {
				return nil, false, errAt(s, "%v", err)
			}
		}
		lx, rx = append(lx, le), append(rx, re)
	}
	lw := len(from.Columns())
	ll, rr := withExtra(from, lx), withExtra(right, rx)
	var jcols []Column
	for _, c := range ll.Columns() {
		c.Type.TimeAttr = row.NoTimeAttr
		jcols = append(jcols, c)
	}
	for i, c := range rr.Columns() {
		c.Type.Nullable = true
		c.Type.TimeAttr = row.NoTimeAttr
		if i >= len(rc) {
			c.Name += "_r"
		}
		jcols = append(jcols, c)
	}
	lkeys, rkeys := make([]int, nk), make([]int, nk)
	for i := range nk {
		lkeys[i], rkeys[i] = lw+i, len(rc)+i
	}
	j := &Join{joinCommon{Left: ll, Right: rr, Type: LeftJoin, LeftKeys: lkeys, RightKeys: rkeys, Cols: jcols}}
	vi := lw + len(lx) + nk // the value, after the left row, its keys and the right keys
	var v expr.Expr = expr.Ref(vi, jcols[vi].Type)
	if c, ok := item.(*ast.Call); ok && len(c.Name.Parts) == 1 && strings.EqualFold(c.Name.Last().Name, "COUNT") && c.Over == nil {
		// COUNT of no rows is 0, not NULL.
		zero := expr.Lit(row.Int(0), row.BigInt().NotNull())
		if v, err = expr.NewCall("COALESCE", v, zero); err != nil {
			return nil, false, errAt(s, "%v", err)
		}
	}
	projs := make([]expr.Expr, 0, lw+1)
	out := make([]Column, 0, lw+1)
	for i := range lw {
		projs = append(projs, expr.Ref(i, jcols[i].Type))
		out = append(out, jcols[i])
	}
	name := "$scalar" + strconv.Itoa(n)
	projs = append(projs, v)
	out = append(out, Column{Name: name, Type: v.Type()})
	return &Calc{In: j, Projects: projs, Cols: out}, true, nil
}
