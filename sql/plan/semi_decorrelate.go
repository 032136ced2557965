package plan

import (
	"slices"
	"sort"
	"strconv"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// subqueryFrom binds a subquery's FROM: a table (right, rsc) or a join
// (tree, planned with planFrom once its filters are known; rsc is its
// scope).
func (b *Binder) subqueryFrom(ref ast.TableRef) (Rel, *fromNode, *scope, error) {
	if j, ok := ref.(*ast.Join); ok {
		tree, err := b.fromTree(j)
		if err != nil {
			return nil, nil, nil, err
		}
		return nil, tree, tree.sc, nil
	}
	r, sc, err := b.bindFrom(ref)
	return r, nil, sc, err
}

// selectsAgg reports whether a select list calls an aggregate function.
func selectsAgg(sel *ast.Select, fns *Functions) bool {
	for _, it := range sel.Items {
		if containsAgg(it.Expr, fns) {
			return true
		}
	}
	return false
}

// decorrelateGrouped decorrelates an [NOT] IN or [NOT] EXISTS subquery
// that aggregates (GROUP BY, HAVING or an aggregate in its select list),
// as Flink's decorrelation does for equality correlation: the correlation
// columns join the GROUP BY, so that each group holds the rows of one
// outer value, and the subquery's rows are keyed by them (d.inner, the
// first columns of d.right; an IN's value, d.y, follows). d holds the
// classified WHERE (local and inner are its filters and the inner sides
// of its equalities, as written).
//
// Without GROUP BY an aggregation gives a row even for an outer row with
// no match, which grouping by the correlation columns loses: for IN that
// matters only when the value over no rows is not NULL (COUNT), and then
// d.lostRows asks for inScalar; NOT IN always takes inScalar, EXISTS over
// one existsScalar.
func (b *Binder) decorrelateGrouped(at ast.Node, sel *ast.Select, d *decorrelated, local, inner []ast.Expr, what string) (*decorrelated, error) {
	noGroup := len(sel.GroupBy) == 0
	if noGroup && what == "IN" && sel.Having == nil && !sel.Distinct && len(d.residual) > 0 {
		d.lostRows = true // inScalar decorrelates other conditions
		return d, nil
	}
	if len(d.residual) > 0 {
		return nil, errAt(at, "a correlated %s subquery with GROUP BY, HAVING or an aggregate may relate to the outer query by equalities (inner = outer) only", what)
	}
	if noGroup && len(inner) > 0 && (what != "IN" || sel.Having != nil) {
		return nil, errAt(at, "a correlated %s subquery over an aggregation without GROUP BY is not supported yet", what)
	}
	var where ast.Expr
	for _, e := range local {
		where = andAST(where, e)
	}
	q := &ast.Select{Pos: sel.Pos, From: sel.From, Where: where, Having: sel.Having,
		GroupBy: append(append([]ast.Expr(nil), sel.GroupBy...), inner...)}
	for i, k := range inner {
		q.Items = append(q.Items, &ast.SelectItem{Pos: sel.Pos, Expr: k, Alias: &ast.Ident{Pos: sel.Pos, Name: "$ck" + strconv.Itoa(i)}})
	}
	in := what == "IN" || what == "NOT IN"
	if in {
		if _, star := sel.Items[0].Expr.(*ast.Star); star {
			return nil, errAt(at, "the subquery of IN must select one column, not *")
		}
		q.Items = append(q.Items, &ast.SelectItem{Pos: sel.Pos, Expr: sel.Items[0].Expr, Alias: &ast.Ident{Pos: sel.Pos, Name: "$y"}})
		for i, it := range sel.Items[1:] {
			// (x1, ..., xn) IN: the other values (semi_multi.go).
			q.Items = append(q.Items, &ast.SelectItem{Pos: sel.Pos, Expr: it.Expr, Alias: &ast.Ident{Pos: sel.Pos, Name: "$y" + strconv.Itoa(i+1)}})
		}
	} else if len(inner) == 0 {
		q.Items = sel.Items
	}
	right, err := b.Query(q)
	if err != nil {
		return nil, err
	}
	nk := len(inner)
	if noGroup && nk > 0 {
		empty, err := emptyGroupValue(right, nk, nil)
		if err != nil {
			return nil, errAt(at, "%v", err)
		}
		if empty != nil {
			d.lostRows = true
			return d, nil
		}
	}
	cols := right.Columns()
	d.right = right
	d.inner = d.inner[:0]
	for i := range nk {
		d.inner = append(d.inner, expr.Ref(i, cols[i].Type))
	}
	if in {
		d.y = expr.Ref(nk, cols[nk].Type)
		if len(sel.Items) > 1 {
			for i := range sel.Items {
				d.ys = append(d.ys, expr.Ref(nk+i, cols[nk+i].Type))
			}
		}
	}
	return d, nil
}

// inJoinedValue plans x [NOT] IN (SELECT y ...) whose y names the outer
// query (y over the joined row, outer columns then the subquery's): x = y
// joins the residual condition of the semi (anti) join, null-aware for
// NOT IN over nullable values as in semiJoin.
func inJoinedValue(in *ast.InExpr, from Rel, d *decorrelated, x, y expr.Expr) (Rel, error) {
	cond, err := expr.NewCall("=", x, y)
	if err != nil {
		return nil, errAt(in, "%v", err)
	}
	if in.Not && (x.Type().Nullable || y.Type().Nullable) {
		xn, err := expr.NewCall("IS NULL", x)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		yn, err := expr.NewCall("IS NULL", y)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		if cond, err = expr.NewCall("OR", cond, xn, yn); err != nil {
			return nil, errAt(in, "%v", err)
		}
	}
	return buildSemi(in, from, d.right, d.outer, d.inner, append(d.residual, cond), in.Not)
}

// decorrelateSetOp decorrelates the set operation q of an [NOT] IN or
// [NOT] EXISTS subquery whose branches are correlated by the same
// equalities inner = outer: each branch selects its inner sides (in the
// order of the outer sides' text) and then its values, and the set
// operation runs over those rows, so that it combines the rows of one
// outer value only. It returns the result (the keys first) and the outer
// sides. Branches that aggregate, or that relate to the outer query
// otherwise, are refused.
func (b *Binder) decorrelateSetOp(at ast.Node, q ast.QueryExpr, from Rel, sc *scope, what string) (Rel, []expr.Expr, error) {
	switch n := q.(type) {
	case *ast.SetOp:
		l, lo, err := b.decorrelateSetOp(at, n.Left, from, sc, what)
		if err != nil {
			return nil, nil, err
		}
		r, ro, err := b.decorrelateSetOp(at, n.Right, from, sc, what)
		if err != nil {
			return nil, nil, err
		}
		if !slices.EqualFunc(lo, ro, func(a, b expr.Expr) bool { return a.String() == b.String() }) {
			return nil, nil, errAt(at, "a correlated %s subquery over a set operation needs the same equalities inner = outer in each branch", what)
		}
		out, err := b.setOpRels(n, l, r)
		return out, lo, err
	case *ast.Select:
		if n.From == nil || len(n.GroupBy) > 0 || n.Having != nil || selectsAgg(n, b.Funcs) {
			return nil, nil, errAt(at, "a correlated %s subquery over a set operation takes branches SELECT ... FROM ... WHERE ... (no aggregation)", what)
		}
		d, err := b.decorrelate(at, n, from, sc, what)
		if err != nil {
			return nil, nil, err
		}
		if len(d.residual) > 0 || len(d.outer) == 0 {
			return nil, nil, errAt(at, "a correlated %s subquery over a set operation needs the same equalities inner = outer in each branch, and no other condition on the outer query", what)
		}
		order := make([]int, len(d.outer))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return d.outer[order[i]].String() < d.outer[order[j]].String() })
		var projs, outer []expr.Expr
		var cols []Column
		for k, i := range order {
			projs, outer = append(projs, d.inner[i]), append(outer, d.outer[i])
			cols = append(cols, Column{Name: "$ck" + strconv.Itoa(k), Type: stripTimeAttr(d.inner[i])})
		}
		eb := &exprBinder{sc: d.rsc, fns: b.Funcs}
		for j, it := range n.Items {
			if _, star := it.Expr.(*ast.Star); star {
				return nil, nil, errAt(it.Expr, "a correlated %s subquery over a set operation must list its columns, not *", what)
			}
			v, err := eb.bind(it.Expr)
			if err != nil {
				return nil, nil, errAt(at, "%v (a correlated %s subquery over a set operation may refer to the outer query in its WHERE only)", err, what)
			}
			projs = append(projs, v)
			cols = append(cols, Column{Name: "$v" + strconv.Itoa(j), Type: stripTimeAttr(v)})
		}
		return &Calc{In: d.right, Projects: projs, Cols: cols}, outer, nil
	}
	return nil, nil, errAt(at, "a correlated %s subquery over ORDER BY, LIMIT or VALUES is not supported yet", what)
}

