package plan

import (
	"strconv"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// correlatedScalar plans a correlated scalar subquery SELECT e FROM ...
// WHERE ... as Flink decorrelates one (Calcite's SubQueryRemoveRule, then
// the decorrelator): the subquery becomes a relation keyed by its
// correlation values, LEFT joined to from on them, and its value is
// appended to from's columns. The WHERE's conjuncts over the subquery's
// own columns filter its FROM (a table or a join); equalities inner =
// outer are correlation keys; the other conjuncts that name the outer
// query (t.a > outer.a) need the outer query's distinct correlation values
// (the value generator): those are joined with the subquery's FROM on the
// correlation conditions, and the result grouped by them.
//
// The relation is, per correlation key, the aggregation of e when e is
// an aggregate (an empty group, which has no row, gives e over no rows:
// 0 for COUNT, NULL for MAX, ...), else SINGLE_VALUE(e), which fails the
// job when a key has more than one row. ok is false when the subquery is
// not of a form Weir decorrelates (err then says why).
func (b *Binder) correlatedScalar(s *ast.SubqueryExpr, from, base Rel, sc *scope, n int) (Rel, bool, error) {
	sel, isSel := s.Query.(*ast.Select)
	if !isSel || sel.From == nil {
		return nil, false, errAt(s, "correlated scalar subqueries are supported as SELECT expr FROM ... [WHERE ...] [GROUP BY ...] [HAVING ...] only (no ORDER BY, LIMIT, VALUES or set operation)")
	}
	for _, g := range sel.GroupBy {
		if _, ok := g.(*ast.GroupingSets); ok {
			return nil, false, errAt(g, "GROUPING SETS, ROLLUP or CUBE in a correlated scalar subquery are not supported")
		}
		if r, ok := g.(*ast.RowExpr); ok && len(r.Fields) == 0 {
			return nil, false, errAt(g, "GROUP BY () in a correlated scalar subquery is not supported")
		}
	}
	if len(sel.Items) != 1 {
		return nil, false, errAt(s, "a scalar subquery must return one column, not %d", len(sel.Items))
	}
	item := sel.Items[0].Expr
	if _, star := item.(*ast.Star); star {
		return nil, false, errAt(s, "a correlated scalar subquery must select one expression, not *")
	}
	isAgg := containsAgg(item, b.Funcs) || sel.Having != nil || len(sel.GroupBy) > 0
	// The subquery's FROM: a table or a join.
	var tree *fromNode
	var right Rel
	var rsc *scope
	var err error
	if j, ok := sel.From.(*ast.Join); ok {
		if tree, err = b.fromTree(j); err != nil {
			return nil, false, err
		}
		rsc = tree.sc
	} else if right, rsc, err = b.bindFrom(sel.From); err != nil {
		return nil, false, err
	}
	// The joined row's scope: the outer columns, then the subquery's,
	// which shadow outer columns of the same name, as in SQL.
	lw := len(from.Columns())
	both := &scope{}
	for _, c := range sc.cols {
		for _, ic := range rsc.cols {
			if ic.Name == c.Name {
				c.merged = true // reachable qualified only
			}
		}
		both.cols = append(both.cols, c)
	}
	for _, c := range rsc.cols {
		c.Index += lw
		both.cols = append(both.cols, c)
	}
	rb, ob := &exprBinder{sc: rsc, fns: b.Funcs}, &exprBinder{sc: sc, fns: b.Funcs}
	jb := &exprBinder{sc: both, fns: b.Funcs}
	var local, inner, outer, residual []expr.Expr
	var innerAST []ast.Expr
	var conj func(e ast.Expr) error
	conj = func(e ast.Expr) error {
		if x, ok := e.(*ast.BinaryExpr); ok && x.Op == ast.OpAnd {
			if err := conj(x.Left); err != nil {
				return err
			}
			return conj(x.Right)
		}
		if tree == nil {
			// A subquery in the subquery's WHERE over its own columns
			// (semi_multi.go), as decorrelate's: it filters the FROM.
			if r, ok, err := b.nestedSubquery(e, right, rsc); ok || err != nil {
				if err != nil {
					return err
				}
				right = r
				return nil
			}
		}
		if x, err := rb.bind(e); err == nil {
			if err := checkBoolean(e, x, "WHERE"); err != nil {
				return err
			}
			local = append(local, x)
			return nil
		}
		if x, ok := e.(*ast.BinaryExpr); ok && x.Op == ast.OpEq {
			for _, p := range [][2]ast.Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
				i, err := rb.bind(p[0])
				if err != nil {
					continue
				}
				if o, err := ob.bind(p[1]); err == nil {
					inner, outer, innerAST = append(inner, i), append(outer, o), append(innerAST, p[0])
					return nil
				}
			}
		}
		x, err := jb.bind(e)
		if err != nil {
			return err
		}
		if err := checkBoolean(e, x, "WHERE"); err != nil {
			return err
		}
		residual = append(residual, x)
		return nil
	}
	if sel.Where != nil {
		if err := conj(sel.Where); err != nil {
			return nil, false, err
		}
	}
	// Outer columns named outside the WHERE (select list, GROUP BY,
	// HAVING): correlation values of the value generator, as Calcite's
	// decorrelator takes them.
	extra := b.outerRefsOutsideWhere(sel, rb, ob)
	if len(inner) == 0 && len(residual) == 0 && len(extra) == 0 {
		// Binding failed for a name of the outer query outside WHERE.
		if _, err := rb.bind(item); err != nil {
			return nil, false, errAt(s, "a correlated scalar subquery may refer to the outer query in its WHERE only: %v", err)
		}
		return nil, false, errAt(s, "a correlated scalar subquery needs a condition on the outer query in its WHERE")
	}
	var where expr.Expr
	if tree != nil {
		if right, err = b.planFrom(tree, local); err != nil {
			return nil, false, err
		}
	} else if where, err = andAll(local); err != nil {
		return nil, false, errAt(s, "%v", err)
	}

	// in is what is grouped by the correlation keys: the subquery's FROM
	// (equalities only) or its join with the distinct correlation values.
	in, insc, keysAST := right, rsc, innerAST
	outerVals := outer
	nullSafe := false
	if len(residual) > 0 || len(extra) > 0 {
		// The value generator: the distinct outer values the subquery
		// refers to (the outer sides of the equalities, then the outer
		// columns of the other conditions).
		vals := append([]expr.Expr(nil), outer...)
		pos := map[string]int{}
		for i, v := range vals {
			pos[v.String()] = i
		}
		for _, r := range residual {
			expr.Refs(r, func(i int) {
				if i >= lw {
					return
				}
				ref := expr.Ref(i, from.Columns()[i].Type)
				if _, ok := pos[ref.String()]; !ok {
					pos[ref.String()] = len(vals)
					vals = append(vals, ref)
				}
			})
		}
		for _, i := range extra {
			ref := expr.Ref(i, from.Columns()[i].Type)
			if _, ok := pos[ref.String()]; !ok {
				pos[ref.String()] = len(vals)
				vals = append(vals, ref)
			}
		}
		var vcols []Column
		for i, v := range vals {
			t := v.Type()
			t.TimeAttr = row.NoTimeAttr
			vcols = append(vcols, Column{Name: "$cor" + strconv.Itoa(i), Type: t})
		}
		// The outer values from base, whose columns are from's first
		// (joinScalarsOver), when they name those only.
		genIn := from
		if base != nil {
			bw, inBase := len(base.Columns()), true
			for _, v := range vals {
				expr.Refs(v, func(i int) { inBase = inBase && i < bw })
			}
			if inBase {
				genIn = base
			}
		}
		gen := distinct(&Calc{In: genIn, Projects: vals, Cols: vcols})
		nv := len(vals)
		var conds []expr.Expr
		for i, x := range inner {
			eq, err := expr.NewCall("=", expr.Ref(i, vcols[i].Type), shift(x, nv))
			if err != nil {
				return nil, false, errAt(s, "%v", err)
			}
			conds = append(conds, eq)
		}
		for _, r := range residual {
			conds = append(conds, mapRefs(r, func(i int) int {
				if i >= lw {
					return i - lw + nv
				}
				return pos[expr.Ref(i, from.Columns()[i].Type).String()]
			}))
		}
		if in, err = makeJoin(s, InnerJoin, gen, right, conds); err != nil {
			return nil, false, err
		}
		insc = &scope{}
		keysAST = nil
		for i, c := range vcols {
			insc.cols = append(insc.cols, scopeCol{Name: c.Name, Index: i, Type: c.Type})
			keysAST = append(keysAST, &ast.ColumnRef{Pos: sel.Pos, Parts: []*ast.Ident{{Pos: sel.Pos, Name: c.Name}}})
		}
		for _, c := range rsc.cols {
			c.Index += nv
			insc.cols = append(insc.cols, c)
		}
		// The outer columns the subquery names, at their correlation
		// values; after its own, which shadow them.
		for _, c := range sc.cols {
			if c.Index >= lw {
				continue
			}
			at, ok := pos[expr.Ref(c.Index, from.Columns()[c.Index].Type).String()]
			if !ok {
				continue
			}
			for _, ic := range rsc.cols {
				if ic.Name == c.Name {
					c.merged = true
				}
			}
			c.Index, c.Type = at, vcols[at].Type
			insc.cols = append(insc.cols, c)
		}
		if where != nil {
			where = shift(where, nv)
		}
		outerVals = vals
		// A correlation value may be NULL and still match (o.a IS NULL
		// OR ...): the outer rows find their group by IS NOT DISTINCT FROM.
		nullSafe = true
	}
	nk := len(keysAST)
	var sub Rel
	var empty expr.Expr // e over no rows, when not NULL
	if isAgg {
		// SELECT k1, .., e FROM in WHERE where GROUP BY k1, ..
		// (Calcite's decorrelator adds the correlation columns to the
		// GROUP BY, HAVING stays the Calc's condition.)
		groupBy := append(append([]ast.Expr(nil), keysAST...), sel.GroupBy...)
		agg := &ast.Select{Pos: sel.Pos, GroupBy: groupBy, Having: sel.Having}
		var items []selectItem
		for i, k := range keysAST {
			items = append(items, selectItem{e: k, name: "$ck" + strconv.Itoa(i)})
		}
		items = append(items, selectItem{e: item, name: "$v"})
		if sub, err = b.bindAggregate(agg, in, insc, where, items); err != nil {
			return nil, false, errAt(s, "correlated scalar subquery: %v", err)
		}
		if len(sel.GroupBy) > 0 {
			// Several groups per correlation value: SINGLE_VALUE of
			// them (of the distinct values under DISTINCT); no group,
			// no row: NULL.
			if sel.Distinct {
				sub = distinct(sub)
			}
			keys := make([]int, nk)
			for i := range keys {
				keys[i] = i
			}
			sub = singleValue(sub, keys, "$v")
		} else {
			if empty, err = emptyGroupValue(sub, nk, outerVals); err != nil {
				return nil, false, errAt(s, "%v", err)
			}
			if sub, err = havingAsValue(sub, nk); err != nil {
				return nil, false, errAt(s, "%v", err)
			}
		}
	} else {
		// SINGLE_VALUE(e) grouped by the keys.
		eb := &exprBinder{sc: insc, fns: b.Funcs}
		var projs []expr.Expr
		var cols []Column
		for i, k := range keysAST {
			x, err := eb.bind(k)
			if err != nil {
				return nil, false, err
			}
			projs = append(projs, x)
			cols = append(cols, Column{Name: "$ck" + strconv.Itoa(i), Type: stripTimeAttr(x)})
		}
		v, err := eb.bind(item)
		if err != nil {
			return nil, false, errAt(s, "a correlated scalar subquery may refer to the outer query in its WHERE only: %v", err)
		}
		projs = append(projs, v)
		cols = append(cols, Column{Name: "$v", Type: stripTimeAttr(v)})
		keys := make([]int, nk)
		for i := range keys {
			keys[i] = i
		}
		sub = &Calc{In: in, Projects: projs, Cond: where, Cols: cols}
		if sel.Distinct {
			sub = distinct(sub) // SELECT DISTINCT e: one row per value
		}
		sub = singleValue(sub, keys, "$v")
	}
	return joinCorrelated(s, from, sub, outerVals, nullSafe, empty, n)
}

