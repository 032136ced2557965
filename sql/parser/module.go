package parser

import (
	"github.com/weirstream/weir/sql/ast"
)

// The module statements (Flink's parserImpls.ftl SqlLoadModule,
// SqlUnloadModule, SqlUseModules).

// isModuleStatement reports whether the statement starting here is LOAD
// MODULE, UNLOAD MODULE or USE MODULES.
func (p *parser) isModuleStatement() bool {
	switch {
	case p.isKw("LOAD"), p.isKw("UNLOAD"):
		return p.isKwAt(1, "MODULE")
	case p.isKw("USE"):
		return p.isKwAt(1, "MODULES")
	}
	return false
}

func (p *parser) moduleStatement() ast.Statement {
	pos := p.pos()
	switch {
	case p.acceptKws("LOAD", "MODULE"):
		m := &ast.LoadModule{Pos: pos, Name: p.ident()}
		if p.acceptKw("WITH") {
			m.Options = p.options()
		}
		return m
	case p.acceptKws("UNLOAD", "MODULE"):
		return &ast.UnloadModule{Pos: pos, Name: p.ident()}
	}
	p.expectKw("USE", "MODULES")
	u := &ast.UseModules{Pos: pos, Names: []*ast.Ident{p.ident()}}
	for p.acceptOp(",") {
		u.Names = append(u.Names, p.ident())
	}
	return u
}