// setOpDecorrelated returns the decorrelated of a set operation (see
// decorrelateSetOp); an IN's must have one value column.
func (b *Binder) setOpDecorrelated(at ast.Node, q ast.QueryExpr, from Rel, sc *scope, what string, in bool) (*decorrelated, error) {
	right, outer, err := b.decorrelateSetOp(at, q, from, sc, what)
	if err != nil {
		return nil, err
	}
	cols := right.Columns()
	nk := len(outer)
	d := &decorrelated{right: right, outer: outer}
	for i := range nk {
		d.inner = append(d.inner, expr.Ref(i, cols[i].Type))
	}
	if in {
		if len(cols) != nk+1 {
			return nil, errAt(at, "the subquery of IN must select one column, not %d", len(cols)-nk)
		}
		d.y = expr.Ref(nk, cols[nk].Type)
	}
	return d, nil
}

// inScalar plans x [NOT] IN (SELECT agg(..) FROM ... WHERE ...) whose
// subquery is correlated (NOT IN, or IN whose value over no rows is not
// NULL; the others are semi joins on the correlation columns): an aggregation without GROUP BY or HAVING gives
// exactly one row for every outer row, so the condition is x = (the
// scalar subquery), or x <> (...) for NOT IN (the same under SQL's
// three-valued logic), with the subquery decorrelated as a scalar one
// (correlatedScalar: COUNT over no rows is 0). The filtered rows keep
// from's columns.
func (b *Binder) inScalar(in *ast.InExpr, from Rel, sc *scope, x expr.Expr) (Rel, error) {
	sq := &ast.SubqueryExpr{Pos: in.Pos, Query: in.Query}
	joined, _, refs, err := b.joinScalars(from, sc, []*ast.SubqueryExpr{sq})
	if err != nil {
		return nil, err
	}
	op := "="
	if in.Not {
		op = "<>"
	}
	cond, err := expr.NewCall(op, x, refs[sq])
	if err != nil {
		return nil, errAt(in, "%v", err)
	}
	out, err := filtered(joined, []expr.Expr{cond})
	if err != nil {
		return nil, errAt(in, "%v", err)
	}
	return dropTail(out, len(from.Columns())), nil
}

