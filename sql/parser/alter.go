package parser

import "github.com/weirstream/weir/sql/ast"

// alter parses the ALTER statements of Flink's dialect: ALTER TABLE, VIEW, DATABASE,
// CATALOG and FUNCTION.
func (p *parser) alter() ast.Statement {
	pos := p.pos()
	p.expectKw("ALTER")
	temporary := p.acceptKw("TEMPORARY")
	system := temporary && p.acceptKw("SYSTEM")
	switch {
	case p.acceptKw("FUNCTION"):
		f := &ast.AlterFunction{Pos: pos, Temporary: temporary, System: system,
			IfExists: p.acceptKws("IF", "EXISTS")}
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
	case temporary:
		p.expected("FUNCTION")
	case p.acceptKw("TABLE"):
		return p.alterTable(pos)
	case p.acceptKw("VIEW"):
		v := &ast.AlterView{Pos: pos, Name: p.name()}
		switch {
		case p.acceptKw("RENAME"):
			p.expectKw("TO")
			v.NewName = p.name()
		case p.acceptKw("AS"):
			v.Query = p.query()
		default:
			p.expected("RENAME TO or AS")
		}
		return v
	case p.acceptKw("DATABASE"):
		d := &ast.AlterDatabase{Pos: pos, Name: p.name()}
		p.expectKw("SET")
		d.Options = p.options()
		return d
	case p.acceptKw("CATALOG"):
		c := &ast.AlterCatalog{Pos: pos, Name: p.ident()}
		switch {
		case p.acceptKw("SET"):
			c.Action, c.Options = "SET", p.options()
		case p.acceptKw("RESET"):
			c.Action, c.ResetKeys = "RESET", p.resetKeys()
		case p.acceptKw("COMMENT"):
			c.Action, c.Comment = "COMMENT", p.stringPtr()
		default:
			p.expected("SET, RESET or COMMENT")
		}
		return c
	}
	p.expected("TABLE, VIEW, FUNCTION, DATABASE or CATALOG")
	return nil
}

// resetKeys parses ( 'key', .. ), possibly empty.
func (p *parser) resetKeys() []string {
	p.expectOp("(")
	keys := []string{}
	for !p.isOp(")") {
		keys = append(keys, p.stringLit())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return keys
}

func (p *parser) alterTable(pos ast.Pos) *ast.AlterTable {
	a := &ast.AlterTable{Pos: pos, IfExists: p.acceptKws("IF", "EXISTS"), Name: p.name()}
	switch {
	case p.acceptKw("RENAME"):
		if p.acceptKw("TO") {
			a.Action, a.NewName = ast.AlterRenameTable, p.name()
			return a
		}
		a.Action, a.Column = ast.AlterRenameColumn, p.ident()
		p.expectKw("TO")
		a.NewColumn = p.ident()
	case p.acceptKw("SET"):
		a.Action, a.Options = ast.AlterSetOptions, p.options()
	case p.acceptKw("RESET"):
		a.Action, a.ResetKeys = ast.AlterResetOptions, p.resetKeys()
	case p.acceptKw("ADD"):
		a.Action = ast.AlterAdd
		p.schemaComponents(a)
	case p.acceptKw("MODIFY"):
		a.Action = ast.AlterModify
		p.schemaComponents(a)
	case p.acceptKw("DROP"):
		switch {
		case p.acceptKws("PRIMARY", "KEY"):
			a.Action = ast.AlterDropPrimaryKey
		case p.acceptKw("CONSTRAINT"):
			a.Action, a.Constraint = ast.AlterDropConstraint, p.ident()
		case p.acceptKw("WATERMARK"):
			a.Action = ast.AlterDropWatermark
		case p.isOp("("):
			a.Action, a.Paren, a.Drop = ast.AlterDropColumns, true, p.parenIdents()
		default:
			if !p.isIdent() {
				p.expected("column name, (, PRIMARY KEY, CONSTRAINT or WATERMARK")
			}
			a.Action, a.Drop = ast.AlterDropColumns, []*ast.Ident{p.ident()}
		}
	default:
		p.expected("RENAME, SET, RESET, ADD, MODIFY or DROP")
	}
	return a
}

// schemaComponents parses the components of ALTER TABLE ADD|MODIFY: one, or a list in
// parentheses, of columns (with FIRST or AFTER col), a watermark and a primary key.
func (p *parser) schemaComponents(a *ast.AlterTable) {
	a.Paren = p.acceptOp("(")
	for {
		p.schemaComponent(a)
		if !a.Paren || !p.acceptOp(",") {
			break
		}
	}
	if a.Paren {
		p.expectOp(")")
	}
}

func (p *parser) schemaComponent(a *ast.AlterTable) {
	pos := p.pos()
	if p.isKw("WATERMARK") && a.Watermark != nil {
		p.fail("multiple WATERMARK definitions are not supported")
	}
	if (p.isKw("CONSTRAINT") || p.isKw("PRIMARY")) && a.PrimaryKey != nil {
		p.fail("duplicate primary key")
	}
	if p.isIdent() && !p.isKw("WATERMARK") {
		// A column needs a type or AS expression (no bare names, as in CTAS).
		if t := p.peekAt(1); t.kind == tEOF || t.kind == tOp && (t.text == "," || t.text == ")" || t.text == ";") {
			p.i++
			p.expected("data type or AS")
		}
	}
	var ct ast.CreateTable
	p.tableElement(&ct)
	switch {
	case len(ct.Watermarks) > 0:
		a.Watermark = ct.Watermarks[0]
	case ct.PrimaryKey != nil:
		a.PrimaryKey = ct.PrimaryKey
	default:
		c := &ast.AlterColumn{Pos: pos, Column: ct.Columns[0]}
		if p.acceptKw("FIRST") {
			c.First = true
		} else if p.acceptKw("AFTER") {
			c.After = p.ident()
		}
		a.Columns = append(a.Columns, c)
	}
}
