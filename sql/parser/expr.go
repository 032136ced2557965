package parser

import (
	"sort"
	"strings"

	"github.com/weirstream/weir/sql/ast"
)

func (p *parser) expr() ast.Expr { return p.exprPrec(ast.PrecLowest) }

func (p *parser) exprList() []ast.Expr {
	es := []ast.Expr{p.expr()}
	for p.acceptOp(",") {
		es = append(es, p.expr())
	}
	return es
}

var binaryOps = map[string]ast.BinaryOp{
	"=": ast.OpEq, "<>": ast.OpNe, "!=": ast.OpNe, "<": ast.OpLt, "<=": ast.OpLe, ">": ast.OpGt,
	">=": ast.OpGe, "+": ast.OpAdd, "-": ast.OpSub, "*": ast.OpMul, "/": ast.OpDiv,
	"%": ast.OpMod, "||": ast.OpConcat,
}

// exprPrec parses an expression whose infix operators all bind tighter than min.
func (p *parser) exprPrec(min int) ast.Expr {
	p.enter()
	defer p.leave()
	left := p.prefix()
	for {
		t := p.peek()
		pos := left.Position()
		var op ast.BinaryOp
		switch {
		case t.kind == tOp:
			o, ok := binaryOps[t.text]
			if !ok {
				return left
			}
			op = o
		case isKw(t, "OR"):
			op = ast.OpOr
		case isKw(t, "AND"):
			op = ast.OpAnd
		case isKw(t, "IS"):
			distinct := p.isKwAt(1, "DISTINCT") || p.isKwAt(1, "NOT") && p.isKwAt(2, "DISTINCT")
			if distinct && ast.PrecCmp <= min || !distinct && ast.PrecIs <= min {
				return left
			}
			p.i++
			not := p.acceptKw("NOT")
			if p.acceptKw("JSON") {
				j := &ast.IsJSONExpr{Pos: pos, Expr: left, Not: not}
				if p.isKw("VALUE", "SCALAR", "ARRAY", "OBJECT") {
					j.Kind = p.next().upper
				}
				left = j
				continue
			}
			if distinct {
				p.expectKw("DISTINCT", "FROM")
				left = &ast.IsDistinctFrom{Pos: pos, Left: left, Not: not,
					Right: p.exprPrec(ast.PrecCmp)}
				continue
			}
			is := &ast.IsExpr{Pos: pos, Expr: left, Not: not}
			switch {
			case p.acceptKw("NULL"):
				is.Test = ast.IsNull
			case p.acceptKw("TRUE"):
				is.Test = ast.IsTrue
			case p.acceptKw("FALSE"):
				is.Test = ast.IsFalse
			case p.acceptKw("UNKNOWN"):
				is.Test = ast.IsUnknown
			default:
				p.expected("NULL, TRUE, FALSE, UNKNOWN, JSON or DISTINCT FROM")
			}
			left = is
			continue
		case isKw(t, "NOT") && (p.isKwAt(1, "BETWEEN") || p.isKwAt(1, "IN") ||
			p.isKwAt(1, "LIKE") || p.isKwAt(1, "SIMILAR")),
			isKw(t, "BETWEEN"), isKw(t, "IN"), isKw(t, "LIKE"), isKw(t, "SIMILAR"):
			if ast.PrecLike <= min {
				return left
			}
			left = p.predicate(left)
			continue
		default:
			return left
		}
		prec := op.Precedence()
		if prec <= min {
			return left
		}
		p.i++
		if q := p.quantified(pos, left, op); q != nil {
			left = q
			continue
		}
		left = &ast.BinaryExpr{Pos: pos, Op: op, Left: left, Right: p.exprPrec(prec)}
	}
}

// quantified parses the rest of x op SOME|ANY|ALL (subquery) after op, a
// comparison (nil: no quantifier follows). x = SOME/ANY (subquery) is x
// IN (subquery), x <> ALL (subquery) x NOT IN (subquery), as Calcite's
// SqlToRelConverter reads them.
func (p *parser) quantified(pos ast.Pos, left ast.Expr, op ast.BinaryOp) ast.Expr {
	switch op {
	case ast.OpEq, ast.OpNe, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe:
	default:
		return nil
	}
	if !p.isKw("SOME", "ANY", "ALL") || !p.isOpAt(1, "(") ||
		!(p.isKwAt(2, "SELECT") || p.isKwAt(2, "WITH") || p.isKwAt(2, "VALUES")) {
		return nil
	}
	quant := strings.ToUpper(p.peek().text)
	p.i += 2
	q := p.query()
	p.expectOp(")")
	switch {
	case op == ast.OpEq && quant != "ALL":
		return &ast.InExpr{Pos: pos, Expr: left, Query: q}
	case op == ast.OpNe && quant == "ALL":
		return &ast.InExpr{Pos: pos, Expr: left, Not: true, Query: q}
	}
	return &ast.QuantifiedExpr{Pos: pos, Expr: left, Op: op, Quant: quant, Query: q}
}

