package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// SemiJoin is a WHERE x [NOT] IN (SELECT y ...) conjunct run as Flink's
// streaming semi join (IN) or anti join (NOT IN) on x = y: the left rows
// with (without) a matching right row, left columns only. A semi join
// emits a left row once it has a match and retracts it when the last
// match goes; an anti join emits a left row while it has none, so its
// output is updating.
type SemiJoin struct {
	Left, Right         Rel
	Anti                bool
	LeftKeys, RightKeys []int
	// NullSafe, when set, flags the key pairs that match NULL with NULL
	// (IS NOT DISTINCT FROM: INTERSECT and EXCEPT compare rows so).
	NullSafe []bool
	// Residual is the rest of the join condition (nil: none), over the
	// left columns followed by the right ones.
	Residual expr.Expr
	Cols     []Column
	// Window, when set, makes this a window semi or anti join (Flink's
	// WindowJoin with joinType LeftSemiJoin or LeftAntiJoin): both inputs
	// are windowed alike and the subquery correlates on window_start and
	// window_end, which are not in LeftKeys/RightKeys. Each window's left
	// rows are emitted, insert-only, when the watermark passes the
	// window's end (with a match: semi; without: anti), and the window's
	// state is dropped.
	Window *SemiWindow
}

// SemiWindow is the window of a window semi or anti join: the common
// window of both inputs and each side's window_start and window_end
// columns.
type SemiWindow struct {
	Window                                   Window
	LeftStart, LeftEnd, RightStart, RightEnd int
}

// Columns implements Rel.
func (j *SemiJoin) Columns() []Column { return j.Cols }

// Inputs implements Rel.
func (j *SemiJoin) Inputs() []Rel { return []Rel{j.Left, j.Right} }

// Mode implements Rel: a semi join of append-only inputs appends; an anti
// join retracts the rows that find a match.
func (j *SemiJoin) Mode() Mode {
	if j.Window != nil {
		return InsertOnly
	}
	if j.Anti || j.Left.Mode() == Updating || j.Right.Mode() == Updating {
		return Updating
	}
	return InsertOnly
}

func (j *SemiJoin) describe() (string, []string) {
	kind := "LeftSemiJoin"
	if j.Anti {
		kind = "LeftAntiJoin"
	}
	l, r := j.Left.Columns(), j.Right.Columns()
	// Both sides' names, a right one taken on the left suffixed as in
	// Flink's plans (=(a, a0)).
	both := append(append([]Column(nil), l...), r...)
	seen := map[string]bool{}
	for i := range both {
		n := both[i].Name
		for k := 0; seen[n]; k++ {
			n = both[i].Name + strconv.Itoa(k)
		}
		seen[n] = true
		both[i].Name = n
	}
	var conds []string
	for i := range j.LeftKeys {
		if j.NullSafe != nil && j.NullSafe[i] {
			// A set operation's: both sides have the same names.
			conds = append(conds, fmt.Sprintf("IS NOT DISTINCT FROM(%s, %s)", l[j.LeftKeys[i]].Name, rightName(l, r, j.RightKeys[i])))
			continue
		}
		conds = append(conds, fmt.Sprintf("=(%s, %s)", l[j.LeftKeys[i]].Name, both[len(l)+j.RightKeys[i]].Name))
	}
	for _, c := range conjuncts(j.Residual) {
		conds = append(conds, withNames(c, both))
	}
	where := strings.Join(conds, ", ")
	switch len(conds) {
	case 0:
		// A window semi join correlated on the window alone (Flink:
		// where=[true]).
		where = "true"
	case 1:
	default:
		where = "AND(" + where + ")"
	}
	attrs := []string{"joinType=[" + kind + "]", "where=[" + where + "]", "select=[" + names(j.Cols) + "]"}
	if w := j.Window; w != nil {
		win := "leftWindow=[" + windowOn(w.Window, l[w.LeftStart].Name, l[w.LeftEnd].Name) + "], rightWindow=[" + windowOn(w.Window, r[w.RightStart].Name, r[w.RightEnd].Name) + "]"
		return "WindowJoin", append([]string{win}, attrs...)
	}
	return "Join", attrs
}

