package plan

import (
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// IN (subquery) and EXISTS used as values (in the select list, under OR,
// NOT, CASE or a function, in HAVING) rather than as conjuncts of WHERE,
// which are semi and anti joins (semi_join.go). Flink leaves them to
// Calcite's SubQueryRemoveRule, which joins the subquery's aggregates to
// the outer rows (a "mark" join) and computes the predicate's
// three-valued value from them:
//
//	x IN (q): CASE WHEN ct.c = 0 THEN FALSE
//	               WHEN x IS NULL THEN NULL
//	               WHEN dt.i IS NOT NULL THEN TRUE
//	               WHEN ct.ck < ct.c THEN NULL
//	               ELSE FALSE END
//
// over ct = (SELECT COUNT(*) c, COUNT(y) ck FROM q) and dt = (SELECT
// DISTINCT y, TRUE i FROM q) LEFT joined on x = y; EXISTS (q) is
// dt.i IS NOT NULL over dt = (SELECT DISTINCT TRUE i FROM q), LEFT joined
// on q's correlation. Weir plans the same values with its scalar
// subqueries (scalar_subquery.go, scalar_decorrelate.go):
//
//	code = (SELECT CASE WHEN COUNT(*) = 0 THEN 0
//	                    WHEN COUNT(CASE WHEN y IS NOT NULL THEN 1 END) < COUNT(*) THEN 2
//	                    ELSE 1 END FROM q)          -- ct
//	hits = (SELECT COUNT(*) FROM q WHERE y = x)     -- dt, correlated on x
//	x IN (q) = CASE WHEN COALESCE(code, 0) = 0 THEN FALSE
//	                WHEN x IS NULL THEN NULL
//	                WHEN hits > 0 THEN TRUE
//	                WHEN code = 2 THEN NULL
//	                ELSE FALSE END
//	EXISTS (q) = COALESCE((SELECT COUNT(*) FROM q), 0) > 0
//
// With several values, (x1, ..., xn) IN (SELECT y1, ..., yn ...), x IS
// NULL is x1 IS NULL OR ... and a row counts in ck when none of its
// values is NULL, as Calcite's COUNT(y1, ..., yn).
//
// A mark is found in an expression as a wrapper (SELECT <the IN or
// EXISTS>) standing for its value, which joinScalars and joinAggScalars
// join as they join a scalar subquery (joinMark), and scalarHook binds
// the IN or EXISTS to its column.

// markWrap returns the wrapper of an IN (subquery) or EXISTS.
func markWrap(e ast.Expr) *ast.SubqueryExpr {
	pos := ast.Pos{}
	if p, ok := e.(interface{ Position() ast.Pos }); ok {
		pos = p.Position()
	}
	return &ast.SubqueryExpr{Pos: pos, Query: &ast.Select{Pos: pos, Items: []*ast.SelectItem{{Pos: pos, Expr: e}}}}
}

// markOf returns the IN (subquery) or EXISTS a wrapper stands for (nil:
// s is a scalar subquery). (SELECT x IN (q)) without FROM is x IN (q)
// itself, so a subquery the user wrote so is one too.
func markOf(s *ast.SubqueryExpr) ast.Expr {
	sel, ok := s.Query.(*ast.Select)
	if !ok || sel.From != nil || sel.Where != nil || len(sel.GroupBy) > 0 || sel.Having != nil || len(sel.Items) != 1 {
		return nil
	}
	switch x := sel.Items[0].Expr.(type) {
	case *ast.ExistsExpr, *ast.QuantifiedExpr:
		return x
	case *ast.InExpr:
		if x.Query != nil {
			return x
		}
	}
	return nil
}

// markSubqueries returns the wrappers of the IN (subquery) and EXISTS
// predicates used as values in e (not those inside other subqueries).
func markSubqueries(e ast.Node, out []*ast.SubqueryExpr) []*ast.SubqueryExpr {
	if e == nil {
		return out
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SubqueryExpr:
			return false
		case *ast.ExistsExpr, *ast.QuantifiedExpr:
			out = append(out, markWrap(x.(ast.Expr)))
			return false
		case *ast.InExpr:
			if x.Query != nil {
				out = append(out, markWrap(x))
				return false
			}
		}
		return true
	})
	return out
}