// predicate parses the [NOT] BETWEEN/IN/LIKE/SIMILAR TO suffix of left.
func (p *parser) predicate(left ast.Expr) ast.Expr {
	pos := left.Position()
	not := p.acceptKw("NOT")
	switch {
	case p.acceptKw("BETWEEN"):
		b := &ast.BetweenExpr{Pos: pos, Expr: left, Not: not}
		if !p.acceptKw("ASYMMETRIC") {
			b.Symmetric = p.acceptKw("SYMMETRIC")
		}
		b.Low = p.exprPrec(ast.PrecLike)
		p.expectKw("AND")
		b.High = p.exprPrec(ast.PrecLike)
		return b
	case p.acceptKw("IN"):
		in := &ast.InExpr{Pos: pos, Expr: left, Not: not}
		p.expectOp("(")
		if p.startsQueryAt(0) {
			in.Query = p.query()
		} else {
			in.List = p.exprList()
		}
		p.expectOp(")")
		return in
	}
	l := &ast.LikeExpr{Pos: pos, Expr: left, Not: not}
	if p.acceptKw("SIMILAR") {
		p.expectKw("TO")
		l.Similar = true
	} else {
		p.expectKw("LIKE")
	}
	l.Pattern = p.exprPrec(ast.PrecLike)
	if p.acceptKw("ESCAPE") {
		l.Escape = p.exprPrec(ast.PrecLike)
	}
	return l
}

func (p *parser) prefix() ast.Expr {
	pos := p.pos()
	switch {
	case p.acceptKw("NOT"):
		return &ast.UnaryExpr{Pos: pos, Op: ast.OpNot, Operand: p.exprPrec(ast.PrecNot)}
	case p.acceptOp("-"):
		return &ast.UnaryExpr{Pos: pos, Op: ast.OpNeg, Operand: p.exprPrec(ast.PrecUnary)}
	case p.acceptOp("+"):
		return &ast.UnaryExpr{Pos: pos, Op: ast.OpPos, Operand: p.exprPrec(ast.PrecUnary)}
	}
	return p.postfix(p.primary())
}

// postfix parses element access [i] and field access .f after a primary.
func (p *parser) postfix(e ast.Expr) ast.Expr {
	for {
		switch {
		case p.isOp("["):
			p.i++
			e = &ast.IndexExpr{Pos: e.Position(), Expr: e, Index: p.expr()}
			p.expectOp("]")
		case p.isOp(".") && (p.isIdentAt(1)):
			if c, ok := e.(*ast.Call); ok && c.NoParens {
				return e
			}
			p.i++
			e = &ast.FieldAccess{Pos: e.Position(), Expr: e, Field: p.ident()}
		default:
			return e
		}
	}
}

// niladic are the functions called without parentheses.
var niladic = map[string]bool{"CURRENT_TIMESTAMP": true, "CURRENT_DATE": true,
	"CURRENT_TIME": true, "LOCALTIME": true, "LOCALTIMESTAMP": true}