// subqueryCond is a WHERE conjunct that becomes a semi or anti join:
// x [NOT] IN (subquery) or [NOT] EXISTS (subquery).
type subqueryCond struct {
	in     *ast.InExpr
	exists *ast.ExistsExpr
	not    bool
	// hook binds the scalar subqueries and IN/EXISTS values of the
	// value before IN (nil: none), joined to the left input first.
	hook func(ast.Expr) (expr.Expr, bool, error)
}

// splitSubqueryConds takes the IN (subquery) and EXISTS conjuncts out of
// a WHERE condition; rest is what remains (nil if nothing).
func splitSubqueryConds(e ast.Expr) (rest ast.Expr, subs []subqueryCond) {
	var walk func(e ast.Expr) ast.Expr
	walk = func(e ast.Expr) ast.Expr {
		switch n := e.(type) {
		case *ast.BinaryExpr:
			if n.Op != ast.OpAnd {
				return e
			}
			l, r := walk(n.Left), walk(n.Right)
			switch {
			case l == nil:
				return r
			case r == nil:
				return l
			case l == n.Left && r == n.Right:
				return e
			}
			c := *n
			c.Left, c.Right = l, r
			return &c
		case *ast.InExpr:
			if n.Query != nil {
				subs = append(subs, subqueryCond{in: n, not: n.Not})
				return nil
			}
		case *ast.ExistsExpr:
			subs = append(subs, subqueryCond{exists: n})
			return nil
		case *ast.UnaryExpr:
			if n.Op != ast.OpNot {
				break
			}
			switch x := n.Operand.(type) {
			case *ast.ExistsExpr:
				subs = append(subs, subqueryCond{exists: x, not: true})
				return nil
			case *ast.InExpr:
				// NOT (x IN q) is x NOT IN q, NOT (x NOT IN q) x IN q.
				if x.Query != nil {
					c := *x
					c.Not = !x.Not
					subs = append(subs, subqueryCond{in: &c, not: c.Not})
					return nil
				}
			case *ast.UnaryExpr:
				// NOT NOT p is p (three-valued logic too).
				if x.Op == ast.OpNot && hasSubqueryPred(x.Operand) {
					return walk(x.Operand)
				}
			case *ast.BinaryExpr:
				// NOT (p OR q) is NOT p AND NOT q (De Morgan, as
				// Calcite's simplification): its subqueries become
				// conjuncts.
				if x.Op == ast.OpOr && hasSubqueryPred(x) {
					return walk(&ast.BinaryExpr{Pos: x.Pos, Op: ast.OpAnd,
						Left:  &ast.UnaryExpr{Pos: n.Pos, Op: ast.OpNot, Operand: x.Left},
						Right: &ast.UnaryExpr{Pos: n.Pos, Op: ast.OpNot, Operand: x.Right}})
				}
			}
		case *ast.IsExpr:
			// p IS TRUE in WHERE keeps the rows p keeps.
			if n.Test == ast.IsTrue && !n.Not && hasSubqueryPred(n.Expr) {
				switch n.Expr.(type) {
				case *ast.InExpr, *ast.ExistsExpr, *ast.UnaryExpr:
					return walk(n.Expr)
				}
			}
		}
		return e
	}
	return walk(e), subs
}

