package sql

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
)

// Modules (Flink's ModuleManager). Weir has one module, core: its
// built-in functions. It is always loaded and used; no other module can
// be loaded (Weir has no module factories: Go functions register with
// Session.RegisterFunction and CREATE FUNCTION). The statements answer as
// Flink's ModuleManager does with only the core module, and refuse with
// a message what would take core out of use (Flink allows that, but the
// planner's own operator table would still resolve many built-ins, which
// Weir does not model).

const coreModule = "core"

func (s *Session) moduleStatement(st ast.Statement) (*Result, *Job, error) {
	switch n := st.(type) {
	case *ast.LoadModule:
		if n.Name.Name == coreModule {
			return nil, nil, fmt.Errorf("sql: A module with name '%s' already exists", coreModule)
		}
		return nil, nil, fmt.Errorf("sql: Could not execute LOAD MODULE %s: Could not find any factory for identifier '%s' that implements a module; Weir has one module, %s, its built-in functions (Go functions register with Session.RegisterFunction and CREATE FUNCTION)", n.Name.Name, n.Name.Name, coreModule)
	case *ast.UnloadModule:
		if n.Name.Name != coreModule {
			return nil, nil, fmt.Errorf("sql: No module with name '%s' exists", n.Name.Name)
		}
		return nil, nil, fmt.Errorf("sql: UNLOAD MODULE %s is not supported: Weir's built-in functions are the %s module, which stays loaded", coreModule, coreModule)
	case *ast.UseModules:
		seen := map[string]bool{}
		for _, id := range n.Names {
			if id.Name != coreModule {
				return nil, nil, fmt.Errorf("sql: No module with name '%s' exists", id.Name)
			}
			if seen[id.Name] {
				return nil, nil, fmt.Errorf("sql: Module '%s' appears more than once", id.Name)
			}
			seen[id.Name] = true
		}
		return ok(), nil, nil
	}
	return nil, nil, fmt.Errorf("sql: %T is not a module statement", st)
}

// showModules is SHOW MODULES (the used modules in resolution order) or
// SHOW FULL MODULES (every loaded module and whether it is used).
func showModules(full bool) *Result {
	if !full {
		return nameList("module name", []string{coreModule})
	}
	res := &Result{Schema: row.NewSchema(row.Col("module name", row.String().NotNull()), row.Col("used", row.Boolean().NotNull()))}
	res.Rows = append(res.Rows, row.Of(row.Str(coreModule), row.Bool(true)))
	return res
}