func (p *parser) primary() ast.Expr {
	t := p.peek()
	pos := t.pos
	switch t.kind {
	case tInt, tDecimal, tApprox:
		p.i++
		kind := map[tokKind]ast.LiteralKind{tInt: ast.IntegerLit, tDecimal: ast.DecimalLit,
			tApprox: ast.ApproxLit}[t.kind]
		return &ast.Literal{Pos: pos, Kind: kind, Value: t.text}
	case tString:
		p.i++
		return &ast.Literal{Pos: pos, Kind: ast.StringLit, Value: t.text}
	case tBinary:
		p.i++
		return &ast.Literal{Pos: pos, Kind: ast.BinaryLit, Value: t.text}
	case tQIdent:
		return p.nameExpr()
	case tOp:
		if t.text == "(" {
			return p.paren()
		}
		p.expected("expression")
	case tEOF:
		p.expected("expression")
	}
	// An unquoted word.
	next := p.peekAt(1)
	call := next.kind == tOp && next.text == "("
	switch u := t.upper; {
	case u == "TRUE" || u == "FALSE":
		p.i++
		return &ast.Literal{Pos: pos, Kind: ast.BoolLit, Value: u}
	case u == "NULL":
		p.i++
		return &ast.Literal{Pos: pos, Kind: ast.NullLit}
	case u == "UNKNOWN":
		p.i++
		return &ast.Literal{Pos: pos, Kind: ast.UnknownLit}
	case (u == "DATE" || u == "TIME" || u == "TIMESTAMP") && next.kind == tString:
		p.i += 2
		return &ast.TypedLiteral{Pos: pos, Type: u, Value: next.text}
	case u == "INTERVAL":
		return p.interval()
	case u == "CASE":
		return p.caseExpr()
	case niladic[u]:
		p.i++
		return &ast.Call{Pos: pos, NoParens: true,
			Name: &ast.Name{Pos: pos, Parts: []*ast.Ident{{Pos: pos, Name: t.text}}}}
	case u == "EXISTS" && call:
		p.i += 2
		e := &ast.ExistsExpr{Pos: pos, Query: p.query()}
		p.expectOp(")")
		return e
	case u == "ARRAY" && next.kind == tOp && next.text == "[":
		p.i += 2
		a := &ast.ArrayExpr{Pos: pos}
		if !p.isOp("]") {
			a.Elems = p.exprList()
		}
		p.expectOp("]")
		return a
	case u == "MAP" && next.kind == tOp && next.text == "[":
		p.i += 2
		m := &ast.MapExpr{Pos: pos}
		if !p.isOp("]") {
			m.Elems = p.exprList()
		}
		if len(m.Elems)%2 != 0 {
			p.fail("MAP constructor needs an even number of arguments (key, value, ...)")
		}
		p.expectOp("]")
		return m
	case u == "ROW" && call:
		p.i += 2
		r := &ast.RowExpr{Pos: pos, Explicit: true}
		if !p.isOp(")") {
			r.Fields = p.exprList()
		}
		p.expectOp(")")
		return r
	case call && specialFuncs[u] != nil:
		p.i += 2
		e := specialFuncs[u](p, pos, t)
		p.expectOp(")")
		if (u == "JSON_OBJECTAGG" || u == "JSON_ARRAYAGG") && p.isKw("OVER") {
			// Flink's JSON aggregates have no OVER implementation.
			p.fail("%s is not supported in OVER windows", u)
		}
		return e
	case call && ast.IsReservedFunc(u):
		p.i++
		return p.call(&ast.Name{Pos: pos, Parts: []*ast.Ident{{Pos: pos, Name: t.text}}}, false)
	case ast.IsReserved(u):
		p.expected("expression")
	}
	return p.nameExpr()
}

// nameExpr parses a column reference, t.* or a function call.
func (p *parser) nameExpr() ast.Expr {
	pos := p.pos()
	unquoted := p.peek().kind == tIdent
	parts := []*ast.Ident{p.ident()}
	for p.isOp(".") {
		switch {
		case p.isIdentAt(1):
			p.i++
			parts = append(parts, p.ident())
			continue
		case p.isOpAt(1, "*"):
			p.i += 2
			return &ast.Star{Pos: pos, Qualifier: parts}
		}
		break
	}
	if p.isOp("(") {
		return p.call(&ast.Name{Pos: pos, Parts: parts}, unquoted && len(parts) == 1)
	}
	return &ast.ColumnRef{Pos: pos, Parts: parts}
}