// existsScalar plans [NOT] EXISTS (SELECT ... FROM ... WHERE ... [HAVING
// cond]) over a correlated aggregation without GROUP BY, which has one row
// for every outer row unless HAVING drops it: EXISTS is cond IS TRUE,
// with cond (COUNT(*) >= 0, always TRUE, without HAVING) the value of a
// correlated scalar subquery over the same FROM and WHERE, whose value
// over no rows is cond's (correlatedScalar). The filtered rows keep
// from's columns.
func (b *Binder) existsScalar(ex *ast.ExistsExpr, sel *ast.Select, from Rel, sc *scope, not bool) (Rel, error) {
	count := &ast.Call{Pos: sel.Pos, Name: &ast.Name{Pos: sel.Pos, Parts: []*ast.Ident{{Pos: sel.Pos, Name: "COUNT"}}}, Args: []ast.Expr{&ast.Star{Pos: sel.Pos}}}
	always := &ast.BinaryExpr{Pos: sel.Pos, Op: ast.OpGe, Left: count, Right: &ast.Literal{Pos: sel.Pos, Kind: ast.IntegerLit, Value: "0"}}
	cond := sel.Having
	switch {
	case cond == nil:
		cond = always
	case !containsAgg(cond, b.Funcs):
		// An aggregation still (HAVING TRUE): AND a condition always TRUE.
		cond = andAST(cond, always)
	}
	q := &ast.Select{Pos: sel.Pos, From: sel.From, Where: sel.Where, Items: []*ast.SelectItem{{Pos: sel.Pos, Expr: cond}}}
	sq := &ast.SubqueryExpr{Pos: ex.Pos, Query: q}
	joined, _, refs, err := b.joinScalars(from, sc, []*ast.SubqueryExpr{sq})
	if err != nil {
		return nil, err
	}
	v := refs[sq]
	if v.Type().Root != row.TypeBoolean {
		return nil, errAt(sel.Having, "HAVING must be a BOOLEAN condition, not %s", v.Type())
	}
	f, err := expr.NewCall("IS TRUE", v)
	if err != nil {
		return nil, errAt(ex, "%v", err)
	}
	if not {
		if f, err = expr.NewCall("NOT", f); err != nil {
			return nil, errAt(ex, "%v", err)
		}
	}
	out, err := filtered(joined, []expr.Expr{f})
	if err != nil {
		return nil, errAt(ex, "%v", err)
	}
	return dropTail(out, len(from.Columns())), nil
}
