package sql

import (
	"strings"

	"github.com/weirstream/weir/sql/ast"
)

// JobName names the job of st as Flink does: 'pipeline.name' when set,
// else insert-into_ and the sink tables' full identifiers (qualified by
// the session's current catalog and database) for an INSERT or statement
// set, else none.
func (s *Session) JobName(st ast.Statement, none string) string {
	if n := s.Config().Get("pipeline.name"); n != "" {
		return n
	}
	var sinks []string
	add := func(ins *ast.Insert) {
		if ins == nil || ins.Table == nil {
			return
		}
		name := "default_catalog.default_database." + ins.Table.Last().Name
		if id, err := s.Catalog().Qualify(ins.Table); err == nil {
			name = id.Summary()
		}
		sinks = append(sinks, name)
	}
	switch n := st.(type) {
	case *ast.Insert:
		add(n)
	case *ast.StatementSet:
		for _, ins := range n.Inserts {
			add(ins)
		}
	}
	if len(sinks) == 0 {
		return none
	}
	return "insert-into_" + strings.Join(sinks, ",")
}
