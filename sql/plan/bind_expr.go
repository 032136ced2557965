package plan

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/parser"
)

// aggFuncs are the aggregate functions the planner knows.
var aggFuncs = map[string]bool{
	"COUNT": true, "SUM": true, "SUM0": true, "AVG": true, "MIN": true, "MAX": true,
	"FIRST_VALUE": true, "LAST_VALUE": true, "LISTAGG": true, "ARRAY_AGG": true, "PERCENTILE": true, "COLLECT": true,
	"STDDEV_POP": true, "STDDEV_SAMP": true, "VAR_POP": true, "VAR_SAMP": true,
}

// isAggCall reports whether c is an aggregate function call (not a window
// function with OVER).
func isAggCall(e ast.Expr, fns *Functions) (*ast.Call, bool) {
	if f, ok := e.(*ast.JSONFunc); ok {
		return jsonAggCall(f)
	}
	c, ok := e.(*ast.Call)
	if !ok || c.Over != nil || c.OverName != nil {
		return nil, false
	}
	if len(c.Name.Parts) != 1 {
		return c, fns.isUserAgg(c) // a qualified name: qualified_agg.go
	}
	return c, aggFuncs[strings.ToUpper(c.Name.Parts[0].Name)] || fns.isUserAgg(c)
}

// containsAgg reports whether an aggregate call occurs in e.
func containsAgg(e ast.Node, fns *Functions) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if x, ok := n.(ast.Expr); ok {
			if _, ok := isAggCall(x, fns); ok {
				found = true
			}
		}
		// Do not look into subqueries.
		switch x := n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr:
			return false
		case *ast.InExpr:
			if x.Query != nil {
				// Only the value before IN (subquery).
				found = found || containsAgg(x.Expr, fns)
				return false
			}
		case *ast.QuantifiedExpr:
			found = found || containsAgg(x.Expr, fns)
			return false
		}
		return !found
	})
	return found
}

// exprBinder binds scalar expressions over a scope. With agg set it binds
// the select list of an aggregation: aggregate calls and group keys become
// references to the aggregation's output.
type exprBinder struct {
	sc  *scope
	agg *aggRewrite
	fns *Functions // user-defined functions
	// over maps OVER calls (AST String()) to the OverAggregate's columns
	// (bindOver); nil elsewhere.
	over map[string]expr.Expr
	// hook, if set, binds the expressions it recognises (ok) before the
	// usual rules: MATCH_RECOGNIZE's pattern navigation (match.go).
	hook func(ast.Expr) (x expr.Expr, ok bool, err error)
	// aggType types aggregate calls; set with agg, for the reduced
	// STDDEV/VAR calls (stddev.go).
	aggType AggTypeFunc
}

// aggRewrite maps aggregate calls and group key expressions of the input
// scope to output columns of an aggregation.
type aggRewrite struct {
	in     *exprBinder
	keyCol map[string]int // bound key expression String() → output column
	// aux maps the suffix of a legacy group window's auxiliary function
	// (TUMBLE_START → START, ...) to an output column; nil without one.
	aux     map[string]int
	aggCol  map[string]int // aggregate call AST String() → output column
	outType []row.Type
	// groupingCol is the column of the grouping set id ($e) after
	// GROUPING SETS, ROLLUP or CUBE, else -1 (or 0 in a zero value: set
	// it); nkeys the number of group keys before it.
	groupingCol, nkeys int
	// keyBit, when set, maps a key to its bit index for $e (nkeys-1-i is
	// its bit), or to -1 for a key in every set (a window aggregation's
	// window_start and window_end): GROUPING of it is 0. Nil: keyCol's
	// column is the bit index.
	keyBit map[string]int
}

func (eb *exprBinder) errorf(n ast.Node, format string, args ...any) error {
	return fmt.Errorf("sql: %s: %s", pos(n.Position()), fmt.Sprintf(format, args...))
}

