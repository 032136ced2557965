package parser

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/sql/ast"
)

// maxDepth bounds the nesting of expressions and queries so that hostile input cannot
// exhaust the stack.
const maxDepth = 200

// parser is the state of one parse.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// bailout carries a syntax error up the recursive descent to the entry point.
type bailout struct{ err *Error }

// Parse parses a script of statements separated by ';'. Empty statements are skipped. The
// SQL client form BEGIN STATEMENT SET; INSERT ...; END spans several ';' and yields one
// [ast.StatementSet]. On a syntax error it returns the statements before the failing one
// together with the [*Error].
func Parse(sql string) ([]ast.Statement, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmts []ast.Statement
	err = p.run(func() {
		for {
			for p.acceptOp(";") {
			}
			if p.peek().kind == tEOF {
				return
			}
			stmts = append(stmts, p.statement())
			if p.peek().kind != tEOF && !p.isOp(";") {
				p.endOfStatement("';'")
			}
		}
	})
	return stmts, err
}

// ParseOne parses exactly one statement, optionally followed by ';'.
func ParseOne(sql string) (ast.Statement, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmt ast.Statement
	if err := p.run(func() {
		stmt = p.statement()
		p.acceptOp(";")
		if p.peek().kind != tEOF {
			p.endOfStatement("end of input")
		}
	}); err != nil {
		return nil, err
	}
	return stmt, nil
}

// ParseExpr parses one scalar expression.
func ParseExpr(sql string) (ast.Expr, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var e ast.Expr
	if err := p.run(func() {
		e = p.expr()
		p.expectEOF()
	}); err != nil {
		return nil, err
	}
	return e, nil
}

// ParseType parses one data type, such as DECIMAL(10, 2) NOT NULL or ROW<a INT, b STRING>.
func ParseType(sql string) (*ast.DataType, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var t *ast.DataType
	if err := p.run(func() {
		t = p.dataType()
		p.expectEOF()
	}); err != nil {
		return nil, err
	}
	return t, nil
}

// run calls f, turning a syntax error raised inside it into the returned error.
func (p *parser) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	f()
	return nil
}

func newParser(sql string) (*parser, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	return &parser{src: sql, toks: toks}, nil
}

// ---- token helpers ----

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) pos() ast.Pos { return p.peek().pos }

func (p *parser) failAt(t token, msg string) {
	panic(bailout{newError(p.src, t.pos.Line, t.pos.Column, t.pos.Offset, msg)})
}

func (p *parser) fail(format string, args ...any) {
	p.failAt(p.peek(), fmt.Sprintf(format, args...))
}

// describe renders a token for "found ..." messages.
func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString, tBinary:
		return kindNames[t.kind] + " " + p.src[t.pos.Offset:t.end]
	}
	return "'" + p.src[t.pos.Offset:t.end] + "'"
}

// expected fails with "expected what, found <current token>".
func (p *parser) expected(what string) {
	p.fail("expected %s, found %s", what, p.describe(p.peek()))
}

// isKw reports whether token t is the unquoted keyword kw (upper case).
func isKw(t token, kw string) bool { return t.kind == tIdent && t.upper == kw }

func (p *parser) isKw(kws ...string) bool {
	for _, kw := range kws {
		if isKw(p.peek(), kw) {
			return true
		}
	}
	return false
}

func (p *parser) isKwAt(k int, kw string) bool { return isKw(p.peekAt(k), kw) }

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