// markValues returns the values before IN: the fields of a row
// constructor (x1, ..., xn), or x.
func markValues(in *ast.InExpr) []ast.Expr {
	if r, ok := in.Expr.(*ast.RowExpr); ok && len(r.Fields) > 1 {
		return r.Fields
	}
	return []ast.Expr{in.Expr}
}

func ident(pos ast.Pos, name string) *ast.Ident { return &ast.Ident{Pos: pos, Name: name} }

func colRef(pos ast.Pos, parts ...string) *ast.ColumnRef {
	c := &ast.ColumnRef{Pos: pos}
	for _, p := range parts {
		c.Parts = append(c.Parts, ident(pos, p))
	}
	return c
}

func callAST(pos ast.Pos, name string, args ...ast.Expr) *ast.Call {
	return &ast.Call{Pos: pos, Name: &ast.Name{Pos: pos, Parts: []*ast.Ident{ident(pos, name)}}, Args: args}
}

func intLit(pos ast.Pos, v int) *ast.Literal {
	return &ast.Literal{Pos: pos, Kind: ast.IntegerLit, Value: strconv.Itoa(v)}
}

func countStar(pos ast.Pos) *ast.Call { return callAST(pos, "COUNT", &ast.Star{Pos: pos}) }

// nullCode is the ct aggregate as one value: 0 when ys has no row, 2 when
// a row has a NULL among ys, else 1.
func nullCode(pos ast.Pos, ys []ast.Expr) ast.Expr {
	var allSet ast.Expr
	for _, y := range ys {
		allSet = andAST(allSet, &ast.IsExpr{Pos: pos, Expr: y, Not: true, Test: ast.IsNull})
	}
	ck := callAST(pos, "COUNT", &ast.CaseExpr{Pos: pos, Whens: []*ast.When{{Pos: pos, Cond: allSet, Result: intLit(pos, 1)}}})
	return &ast.CaseExpr{Pos: pos, Whens: []*ast.When{
		{Pos: pos, Cond: &ast.BinaryExpr{Pos: pos, Op: ast.OpEq, Left: countStar(pos), Right: intLit(pos, 0)}, Result: intLit(pos, 0)},
		{Pos: pos, Cond: &ast.BinaryExpr{Pos: pos, Op: ast.OpLt, Left: ck, Right: countStar(pos)}, Result: intLit(pos, 2)},
	}, Else: intLit(pos, 1)}
}

