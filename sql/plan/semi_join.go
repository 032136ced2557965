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

// splitSubqueryConds takes the x [NOT] IN (subquery) conjuncts out of a
// WHERE condition; rest is what remains (nil if nothing).
func splitSubqueryConds(e ast.Expr) (rest ast.Expr, subs []*ast.InExpr) {
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
				subs = append(subs, n)
				return nil
			}
		}
		return e
	}
	return walk(e), subs
}

// semiJoin plans one x [NOT] IN (SELECT y ...) conjunct over from. The
// subquery must not refer to the outer query (correlated subqueries are
// not supported yet).
func (b *Binder) semiJoin(from Rel, sc *scope, in *ast.InExpr) (Rel, error) {
	x, err := (&exprBinder{sc: sc}).bind(in.Expr)
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
	y := expr.Expr(expr.Ref(0, rc[0].Type))
	xt, yt := x.Type(), rc[0].Type
	xt.TimeAttr, yt.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
	if in.Not && (xt.Nullable || yt.Nullable) {
		return nil, errAt(in, "NOT IN (subquery) is supported only when both %s and the subquery's column are NOT NULL (Flink's null-aware anti join is not supported yet)", in.Expr)
	}
	t, ok := expr.LeastRestrictive(xt, yt)
	if !ok {
		return nil, errAt(in, "%s IN (subquery): types %s and %s have no common type", in.Expr, xt, yt)
	}
	t.TimeAttr = row.NoTimeAttr
	lw := len(from.Columns())
	left, lkey := from, -1
	if r, ok := x.(*expr.InputRef); ok && xt.WithNullable(true).Equal(t.WithNullable(true)) {
		lkey = r.Index
	} else {
		if !xt.Equal(t) {
			if x, err = expr.NewCast(x, t); err != nil {
				return nil, errAt(in, "%v", err)
			}
		}
		left, lkey = withExtra(from, []expr.Expr{x}), lw
	}
	if !yt.WithNullable(true).Equal(t.WithNullable(true)) {
		if y, err = expr.NewCast(y, t); err != nil {
			return nil, errAt(in, "%v", err)
		}
		right = withExtra(right, []expr.Expr{y})
	}
	j := &SemiJoin{Left: left, Right: right, Anti: in.Not, LeftKeys: []int{lkey}, RightKeys: []int{len(right.Columns()) - 1}}
	if _, ok := y.(*expr.InputRef); ok {
		j.RightKeys[0] = 0
	}
	for _, c := range left.Columns() {
		c.Type.TimeAttr = row.NoTimeAttr
		j.Cols = append(j.Cols, c)
	}
	if len(j.Cols) == lw {
		return j, nil
	}
	// Drop the computed key column.
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