// emptyGroupValue returns the value sub (a Calc of keys then one value
// over an Aggregate, as bindAggregate plans it, its condition the HAVING)
// has for a group without rows, where every aggregate has its value over
// no rows: 0 for COUNT and $SUM0, NULL for the others, and the group keys
// are the correlation values outer (over the outer query's columns, which
// lead the LEFT join's row). A HAVING that does not hold over no rows
// makes it NULL. It returns nil when that is NULL (what the LEFT join
// gives a row without a group anyway).
func emptyGroupValue(sub Rel, nk int, outer []expr.Expr) (expr.Expr, error) {
	c, ok := sub.(*Calc)
	if !ok {
		return nil, nil
	}
	a, ok := c.In.(*Aggregate)
	if !ok || len(c.Projects) != nk+1 {
		return nil, nil
	}
	vals := make([]expr.Expr, len(a.Cols))
	for i, col := range a.Cols {
		vals[i] = expr.Lit(row.Value{}, col.Type.WithNullable(true))
	}
	for i := 0; i < nk && i < len(outer); i++ {
		// The key columns are the correlation values of the row.
		r, ok := c.Projects[i].(*expr.InputRef)
		if !ok || r.Index >= len(a.Keys) {
			continue
		}
		v := outer[i]
		t := a.Cols[r.Index].Type.WithNullable(true)
		t.TimeAttr = row.NoTimeAttr
		vt := v.Type()
		vt.TimeAttr = row.NoTimeAttr
		if !vt.WithNullable(true).Equal(t) {
			var err error
			if v, err = expr.NewCast(v, t); err != nil {
				return nil, err
			}
		}
		vals[r.Index] = v
	}
	for j, call := range a.Aggs {
		if call.UDF == nil && (call.Func == "COUNT" || call.Func == "$SUM0") {
			vals[len(a.Keys)+j] = expr.Lit(row.Int(0), call.Type)
		}
	}
	e, err := expr.Fold(expr.Substitute(c.Projects[nk], vals))
	if err != nil {
		return nil, err
	}
	if c.Cond != nil {
		cond, err := expr.Fold(expr.Substitute(c.Cond, vals))
		if err != nil {
			return nil, err
		}
		if l, ok := cond.(*expr.Literal); ok {
			if l.Value.IsNull() || !l.Value.Bool() {
				return nil, nil
			}
		} else if e, err = expr.NewCase([]expr.Expr{cond}, []expr.Expr{e}, expr.Lit(row.Value{}, e.Type().WithNullable(true))); err != nil {
			return nil, err
		}
	}
	if l, ok := e.(*expr.Literal); ok && l.Value.IsNull() {
		return nil, nil
	}
	return e, nil
}