// joinMark joins the subqueries the value of the IN or EXISTS m (of its
// wrapper w) needs to from (derived from base as in joinScalarsOver; over scope sc, in which m's values are bound
// with hook) and appends that value, as column $scalar<n>.
func (b *Binder) joinMark(w *ast.SubqueryExpr, m ast.Expr, from, base Rel, sc *scope, hook func(ast.Expr) (expr.Expr, bool, error), n int) (Rel, error) {
	lw := len(from.Columns())
	var helpers []*ast.SubqueryExpr
	// An uncorrelated IN over nullable values: Calcite joins ct by an
	// INNER join, so that in a streaming query a row waits for the
	// subquery's first row (its aggregate without GROUP BY emits none
	// before), and goes when the subquery's last row goes.
	var nullable, uncorrelated bool
	var compose func(refs map[*ast.SubqueryExpr]expr.Expr, eb *exprBinder) (expr.Expr, error)
	switch x := m.(type) {
	case *ast.ExistsExpr:
		var q ast.QueryExpr
		if _, err := b.Query(x.Query); err == nil {
			q = &ast.Select{Pos: x.Pos, Items: []*ast.SelectItem{{Pos: x.Pos, Expr: countStar(x.Pos)}},
				From: &ast.DerivedTable{Pos: x.Pos, Query: x.Query, Alias: &ast.Alias{Pos: x.Pos, Name: ident(x.Pos, "$ex")}}}
		} else {
			sel, ok := existsBody(x.Query).(*ast.Select) // LIMIT n dropped (exists_limit.go)
			if !ok || sel.From == nil || len(sel.GroupBy) > 0 || sel.Having != nil || selectsAgg(sel, b.Funcs) {
				return nil, errAt(x, "a correlated EXISTS subquery over GROUP BY, HAVING, an aggregate, a set operation, ORDER BY, LIMIT or VALUES is supported only as a conjunct of WHERE (%v)", err)
			}
			q = &ast.Select{Pos: x.Pos, Items: []*ast.SelectItem{{Pos: x.Pos, Expr: countStar(x.Pos)}}, From: sel.From, Where: sel.Where}
		}
		cnt := &ast.SubqueryExpr{Pos: x.Pos, Query: q}
		helpers = []*ast.SubqueryExpr{cnt}
		compose = func(refs map[*ast.SubqueryExpr]expr.Expr, _ *exprBinder) (expr.Expr, error) {
			c, err := expr.NewCall("COALESCE", refs[cnt], expr.Lit(row.Int(0), row.IntType().NotNull()))
			if err != nil {
				return nil, err
			}
			return expr.NewCall(">", c, expr.Lit(row.Int(0), row.IntType().NotNull()))
		}
	case *ast.InExpr:
		xs := markValues(x)
		pos := x.Pos
		from, where, ys, unc, yNull, err := b.markSource(x, x.Query, xs)
		if err != nil {
			return nil, err
		}
		uncorrelated, nullable = unc, yNull
		code := &ast.SubqueryExpr{Pos: pos, Query: &ast.Select{Pos: pos, From: from, Where: where,
			Items: []*ast.SelectItem{{Pos: pos, Expr: nullCode(pos, ys)}}}}
		hitWhere := where
		for i, y := range ys {
			hitWhere = andAST(hitWhere, &ast.BinaryExpr{Pos: pos, Op: ast.OpEq, Left: y, Right: xs[i]})
		}
		hits := &ast.SubqueryExpr{Pos: pos, Query: &ast.Select{Pos: pos, From: from, Where: hitWhere,
			Items: []*ast.SelectItem{{Pos: pos, Expr: countStar(pos)}}}}
		helpers = []*ast.SubqueryExpr{code, hits}
		compose = func(refs map[*ast.SubqueryExpr]expr.Expr, eb *exprBinder) (expr.Expr, error) {
			zero := expr.Lit(row.Int(0), row.IntType().NotNull())
			c, err := expr.NewCall("COALESCE", refs[code], zero)
			if err != nil {
				return nil, err
			}
			empty, err := expr.NewCall("=", c, zero)
			if err != nil {
				return nil, err
			}
			var xNull expr.Expr
			for _, v := range xs {
				xv, err := eb.bind(v)
				if err != nil {
					return nil, err
				}
				nullable = nullable || xv.Type().Nullable
				isNull, err := expr.NewCall("IS NULL", xv)
				if err != nil {
					return nil, err
				}
				if xNull == nil {
					xNull = isNull
				} else if xNull, err = expr.NewCall("OR", xNull, isNull); err != nil {
					return nil, err
				}
			}
			hit, err := expr.NewCall(">", refs[hits], zero)
			if err != nil {
				return nil, err
			}
			withNull, err := expr.NewCall("=", c, expr.Lit(row.Int(2), row.IntType().NotNull()))
			if err != nil {
				return nil, err
			}
			null := expr.Lit(row.Null(), row.Boolean())
			v, err := expr.NewCase([]expr.Expr{empty, xNull, hit, withNull},
				[]expr.Expr{expr.BoolLiteral(false), null, expr.BoolLiteral(true), null}, expr.BoolLiteral(false))
			if err != nil {
				return nil, err
			}
			if x.Not {
				return expr.NewCall("NOT", v)
			}
			return v, nil
		}
	case *ast.QuantifiedExpr:
		pos := x.Pos
		from, where, ys, unc, _, err := b.markSource(x, x.Query, []ast.Expr{x.Expr})
		if err != nil {
			return nil, err
		}
		// Calcite joins an uncorrelated subquery's aggregates by an INNER
		// join whatever the nullability.
		uncorrelated, nullable = unc, true
		op, all := x.Op, strings.EqualFold(x.Quant, "ALL")
		if all {
			// x op ALL q is NOT (x op' SOME q), op' the complement.
			op = map[ast.BinaryOp]ast.BinaryOp{ast.OpLt: ast.OpGe, ast.OpLe: ast.OpGt,
				ast.OpGt: ast.OpLe, ast.OpGe: ast.OpLt, ast.OpEq: ast.OpNe, ast.OpNe: ast.OpEq}[op]
		}
		agg := func(fn string) *ast.SubqueryExpr {
			return &ast.SubqueryExpr{Pos: pos, Query: &ast.Select{Pos: pos, From: from, Where: where,
				Items: []*ast.SelectItem{{Pos: pos, Expr: callAST(pos, fn, ys[0])}}}}
		}
		code := &ast.SubqueryExpr{Pos: pos, Query: &ast.Select{Pos: pos, From: from, Where: where,
			Items: []*ast.SelectItem{{Pos: pos, Expr: nullCode(pos, ys)}}}}
		var mn, mx *ast.SubqueryExpr
		switch op {
		case ast.OpLt, ast.OpLe:
			mx = agg("MAX")
			helpers = []*ast.SubqueryExpr{code, mx}
		case ast.OpGt, ast.OpGe:
			mn = agg("MIN")
			helpers = []*ast.SubqueryExpr{code, mn}
		case ast.OpNe:
			mn, mx = agg("MIN"), agg("MAX")
			helpers = []*ast.SubqueryExpr{code, mn, mx}
		default:
			return nil, errAt(x, "x = SOME (subquery) is x IN (subquery)")
		}
		compose = func(refs map[*ast.SubqueryExpr]expr.Expr, eb *exprBinder) (expr.Expr, error) {
			xv, err := eb.bind(x.Expr)
			if err != nil {
				return nil, err
			}
			zero := expr.Lit(row.Int(0), row.IntType().NotNull())
			c, err := expr.NewCall("COALESCE", refs[code], zero)
			if err != nil {
				return nil, err
			}
			empty, err := expr.NewCall("=", c, zero)
			if err != nil {
				return nil, err
			}
			withNull, err := expr.NewCall("=", c, expr.Lit(row.Int(2), row.IntType().NotNull()))
			if err != nil {
				return nil, err
			}
			null := expr.Lit(row.Null(), row.Boolean())
			var v expr.Expr
			if op == ast.OpNe {
				// TRUE when a value differs from x: the smallest or the
				// largest does.
				xNull, err := expr.NewCall("IS NULL", xv)
				if err != nil {
					return nil, err
				}
				ne1, err := expr.NewCall("<>", xv, refs[mn])
				if err != nil {
					return nil, err
				}
				ne2, err := expr.NewCall("<>", xv, refs[mx])
				if err != nil {
					return nil, err
				}
				ne, err := expr.NewCall("OR", ne1, ne2)
				if err != nil {
					return nil, err
				}
				if ne, err = expr.NewCall("IS TRUE", ne); err != nil {
					return nil, err
				}
				if v, err = expr.NewCase([]expr.Expr{empty, xNull, ne, withNull},
					[]expr.Expr{expr.BoolLiteral(false), null, expr.BoolLiteral(true), null}, expr.BoolLiteral(false)); err != nil {
					return nil, err
				}
			} else {
				m := refs[mx]
				if mn != nil {
					m = refs[mn]
				}
				cmp, err := expr.NewCall(string(op), xv, m)
				if err != nil {
					return nil, err
				}
				isTrue, err := expr.NewCall("IS TRUE", cmp)
				if err != nil {
					return nil, err
				}
				if v, err = expr.NewCase([]expr.Expr{empty, isTrue, withNull},
					[]expr.Expr{expr.BoolLiteral(false), expr.BoolLiteral(true), null}, cmp); err != nil {
					return nil, err
				}
			}
			if all {
				return expr.NewCall("NOT", v)
			}
			return v, nil
		}
	default:
		return nil, errAt(w, "not an IN or EXISTS subquery")
	}
	joined, jsc, refs, err := b.joinScalarsOver(from, base, sc, helpers)
	if err != nil {
		return nil, err
	}
	eb := &exprBinder{sc: jsc, fns: b.Funcs, hook: hook}
	v, err := compose(refs, eb)
	if err != nil {
		if strings.HasPrefix(err.Error(), "sql: line") {
			return nil, err // it names its place
		}
		return nil, errAt(m, "%v", err)
	}
	if uncorrelated && nullable {
		c := refs[helpers[0]]
		notNull, err := expr.NewCall("IS NOT NULL", c)
		if err != nil {
			return nil, errAt(m, "%v", err)
		}
		if joined, err = filtered(joined, []expr.Expr{notNull}); err != nil {
			return nil, errAt(m, "%v", err)
		}
	}
	// The helper values stay (after from's columns); the mark follows.
	jc := joined.Columns()
	projs := make([]expr.Expr, 0, len(jc)+1)
	cols := make([]Column, 0, len(jc)+1)
	for i, c := range jc {
		if i >= lw {
			c.Name = "$m" + strconv.Itoa(n) + "_" + strconv.Itoa(i-lw)
		}
		projs = append(projs, expr.Ref(i, c.Type))
		cols = append(cols, c)
	}
	projs = append(projs, v)
	cols = append(cols, Column{Name: "$scalar" + strconv.Itoa(n), Type: v.Type()})
	return &Calc{In: joined, Projects: projs, Cols: cols}, nil
}