// acceptKws accepts the keyword sequence kws only if all of them follow.
func (p *parser) acceptKws(kws ...string) bool {
	for k, kw := range kws {
		if !p.isKwAt(k, kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) expectKw(kws ...string) {
	for _, kw := range kws {
		if !p.acceptKw(kw) {
			p.expected(kw)
		}
	}
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}

func (p *parser) isOpAt(k int, op string) bool {
	t := p.peekAt(k)
	return t.kind == tOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) {
	if !p.acceptOp(op) {
		p.expected("'" + op + "'")
	}
}

// clauseKeywords are keywords that may continue a statement, for misspelling diagnosis.
var clauseKeywords = []string{"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET",
	"UNION", "EXCEPT", "INTERSECT", "WINDOW", "JOIN", "SELECT", "VALUES", "WITH", "AS"}

// endOfStatement fails on a token that follows a complete statement, suggesting a clause
// keyword when the token looks like a misspelling of one.
func (p *parser) endOfStatement(want string) {
	t := p.peek()
	if t.kind == tIdent {
		for _, kw := range clauseKeywords {
			if similar(t.upper, kw) {
				p.expected(kw)
			}
		}
	}
	p.expected(want)
}

func (p *parser) expectEOF() {
	if p.peek().kind != tEOF {
		p.expected("end of input")
	}
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail("nesting too deep (more than %d levels)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// isIdent reports whether the current token can be an identifier (quoted, or unquoted and
// not reserved).
func (p *parser) isIdent() bool { return p.isIdentAt(0) }

func (p *parser) isIdentAt(k int) bool {
	t := p.peekAt(k)
	return t.kind == tQIdent || t.kind == tIdent && !ast.IsReserved(t.upper)
}

func (p *parser) ident() *ast.Ident {
	if !p.isIdent() {
		p.expected("identifier")
	}
	t := p.next()
	return &ast.Ident{Pos: t.pos, Name: t.text}
}

func (p *parser) identList() []*ast.Ident {
	ids := []*ast.Ident{p.ident()}
	for p.acceptOp(",") {
		ids = append(ids, p.ident())
	}
	return ids
}

// parenIdents parses ( ident, .. ).
func (p *parser) parenIdents() []*ast.Ident {
	p.expectOp("(")
	ids := p.identList()
	p.expectOp(")")
	return ids
}

// name parses a dotted name.
func (p *parser) name() *ast.Name {
	n := &ast.Name{Pos: p.pos(), Parts: []*ast.Ident{p.ident()}}
	for p.isOp(".") && p.isIdentAt(1) {
		p.i++
		n.Parts = append(n.Parts, p.ident())
	}
	return n
}

func (p *parser) stringLit() string {
	if p.peek().kind != tString {
		p.expected("string literal")
	}
	return p.next().text
}

func (p *parser) stringPtr() *string {
	s := p.stringLit()
	return &s
}

func (p *parser) intLit() int {
	t := p.peek()
	if t.kind != tInt {
		p.expected("integer")
	}
	p.i++
	n := 0
	for _, c := range t.text {
		n = n*10 + int(c-'0')
		if n > 1<<31-1 {
			p.failAt(t, "integer "+t.text+" out of range")
		}
	}
	return n
}

// ---- statements ----

func (p *parser) statement() ast.Statement {
	t := p.peek()
	switch {
	case p.isJobStatement():
		return p.jobStatement() // job.go
	case p.isModuleStatement():
		return p.moduleStatement() // module.go
	case p.isKw("SELECT", "WITH", "VALUES") || p.isOp("("):
		return &ast.QueryStmt{Pos: t.pos, Query: p.query()}
	case p.isKw("INSERT"):
		return p.insert()
	case p.isKw("CREATE"):
		return p.create()
	case p.isKw("REPLACE"):
		p.i++
		p.expectKw("TABLE")
		ct := p.createTable(t.pos, false, true)
		ct.Replace = true
		return ct
	case p.isKw("DROP"):
		return p.drop()
	case p.isKw("ALTER"):
		return p.alter() // alter.go
	case p.isKw("SET"):
		p.i++
		s := &ast.Set{Pos: t.pos}
		if p.peek().kind == tString {
			s.Key = p.stringPtr()
			p.expectOp("=")
			s.Value = p.stringLit()
		}
		return s
	case p.isKw("RESET"):
		p.i++
		r := &ast.Reset{Pos: t.pos}
		if p.peek().kind == tString {
			r.Key = p.stringPtr()
		}
		return r
	case p.isKw("SHOW"):
		return p.show()
	case p.isKw("DESCRIBE", "DESC"):
		p.i++
		d := &ast.Describe{Pos: t.pos}
		if p.isKw("CATALOG", "DATABASE") && p.isIdentAt(1) {
			d.Object = p.next().upper
		}
		d.Extended = p.acceptKw("EXTENDED")
		d.Name = p.name()
		return d
	case p.isKw("EXPLAIN"):
		return p.explain()
	case p.isKw("EXECUTE"):
		p.i++
		p.expectKw("STATEMENT", "SET", "BEGIN")
		return p.statementSet(t.pos, true)
	case p.isKw("BEGIN"):
		p.i++
		p.expectKw("STATEMENT", "SET")
		p.expectOp(";")
		return p.statementSet(t.pos, false)
	case p.isKw("USE"):
		p.i++
		u := &ast.Use{Pos: t.pos}
		if p.isKw("CATALOG") && (p.isIdentAt(1)) {
			p.i++
			u.Catalog = true
		}
		u.Name = p.name()
		return u
	}
	p.expected("statement")
	return nil
}

func (p *parser) statementSet(pos ast.Pos, execute bool) *ast.StatementSet {
	s := &ast.StatementSet{Pos: pos, Execute: execute}
	for {
		for p.acceptOp(";") {
		}
		if p.acceptKw("END") {
			return s
		}
		if !p.isKw("INSERT") {
			p.expected("INSERT or END")
		}
		s.Inserts = append(s.Inserts, p.insert())
		if !p.isKw("END") {
			p.expectOp(";")
		}
	}
}

func (p *parser) insert() *ast.Insert {
	ins := &ast.Insert{Pos: p.pos()}
	p.expectKw("INSERT")
	switch {
	case p.acceptKw("INTO"):
	case p.acceptKw("OVERWRITE"):
		ins.Overwrite = true
	default:
		p.expected("INTO or OVERWRITE")
	}
	ins.Table = p.name()
	ins.Hints = p.hints()
	if p.acceptKw("PARTITION") {
		p.expectOp("(")
		for {
			o := &ast.Option{Pos: p.pos(), KeyIdent: true}
			o.Key = p.ident().Name
			p.expectOp("=")
			if p.peek().kind == tString {
				o.Value = p.stringLit()
			} else {
				o.ValueLit = p.exprPrec(ast.PrecCmp)
			}
			ins.Partition = append(ins.Partition, o)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if p.isOp("(") && !p.startsQueryAt(1) {
		ins.Columns = p.parenIdents()
	}
	ins.Query = p.query()
	return ins
}

// startsQueryAt reports whether the token k ahead starts a query (after any '(').
func (p *parser) startsQueryAt(k int) bool {
	for p.isOpAt(k, "(") && k < maxDepth {
		k++
	}
	t := p.peekAt(k)
	return isKw(t, "SELECT") || isKw(t, "WITH") || isKw(t, "VALUES")
}

func (p *parser) ifNotExists() bool { return p.acceptKws("IF", "NOT", "EXISTS") }

func (p *parser) create() ast.Statement {
	pos := p.pos()
	p.expectKw("CREATE")
	if p.acceptKws("OR", "REPLACE") {
		p.expectKw("TABLE")
		ct := p.createTable(pos, false, true)
		ct.Replace, ct.CreateOrReplace = true, true
		return ct
	}
	temporary := p.acceptKw("TEMPORARY")
	system := temporary && p.acceptKw("SYSTEM")
	switch {
	case p.acceptKw("TABLE") && !system:
		return p.createTable(pos, temporary, false)
	case p.acceptKw("VIEW") && !system:
		v := &ast.CreateView{Pos: pos, Temporary: temporary, IfNotExists: p.ifNotExists()}
		v.Name = p.name()
		if p.isOp("(") {
			v.Columns = p.parenIdents()
		}
		if p.acceptKw("COMMENT") {
			v.Comment = p.stringPtr()
		}
		p.expectKw("AS")
		v.Query = p.query()
		return v
	case p.acceptKw("FUNCTION"):
		f := &ast.CreateFunction{Pos: pos, Temporary: temporary, System: system,
			IfNotExists: p.ifNotExists()}
		f.Name = p.name()
		p.expectKw("AS")
		f.Class = p.stringLit()
		if p.acceptKw("LANGUAGE") {
			if !p.isKw("GO", "JAVA", "SCALA", "PYTHON") {
				p.expected("GO, JAVA, SCALA or PYTHON")
			}
			f.Language = p.next().upper
		}
		return f
	case !temporary && p.acceptKw("CATALOG"):
		c := &ast.CreateCatalog{Pos: pos, IfNotExists: p.ifNotExists(), Name: p.ident()}
		if p.acceptKw("COMMENT") {
			c.Comment = p.stringPtr()
		}
		p.expectKw("WITH")
		c.Options = p.options()
		return c
	case !temporary && p.acceptKw("DATABASE"):
		d := &ast.CreateDatabase{Pos: pos, IfNotExists: p.ifNotExists(), Name: p.name()}
		if p.acceptKw("COMMENT") {
			d.Comment = p.stringPtr()
		}
		if p.acceptKw("WITH") {
			d.Options = p.options()
		}
		return d
	}
	switch {
	case system:
		p.expected("FUNCTION")
	case temporary:
		p.expected("TABLE, VIEW or FUNCTION")
	default:
		p.expected("TABLE, VIEW, FUNCTION, CATALOG or DATABASE")
	}
	return nil
}

// createTable parses the rest of CREATE TABLE, or of [CREATE OR] REPLACE
// TABLE (replace: no IF NOT EXISTS, no LIKE, and AS query required).
func (p *parser) createTable(pos ast.Pos, temporary, replace bool) *ast.CreateTable {
	ct := &ast.CreateTable{Pos: pos, Temporary: temporary}
	if !replace {
		ct.IfNotExists = p.ifNotExists()
	}
	ct.Name = p.name()
	if p.acceptOp("(") {
		for {
			p.tableElement(ct)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if p.acceptKw("COMMENT") {
		ct.Comment = p.stringPtr()
	}
	if p.acceptKws("PARTITIONED", "BY") {
		ct.PartitionedBy = p.parenIdents()
	}
	if p.acceptKw("WITH") {
		ct.Options = p.options()
	}
	if replace {
		p.expectKw("AS")
		ct.AsQuery = p.query()
		return ct
	}
	if p.isKw("LIKE") {
		l := &ast.LikeClause{Pos: p.pos()}
		p.i++
		l.Source = p.name()
		if p.acceptOp("(") {
			for !p.isOp(")") {
				o := &ast.LikeOption{Pos: p.pos()}
				if !p.isKw("INCLUDING", "EXCLUDING", "OVERWRITING") {
					p.expected("INCLUDING, EXCLUDING or OVERWRITING")
				}
				o.Strategy = p.next().upper
				if !p.isKw("ALL", "CONSTRAINTS", "GENERATED", "METADATA", "OPTIONS",
					"PARTITIONS", "WATERMARKS") {
					p.expected("ALL, CONSTRAINTS, GENERATED, METADATA, OPTIONS, PARTITIONS or WATERMARKS")
				}
				o.Feature = p.next().upper
				l.Options = append(l.Options, o)
			}
			p.expectOp(")")
		}
		ct.Like = l
	}
	if p.acceptKw("AS") {
		ct.AsQuery = p.query()
	}
	return ct
}

func (p *parser) tableElement(ct *ast.CreateTable) {
	pos := p.pos()
	switch {
	case p.isKw("WATERMARK"):
		p.i++
		p.expectKw("FOR")
		w := &ast.Watermark{Pos: pos, Column: p.name()}
		p.expectKw("AS")
		w.Expr = p.expr()
		ct.Watermarks = append(ct.Watermarks, w)
		return
	case p.isKw("CONSTRAINT") || p.isKw("PRIMARY"):
		if ct.PrimaryKey != nil {
			p.fail("duplicate primary key")
		}
		ct.PrimaryKey = p.primaryKey(true)
		return
	}
	c := &ast.ColumnDef{Pos: pos, Name: p.ident()}
	if p.isOp(",") || p.isOp(")") {
		// A name alone: CREATE TABLE ... AS SELECT orders the query's
		// columns so (the binder refuses it elsewhere).
		ct.Columns = append(ct.Columns, c)
		return
	}
	if p.acceptKw("AS") {
		c.Kind = ast.ComputedColumn
		c.Expr = p.expr()
	} else {
		c.Type = p.dataType()
		if p.acceptKw("METADATA") {
			c.Kind = ast.MetadataColumn
			if p.acceptKw("FROM") {
				c.MetadataKey = p.stringPtr()
			}
			c.Virtual = p.acceptKw("VIRTUAL")
		}
		if p.isKw("CONSTRAINT") || p.isKw("PRIMARY") {
			c.PrimaryKey = p.primaryKey(false)
		}
	}
	if p.acceptKw("COMMENT") {
		c.Comment = p.stringPtr()
	}
	ct.Columns = append(ct.Columns, c)
}

func (p *parser) primaryKey(tableLevel bool) *ast.PrimaryKey {
	pk := &ast.PrimaryKey{Pos: p.pos()}
	if p.acceptKw("CONSTRAINT") {
		pk.Name = p.ident()
	}
	p.expectKw("PRIMARY", "KEY")
	if tableLevel {
		pk.Columns = p.parenIdents()
	}
	pk.NotEnforced = p.acceptKws("NOT", "ENFORCED")
	return pk
}

// options parses ( 'k' = 'v', .. ).
func (p *parser) options() []*ast.Option {
	p.expectOp("(")
	opts := []*ast.Option{}
	for !p.isOp(")") {
		o := &ast.Option{Pos: p.pos(), Key: p.stringLit()}
		p.expectOp("=")
		o.Value = p.stringLit()
		opts = append(opts, o)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return opts
}

func (p *parser) drop() *ast.Drop {
	d := &ast.Drop{Pos: p.pos()}
	p.expectKw("DROP")
	d.Temporary = p.acceptKw("TEMPORARY")
	d.System = d.Temporary && p.acceptKw("SYSTEM")
	switch {
	case p.isKw("FUNCTION"), !d.System && p.isKw("TABLE", "VIEW"),
		!d.Temporary && p.isKw("DATABASE", "CATALOG"):
		d.Object = p.next().upper
	case d.System:
		p.expected("FUNCTION")
	case d.Temporary:
		p.expected("TABLE, VIEW or FUNCTION")
	default:
		p.expected("TABLE, VIEW, FUNCTION, DATABASE or CATALOG")
	}
	d.IfExists = p.acceptKws("IF", "EXISTS")
	d.Name = p.name()
	if d.Object == "DATABASE" {
		d.Restrict = p.acceptKw("RESTRICT")
		d.Cascade = !d.Restrict && p.acceptKw("CASCADE")
	}
	return d
}

func (p *parser) show() *ast.Show {
	s := &ast.Show{Pos: p.pos()}
	p.expectKw("SHOW")
	listing := false
	switch {
	case p.isKw("CATALOGS", "DATABASES", "TABLES", "VIEWS", "FUNCTIONS", "MODULES", "JARS"):
		s.Object = p.next().upper
		listing = s.Object != "MODULES" && s.Object != "JARS"
	case p.acceptKw("COLUMNS"):
		s.Object, listing = "COLUMNS", true
		if !p.acceptKw("FROM") && !p.acceptKw("IN") {
			p.expected("FROM or IN")
		}
		s.From = p.name()
	case p.acceptKws("USER", "FUNCTIONS"):
		s.User, s.Object, listing = true, "FUNCTIONS", true
	case p.acceptKws("FULL", "MODULES"):
		s.Object = "FULL MODULES"
	case p.acceptKws("CURRENT", "CATALOG"):
		s.Object = "CURRENT CATALOG"
	case p.acceptKws("CURRENT", "DATABASE"):
		s.Object = "CURRENT DATABASE"
	case p.acceptKws("CREATE", "TABLE"):
		s.Object, s.Name = "CREATE TABLE", p.name()
	case p.acceptKws("CREATE", "VIEW"):
		s.Object, s.Name = "CREATE VIEW", p.name()
	case p.acceptKws("CREATE", "CATALOG"):
		s.Object, s.Name = "CREATE CATALOG", p.name()
	default:
		p.expected("CATALOGS, DATABASES, TABLES, VIEWS, FUNCTIONS, COLUMNS, MODULES, JARS, CURRENT or CREATE")
	}
	if !listing {
		return s
	}
	if s.From == nil && s.Object != "CATALOGS" && (p.acceptKw("FROM") || p.acceptKw("IN")) {
		s.From = p.name()
	}
	s.NotLike = p.acceptKw("NOT")
	switch {
	case p.acceptKw("LIKE"):
	case p.acceptKw("ILIKE"):
		s.ILike = true
	default:
		if s.NotLike {
			p.expected("LIKE or ILIKE")
		}
		return s
	}
	s.Like = p.stringPtr()
	return s
}

var explainDetails = []string{"ESTIMATED_COST", "CHANGELOG_MODE", "JSON_EXECUTION_PLAN",
	"PLAN_ADVICE"}

func (p *parser) explain() *ast.Explain {
	e := &ast.Explain{Pos: p.pos()}
	p.expectKw("EXPLAIN")
	if p.acceptKws("PLAN", "FOR") {
		e.PlanFor = true
	} else if p.isKw(explainDetails...) {
		for {
			if !p.isKw(explainDetails...) {
				p.expected(strings.Join(explainDetails, ", "))
			}
			e.Details = append(e.Details, p.next().upper)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.isKw("STATEMENT") {
		// EXPLAIN STATEMENT SET BEGIN .. END: the same as EXPLAIN EXECUTE
		// STATEMENT SET (Flink's FLIP-528).
		pos := p.pos()
		p.expectKw("STATEMENT", "SET", "BEGIN")
		e.Stmt = p.statementSet(pos, true)
		return e
	}
	if !p.isKw("SELECT", "WITH", "VALUES", "INSERT", "EXECUTE") && !p.isOp("(") {
		p.expected("query, INSERT, STATEMENT SET or EXECUTE STATEMENT SET")
	}
	e.Stmt = p.statement()
	return e
}