// call parses (args) [FILTER (WHERE ..)] [OVER ..] after a function name. keyword reports an
// unquoted single-part name, for which TIMESTAMPADD and TIMESTAMPDIFF take a unit first.
func (p *parser) call(name *ast.Name, keyword bool) *ast.Call {
	c := &ast.Call{Pos: name.Pos, Name: name}
	p.expectOp("(")
	u := strings.ToUpper(name.Last().Name)
	switch {
	case p.isOp(")"):
	case keyword && (u == "TIMESTAMPADD" || u == "TIMESTAMPDIFF"):
		c.Args = []ast.Expr{&ast.TimeUnitArg{Pos: p.pos(), Unit: p.timeUnit()}}
		for p.acceptOp(",") {
			c.Args = append(c.Args, p.expr())
		}
	default:
		if p.acceptKw("DISTINCT") {
			c.Distinct = true
		} else {
			c.All = p.acceptKw("ALL")
		}
		if p.isOp("*") && p.isOpAt(1, ")") {
			c.Args = []ast.Expr{&ast.Star{Pos: p.pos()}}
			p.i++
			break
		}
		for {
			c.Args = append(c.Args, p.arg())
			if !p.acceptOp(",") {
				break
			}
		}
		switch {
		case p.acceptKws("RESPECT", "NULLS"):
			c.NullTreatment = "RESPECT NULLS"
		case p.acceptKws("IGNORE", "NULLS"):
			c.NullTreatment = "IGNORE NULLS"
		}
	}
	p.expectOp(")")
	if p.isKw("FILTER") {
		p.i++
		p.expectOp("(")
		p.expectKw("WHERE")
		c.Filter = p.expr()
		p.expectOp(")")
	}
	if p.acceptKw("OVER") {
		if p.isOp("(") {
			c.Over = p.windowSpec()
		} else {
			c.OverName = p.ident()
		}
	}
	return c
}

// arg parses a function argument: [name =>] (TABLE t [PARTITION BY ..] | DESCRIPTOR(..) |
// DEFAULT | expr).
func (p *parser) arg() ast.Expr {
	pos := p.pos()
	if (p.peek().kind == tIdent || p.peek().kind == tQIdent) && p.isOpAt(1, "=>") {
		t := p.next()
		n := &ast.NamedArg{Pos: pos, Name: &ast.Ident{Pos: t.pos, Name: t.text}}
		p.i++
		n.Value = p.argValue()
		return n
	}
	return p.argValue()
}

func (p *parser) argValue() ast.Expr {
	pos := p.pos()
	switch {
	case p.isKw("TABLE") && !p.isOpAt(1, "("):
		p.i++
		t := &ast.TableArg{Pos: pos, Name: p.name()}
		if p.acceptKwBy("PARTITION") {
			if p.acceptOp("(") {
				t.PartitionBy = p.exprList()
				p.expectOp(")")
			} else {
				t.PartitionBy = []ast.Expr{p.expr()}
			}
		}
		return t
	case p.isKw("DESCRIPTOR") && p.isOpAt(1, "("):
		p.i++
		return &ast.Descriptor{Pos: pos, Columns: p.parenIdents()}
	case p.isKw("DEFAULT") && (p.isOpAt(1, ",") || p.isOpAt(1, ")")):
		// DEFAULT is an argument only as a whole (Calcite's Arg): f(b => DEFAULT).
		p.i++
		return &ast.DefaultArg{Pos: pos}
	}
	return p.expr()
}

// paren parses ( query ), ( expr ) or the implicit row ( expr, expr, .. ).
func (p *parser) paren() ast.Expr {
	pos := p.pos()
	p.expectOp("(")
	if p.isKw("SELECT") || p.isKw("WITH") || p.isKw("VALUES") {
		q := &ast.SubqueryExpr{Pos: pos, Query: p.query()}
		p.expectOp(")")
		return q
	}
	es := p.exprList()
	p.expectOp(")")
	if len(es) == 2 && p.isKw("OVERLAPS") {
		return p.overlaps(pos, es)
	}
	if len(es) == 1 {
		return es[0]
	}
	return &ast.RowExpr{Pos: pos, Fields: es}
}

// overlaps parses the rest of (s1, e1) OVERLAPS (s2, e2) into the call
// OVERLAPS(s1, e1, s2, e2) (the binder resolves it; e1 and e2 may be
// intervals).
func (p *parser) overlaps(pos ast.Pos, left []ast.Expr) ast.Expr {
	name := p.next()
	p.expectOp("(")
	right := p.exprList()
	p.expectOp(")")
	if len(right) != 2 {
		p.expected("a period (start, end) after OVERLAPS")
	}
	return &ast.Call{Pos: pos, Name: &ast.Name{Pos: pos, Parts: []*ast.Ident{{Pos: pos, Name: name.upper}}},
		Args: append(append([]ast.Expr{}, left...), right...)}
}

