package plan

import (
	"fmt"
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
	Cols                []Column
}

// Columns implements Rel.
func (j *SemiJoin) Columns() []Column { return j.Cols }

// Inputs implements Rel.
func (j *SemiJoin) Inputs() []Rel { return []Rel{j.Left, j.Right} }

// Mode implements Rel: a semi join of append-only inputs appends; an anti
// join retracts the rows that find a match.
func (j *SemiJoin) Mode() Mode {
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
	var conds []string
	for i := range j.LeftKeys {
		conds = append(conds, fmt.Sprintf("=(%s, %s)", l[j.LeftKeys[i]].Name, r[j.RightKeys[i]].Name))
	}
	where := strings.Join(conds, ", ")
	if len(conds) > 1 {
		where = "AND(" + where + ")"
	}
	return "Join", []string{"joinType=[" + kind + "]", "where=[" + where + "]", "select=[" + names(j.Cols) + "]"}
}

// subqueryCond is a WHERE conjunct that becomes a semi or anti join:
// x [NOT] IN (subquery) or [NOT] EXISTS (subquery).
type subqueryCond struct {
	in     *ast.InExpr
	exists *ast.ExistsExpr
	not    bool
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
			if x, ok := n.Operand.(*ast.ExistsExpr); ok && n.Op == ast.OpNot {
				subs = append(subs, subqueryCond{exists: x, not: true})
				return nil
			}
		}
		return e
	}
	return walk(e), subs
}

// semiJoin plans one subquery conjunct over from.
func (b *Binder) semiJoin(from Rel, sc *scope, c subqueryCond) (Rel, error) {
	if c.exists != nil {
		return b.existsJoin(from, sc, c.exists, c.not)
	}
	in := c.in
	x, err := (&exprBinder{sc: sc, fns: b.Funcs}).bind(in.Expr)
	if err != nil {
		return nil, err
	}
	right, err := b.Query(in.Query)
	if err != nil {
		return nil, fmt.Errorf("%w (IN subqueries that refer to the outer query are not supported yet)", err)
	}
	rc := right.Columns()
	if len(rc) != 1 {
		return nil, errAt(in, "the subquery of IN must select one column, not %d", len(rc))
	}
	y := expr.Ref(0, rc[0].Type)
	if in.Not && (x.Type().Nullable || y.Type().Nullable) {
		return nil, errAt(in, "NOT IN (subquery) is supported only when both %s and the subquery's column are NOT NULL (Flink's null-aware anti join is not supported yet)", in.Expr)
	}
	return buildSemi(in, from, right, []expr.Expr{x}, []expr.Expr{y}, in.Not)
}

// existsJoin plans [NOT] EXISTS (SELECT ... FROM t WHERE ...) whose WHERE
// correlates with the outer query by equalities inner = outer (Flink
// decorrelates them into the join keys); its other conjuncts filter t.
func (b *Binder) existsJoin(from Rel, sc *scope, ex *ast.ExistsExpr, not bool) (Rel, error) {
	sel, ok := ex.Query.(*ast.Select)
	if !ok || sel.From == nil || len(sel.GroupBy) > 0 || sel.Having != nil {
		return nil, errAt(ex, "EXISTS is supported over SELECT ... FROM ... WHERE ... only (no GROUP BY, HAVING or set operations yet)")
	}
	if _, ok := sel.From.(*ast.Join); ok {
		return nil, errAt(ex, "EXISTS over a join is not supported yet")
	}
	right, rsc, err := b.bindFrom(sel.From)
	if err != nil {
		return nil, err
	}
	rb, ob := &exprBinder{sc: rsc, fns: b.Funcs}, &exprBinder{sc: sc, fns: b.Funcs}
	var filters, outer, inner []expr.Expr
	var conj func(e ast.Expr) error
	conj = func(e ast.Expr) error {
		if n, ok := e.(*ast.BinaryExpr); ok && n.Op == ast.OpAnd {
			if err := conj(n.Left); err != nil {
				return err
			}
			return conj(n.Right)
		}
		if x, err := rb.bind(e); err == nil {
			filters = append(filters, x)
			return nil
		}
		if n, ok := e.(*ast.BinaryExpr); ok && n.Op == ast.OpEq {
			if i, err := rb.bind(n.Left); err == nil {
				if o, err := ob.bind(n.Right); err == nil {
					inner, outer = append(inner, i), append(outer, o)
					return nil
				}
			}
			if i, err := rb.bind(n.Right); err == nil {
				if o, err := ob.bind(n.Left); err == nil {
					inner, outer = append(inner, i), append(outer, o)
					return nil
				}
			}
		}
		_, err := rb.bind(e)
		return fmt.Errorf("%w (in EXISTS, the outer query may be referred to only by inner = outer conjuncts)", err)
	}
	if sel.Where != nil {
		if err := conj(sel.Where); err != nil {
			return nil, err
		}
	}
	if len(outer) == 0 {
		return nil, errAt(ex, "EXISTS without a correlation (inner = outer in its WHERE) is not supported yet")
	}
	if right, err = filtered(right, filters); err != nil {
		return nil, err
	}
	return buildSemi(ex, from, right, outer, inner, not)
}

// buildSemi joins from (left) and right on left[i] = right[i] (casting
// to common types in computed key columns), keeping from's columns.
func buildSemi(at ast.Node, from, right Rel, lexprs, rexprs []expr.Expr, anti bool) (Rel, error) {
	lw, rw := len(from.Columns()), len(right.Columns())
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
	j := &SemiJoin{Left: left, Right: withExtra(right, rx), Anti: anti, LeftKeys: lkeys, RightKeys: rkeys}
	for _, c := range left.Columns() {
		c.Type.TimeAttr = row.NoTimeAttr
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