func (eb *exprBinder) bind(e ast.Expr) (expr.Expr, error) {
	if c, ok := overCall(e); ok && eb.over != nil {
		if x, ok := eb.over[c.String()]; ok {
			return x, nil
		}
	}
	if eb.hook != nil {
		if x, ok, err := eb.hook(e); ok || err != nil {
			return x, err
		}
	}
	if eb.agg != nil {
		if c, ok := e.(*ast.Call); ok && eb.agg.aux != nil && len(c.Name.Parts) == 1 {
			fn := strings.ToUpper(c.Name.Parts[0].Name)
			for _, w := range []string{"TUMBLE_", "HOP_", "SESSION_"} {
				if suffix, ok := strings.CutPrefix(fn, w); ok {
					if i, ok := eb.agg.aux[suffix]; ok {
						return expr.Ref(i, eb.agg.outType[i]), nil
					}
				}
			}
		}
		if c, ok := isGroupingCall(e); ok && eb.agg.keyCol != nil {
			return eb.agg.groupingCall(eb, c)
		}
		if c, ok := isAggCall(e, eb.fns); ok {
			if isReducedAgg(c) && !eb.fns.isUserAgg(c) {
				return eb.bindReduced(c)
			}
			i, ok := eb.agg.aggCol[c.String()]
			if !ok {
				return nil, eb.errorf(e, "aggregate %s was not planned", c)
			}
			return expr.Ref(i, eb.agg.outType[i]), nil
		}
		if !containsAgg(e, eb.fns) {
			if bound, err := eb.agg.in.bind(e); err == nil {
				if i, ok := eb.agg.keyCol[bound.String()]; ok {
					return expr.Ref(i, eb.agg.outType[i]), nil
				}
			}
		}
		if ref, ok := e.(*ast.ColumnRef); ok {
			return nil, eb.errorf(e, "Expression '%s' is not being grouped", ref)
		}
	}
	switch n := e.(type) {
	case *ast.Literal:
		return eb.literal(n)
	case *ast.TypedLiteral:
		return eb.typedLiteral(n)
	case *ast.IntervalLiteral:
		q := string(n.Unit)
		if n.To != "" {
			q += " TO " + string(n.To)
		}
		l, err := expr.ParseInterval(n.Value, q)
		if err != nil {
			return nil, eb.errorf(n, "%v", err)
		}
		if n.Negative {
			return eb.call(n, "-", l)
		}
		return l, nil
	case *ast.ColumnRef:
		return eb.sc.resolve(n)
	case *ast.UnaryExpr:
		x, err := eb.bind(n.Operand)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case ast.OpPos:
			return x, nil
		case ast.OpNeg:
			return eb.call(n, "-", x)
		}
		return eb.call(n, "NOT", x)
	case *ast.BinaryExpr:
		l, err := eb.bind(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := eb.bind(n.Right)
		if err != nil {
			return nil, err
		}
		if n.Op == "/" {
			if err := eb.checkConstDivide(n, l, r); err != nil {
				return nil, err
			}
		}
		return eb.call(n, string(n.Op), l, r)
	case *ast.IsExpr:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		name := "IS " + string(n.Test)
		if n.Not {
			name = "IS NOT " + string(n.Test)
		}
		return eb.call(n, name, x)
	case *ast.IsDistinctFrom:
		l, err := eb.bind(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := eb.bind(n.Right)
		if err != nil {
			return nil, err
		}
		name := "IS DISTINCT FROM"
		if n.Not {
			name = "IS NOT DISTINCT FROM"
		}
		return eb.call(n, name, l, r)
	case *ast.BetweenExpr:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := eb.bind(n.Low)
		if err != nil {
			return nil, err
		}
		hi, err := eb.bind(n.High)
		if err != nil {
			return nil, err
		}
		between := func(lo, hi expr.Expr) (expr.Expr, error) {
			a, err := eb.call(n, ">=", x, lo)
			if err != nil {
				return nil, err
			}
			b, err := eb.call(n, "<=", x, hi)
			if err != nil {
				return nil, err
			}
			return eb.call(n, "AND", a, b)
		}
		out, err := between(lo, hi)
		if err != nil {
			return nil, err
		}
		if n.Symmetric {
			rev, err := between(hi, lo)
			if err != nil {
				return nil, err
			}
			if out, err = eb.call(n, "OR", out, rev); err != nil {
				return nil, err
			}
		}
		if n.Not {
			return eb.call(n, "NOT", out)
		}
		return out, nil
	case *ast.InExpr:
		if n.Query != nil {
			return nil, eb.errorf(n, "IN (subquery) is supported in WHERE, HAVING and the select list only")
		}
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		var out expr.Expr
		for _, it := range n.List {
			v, err := eb.bind(it)
			if err != nil {
				return nil, err
			}
			eq, err := eb.call(it, "=", x, v)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = eq
			} else if out, err = eb.call(n, "OR", out, eq); err != nil {
				return nil, err
			}
		}
		if n.Not {
			return eb.call(n, "NOT", out)
		}
		return out, nil
	case *ast.LikeExpr:
		args, err := eb.bindAll(n.Expr, n.Pattern, n.Escape)
		if err != nil {
			return nil, err
		}
		name := "LIKE"
		if n.Similar {
			name = "SIMILAR TO"
		}
		out, err := eb.call(n, name, args...)
		if err != nil || !n.Not {
			return out, err
		}
		return eb.call(n, "NOT", out)
	case *ast.CaseExpr:
		var whens, thens []expr.Expr
		var op expr.Expr
		if n.Operand != nil {
			var err error
			if op, err = eb.bind(n.Operand); err != nil {
				return nil, err
			}
		}
		for _, w := range n.Whens {
			c, err := eb.bind(w.Cond)
			if err != nil {
				return nil, err
			}
			if op != nil {
				if c, err = eb.call(w, "=", op, c); err != nil {
					return nil, err
				}
			}
			t, err := eb.bind(w.Result)
			if err != nil {
				return nil, err
			}
			whens, thens = append(whens, c), append(thens, t)
		}
		var els expr.Expr
		if n.Else != nil {
			var err error
			if els, err = eb.bind(n.Else); err != nil {
				return nil, err
			}
		}
		out, err := expr.NewCase(whens, thens, els)
		if err != nil {
			return nil, eb.errorf(n, "%v", err)
		}
		return out, nil
	case *ast.CastExpr:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		t, err := ResolveType(n.Type)
		if err != nil {
			return nil, err
		}
		var out expr.Expr
		if n.Try {
			out, err = expr.NewTryCast(x, t)
		} else {
			out, err = expr.NewCast(x, t)
		}
		if err != nil {
			return nil, eb.errorf(n, "%v", err)
		}
		return out, nil
	case *ast.Call:
		return eb.bindCall(n)
	case *ast.ExtractExpr:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "EXTRACT", expr.Sym(string(n.Unit)), x)
	case *ast.FloorCeilExpr:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		name := "FLOOR"
		if n.Ceil {
			name = "CEIL"
		}
		return eb.call(n, name, x, expr.Sym(string(n.Unit)))
	case *ast.TimeUnitArg:
		return expr.Sym(string(n.Unit)), nil
	case *ast.DefaultArg:
		// Reached only by arguments of functions without optional
		// parameters (callArgs takes the others).
		return nil, eb.errorf(n, errDefaultNotOptional)
	case *ast.PositionExpr:
		args, err := eb.bindAll(n.Sub, n.In, n.From)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "POSITION", args...)
	case *ast.TrimExpr:
		side := string(n.Side)
		if side == "" {
			side = "BOTH"
		}
		var chars expr.Expr = expr.Lit(row.Str(" "), row.Char(1).NotNull())
		if n.Chars != nil {
			var err error
			if chars, err = eb.bind(n.Chars); err != nil {
				return nil, err
			}
		}
		s, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "TRIM", expr.Sym(side), chars, s)
	case *ast.SubstringExpr:
		args, err := eb.bindAll(n.Expr, n.From, n.Length)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "SUBSTRING", args...)
	case *ast.OverlayExpr:
		args, err := eb.bindAll(n.Expr, n.Placing, n.From, n.Length)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "OVERLAY", args...)
	case *ast.ArrayExpr:
		args, err := eb.bindAll(n.Elems...)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "ARRAY", args...)
	case *ast.MapExpr:
		args, err := eb.bindAll(n.Elems...)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "MAP", args...)
	case *ast.RowExpr:
		args, err := eb.bindAll(n.Fields...)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "ROW", args...)
	case *ast.IndexExpr:
		args, err := eb.bindAll(n.Expr, n.Index)
		if err != nil {
			return nil, err
		}
		return eb.call(n, "ITEM", args...)
	case *ast.FieldAccess:
		x, err := eb.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		out, err := expr.NewFieldAccess(x, n.Field.Name)
		if err != nil {
			return nil, eb.errorf(n, "%v", err)
		}
		return out, nil
	case *ast.JSONFunc:
		return eb.bindJSON(n)
	case *ast.IsJSONExpr:
		return eb.bindIsJSON(n)
	case *ast.SubqueryExpr, *ast.ExistsExpr:
		return nil, eb.errorf(n, "subqueries in expressions are not supported yet")
	case *ast.QuantifiedExpr:
		return nil, eb.errorf(n, "a comparison with SOME, ANY or ALL (subquery) is supported in WHERE, HAVING and the select list only")
	case *ast.Star:
		return nil, eb.errorf(n, "'*' is only allowed in a select list or COUNT(*)")
	}
	return nil, eb.errorf(e, "expression %s is not supported here", e)
}

