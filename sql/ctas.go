package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
)

// createTableAs runs CREATE TABLE ... AS SELECT (CTAS) and [CREATE OR]
// REPLACE TABLE ... AS SELECT (RTAS) as Flink does: the table's schema is
// the query's (time attributes become plain timestamps), the columns the
// CREATE part declares come first, a column named in both parts keeps the
// query's position with the CREATE part's type, names alone reorder the
// query's columns; then the statement is an INSERT INTO the new table.
// As in Flink it is not atomic: the table stays if the INSERT job fails.
// REPLACE drops the existing table first. With IF NOT EXISTS and an
// existing table, the query is inserted into that table.
//
// Everything is planned before the catalog changes: an error leaves it
// as it was.
func (s *Session) createTableAs(n *ast.CreateTable) (*Result, *Job, error) {
	switch {
	case n.Temporary:
		return nil, nil, errAt(n.Pos, "CREATE TABLE AS SELECT syntax does not support to create temporary table yet")
	case len(n.PartitionedBy) > 0:
		return nil, nil, errAt(n.Pos, "CREATE TABLE AS SELECT syntax does not support to create partitioned table yet")
	case n.Like != nil:
		return nil, nil, errAt(n.Pos, "CREATE TABLE AS SELECT syntax does not support LIKE")
	}
	id, err := s.cat.Qualify(n.Name)
	if err != nil {
		return nil, nil, err
	}
	old, exists := s.cat.TableAt(id)
	switch {
	case n.Replace && !exists && !n.CreateOrReplace:
		return nil, nil, errAt(n.Pos, "The table %s to be replaced doesn't exist. You can try to use CREATE TABLE AS statement or CREATE OR REPLACE TABLE AS statement", n.Name)
	case !n.Replace && exists && n.IfNotExists:
		j, err := s.plan(&ast.Insert{Pos: n.Pos, Table: n.Name, Query: n.AsQuery})
		return nil, j, err
	case !n.Replace && exists:
		return nil, nil, errAt(n.Pos, "Table %s already exists", n.Name)
	}
	q, err := s.binder().Query(n.AsQuery)
	if err != nil {
		return nil, nil, err
	}
	ddl, insertCols, err := ctasTable(n, q.Columns())
	if err != nil {
		return nil, nil, err
	}
	t, err := s.binder().CreateTable(ddl)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkConnector(t); err != nil {
		return nil, nil, err
	}
	if exists {
		if err := s.cat.DropAt(id, false, false); err != nil {
			return nil, nil, err
		}
	}
	if err := s.cat.AddTable(t, false); err != nil {
		return nil, nil, err
	}
	// The INSERT takes the query as bound above, before the table was
	// replaced: as in Flink, a query reading the replaced table reads the
	// table as it was.
	j, err := s.planInsertBound(&ast.Insert{Pos: n.Pos, Table: n.Name, Columns: insertCols, Query: n.AsQuery}, q)
	if err != nil {
		// Back to the catalog as it was.
		_ = s.cat.DropAt(id, false, false)
		if exists {
			_ = s.cat.AddTable(old, false)
		}
		return nil, nil, err
	}
	return nil, j, nil
}

// planInsertBound plans an INSERT whose query is already bound (q), as
// plan does an INSERT.
func (s *Session) planInsertBound(ins *ast.Insert, q plan.Rel) (*Job, error) {
	sk, err := s.binder().InsertBound(ins, q)
	if err != nil {
		return nil, err
	}
	if err := s.checkSink(sk); err != nil {
		return nil, err
	}
	j := &Job{sess: s, cfg: s.cfg.Clone(), sinks: []*plan.Sink{sk}}
	if err := j.checkUpdatingInputs(); err != nil {
		return nil, err
	}
	if err := j.optimize(); err != nil {
		return nil, err
	}
	return j, nil
}

