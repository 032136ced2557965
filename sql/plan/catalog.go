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
	// Catalog and Database hold the table (set when it is added to the
	// catalog; empty: the built-in default database).
	Catalog, Database string
}

// Path returns catalog, database and name.
func (t *Table) Path() []string {
	id := t.ID()
	return []string{id.Catalog, id.Database, id.Name}
}

// ID returns the table's full identifier.
func (t *Table) ID() ObjectID { return objectID(t.Catalog, t.Database, t.Name) }

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
	// Catalog and Database hold the view (empty: the built-in default
	// database), as Table's.
	Catalog, Database string
	// Scope is the namespace (the current catalog and database when the
	// view was created) its query's names resolve in, as Flink expands a
	// view's query with the names qualified at CREATE VIEW time.
	Scope Namespace
}

// ID returns the view's full identifier.
func (v *View) ID() ObjectID { return objectID(v.Catalog, v.Database, v.Name) }

// Catalog holds a session's catalogs, their databases and the tables and
// views of those (names are case sensitive, as in Flink), and the current
// catalog and database unqualified names resolve in (catalogs.go). It is
// not safe for concurrent use.
type Catalog struct {
	// tables and views are keyed by full identifier; temporary objects
	// share the namespace of permanent ones.
	tables map[ObjectID]*Table
	views  map[ObjectID]*View
	// catalogs are the catalogs by name: the built-in one and those of
	// CREATE CATALOG.
	catalogs map[string]*catalogEntry
	// current is the namespace of USE CATALOG and USE.
	current Namespace
}

// NewCatalog returns a catalog holding the built-in catalog
// default_catalog with the empty database default_database, current.
func NewCatalog() *Catalog {
	c := &Catalog{tables: map[ObjectID]*Table{}, views: map[ObjectID]*View{}, catalogs: map[string]*catalogEntry{}}
	c.catalogs[DefaultCatalog] = &catalogEntry{name: DefaultCatalog, defaultDB: DefaultDatabase,
		dbs: map[string]*Database{DefaultDatabase: {Name: DefaultDatabase, Options: map[string]string{}}}}
	c.current = Namespace{Catalog: DefaultCatalog, Database: DefaultDatabase}
	return c
}

// Table returns a table of the current database by name.
func (c *Catalog) Table(name string) (*Table, bool) {
	return c.TableAt(c.current.id(name))
}

// View returns a view of the current database by name.
func (c *Catalog) View(name string) (*View, bool) {
	return c.ViewAt(c.current.id(name))
}

// TableAt returns a table by full identifier.
func (c *Catalog) TableAt(id ObjectID) (*Table, bool) {
	t, ok := c.tables[id]
	return t, ok
}

// ViewAt returns a view by full identifier.
func (c *Catalog) ViewAt(id ObjectID) (*View, bool) {
	v, ok := c.views[id]
	return v, ok
}

// AddTable adds a table at its identifier (t.Catalog, t.Database; empty
// ones are the current catalog and database); it is an error if a table
// or view has the identifier (unless ifNotExists, then nothing happens),
// or, for a permanent table, if its database does not exist. As in
// Flink, a temporary table needs no database.
func (c *Catalog) AddTable(t *Table, ifNotExists bool) error {
	if t.Catalog == "" {
		t.Catalog, t.Database = c.current.Catalog, c.current.Database
	}
	id := t.ID()
	if err := c.checkCreate(id, t.Temporary, "CreateTable"); err != nil {
		return err
	}
	if c.existsAt(id) {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Table or view %s already exists", id)
	}
	c.tables[id] = t
	return nil
}

// AddView adds a view, as AddTable.
func (c *Catalog) AddView(v *View, ifNotExists bool) error {
	if v.Catalog == "" {
		v.Catalog, v.Database = c.current.Catalog, c.current.Database
	}
	if v.Scope == (Namespace{}) {
		v.Scope = c.current
	}
	id := v.ID()
	if err := c.checkCreate(id, v.Temporary, "CreateTable"); err != nil {
		return err
	}
	if c.existsAt(id) {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Table or view %s already exists", id)
	}
	c.views[id] = v
	return nil
}

// checkCreate checks that a permanent object's database exists (Flink's
// CatalogManager.execute and GenericInMemoryCatalog.createTable).
func (c *Catalog) checkCreate(id ObjectID, temporary bool, command string) error {
	if temporary {
		return nil
	}
	cat, ok := c.catalogs[id.Catalog]
	if !ok {
		return fmt.Errorf("sql: Catalog %s does not exist.", id.Catalog)
	}
	if _, ok := cat.dbs[id.Database]; !ok {
		return fmt.Errorf("sql: Could not execute %s in path %s: Database %s does not exist in Catalog %s.", command, id, id.Database, id.Catalog)
	}
	return nil
}

func (c *Catalog) existsAt(id ObjectID) bool {
	_, t := c.tables[id]
	_, v := c.views[id]
	return t || v
}

// Drop removes a table (view false) or view of the current database; a
// missing one is an error unless ifExists.
func (c *Catalog) Drop(name string, view, ifExists bool) error {
	return c.DropAt(c.current.id(name), view, ifExists)
}

// DropAt removes a table (view false) or view by full identifier, as Drop.
func (c *Catalog) DropAt(id ObjectID, view, ifExists bool) error {
	m := "Table"
	var ok bool
	if view {
		_, ok = c.views[id]
		delete(c.views, id)
		m = "View"
	} else {
		_, ok = c.tables[id]
		delete(c.tables, id)
	}
	if !ok && !ifExists {
		return fmt.Errorf("sql: %s with identifier '%s' does not exist", m, id.Summary())
	}
	return nil
}

// TableNames returns the names of the current database's tables, sorted
// (SHOW TABLES lists views too, as Flink does).
func (c *Catalog) TableNames(withViews bool) []string {
	return c.TableNamesIn(c.current, withViews)
}

// TableNamesIn returns the names of the tables (and views, if withViews)
// of a database, sorted.
func (c *Catalog) TableNamesIn(ns Namespace, withViews bool) []string {
	var n []string
	for id := range c.tables {
		if id.Catalog == ns.Catalog && id.Database == ns.Database {
			n = append(n, id.Name)
		}
	}
	if withViews {
		n = append(n, c.ViewNamesIn(ns)...)
	}
	sort.Strings(n)
	return n
}

// ViewNames returns the names of the current database's views, sorted.
func (c *Catalog) ViewNames() []string { return c.ViewNamesIn(c.current) }

// ViewNamesIn returns the names of a database's views, sorted.
func (c *Catalog) ViewNamesIn(ns Namespace) []string {
	var n []string
	for id := range c.views {
		if id.Catalog == ns.Catalog && id.Database == ns.Database {
			n = append(n, id.Name)
		}
	}
	sort.Strings(n)
	return n
}