// bindAll binds expressions, skipping nil ones (absent optional args).
func (eb *exprBinder) bindAll(es ...ast.Expr) ([]expr.Expr, error) {
	var out []expr.Expr
	for _, e := range es {
		if e == nil {
			continue
		}
		x, err := eb.bind(e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func (eb *exprBinder) call(n ast.Node, name string, args ...expr.Expr) (expr.Expr, error) {
	out, err := expr.NewCall(name, args...)
	if err != nil {
		return nil, eb.errorf(n, "%v", err)
	}
	return out, nil
}

func (eb *exprBinder) bindCall(c *ast.Call) (expr.Expr, error) {
	if c.Over != nil || c.OverName != nil {
		return nil, eb.errorf(c, "%s OVER is allowed only in the select list", c.Name)
	}
	if len(c.Name.Parts) != 1 {
		return eb.bindQualifiedCall(c)
	}
	name := c.Name.Parts[0].Name
	if isJSONCall(c) && (eb.fns == nil || eb.fns.resolve(name) == nil) {
		return nil, eb.errorf(c, "The JSON() function is currently only supported inside JSON_ARRAY() or as the VALUE param of JSON_OBJECT()")
	}
	if _, ok := isAggCall(c, eb.fns); ok {
		return nil, eb.errorf(c, "aggregate %s is not allowed here", c)
	}
	if c.Filter != nil || c.Distinct {
		return nil, eb.errorf(c, "DISTINCT and FILTER apply to aggregate functions only, not %s", name)
	}
	if c.NullTreatment != "" {
		return nil, eb.errorf(c, "Cannot specify IGNORE NULLS or RESPECT NULLS following '%s'", strings.ToUpper(name))
	}
	if out, ok, err := eb.bindUserCall(c, name); ok {
		return out, err
	}
	if strings.EqualFold(name, "OVERLAPS") {
		return eb.bindOverlaps(c)
	}
	if (strings.EqualFold(name, "VARIANT_GET") || strings.EqualFold(name, "TRY_VARIANT_GET")) && len(c.Args) == 3 {
		return eb.bindVariantGet(c, name)
	}
	args, err := eb.bindAll(c.Args...)
	if err != nil {
		return nil, err
	}
	return eb.call(c, name, args...)
}

// literal types a literal as Flink does (expr.NumericLiteral and
// friends): 1 is INT NOT NULL, 1.5 DECIMAL(2, 1), 1e3 DOUBLE, 'ab' CHAR(2).
func (eb *exprBinder) literal(l *ast.Literal) (expr.Expr, error) {
	switch l.Kind {
	case ast.IntegerLit, ast.DecimalLit, ast.ApproxLit:
		x, err := expr.NumericLiteral(l.Value)
		if err != nil {
			return nil, eb.errorf(l, "%v", err)
		}
		return x, nil
	case ast.StringLit:
		return expr.StringLiteral(l.Value), nil
	case ast.BinaryLit:
		raw, err := hex.DecodeString(l.Value)
		if err != nil {
			return nil, eb.errorf(l, "bad binary literal X'%s'", l.Value)
		}
		return expr.BinaryLiteral(raw), nil
	case ast.BoolLit:
		return expr.BoolLiteral(l.Value == "TRUE"), nil
	case ast.UnknownLit:
		return expr.Lit(row.Null(), row.Boolean()), nil
	}
	return expr.NullLit(), nil
}

func (eb *exprBinder) typedLiteral(n *ast.TypedLiteral) (expr.Expr, error) {
	var l *expr.Literal
	var err error
	switch n.Type {
	case "DATE":
		l, err = expr.ParseDate(n.Value)
	case "TIME":
		l, err = expr.ParseTime(n.Value)
	case "TIMESTAMP":
		l, err = expr.ParseTimestamp(n.Value)
	case "TIMESTAMP_LTZ":
		if l, err = expr.ParseTimestamp(n.Value); err == nil {
			var c expr.Expr
			if c, err = expr.NewCast(l, row.TimestampLTZType(l.T.Precision).NotNull()); err == nil {
				var f expr.Expr
				if f, err = expr.Fold(c); err == nil {
					return f, nil
				}
			}
		}
	default:
		return nil, eb.errorf(n, "%s literals are not supported", n.Type)
	}
	if err != nil {
		return nil, eb.errorf(n, "%v", err)
	}
	return l, nil
}

// bindVariantGet binds VARIANT_GET(v, path, type) and TRY_VARIANT_GET:
// the type is a string literal (Flink's 'INT', 'DECIMAL(10, 2)'), passed
// on as a NULL literal of that type.
func (eb *exprBinder) bindVariantGet(c *ast.Call, name string) (expr.Expr, error) {
	l, ok := c.Args[2].(*ast.Literal)
	if !ok || l.Kind != ast.StringLit {
		return nil, eb.errorf(c.Args[2], "%s: the type must be a string literal", strings.ToUpper(name))
	}
	d, err := parser.ParseType(l.Value)
	if err != nil {
		return nil, eb.errorf(c.Args[2], "Could not parse type '%s': %v", l.Value, err)
	}
	t, err := ResolveType(d)
	if err != nil {
		return nil, eb.errorf(c.Args[2], "Could not parse type '%s': %v", l.Value, err)
	}
	args, err := eb.bindAll(c.Args[0], c.Args[1])
	if err != nil {
		return nil, err
	}
	return eb.call(c, name, append(args, expr.Lit(row.Null(), t.WithNullable(true)))...)
}