// havingAsValue turns the HAVING of sub (a Calc of keys then one value
// over an Aggregate without GROUP BY of its own, its condition the
// HAVING) into its value, CASE WHEN having THEN value END: a group whose
// HAVING fails is NULL, while a correlation value without group gets the
// value over no rows (emptyGroupValue), which a filtered group would take.
func havingAsValue(sub Rel, nk int) (Rel, error) {
	c, ok := sub.(*Calc)
	if !ok || c.Cond == nil || len(c.Projects) != nk+1 {
		return sub, nil
	}
	v := c.Projects[nk]
	cv, err := expr.NewCase([]expr.Expr{c.Cond}, []expr.Expr{v}, expr.Lit(row.Value{}, v.Type().WithNullable(true)))
	if err != nil {
		return nil, err
	}
	projs := append(append([]expr.Expr(nil), c.Projects[:nk]...), cv)
	cols := append([]Column(nil), c.Cols...)
	cols[nk].Type = cv.Type()
	cols[nk].Type.TimeAttr = row.NoTimeAttr
	return &Calc{In: c.In, Projects: projs, Cols: cols}, nil
}

// joinCorrelated LEFT joins from with sub (its first len(outer) columns
// the correlation keys, its last the value) on outer[i] = key i (IS NOT
// DISTINCT FROM when nullSafe) and appends the value to from's columns,
// as $scalar<n>. A row without a group gets empty (nil: NULL): a marker
// column of sub tells a missing group from a NULL value unless the value
// cannot be NULL.
func joinCorrelated(s *ast.SubqueryExpr, from, sub Rel, outer []expr.Expr, nullSafe bool, empty expr.Expr, n int) (Rel, bool, error) {
	rc := sub.Columns()
	nk := len(outer)
	marker := empty != nil && rc[nk].Type.Nullable
	if marker {
		projs := make([]expr.Expr, 0, len(rc)+1)
		for i, c := range rc {
			projs = append(projs, expr.Ref(i, c.Type))
		}
		projs = append(projs, expr.BoolLiteral(true))
		cols := append(append([]Column(nil), rc...), Column{Name: "$m", Type: row.Boolean().NotNull()})
		sub = &Calc{In: sub, Projects: projs, Cols: cols}
		rc = cols
	}
	// Join keys of common types: computed key columns on both sides.
	var lx, rx []expr.Expr
	var err error
	for i := range outer {
		lt, rt := outer[i].Type(), rc[i].Type
		lt.TimeAttr, rt.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
		t, ok := expr.LeastRestrictive(lt, rt)
		if !ok {
			return nil, false, errAt(s, "correlation %s: types %s and %s have no common type", rc[i].Name, rt, lt)
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
	ll, rr := withExtra(from, lx), withExtra(sub, rx)
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
	var flags []bool
	for i := range nk {
		lkeys[i], rkeys[i] = lw+i, len(rc)+i
		if nullSafe {
			flags = append(flags, true)
		}
	}
	j := &Join{joinCommon{Left: ll, Right: rr, Type: LeftJoin, LeftKeys: lkeys, RightKeys: rkeys, NullSafe: flags, Cols: jcols}}
	base := lw + len(lx) // sub's columns in the joined row
	vi := base + nk
	var v expr.Expr = expr.Ref(vi, jcols[vi].Type)
	switch {
	case empty == nil:
	case !marker:
		// The value is never NULL for a group: NULL is a missing group.
		if v, err = expr.NewCall("COALESCE", v, empty); err != nil {
			return nil, false, errAt(s, "%v", err)
		}
	default:
		m := base + nk + 1
		isNull, err := expr.NewCall("IS NULL", expr.Ref(m, jcols[m].Type))
		if err != nil {
			return nil, false, errAt(s, "%v", err)
		}
		if v, err = expr.NewCase([]expr.Expr{isNull}, []expr.Expr{empty}, v); err != nil {
			return nil, false, errAt(s, "%v", err)
		}
	}
	projs := make([]expr.Expr, 0, lw+1)
	out := make([]Column, 0, lw+1)
	for i := range lw {
		projs = append(projs, expr.Ref(i, jcols[i].Type))
		out = append(out, jcols[i])
	}
	projs = append(projs, v)
	out = append(out, Column{Name: "$scalar" + strconv.Itoa(n), Type: v.Type()})
	return &Calc{In: j, Projects: projs, Cols: out}, true, nil
}

// outerRefsOutsideWhere returns the columns of the outer query (indexes
// of its row) that sel names in its select list, GROUP BY or HAVING, not
// in nested subqueries: names rb (the subquery's FROM) does not bind and
// ob (the outer query) does.
func (b *Binder) outerRefsOutsideWhere(sel *ast.Select, rb, ob *exprBinder) []int {
	var out []int
	seen := map[int]bool{}
	visit := func(e ast.Node) {
		if e == nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SubqueryExpr, *ast.ExistsExpr:
				return false
			case *ast.InExpr:
				if x.Query != nil {
					return false
				}
			case *ast.QuantifiedExpr:
				return false
			case *ast.ColumnRef:
				if _, err := rb.bind(x); err == nil {
					return false
				}
				o, err := ob.bind(x)
				if err != nil {
					return false
				}
				expr.Refs(o, func(i int) {
					if !seen[i] {
						seen[i] = true
						out = append(out, i)
					}
				})
				return false
			}
			return true
		})
	}
	for _, it := range sel.Items {
		visit(it.Expr)
	}
	for _, g := range sel.GroupBy {
		visit(g)
	}
	visit(sel.Having)
	return out
}
