package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/plan"
)

// alter runs the ALTER statements. As in Flink, they change catalog
// objects only: a temporary table or view cannot be altered (ALTER TABLE
// IF EXISTS on one does nothing), and a temporary function neither.
func (s *Session) alter(stmt ast.Statement) (*Result, *Job, error) {
	switch n := stmt.(type) {
	case *ast.AlterTable:
		t, old, err := s.binder().AlterTable(n)
		if err != nil || t == nil {
			return okOr(err)
		}
		if err := s.checkConnector(t); err != nil {
			return nil, nil, err
		}
		return okOr(s.cat.ReplaceTable(old, t))
	case *ast.AlterView:
		return okOr(s.binder().AlterView(n))
	case *ast.AlterDatabase:
		return okOr(s.cat.AlterDatabase(n))
	case *ast.AlterCatalog:
		// Flink alters the catalogs CREATE CATALOG put in its catalog
		// store, not the built-in one.
		if n.Name.Name != plan.DefaultCatalog {
			return okOr(s.cat.AlterCatalog(n))
		}
		return nil, nil, fmt.Errorf("sql: Catalog %s does not exist in the catalog store. (Weir has only the built-in catalog %s, which takes no options.)", n.Name.Name, plan.DefaultCatalog)
	case *ast.AlterFunction:
		return s.alterFunction(n)
	}
	return nil, nil, fmt.Errorf("sql: %T statements are not supported yet", stmt)
}

// alterFunction runs ALTER FUNCTION [IF EXISTS] name AS 'identifier'
// [LANGUAGE GO]: the catalog function's implementation becomes the Go
// function registered under identifier.
func (s *Session) alterFunction(n *ast.AlterFunction) (*Result, *Job, error) {
	switch {
	case n.System:
		return nil, nil, fmt.Errorf("sql: Alter temporary system function is not supported")
	case n.Temporary:
		return nil, nil, fmt.Errorf("sql: Alter temporary catalog function is not supported")
	}
	id, err := s.funcs.names.Qualify(n.Name)
	if err != nil {
		return nil, nil, err
	}
	f, found := s.funcs.names.Catalog(id)
	if !found {
		if n.IfExists {
			return ok(), nil, nil
		}
		return nil, nil, fmt.Errorf("sql: Function %s.%s does not exist in Catalog %s.", id.Database, id.Name, id.Catalog)
	}
	// CREATE FUNCTION's checks (language, registration) on a statement
	// creating the function anew at its identifier.
	create := &ast.CreateFunction{Pos: n.Pos, Name: n.Name, Class: n.Class, Language: n.Language}
	saved := *f
	if err := s.funcs.names.DropCatalog(id, false); err != nil {
		return nil, nil, err
	}
	if _, _, err := s.createFunctionStmt(create); err != nil {
		_ = s.funcs.names.Add(&saved, false)
		return nil, nil, fmt.Errorf("%s", strings.Replace(err.Error(), "CREATE FUNCTION", "ALTER FUNCTION", 1))
	}
	return ok(), nil, nil
}

// tableDef is a table's definition with what LIKE brought (DESCRIBE
// shows an inherited watermark or computed column too).
func tableDef(t *plan.Table) *ast.CreateTable {
	if t.Expanded != nil {
		return t.Expanded
	}
	return t.DDL
}