// ctasTable returns the CREATE TABLE that a CTAS or RTAS statement makes
// of its query's columns, and the INSERT's column list.
func ctasTable(n *ast.CreateTable, qcols []plan.Column) (*ast.CreateTable, []*ast.Ident, error) {
	ddl := *n
	ddl.AsQuery, ddl.Replace, ddl.CreateOrReplace, ddl.IfNotExists = nil, false, false, false
	inQuery := map[string]int{}
	for i, c := range qcols {
		inQuery[c.Name] = i
	}
	insert := make([]*ast.Ident, len(qcols))
	for i, c := range qcols {
		insert[i] = &ast.Ident{Pos: n.Pos, Name: c.Name}
	}
	queryColumn := func(c plan.Column) (*ast.ColumnDef, error) {
		ty := c.Type
		ty.TimeAttr = row.NoTimeAttr
		dt, err := parser.ParseType(ty.String())
		if err != nil {
			return nil, fmt.Errorf("sql: line %d, column %d: column %s of the query has type %s, which a table cannot declare: %w", n.Line, n.Column, c.Name, ty, err)
		}
		return &ast.ColumnDef{Pos: n.Pos, Name: &ast.Ident{Pos: n.Pos, Name: c.Name}, Kind: ast.PhysicalColumn, Type: dt}, nil
	}

	namesOnly, typed := 0, 0
	for _, c := range n.Columns {
		if c.Kind == ast.PhysicalColumn && c.Type == nil {
			namesOnly++
		} else {
			typed++
		}
	}
	var cols []*ast.ColumnDef
	switch {
	case namesOnly > 0 && typed > 0:
		return nil, nil, errAt(n.Pos, "the columns of CREATE TABLE AS SELECT are either all names alone (to order the query's columns) or all with a data type, not both")
	case namesOnly > 0:
		if len(n.Columns) != len(qcols) {
			return nil, nil, errAt(n.Pos, "%d column names are listed but the query has %d columns (%s): the names alone must list every column of the query", len(n.Columns), len(qcols), queryNames(qcols))
		}
		seen := map[string]bool{}
		for _, c := range n.Columns {
			i, ok := inQuery[c.Name.Name]
			if !ok {
				return nil, nil, errAt(c.Pos, "column %s is not a column of the query (%s)", c.Name.Name, queryNames(qcols))
			}
			if seen[c.Name.Name] {
				return nil, nil, errAt(c.Pos, "column %s is listed twice", c.Name.Name)
			}
			seen[c.Name.Name] = true
			qc, err := queryColumn(qcols[i])
			if err != nil {
				return nil, nil, err
			}
			qc.Pos, qc.Comment = c.Pos, c.Comment
			cols = append(cols, qc)
		}
	default:
		declared := map[string]*ast.ColumnDef{}
		for _, c := range n.Columns {
			if _, ok := inQuery[c.Name.Name]; ok {
				if c.Kind != ast.PhysicalColumn {
					return nil, nil, errAt(c.Pos, "column %s is a column of the query, so it cannot be a computed or metadata column", c.Name.Name)
				}
				declared[c.Name.Name] = c
				continue
			}
			cols = append(cols, c) // only in the CREATE part: first
		}
		for _, qc := range qcols {
			if d := declared[qc.Name]; d != nil {
				cols = append(cols, d) // the query's position, the declared type
				continue
			}
			c, err := queryColumn(qc)
			if err != nil {
				return nil, nil, err
			}
			cols = append(cols, c)
		}
	}
	if n.PrimaryKey != nil {
		for _, k := range n.PrimaryKey.Columns {
			i, ok := inQuery[k.Name]
			if !ok {
				return nil, nil, errAt(k.Pos, "primary key column %s is not a column of the query: CREATE TABLE AS SELECT takes primary keys on the query's columns only", k.Name)
			}
			if qcols[i].Type.Nullable {
				return nil, nil, errAt(k.Pos, "primary key column %s may be NULL in the query (%s): a primary key takes only NOT NULL columns", k.Name, qcols[i].Type)
			}
		}
	}
	ddl.Columns = cols
	return &ddl, insert, nil
}

// errAt is an error at a statement's position, as the binder's.
func errAt(p ast.Pos, format string, args ...any) error {
	return fmt.Errorf("sql: line %d, column %d: %s", p.Line, p.Column, fmt.Sprintf(format, args...))
}

func queryNames(cols []plan.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