// semiJoin plans one subquery conjunct over from.
//
// x IN (subquery) is a semi join on x = y (and on the correlation keys of
// a correlated subquery). x NOT IN (subquery) is an anti join: on x = y
// when both are NOT NULL; otherwise null-aware, as Flink plans it: the
// condition x = y OR x IS NULL OR y IS NULL, so that a left row goes when
// the subquery holds its value or a NULL, or when x is NULL and the
// subquery is not empty (SQL's three-valued NOT IN is then UNKNOWN or
// FALSE, and WHERE drops the row), and stays when the subquery is empty.
func (b *Binder) semiJoin(from Rel, sc *scope, c subqueryCond) (Rel, error) {
	if c.exists != nil {
		return b.existsJoin(from, sc, c.exists, c.not)
	}
	in := c.in
	if subs := markSubqueries(in.Expr, scalarSubqueries(in.Expr, nil)); len(subs) > 0 && c.hook == nil {
		// Subqueries in the value before IN ((SELECT MAX(y) ...) IN
		// (...), CASE WHEN a IN (...) ... END IN (...)): joined to the
		// left input, whose columns the semi (anti) join then keeps.
		lw := len(from.Columns())
		joined, jsc, refs, err := b.joinScalars(from, sc, subs)
		if err != nil {
			return nil, err
		}
		c.hook = scalarHook(refs)
		out, err := b.semiJoin(joined, jsc, c)
		if err != nil {
			return nil, err
		}
		return dropTail(out, lw), nil
	}
	if r, ok := in.Expr.(*ast.RowExpr); ok && len(r.Fields) > 1 {
		return b.semiJoinRow(from, sc, in, r.Fields, c.hook) // semi_multi.go
	}
	x, err := (&exprBinder{sc: sc, fns: b.Funcs, hook: c.hook}).bind(in.Expr)
	if err != nil {
		return nil, err
	}
	var d *decorrelated
	var yj expr.Expr // a value that names the outer query, over the joined row
	right, qerr := b.ownQuery(in.Query)
	if qerr == nil {
		rc := right.Columns()
		if len(rc) != 1 {
			return nil, errAt(in, "the subquery of IN must select one column, not %d", len(rc))
		}
		d = &decorrelated{right: right}
		d.y = expr.Ref(0, rc[0].Type)
	} else {
		// A subquery that refers to the outer query: decorrelate it.
		what := "IN"
		if in.Not {
			what = "NOT IN"
		}
		sel, ok := in.Query.(*ast.Select)
		if _, isSetOp := in.Query.(*ast.SetOp); !ok && !isSetOp {
			return nil, errAt(in, "a correlated IN subquery over ORDER BY, LIMIT or VALUES is not supported yet (%v)", qerr)
		}
		if !ok {
			if d, err = b.setOpDecorrelated(in, in.Query, from, sc, what, true); err != nil {
				return nil, err
			}
			return buildSemiIn(in, from, x, d)
		}
		if len(sel.Items) != 1 {
			return nil, errAt(in, "the subquery of IN must select one column, not %d", len(sel.Items))
		}
		oneRow := sel.From != nil && len(sel.GroupBy) == 0 && sel.Having == nil && !sel.Distinct && selectsAgg(sel, b.Funcs)
		if oneRow && in.Not {
			// One row for every outer row (semi_decorrelate.go).
			return b.inScalar(in, from, sc, x)
		}
		if d, err = b.decorrelate(in, sel, from, sc, what); err != nil {
			return nil, err
		}
		if d.lostRows {
			return b.inScalar(in, from, sc, x)
		}
		if d.y != nil {
			// Bound by decorrelateGrouped.
		} else if _, star := sel.Items[0].Expr.(*ast.Star); star {
			if len(d.right.Columns()) != 1 {
				return nil, errAt(in, "the subquery of IN must select one column, not %d", len(d.right.Columns()))
			}
			d.y = expr.Ref(0, d.right.Columns()[0].Type)
		} else if d.y, err = (&exprBinder{sc: d.rsc, fns: b.Funcs}).bind(sel.Items[0].Expr); err != nil {
			// The value names the outer query: x = y is a condition on
			// the joined row, as the other correlated conjuncts
			// (semi_decorrelate.go).
			var jerr error
			if yj, jerr = (&exprBinder{sc: d.both, fns: b.Funcs}).bind(sel.Items[0].Expr); jerr != nil {
				return nil, err
			}
		}
	}
	if yj != nil {
		return inJoinedValue(in, from, d, x, yj)
	}
	return buildSemiIn(in, from, x, d)
}