// markSource returns the rows of the subquery q of an IN or quantified
// comparison at, whose values before the operator are xs, as a FROM and
// WHERE over which ys are the subquery's values: q itself as the derived
// table $in($y0, ...) when it is not correlated (nullable: a value can be
// NULL), or the FROM and WHERE of a correlated SELECT y1, ..., yn FROM
// ... WHERE ..., whose FROM must not hide the outer columns xs name.
func (b *Binder) markSource(at ast.Expr, q ast.QueryExpr, xs []ast.Expr) (from ast.TableRef, where ast.Expr, ys []ast.Expr, uncorrelated, nullable bool, err error) {
	pos := at.(interface{ Position() ast.Pos }).Position()
	count := func(n int) error {
		if len(xs) == 1 {
			return errAt(at, "the subquery of IN must select one column, not %d", n)
		}
		return errAt(at, "the subquery of IN must select %d columns, as many as the values before IN, not %d", len(xs), n)
	}
	if sub, qerr := b.Query(q); qerr == nil {
		cols := sub.Columns()
		if len(cols) != len(xs) {
			return nil, nil, nil, false, false, count(len(cols))
		}
		alias := &ast.Alias{Pos: pos, Name: ident(pos, "$in")}
		for i, c := range cols {
			nullable = nullable || c.Type.Nullable
			name := "$y" + strconv.Itoa(i)
			alias.Columns = append(alias.Columns, ident(pos, name))
			ys = append(ys, colRef(pos, "$in", name))
		}
		return &ast.DerivedTable{Pos: pos, Query: q, Alias: alias}, nil, ys, true, nullable, nil
	} else {
		err = qerr
	}
	sel, ok := q.(*ast.Select)
	if !ok || sel.From == nil || len(sel.GroupBy) > 0 || sel.Having != nil || selectsAgg(sel, b.Funcs) {
		if _, ok := at.(*ast.QuantifiedExpr); ok {
			return nil, nil, nil, false, false, errAt(at, "a correlated SOME, ANY or ALL subquery over GROUP BY, HAVING, an aggregate, a set operation, ORDER BY, LIMIT or VALUES is not supported (%v)", err)
		}
		return nil, nil, nil, false, false, errAt(at, "a correlated IN subquery over GROUP BY, HAVING, an aggregate, a set operation, ORDER BY, LIMIT or VALUES is supported only as a conjunct of WHERE (%v)", err)
	}
	if len(sel.Items) != len(xs) {
		return nil, nil, nil, false, false, count(len(sel.Items))
	}
	_, _, rsc, ferr := b.subqueryFrom(sel.From)
	if ferr != nil {
		return nil, nil, nil, false, false, ferr
	}
	for _, v := range xs {
		var hidden *ast.ColumnRef
		ast.Inspect(v, func(n ast.Node) bool {
			if c, ok := n.(*ast.ColumnRef); ok && hidden == nil {
				if _, err := (&exprBinder{sc: rsc, fns: b.Funcs}).bind(c); err == nil {
					hidden = c
				}
			}
			_, sub := n.(*ast.SubqueryExpr)
			return !sub
		})
		if hidden != nil {
			return nil, nil, nil, false, false, errAt(hidden, "%s names a column of the correlated subquery's FROM too: qualify it with the outer table's name", ast.Format(hidden))
		}
	}
	for _, it := range sel.Items {
		if _, star := it.Expr.(*ast.Star); star {
			return nil, nil, nil, false, false, errAt(at, "the subquery of IN must list its columns, not *")
		}
		ys = append(ys, it.Expr)
	}
	return sel.From, sel.Where, ys, false, false, nil
}