func (p *parser) caseExpr() ast.Expr {
	c := &ast.CaseExpr{Pos: p.pos()}
	p.expectKw("CASE")
	if p.isKw("END") {
		p.expected("WHEN")
	}
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	for p.isKw("WHEN") {
		w := &ast.When{Pos: p.pos()}
		p.i++
		w.Cond = p.expr()
		// A simple CASE may list values, WHEN 1, 2 THEN ..: as Calcite,
		// one WHEN per value, each with the same result.
		var more []ast.Expr
		for c.Operand != nil && p.acceptOp(",") {
			more = append(more, p.expr())
		}
		p.expectKw("THEN")
		w.Result = p.expr()
		c.Whens = append(c.Whens, w)
		for _, v := range more {
			c.Whens = append(c.Whens, &ast.When{Pos: w.Pos, Cond: v, Result: w.Result})
		}
	}
	if len(c.Whens) == 0 {
		p.expected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

// timeUnits maps unit words (singular and Flink's accepted plurals) to the canonical unit.
var timeUnits = map[string]ast.TimeUnit{}

func init() {
	for _, u := range []string{"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE",
		"SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"} {
		timeUnits[u] = ast.TimeUnit(u)
		timeUnits[u+"S"] = ast.TimeUnit(u)
	}
	// JDBC's SQL_TSI_ names, which Calcite accepts for TIMESTAMPADD and
	// TIMESTAMPDIFF (SQL_TSI_DAY is DAY).
	for _, u := range []string{"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"} {
		timeUnits["SQL_TSI_"+u] = ast.TimeUnit(u)
	}
	for _, u := range []string{"DOW", "DOY", "EPOCH", "DECADE", "CENTURY", "MILLENNIUM",
		"ISODOW", "ISOYEAR"} {
		timeUnits[u] = ast.TimeUnit(u)
	}
}

func (p *parser) timeUnit() ast.TimeUnit {
	t := p.peek()
	if u, ok := timeUnits[t.upper]; ok && t.kind == tIdent {
		p.i++
		return u
	}
	p.expected("time unit")
	return ""
}

// intervalUnits are the units an interval literal or type may use.
var intervalUnits = map[ast.TimeUnit]int{"YEAR": 1, "MONTH": 2, "DAY": 3, "HOUR": 4,
	"MINUTE": 5, "SECOND": 6}

func (p *parser) intervalUnit() ast.TimeUnit {
	t := p.peek()
	u := timeUnits[t.upper]
	if t.kind != tIdent || intervalUnits[u] == 0 {
		p.expected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND")
	}
	p.i++
	return u
}

func (p *parser) interval() ast.Expr {
	iv := &ast.IntervalLiteral{Pos: p.pos()}
	p.expectKw("INTERVAL")
	if p.acceptOp("-") {
		iv.Negative = true
	} else {
		p.acceptOp("+")
	}
	iv.Value = p.stringLit()
	q := p.intervalQualifier()
	iv.Unit, iv.To, iv.Precision, iv.FracPrecision = q.Unit, q.To, q.Precision, q.FracPrecision
	return iv
}

// intervalQualifier parses unit[(p[, f])] [TO unit[(f)]] into the unit and precision fields
// of an IntervalLiteral.
func (p *parser) intervalQualifier() *ast.IntervalLiteral {
	iv := &ast.IntervalLiteral{}
	iv.Unit = p.intervalUnit()
	if p.acceptOp("(") {
		iv.Precision = p.intLit()
		if iv.Unit == "SECOND" && p.acceptOp(",") {
			iv.FracPrecision = p.intLit()
		}
		p.expectOp(")")
		if iv.Precision == 0 {
			p.failAt(p.toks[p.i-2], "interval precision must be positive")
		}
	}
	if p.acceptKw("TO") {
		if iv.FracPrecision > 0 {
			p.failAt(p.toks[p.i-1], "fractional second precision is only allowed on the end unit")
		}
		iv.To = p.intervalUnit()
		if intervalUnits[iv.To] <= intervalUnits[iv.Unit] ||
			(iv.Unit == "YEAR") != (iv.To == "MONTH") {
			p.failAt(p.toks[p.i-1], "invalid interval qualifier "+string(iv.Unit)+" TO "+string(iv.To))
		}
		if iv.To == "SECOND" && p.acceptOp("(") {
			iv.FracPrecision = p.intLit()
			p.expectOp(")")
			if iv.FracPrecision == 0 {
				p.failAt(p.toks[p.i-2], "interval precision must be positive")
			}
		}
	}
	return iv
}

// specialFuncs parse the functions with keyword syntax inside their parentheses. They are
// called after NAME( and must stop before the closing ')'.
var specialFuncs map[string]func(p *parser, pos ast.Pos, name token) ast.Expr

func init() {
	specialFuncs = map[string]func(p *parser, pos ast.Pos, name token) ast.Expr{
		"CAST":     castFunc,
		"TRY_CAST": castFunc,
		"EXTRACT": func(p *parser, pos ast.Pos, _ token) ast.Expr {
			e := &ast.ExtractExpr{Pos: pos, Unit: p.timeUnit()}
			p.expectKw("FROM")
			e.Expr = p.expr()
			return e
		},
		"POSITION": func(p *parser, pos ast.Pos, _ token) ast.Expr {
			e := &ast.PositionExpr{Pos: pos, Sub: p.exprPrec(ast.PrecLike)}
			p.expectKw("IN")
			e.In = p.expr()
			if p.acceptKw("FROM") {
				e.From = p.expr()
			}
			return e
		},
		"TRIM": func(p *parser, pos ast.Pos, _ token) ast.Expr {
			e := &ast.TrimExpr{Pos: pos}
			if p.isKw("BOTH", "LEADING", "TRAILING") {
				e.Side = ast.TrimSide(p.next().upper)
			}
			if p.acceptKw("FROM") {
				e.Expr = p.expr()
				return e
			}
			x := p.expr()
			if p.acceptKw("FROM") {
				e.Chars, e.Expr = x, p.expr()
			} else {
				// TRIM(x) and, as in Calcite, TRIM(BOTH x): x trimmed of spaces.
				e.Expr = x
			}
			return e
		},
		"SUBSTRING": func(p *parser, pos ast.Pos, name token) ast.Expr {
			x := p.expr()
			if !p.acceptKw("FROM") {
				return p.restOfCall(pos, name, x)
			}
			e := &ast.SubstringExpr{Pos: pos, Expr: x, From: p.expr()}
			if p.acceptKw("FOR") {
				e.Length = p.expr()
			}
			return e
		},
		"OVERLAY": func(p *parser, pos ast.Pos, _ token) ast.Expr {
			e := &ast.OverlayExpr{Pos: pos, Expr: p.expr()}
			p.expectKw("PLACING")
			e.Placing = p.expr()
			p.expectKw("FROM")
			e.From = p.expr()
			if p.acceptKw("FOR") {
				e.Length = p.expr()
			}
			return e
		},
		"FLOOR":          floorCeil,
		"CEIL":           floorCeil,
		"CEILING":        floorCeil,
		"JSON_EXISTS":    jsonFunc,
		"JSON_VALUE":     jsonFunc,
		"JSON_QUERY":     jsonFunc,
		"JSON_OBJECT":    jsonFunc,
		"JSON_OBJECTAGG": jsonFunc,
		"JSON_ARRAY":     jsonFunc,
		"JSON_ARRAYAGG":  jsonFunc,
	}
}

func castFunc(p *parser, pos ast.Pos, name token) ast.Expr {
	e := &ast.CastExpr{Pos: pos, Try: name.upper == "TRY_CAST", Expr: p.expr()}
	p.expectKw("AS")
	e.Type = p.dataType()
	return e
}

func floorCeil(p *parser, pos ast.Pos, name token) ast.Expr {
	x := p.expr()
	if !p.acceptKw("TO") {
		return p.restOfCall(pos, name, x)
	}
	return &ast.FloorCeilExpr{Pos: pos, Ceil: name.upper != "FLOOR", Expr: x, Unit: p.timeUnit()}
}

// restOfCall finishes a plain call whose first argument first has been parsed, stopping
// before ')'.
func (p *parser) restOfCall(pos ast.Pos, name token, first ast.Expr) ast.Expr {
	c := &ast.Call{Pos: pos, Name: &ast.Name{Pos: pos,
		Parts: []*ast.Ident{{Pos: pos, Name: name.text}}}, Args: []ast.Expr{first}}
	for p.acceptOp(",") {
		c.Args = append(c.Args, p.expr())
	}
	return c
}

// jsonBehaviors are the ON EMPTY / ON ERROR behaviours each JSON function accepts.
var jsonBehaviors = map[string]map[string]bool{
	"JSON_EXISTS": {"TRUE": true, "FALSE": true, "UNKNOWN": true, "ERROR": true},
	"JSON_VALUE":  {"NULL": true, "ERROR": true, "DEFAULT": true},
	"JSON_QUERY":  {"NULL": true, "ERROR": true, "EMPTY ARRAY": true, "EMPTY OBJECT": true},
}

// jsonFunc parses the arguments of the SQL/JSON functions (see ast.JSONFunc).
func jsonFunc(p *parser, pos ast.Pos, name token) ast.Expr {
	f := &ast.JSONFunc{Pos: pos, Name: name.upper}
	onNull := func() bool {
		if (p.isKw("NULL") || p.isKw("ABSENT")) && p.isKwAt(1, "ON") && p.isKwAt(2, "NULL") {
			f.OnNull = p.next().upper
			p.i += 2
			return true
		}
		return false
	}
	switch f.Name {
	case "JSON_EXISTS", "JSON_VALUE", "JSON_QUERY":
		f.Args = []ast.Expr{p.expr()}
		p.expectOp(",")
		f.Args = append(f.Args, p.expr())
		if f.Name != "JSON_EXISTS" && p.acceptKw("RETURNING") {
			f.Returning = p.dataType()
		}
		if f.Name == "JSON_QUERY" {
			switch {
			case p.acceptKw("WITHOUT"):
				f.Wrapper = "WITHOUT ARRAY"
			case p.acceptKws("WITH", "CONDITIONAL"):
				f.Wrapper = "WITH CONDITIONAL ARRAY"
			case p.acceptKws("WITH", "UNCONDITIONAL"), p.acceptKw("WITH"):
				f.Wrapper = "WITH UNCONDITIONAL ARRAY"
			}
			if f.Wrapper != "" {
				p.acceptKw("ARRAY")
				p.expectKw("WRAPPER")
			}
		}
		allowed := jsonBehaviors[f.Name]
		for !p.isOp(")") {
			start := p.peek()
			b := &ast.JSONBehavior{Pos: start.pos}
			switch {
			case p.acceptKws("EMPTY", "ARRAY"):
				b.Kind = "EMPTY ARRAY"
			case p.acceptKws("EMPTY", "OBJECT"):
				b.Kind = "EMPTY OBJECT"
			case p.isKw("NULL", "ERROR", "TRUE", "FALSE", "UNKNOWN", "DEFAULT"):
				b.Kind = p.next().upper
			}
			if !allowed[b.Kind] {
				p.failAt(start, "expected "+strings.Join(sortedKeys(allowed), ", ")+
					" (ON EMPTY|ERROR) or ')', found "+p.describe(start))
			}
			if b.Kind == "DEFAULT" {
				b.Default = p.expr()
			}
			p.expectKw("ON")
			switch {
			// Either order, each once, as Flink's parser takes them
			// (its JsonFunctionsITCase writes ERROR ON ERROR ERROR ON EMPTY).
			case f.Name != "JSON_EXISTS" && f.OnEmpty == nil && p.acceptKw("EMPTY"):
				f.OnEmpty = b
			case f.OnError == nil && p.acceptKw("ERROR"):
				f.OnError = b
			default:
				p.expected("EMPTY or ERROR")
			}
		}
	case "JSON_OBJECT", "JSON_OBJECTAGG":
		for !p.isOp(")") && !onNull() {
			kv := &ast.JSONKeyValue{Pos: p.pos()}
			p.acceptKw("KEY")
			kv.Key = p.expr()
			p.expectKw("VALUE")
			kv.Value = p.expr()
			f.KeyValues = append(f.KeyValues, kv)
			if !p.acceptOp(",") {
				onNull()
				break
			}
		}
		if f.Name == "JSON_OBJECTAGG" && len(f.KeyValues) != 1 {
			p.fail("JSON_OBJECTAGG takes exactly one key and value")
		}
	default: // JSON_ARRAY, JSON_ARRAYAGG
		for !p.isOp(")") && !onNull() {
			f.Args = append(f.Args, p.expr())
			if !p.acceptOp(",") {
				onNull()
				break
			}
		}
		if f.Name == "JSON_ARRAYAGG" && len(f.Args) != 1 {
			p.fail("JSON_ARRAYAGG takes exactly one argument")
		}
	}
	return f
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