// buildSemiIn plans x [NOT] IN over the decorrelated subquery d (its
// value d.y over d.right).
func buildSemiIn(in *ast.InExpr, from Rel, x expr.Expr, d *decorrelated) (Rel, error) {
	y := d.y
	if in.Not && (x.Type().Nullable || y.Type().Nullable) {
		// Null-aware anti join: x = y OR x IS NULL OR y IS NULL over the
		// joined row (left columns, then the subquery's).
		lw := len(from.Columns())
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
		cond, err := expr.NewCall("OR", eq, xn, yn)
		if err != nil {
			return nil, errAt(in, "%v", err)
		}
		return buildSemi(in, from, d.right, d.outer, d.inner, append(d.residual, cond), true)
	}
	return buildSemi(in, from, d.right, append([]expr.Expr{x}, d.outer...), append([]expr.Expr{y}, d.inner...), d.residual, in.Not)
}

// decorrelated is a subquery's FROM with its WHERE split as Flink's
// decorrelation does: the conjuncts over the subquery's own columns
// filter it (right); equalities inner = outer become join keys (outer[i]
// over the outer query's columns, inner[i] over right's); the other
// conjuncts that refer to the outer query form the residual join
// condition, over the outer columns followed by right's.
type decorrelated struct {
	right        Rel
	rsc          *scope
	both         *scope // the outer columns, then right's (the residual's)
	outer, inner []expr.Expr
	residual     []expr.Expr
	// y is the IN subquery's selected value, over right's columns.
	y expr.Expr
	// ys are the values of an IN subquery of several columns
	// (semi_multi.go) when decorrelateGrouped binds them.
	ys []expr.Expr
	// lostRows: right is an aggregation without GROUP BY grouped by the
	// correlation columns whose value over no rows is not NULL, so the
	// rows of outer values without a match, which would match, are lost,
	// or one correlated by other conditions than equalities
	// (decorrelateGrouped): IN plans it with inScalar instead.
	lostRows bool
}

