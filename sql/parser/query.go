package parser

import (
	"github.com/weirstream/weir/sql/ast"
)

// query parses [WITH ..] body [ORDER BY ..] [LIMIT ..] [OFFSET ..] [FETCH ..].
func (p *parser) query() ast.QueryExpr {
	p.enter()
	defer p.leave()
	q := &ast.Query{Pos: p.pos()}
	if p.acceptKw("WITH") {
		for {
			c := &ast.CTE{Pos: p.pos(), Name: p.ident()}
			if p.isOp("(") {
				c.Columns = p.parenIdents()
			}
			p.expectKw("AS")
			p.expectOp("(")
			c.Query = p.query()
			p.expectOp(")")
			q.With = append(q.With, c)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	q.Body = p.setExpr(0)
	if p.acceptKwBy("ORDER") {
		q.OrderBy = p.orderItems()
	}
	if p.acceptKw("LIMIT") {
		q.Limit = p.exprPrec(ast.PrecCmp)
	}
	if p.acceptKw("OFFSET") {
		q.Offset = p.exprPrec(ast.PrecCmp)
		if !p.acceptKw("ROWS") {
			p.acceptKw("ROW")
		}
	}
	if q.Limit == nil && p.acceptKw("FETCH") {
		if !p.acceptKw("FIRST") && !p.acceptKw("NEXT") {
			p.expected("FIRST or NEXT")
		}
		q.Limit = p.exprPrec(ast.PrecCmp)
		q.Fetch = true
		if !p.acceptKw("ROWS") && !p.acceptKw("ROW") {
			p.expected("ROWS")
		}
		p.expectKw("ONLY")
	}
	if q.With == nil && q.OrderBy == nil && q.Limit == nil && q.Offset == nil {
		return q.Body
	}
	return q
}

func setOpPrec(t token) (ast.SetOpKind, int) {
	switch {
	case isKw(t, "UNION"):
		return ast.Union, 1
	case isKw(t, "EXCEPT"), isKw(t, "MINUS"):
		return ast.Except, 1
	case isKw(t, "INTERSECT"):
		return ast.Intersect, 2
	}
	return "", 0
}

func (p *parser) setExpr(min int) ast.QueryExpr {
	left := p.setPrimary()
	for {
		kind, prec := setOpPrec(p.peek())
		if prec == 0 || prec <= min {
			return left
		}
		s := &ast.SetOp{Pos: left.Position(), Kind: kind, Left: left}
		p.i++
		if p.acceptKw("ALL") {
			s.All = true
		} else {
			s.Distinct = p.acceptKw("DISTINCT")
		}
		s.Right = p.setExpr(prec)
		left = s
	}
}

func (p *parser) setPrimary() ast.QueryExpr {
	switch {
	case p.isKw("SELECT"):
		return p.selectBody()
	case p.isKw("VALUES"):
		v := &ast.Values{Pos: p.pos()}
		p.i++
		for {
			p.expectOp("(")
			v.Rows = append(v.Rows, p.exprList())
			p.expectOp(")")
			if !p.acceptOp(",") {
				return v
			}
		}
	case p.acceptOp("("):
		q := p.query()
		p.expectOp(")")
		return q
	}
	p.expected("SELECT, VALUES or '('")
	return nil
}

func (p *parser) selectBody() *ast.Select {
	s := &ast.Select{Pos: p.pos()}
	p.expectKw("SELECT")
	s.Hints = p.hints()
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		s.All = p.acceptKw("ALL")
	}
	for {
		s.Items = append(s.Items, p.selectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		s.From = p.from()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	if p.acceptKwBy("GROUP") {
		for {
			s.GroupBy = append(s.GroupBy, p.groupItem())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("HAVING") {
		s.Having = p.expr()
	}
	if p.acceptKw("WINDOW") {
		for {
			w := &ast.NamedWindow{Pos: p.pos(), Name: p.ident()}
			p.expectKw("AS")
			w.Spec = p.windowSpec()
			s.Windows = append(s.Windows, w)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	return s
}

func (p *parser) selectItem() *ast.SelectItem {
	it := &ast.SelectItem{Pos: p.pos()}
	if p.isOp("*") {
		p.i++
		it.Expr = &ast.Star{Pos: it.Pos}
		return it
	}
	it.Expr = p.expr()
	implicit := p.isIdent()
	it.Alias = p.optAlias()
	if implicit {
		p.checkMisspelt(selectFollowers)
	}
	return it
}

// Keywords that may follow a select item or a table reference, for misspelling diagnosis.
var (
	selectFollowers = []string{"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION",
		"WINDOW"}
	tableFollowers = []string{"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "JOIN",
		"LEFT", "RIGHT", "INNER", "CROSS", "FULL", "WINDOW"}
)

// checkMisspelt is called after an implicit alias (one written without AS). When the alias
// is followed by something that cannot follow it (a word, number or string), the alias was
// most likely a misspelt keyword such as FORM; report it as such.
func (p *parser) checkMisspelt(keywords []string) {
	switch next := p.peek(); next.kind {
	case tIdent:
		if ast.IsReserved(next.upper) {
			return // a clause keyword may follow an alias
		}
	case tQIdent, tInt, tDecimal, tApprox, tString, tBinary:
	default:
		return
	}
	alias := p.toks[p.i-1]
	if alias.kind != tIdent {
		return
	}
	for _, kw := range keywords {
		if similar(alias.upper, kw) {
			p.failAt(alias, "expected "+kw+", found "+p.describe(alias))
		}
	}
}

// similar reports whether a is within one edit (insertion, deletion, substitution or
// transposition of adjacent letters) of keyword b.
func similar(a, b string) bool {
	if len(a) < 3 || a == b {
		return false
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	// Optimal string alignment distance.
	d := make([][]int, la+1)
	for i := range d {
		d[i] = make([]int, lb+1)
		d[i][0] = i
	}
	for j := 0; j <= lb; j++ {
		d[0][j] = j
	}
	for i := 1; i <= la; i++ {
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[la][lb] <= 1
}

// optAlias parses [AS] ident.
func (p *parser) optAlias() *ast.Ident {
	if p.acceptKw("AS") || p.isIdent() {
		return p.ident()
	}
	return nil
}

func (p *parser) groupItem() ast.Expr {
	pos := p.pos()
	var kind ast.GroupingKind
	switch {
	case p.acceptKws("GROUPING", "SETS"):
		kind = ast.GroupingSetsKind
	case p.isKw("ROLLUP") && p.isOpAt(1, "("):
		p.i++
		kind = ast.RollupKind
	case p.isKw("CUBE") && p.isOpAt(1, "("):
		p.i++
		kind = ast.CubeKind
	case p.isOp("(") && p.isOpAt(1, ")"):
		p.i += 2
		return &ast.RowExpr{Pos: pos}
	default:
		return p.expr()
	}
	p.enter()
	defer p.leave()
	g := &ast.GroupingSets{Pos: pos, Kind: kind}
	p.expectOp("(")
	for {
		g.Items = append(g.Items, p.groupItem())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return g
}

func (p *parser) orderItems() []*ast.OrderItem {
	var items []*ast.OrderItem
	for {
		it := &ast.OrderItem{Pos: p.pos(), Expr: p.expr()}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			it.Asc = p.acceptKw("ASC")
		}
		if p.acceptKw("NULLS") {
			if !p.isKw("FIRST", "LAST") {
				p.expected("FIRST or LAST")
			}
			it.Nulls = p.next().upper
		}
		items = append(items, it)
		if !p.acceptOp(",") {
			return items
		}
	}
}

// windowSpec parses ( [base] [PARTITION BY ..] [ORDER BY ..] [frame] ).
func (p *parser) windowSpec() *ast.WindowSpec {
	w := &ast.WindowSpec{Pos: p.pos()}
	p.expectOp("(")
	if p.isIdent() && !p.isKw("ROWS", "RANGE") {
		w.Base = p.ident()
	}
	if p.acceptKwBy("PARTITION") {
		w.PartitionBy = p.exprList()
	}
	if p.acceptKwBy("ORDER") {
		w.OrderBy = p.orderItems()
	}
	if p.isKw("ROWS", "RANGE") {
		f := &ast.Frame{Pos: p.pos(), Unit: p.next().upper}
		if p.acceptKw("BETWEEN") {
			f.Start = p.frameBound()
			p.expectKw("AND")
			f.End = p.frameBound()
		} else {
			f.Start = p.frameBound()
		}
		w.Frame = f
	}
	p.expectOp(")")
	return w
}

func (p *parser) frameBound() *ast.FrameBound {
	b := &ast.FrameBound{Pos: p.pos()}
	switch {
	case p.acceptKws("UNBOUNDED", "PRECEDING"):
		b.Kind = ast.UnboundedPreceding
	case p.acceptKws("UNBOUNDED", "FOLLOWING"):
		b.Kind = ast.UnboundedFollowing
	case p.acceptKws("CURRENT", "ROW"):
		b.Kind = ast.CurrentRow
	default:
		b.Offset = p.exprPrec(ast.PrecAnd)
		switch {
		case p.acceptKw("PRECEDING"):
			b.Kind = ast.Preceding
		case p.acceptKw("FOLLOWING"):
			b.Kind = ast.Following
		default:
			p.expected("PRECEDING or FOLLOWING")
		}
	}
	return b
}

// ---- FROM ----

func (p *parser) from() ast.TableRef {
	left := p.tableRef()
	for {
		pos := p.pos()
		if p.acceptOp(",") {
			left = &ast.Join{Pos: pos, Kind: ast.CommaJoin, Left: left, Right: p.tableRef()}
			continue
		}
		natural := p.acceptKw("NATURAL")
		var kind ast.JoinKind
		switch {
		case p.acceptKw("JOIN"), p.acceptKws("INNER", "JOIN"):
			kind = ast.InnerJoin
		case p.acceptKws("LEFT", "JOIN"), p.acceptKws("LEFT", "OUTER", "JOIN"):
			kind = ast.LeftJoin
		case p.acceptKws("RIGHT", "JOIN"), p.acceptKws("RIGHT", "OUTER", "JOIN"):
			kind = ast.RightJoin
		case p.acceptKws("FULL", "JOIN"), p.acceptKws("FULL", "OUTER", "JOIN"):
			kind = ast.FullJoin
		case !natural && p.acceptKws("CROSS", "JOIN"):
			kind = ast.CrossJoin
		default:
			if natural {
				p.expected("JOIN")
			}
			return left
		}
		j := &ast.Join{Pos: left.Position(), Kind: kind, Natural: natural, Left: left,
			Right: p.tableRef()}
		if kind != ast.CrossJoin && !natural {
			switch {
			case p.acceptKw("ON"):
				j.On = p.expr()
			case p.acceptKw("USING"):
				j.Using = p.parenIdents()
			default:
				p.expected("ON or USING")
			}
		}
		left = j
	}
}

func (p *parser) tableRef() ast.TableRef {
	p.enter()
	defer p.leave()
	t := p.tablePrimary()
	if p.isKw("MATCH_RECOGNIZE") {
		t = p.matchRecognize(t)
	}
	implicit := p.isIdent()
	aliasTok := p.peek()
	if a := p.tableAlias(); a != nil {
		if implicit && len(a.Columns) == 0 {
			p.checkMisspelt(tableFollowers)
		}
		if hasAlias(t) {
			p.failAt(aliasTok, "table reference already has an alias")
		}
		switch t := t.(type) {
		case *ast.TableName:
			t.Alias = a
		case *ast.DerivedTable:
			t.Alias = a
		case *ast.TableFunc:
			t.Alias = a
		case *ast.Unnest:
			t.Alias = a
		case *ast.MatchRecognize:
			t.Alias = a
		default:
			p.failAt(p.toks[p.i-1], "a parenthesised join cannot have an alias")
		}
	}
	return t
}

func (p *parser) tableAlias() *ast.Alias {
	pos := p.pos()
	if !p.acceptKw("AS") && !p.isIdent() {
		return nil
	}
	a := &ast.Alias{Pos: pos, Name: p.ident()}
	if p.isOp("(") {
		a.Columns = p.parenIdents()
	}
	return a
}

func (p *parser) tablePrimary() ast.TableRef {
	pos := p.pos()
	lateral := p.acceptKw("LATERAL")
	switch {
	case p.isKw("TABLE") && p.isOpAt(1, "("):
		p.i += 2
		f := &ast.TableFunc{Pos: pos, Lateral: lateral}
		e := p.expr()
		c, ok := e.(*ast.Call)
		if !ok || c.NoParens || c.Over != nil || c.OverName != nil || c.Filter != nil {
			p.failAt(p.toks[p.i-1], "expected a table function call in TABLE(...)")
		}
		f.Call = c
		p.expectOp(")")
		return f
	case p.isOp("(") && lateral:
		p.i++
		d := &ast.DerivedTable{Pos: pos, Lateral: lateral, Query: p.query()}
		p.expectOp(")")
		return d
	case p.isOp("(") && p.startsQueryAt(1):
		// Usually a subquery; but ((SELECT ..) AS a JOIN b ON ..) is a parenthesised join
		// starting with one, so on failure parse it as a join instead.
		start := p.i
		if d, err := p.tryDerived(pos); err == nil {
			return d
		} else if !p.isOp("(") || !p.startsQueryAt(1) || !p.isOpAt(1, "(") {
			panic(bailout{err})
		}
		p.i = start + 1
		t := p.from()
		p.expectOp(")")
		return t
	case lateral:
		p.expected("TABLE or '('")
	case p.isKw("UNNEST"):
		p.i++
		u := &ast.Unnest{Pos: pos}
		p.expectOp("(")
		u.Exprs = p.exprList()
		p.expectOp(")")
		u.WithOrdinality = p.acceptKws("WITH", "ORDINALITY")
		return u
	case p.acceptOp("("):
		t := p.from()
		p.expectOp(")")
		return t
	}
	if !p.isIdent() {
		p.expected("table name")
	}
	t := &ast.TableName{Pos: pos, Name: p.name()}
	t.Hints = p.hints()
	if p.acceptKws("FOR", "SYSTEM_TIME", "AS", "OF") {
		t.SystemTime = p.exprPrec(ast.PrecCmp)
	}
	return t
}

// ---- MATCH_RECOGNIZE ----

func (p *parser) matchRecognize(input ast.TableRef) *ast.MatchRecognize {
	m := &ast.MatchRecognize{Pos: p.pos(), Input: input}
	p.expectKw("MATCH_RECOGNIZE")
	p.expectOp("(")
	if p.acceptKwBy("PARTITION") {
		m.PartitionBy = p.exprList()
	}
	if p.acceptKwBy("ORDER") {
		m.OrderBy = p.orderItems()
	}
	if p.acceptKw("MEASURES") {
		for {
			it := &ast.SelectItem{Pos: p.pos(), Expr: p.expr()}
			p.expectKw("AS")
			it.Alias = p.ident()
			m.Measures = append(m.Measures, it)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	switch {
	case p.acceptKws("ONE", "ROW", "PER", "MATCH"):
		m.RowsPerMatch = true
	case p.acceptKws("ALL", "ROWS", "PER", "MATCH"):
		m.RowsPerMatch, m.AllRows = true, true
	}
	if p.isKw("AFTER") {
		a := &ast.AfterMatch{Pos: p.pos()}
		p.expectKw("AFTER", "MATCH", "SKIP")
		switch {
		case p.acceptKws("TO", "NEXT", "ROW"):
			a.Kind = ast.SkipToNextRow
		case p.acceptKws("PAST", "LAST", "ROW"):
			a.Kind = ast.SkipPastLast
		case p.acceptKws("TO", "FIRST"):
			a.Kind, a.Var = ast.SkipToFirst, p.ident()
		case p.acceptKws("TO", "LAST"):
			a.Kind, a.Var = ast.SkipToLast, p.ident()
		case p.acceptKw("TO"):
			a.Kind, a.Var = ast.SkipToLast, p.ident()
		default:
			p.expected("TO NEXT ROW, PAST LAST ROW, TO FIRST or TO LAST")
		}
		m.AfterMatch = a
	}
	p.expectKw("PATTERN")
	p.expectOp("(")
	m.Pattern = p.patternAlt()
	p.expectOp(")")
	if p.acceptKw("WITHIN") {
		m.Within = p.postfix(p.primary())
	}
	p.expectKw("DEFINE")
	for {
		d := &ast.PatternDefine{Pos: p.pos(), Var: p.ident()}
		p.expectKw("AS")
		d.Cond = p.expr()
		m.Defines = append(m.Defines, d)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return m
}

func (p *parser) patternAlt() ast.PatternTerm {
	p.enter()
	defer p.leave()
	first := p.patternSeq()
	if !p.isOp("|") {
		return first
	}
	alt := &ast.PatternAlt{Pos: first.Position(), Alts: []ast.PatternTerm{first}}
	for p.acceptOp("|") {
		alt.Alts = append(alt.Alts, p.patternSeq())
	}
	return alt
}

func (p *parser) patternSeq() ast.PatternTerm {
	seq := &ast.PatternSeq{Pos: p.pos()}
	for p.isIdent() || p.isOp("(") {
		seq.Terms = append(seq.Terms, p.patternQuant())
	}
	switch len(seq.Terms) {
	case 0:
		p.expected("pattern variable or '('")
	case 1:
		return seq.Terms[0]
	}
	return seq
}

func (p *parser) patternQuant() ast.PatternTerm {
	pos := p.pos()
	var term ast.PatternTerm
	if p.acceptOp("(") {
		term = &ast.PatternGroup{Pos: pos, Pattern: p.patternAlt()}
		p.expectOp(")")
	} else {
		term = &ast.PatternVar{Pos: pos, Name: p.ident()}
	}
	q := &ast.PatternQuant{Pos: pos, Term: term}
	switch {
	case p.acceptOp("*"):
		q.Min, q.Max, q.Symbol = 0, -1, "*"
	case p.acceptOp("+"):
		q.Min, q.Max, q.Symbol = 1, -1, "+"
	case p.acceptOp("?"):
		q.Min, q.Max, q.Symbol = 0, 1, "?"
	case p.acceptOp("{"):
		q.Max = -1
		hasMin := p.peek().kind == tInt
		if hasMin {
			q.Min = p.intLit()
		}
		switch {
		case p.acceptOp(","):
			if p.peek().kind == tInt {
				q.Max = p.intLit()
			}
		case hasMin:
			q.Max = q.Min
		default:
			p.expected("integer or ','")
		}
		if q.Max >= 0 && q.Max < q.Min {
			p.fail("quantifier maximum %d is less than minimum %d", q.Max, q.Min)
		}
		p.expectOp("}")
	default:
		return term
	}
	q.Reluctant = p.acceptOp("?")
	return q
}

// acceptKwBy accepts kw BY; once kw is seen, BY is required.
func (p *parser) acceptKwBy(kw string) bool {
	if !p.acceptKw(kw) {
		return false
	}
	p.expectKw("BY")
	return true
}

// hasAlias reports whether t (from a parenthesised FROM item) already carries an alias.
func hasAlias(t ast.TableRef) bool {
	switch t := t.(type) {
	case *ast.TableName:
		return t.Alias != nil
	case *ast.DerivedTable:
		return t.Alias != nil
	case *ast.TableFunc:
		return t.Alias != nil
	case *ast.Unnest:
		return t.Alias != nil
	case *ast.MatchRecognize:
		return t.Alias != nil
	}
	return false
}

// hints parses the /*+ ... */ comments written just before the current token.
func (p *parser) hints() []*ast.Hint {
	var out []*ast.Hint
	for _, h := range p.peek().hints {
		toks, err := lexFrom(p.src[:h.end], h.pos)
		if err != nil {
			panic(bailout{err.(*Error)})
		}
		sub := &parser{src: p.src, toks: toks, depth: p.depth}
		for {
			out = append(out, sub.hint())
			if !sub.acceptOp(",") {
				break
			}
		}
		if sub.peek().kind != tEOF {
			sub.expected("',' or end of hint")
		}
	}
	return out
}

func (p *parser) hint() *ast.Hint {
	h := &ast.Hint{Pos: p.pos(), Name: p.ident()}
	if !p.acceptOp("(") {
		return h
	}
	if p.peek().kind == tString && p.isOpAt(1, "=") {
		for {
			o := &ast.Option{Pos: p.pos(), Key: p.stringLit()}
			p.expectOp("=")
			o.Value = p.stringLit()
			h.Options = append(h.Options, o)
			if !p.acceptOp(",") {
				break
			}
		}
	} else {
		for !p.isOp(")") {
			t := p.peek()
			switch t.kind {
			case tIdent, tQIdent:
				h.Args = append(h.Args, &ast.ColumnRef{Pos: t.pos, Parts: p.name().Parts})
			case tString, tInt:
				h.Args = append(h.Args, p.primary())
			default:
				p.expected("hint argument")
			}
			if !p.acceptOp(",") {
				break
			}
		}
	}
	p.expectOp(")")
	return h
}

// tryDerived parses ( query ) as a derived table, returning the syntax error instead of
// failing; on error the caller rewinds.
func (p *parser) tryDerived(pos ast.Pos) (d *ast.DerivedTable, err *Error) {
	start, depth := p.i, p.depth
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			p.i, p.depth, err = start, depth, b.err
		}
	}()
	p.expectOp("(")
	d = &ast.DerivedTable{Pos: pos, Query: p.query()}
	p.expectOp(")")
	return d, nil
}
