package plan

import (
	"fmt"
	"sort"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// Default catalog and database names, as Flink's.
const (
	DefaultCatalog  = "default_catalog"
	DefaultDatabase = "default_database"
)

// ColumnKind is the kind of a table column.
type ColumnKind int

// Column kinds of CREATE TABLE.
const (
	Physical ColumnKind = iota
	Metadata
	Computed
)

// Table is a table of the catalog (CREATE TABLE).
type Table struct {
	Name string
	// Columns in declaration order (physical, metadata and computed).
	Columns []Column
	Kinds   []ColumnKind
	// MetadataKeys holds, for metadata columns, the connector's key
	// (METADATA FROM 'key', or the column name); Virtual marks VIRTUAL
	// metadata columns (read-only: not written by sinks).
	MetadataKeys []string
	Virtual      []bool
	// Computed holds, for computed columns, the expression over the
	// source row (the physical columns, then the metadata columns).
	Computed []expr.Expr
	// Rowtime is the column of WATERMARK FOR, or -1; Watermark is its
	// expression over Columns.
	Rowtime   int
	Watermark expr.Expr
	// PrimaryKey holds column indexes (NOT ENFORCED), or nil.
	PrimaryKey []int
	// PartitionKeys holds the indexes of the PARTITIONED BY columns (all
	// physical), in their order, or nil.
	PartitionKeys []int
	Options       map[string]string
	Temporary     bool
	// SourceMode is the changelog mode the connector produces (set by the
	// session from the connector).
	SourceMode Mode
	// NestedPushDown: the connector produces fields of nested ROWs as
	// flat columns (connector.NestedProjectionPushDown; set by the
	// session), so the planner pushes projections into its scans.
	NestedPushDown bool
	// SourceRowtime: the connector attaches the rowtime to every row
	// itself (connector.RowtimePushDown; set by the session), so the
	// rowtime is not evaluated per row and needs no column of a scan.
	SourceRowtime bool
	// PushDown is what the connector's source takes of a scan's WHERE
	// clause (filters, partitions; set by the session), or nil.
	PushDown *SourcePushDown
	// DDL is the statement that created the table (or, after ALTER
	// TABLE, its definition as altered).
	DDL *ast.CreateTable
	// Expanded is the table's definition with a LIKE clause merged in
	// and an inline primary key made a table constraint: what ALTER
	// TABLE changes (alter.go).
	Expanded *ast.CreateTable
}

// Path returns catalog, database and name.
func (t *Table) Path() []string { return []string{DefaultCatalog, DefaultDatabase, t.Name} }

// PhysicalSchema returns the physical columns, in order.
func (t *Table) PhysicalSchema() row.Schema {
	var s row.Schema
	for i, c := range t.Columns {
		if t.Kinds[i] == Physical {
			s.Columns = append(s.Columns, row.Field{Name: c.Name, Type: c.Type})
		}
	}
	return s
}

// SourceColumns returns the physical then the metadata columns: the row
// a source connector produces.
func (t *Table) SourceColumns() []int {
	var idx []int
	for _, k := range []ColumnKind{Physical, Metadata} {
		for i := range t.Columns {
			if t.Kinds[i] == k {
				idx = append(idx, i)
			}
		}
	}
	return idx
}

// View is a named query (CREATE VIEW).
type View struct {
	Name      string
	Query     ast.QueryExpr
	Columns   []string // explicit column names, or nil
	Temporary bool
	DDL       *ast.CreateView
}

// Catalog holds a session's tables and views (names are case sensitive,
// as in Flink). It is not safe for concurrent use.
type Catalog struct {
	tables map[string]*Table
	views  map[string]*View
	// dbOptions are the default database's options (ALTER DATABASE).
	dbOptions map[string]string
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{tables: map[string]*Table{}, views: map[string]*View{}}
}

// objectName resolves a possibly qualified name to the object's own name,
// accepting only the default catalog and database as qualifiers.
func objectName(n *ast.Name) (string, error) {
	parts := make([]string, len(n.Parts))
	for i, p := range n.Parts {
		parts[i] = p.Name
	}
	switch len(parts) {
	case 1:
		return parts[0], nil
	case 2:
		if parts[0] == DefaultDatabase {
			return parts[1], nil
		}
	case 3:
		if parts[0] == DefaultCatalog && parts[1] == DefaultDatabase {
			return parts[2], nil
		}
	}
	return "", fmt.Errorf("sql: %s: only the catalog %s and database %s exist", n, DefaultCatalog, DefaultDatabase)
}

// Table returns a table by name.
func (c *Catalog) Table(name string) (*Table, bool) {
	t, ok := c.tables[name]
	return t, ok
}

// View returns a view by name.
func (c *Catalog) View(name string) (*View, bool) {
	v, ok := c.views[name]
	return v, ok
}

// AddTable adds a table; it is an error if a table or view has the name
// (unless ifNotExists, then nothing happens).
func (c *Catalog) AddTable(t *Table, ifNotExists bool) error {
	if c.exists(t.Name) {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Table or view `%s`.`%s`.`%s` already exists", DefaultCatalog, DefaultDatabase, t.Name)
	}
	c.tables[t.Name] = t
	return nil
}

// AddView adds a view, as AddTable.
func (c *Catalog) AddView(v *View, ifNotExists bool) error {
	if c.exists(v.Name) {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Table or view `%s`.`%s`.`%s` already exists", DefaultCatalog, DefaultDatabase, v.Name)
	}
	c.views[v.Name] = v
	return nil
}

func (c *Catalog) exists(name string) bool {
	_, t := c.tables[name]
	_, v := c.views[name]
	return t || v
}

// Drop removes a table (view false) or view; missing is an error unless
// ifExists.
func (c *Catalog) Drop(name string, view, ifExists bool) error {
	m := "Table"
	var ok bool
	if view {
		_, ok = c.views[name]
		delete(c.views, name)
		m = "View"
	} else {
		_, ok = c.tables[name]
		delete(c.tables, name)
	}
	if !ok && !ifExists {
		return fmt.Errorf("sql: %s with identifier '%s.%s.%s' does not exist", m, DefaultCatalog, DefaultDatabase, name)
	}
	return nil
}

// TableNames returns the table names, sorted (SHOW TABLES lists views too,
// as Flink does).
func (c *Catalog) TableNames(withViews bool) []string {
	var n []string
	for k := range c.tables {
		n = append(n, k)
	}
	if withViews {
		for k := range c.views {
			n = append(n, k)
		}
	}
	sort.Strings(n)
	return n
}

// ViewNames returns the view names, sorted.
func (c *Catalog) ViewNames() []string {
	var n []string
	for k := range c.views {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