// decorrelate binds a subquery SELECT ... FROM t WHERE ... of [NOT] IN or
// [NOT] EXISTS that may refer to the outer query (from, sc) in its WHERE.
func (b *Binder) decorrelate(at ast.Node, sel *ast.Select, from Rel, sc *scope, what string) (*decorrelated, error) {
	if sel.From == nil {
		return nil, errAt(at, "%s is supported over SELECT ... FROM ... only", what)
	}
	// The subquery's FROM: a table or a join (semi_decorrelate.go).
	right, tree, rsc, err := b.subqueryFrom(sel.From)
	if err != nil {
		return nil, err
	}
	d := &decorrelated{rsc: rsc}
	var localAST, innerAST []ast.Expr // for decorrelateGrouped
	// The joined row's scope: the subquery's columns (after the outer
	// ones) shadow outer columns of the same name, as in SQL.
	lw := len(from.Columns())
	both := &scope{}
	for _, c := range rsc.cols {
		c.Index += lw
		both.cols = append(both.cols, c)
	}
	for _, c := range sc.cols {
		for _, ic := range rsc.cols {
			if ic.Name == c.Name {
				c.merged = true // reachable qualified only
			}
		}
		both.cols = append(both.cols, c)
	}
	d.both = both
	rb, ob := &exprBinder{sc: rsc, fns: b.Funcs}, &exprBinder{sc: sc, fns: b.Funcs}
	jb := &exprBinder{sc: both, fns: b.Funcs}
	var filters []expr.Expr
	var conj func(e ast.Expr) error
	conj = func(e ast.Expr) error {
		if n, ok := e.(*ast.BinaryExpr); ok && n.Op == ast.OpAnd {
			if err := conj(n.Left); err != nil {
				return err
			}
			return conj(n.Right)
		}
		if tree == nil {
			// A subquery in the subquery's WHERE (semi_multi.go).
			if r, ok, err := b.nestedSubquery(e, right, rsc); ok || err != nil {
				if err != nil {
					return err
				}
				right = r
				localAST = append(localAST, e)
				return nil
			}
		}
		if x, err := rb.bind(e); err == nil {
			filters = append(filters, x)
			localAST = append(localAST, e)
			return nil
		}
		if n, ok := e.(*ast.BinaryExpr); ok && n.Op == ast.OpEq {
			if i, err := rb.bind(n.Left); err == nil {
				if o, err := ob.bind(n.Right); err == nil {
					d.inner, d.outer = append(d.inner, i), append(d.outer, o)
					innerAST = append(innerAST, n.Left)
					return nil
				}
			}
			if i, err := rb.bind(n.Right); err == nil {
				if o, err := ob.bind(n.Left); err == nil {
					d.inner, d.outer = append(d.inner, i), append(d.outer, o)
					innerAST = append(innerAST, n.Right)
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
		d.residual = append(d.residual, x)
		return nil
	}
	if sel.Where != nil {
		if err := conj(sel.Where); err != nil {
			return nil, err
		}
	}
	if len(sel.GroupBy) > 0 || sel.Having != nil || selectsAgg(sel, b.Funcs) {
		return b.decorrelateGrouped(at, sel, d, localAST, innerAST, what)
	}
	if tree != nil {
		d.right, err = b.planFrom(tree, filters)
	} else {
		d.right, err = filtered(right, filters)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// existsJoin plans [NOT] EXISTS (SELECT ... FROM t WHERE ...): a semi
// (anti) join on the WHERE's equalities inner = outer, with its other
// conjuncts that refer to the outer query as the join condition and those
// over t alone filtering t (Flink's decorrelation). Without a correlation
// key the join runs on one subtask, as Flink's does.
func (b *Binder) existsJoin(from Rel, sc *scope, ex *ast.ExistsExpr, not bool) (Rel, error) {
	if body := existsBody(ex.Query); body != ex.Query {
		if _, err := b.Query(ex.Query); err != nil {
			// Correlated over LIMIT n (exists_limit.go).
			cp := *ex
			cp.Query = body
			ex = &cp
		}
	}
	sel, ok := ex.Query.(*ast.Select)
	if !ok {
		// A set operation, ORDER BY or LIMIT: uncorrelated only, a semi
		// join without condition.
		right, err := b.Query(ex.Query)
		if err == nil {
			return buildSemi(ex, from, right, nil, nil, nil, not)
		}
		if _, isSetOp := ex.Query.(*ast.SetOp); !isSetOp {
			return nil, errAt(ex, "a correlated EXISTS subquery over ORDER BY, LIMIT or VALUES is not supported yet (%v)", err)
		}
		d, derr := b.setOpDecorrelated(ex, ex.Query, from, sc, "EXISTS", false)
		if derr != nil {
			return nil, derr
		}
		return buildSemi(ex, from, d.right, d.outer, d.inner, nil, not)
	}
	if sel.From != nil && len(sel.GroupBy) == 0 && !sel.Distinct && (sel.Having != nil || selectsAgg(sel, b.Funcs)) {
		if _, qerr := b.Query(ex.Query); qerr != nil {
			// Correlated, one row or none per outer row (semi_decorrelate.go).
			return b.existsScalar(ex, sel, from, sc, not)
		}
		if b.Batch {
			// Uncorrelated: in the batch mode its aggregate has a row
			// over no input (batch_agg.go), a semi join without
			// condition on it.
			right, err := b.ownQuery(ex.Query)
			if err != nil {
				return nil, err
			}
			return buildSemi(ex, from, right, nil, nil, nil, not)
		}
	}
	d, err := b.decorrelate(ex, sel, from, sc, "EXISTS")
	if err != nil {
		return nil, err
	}
	return buildSemi(ex, from, d.right, d.outer, d.inner, d.residual, not)
}

// buildSemi joins from (left) and right on left[i] = right[i] (casting
// to common types in computed key columns) and the residual conditions
// (over from's columns then right's), keeping from's columns. Without key
// pairs it joins on a constant: one subtask, as Flink's.
func buildSemi(at ast.Node, from, right Rel, lexprs, rexprs, residual []expr.Expr, anti bool) (Rel, error) {
	lw, rw := len(from.Columns()), len(right.Columns())
	if len(lexprs) == 0 {
		one := expr.Lit(row.Int(0), row.IntType().NotNull())
		lexprs, rexprs = []expr.Expr{one}, []expr.Expr{one}
	}
	var lkeys, rkeys []int
	var lx, rx []expr.Expr
	for i := range lexprs {
		x, y := lexprs[i], rexprs[i]
		xt, yt := x.Type(), y.Type()
		xt.TimeAttr, yt.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
		t, ok := expr.LeastRestrictive(xt, yt)
		if !ok {
			return nil, errAt(at, "%s = %s: types %s and %s have no common type", x, y, xt, yt)
		}
		t.TimeAttr = row.NoTimeAttr
		key := func(e expr.Expr, et row.Type, w int, extra *[]expr.Expr) (int, error) {
			if r, ok := e.(*expr.InputRef); ok && et.WithNullable(true).Equal(t.WithNullable(true)) {
				return r.Index, nil
			}
			if !et.Equal(t) {
				var err error
				if e, err = expr.NewCast(e, t); err != nil {
					return 0, errAt(at, "%v", err)
				}
			}
			*extra = append(*extra, e)
			return w + len(*extra) - 1, nil
		}
		l, err := key(x, xt, lw, &lx)
		if err != nil {
			return nil, err
		}
		r, err := key(y, yt, rw, &rx)
		if err != nil {
			return nil, err
		}
		lkeys, rkeys = append(lkeys, l), append(rkeys, r)
	}
	left := withExtra(from, lx)
	cond, err := andAll(residual)
	if err != nil {
		return nil, errAt(at, "%v", err)
	}
	if cond != nil && len(lx) > 0 {
		cond = mapRefs(cond, func(i int) int {
			if i >= lw {
				return i + len(lx)
			}
			return i
		})
	}
	j := &SemiJoin{Left: left, Right: withExtra(right, rx), Anti: anti, LeftKeys: lkeys, RightKeys: rkeys, Residual: cond}
	j.Window, j.LeftKeys, j.RightKeys = semiWindow(from, right, lkeys, rkeys)
	for _, c := range left.Columns() {
		if j.Window == nil {
			c.Type.TimeAttr = row.NoTimeAttr
		}
		j.Cols = append(j.Cols, c)
	}
	if len(j.Cols) == lw {
		return j, nil
	}
	// Drop the computed key columns.
	projs := make([]expr.Expr, lw)
	for i := range projs {
		projs[i] = expr.Ref(i, j.Cols[i].Type)
	}
	return &Calc{In: j, Projects: projs, Cols: j.Cols[:lw]}, nil
}

// withoutTimeAttrs returns a copy of s whose columns are plain (the
// columns after a semi join, whose time attributes are materialized).
func (s *scope) withoutTimeAttrs() *scope {
	c := &scope{cols: append([]scopeCol(nil), s.cols...)}
	for i := range c.cols {
		c.cols[i].Type.TimeAttr = row.NoTimeAttr
	}
	return c
}

// semiWindow finds a window semi or anti join, as bindJoin finds a window
// join: both inputs append-only and windowed alike (same window, same
// kind of time attribute), and the key pairs include left window_start =
// right window_start and left window_end = right window_end. It returns
// the window and the key pairs without those two; nil and the keys as
// they are otherwise.
func semiWindow(left, right Rel, lkeys, rkeys []int) (*SemiWindow, []int, []int) {
	if left.Mode() != InsertOnly || right.Mode() != InsertOnly {
		return nil, lkeys, rkeys
	}
	ls, le, lwin, lok := windowProps(left)
	rs, re, rwin, rok := windowProps(right)
	if !lok || !rok || !sameWindow(lwin, rwin) || windowTimeAttr(left) != windowTimeAttr(right) {
		return nil, lkeys, rkeys
	}
	var hasStart, hasEnd bool
	var ol, or []int
	for i := range lkeys {
		switch {
		case lkeys[i] == ls && rkeys[i] == rs && !hasStart:
			hasStart = true
		case lkeys[i] == le && rkeys[i] == re && !hasEnd:
			hasEnd = true
		default:
			ol, or = append(ol, lkeys[i]), append(or, rkeys[i])
		}
	}
	if !hasStart || !hasEnd {
		return nil, lkeys, rkeys
	}
	return &SemiWindow{Window: lwin, LeftStart: ls, LeftEnd: le, RightStart: rs, RightEnd: re}, ol, or
}
