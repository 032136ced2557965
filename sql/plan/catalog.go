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
	// tables and views are the permanent ones by full identifier;
	// tempTables and tempViews the temporary ones, which, as in Flink's
	// CatalogManager, shadow a permanent object of their identifier.
	tables     map[ObjectID]*Table
	views      map[ObjectID]*View
	tempTables map[ObjectID]*Table
	tempViews  map[ObjectID]*View
	// catalogs are the catalogs by name: the built-in one and those of
	// CREATE CATALOG.
	catalogs map[string]*catalogEntry
	// current is the namespace of USE CATALOG and USE.
	current Namespace
}

// NewCatalog returns a catalog holding the built-in catalog
// default_catalog with the empty database default_database, current.
func NewCatalog() *Catalog {
	c := &Catalog{tables: map[ObjectID]*Table{}, views: map[ObjectID]*View{},
		tempTables: map[ObjectID]*Table{}, tempViews: map[ObjectID]*View{}, catalogs: map[string]*catalogEntry{}}
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

// lookup returns the table or view an identifier names: a temporary one,
// which shadows a permanent one of its identifier, else the permanent
// one (Flink's CatalogManager.getTable).
func (c *Catalog) lookup(id ObjectID) (*Table, *View) {
	if t, ok := c.tempTables[id]; ok {
		return t, nil
	}
	if v, ok := c.tempViews[id]; ok {
		return nil, v
	}
	return c.tables[id], c.views[id]
}

// TableAt returns a table by full identifier (a temporary table or view
// shadows a permanent table).
func (c *Catalog) TableAt(id ObjectID) (*Table, bool) {
	t, _ := c.lookup(id)
	return t, t != nil
}

// ViewAt returns a view by full identifier, as TableAt.
func (c *Catalog) ViewAt(id ObjectID) (*View, bool) {
	_, v := c.lookup(id)
	return v, v != nil
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
	if err := c.checkExists(id, t.Temporary); err != nil {
		if ifNotExists {
			return nil
		}
		return err
	}
	if t.Temporary {
		c.tempTables[id] = t
	} else {
		c.tables[id] = t
	}
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
	if err := c.checkExists(id, v.Temporary); err != nil {
		if ifNotExists {
			return nil
		}
		return err
	}
	if v.Temporary {
		c.tempViews[id] = v
	} else {
		c.views[id] = v
	}
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

// checkExists refuses to create a temporary object where a temporary one
// is, or a permanent one where a permanent one is (Flink's CatalogManager:
// a temporary table or view may take a permanent one's identifier, and
// shadows it).
func (c *Catalog) checkExists(id ObjectID, temporary bool) error {
	if temporary {
		if c.tempExistsAt(id) {
			return fmt.Errorf("sql: Temporary table '%s' already exists", id)
		}
		return nil
	}
	if c.permExistsAt(id) {
		return fmt.Errorf("sql: Table or view %s already exists", id)
	}
	return nil
}

// existsAt reports whether a table or view, temporary or permanent, has
// the identifier.
func (c *Catalog) existsAt(id ObjectID) bool { return c.tempExistsAt(id) || c.permExistsAt(id) }

func (c *Catalog) tempExistsAt(id ObjectID) bool {
	_, t := c.tempTables[id]
	_, v := c.tempViews[id]
	return t || v
}

func (c *Catalog) permExistsAt(id ObjectID) bool {
	_, t := c.tables[id]
	_, v := c.views[id]
	return t || v
}

// Drop removes a table (view false) or view of the current database; a
// missing one is an error unless ifExists.
func (c *Catalog) Drop(name string, view, ifExists bool) error {
	return c.DropAt(c.current.id(name), view, ifExists)
}

// DropAt removes a table (view false) or view by full identifier, as Drop:
// the temporary one if there is one, else the permanent one.
func (c *Catalog) DropAt(id ObjectID, view, ifExists bool) error {
	_, tt := c.tempTables[id]
	_, tv := c.tempViews[id]
	if view && tv || !view && tt {
		return c.DropTemporaryAt(id, view, ifExists)
	}
	return c.DropPermanentAt(id, view, ifExists)
}

// DropPermanentAt removes a permanent table (view false) or view (DROP
// TABLE|VIEW): as Flink's CatalogManager, not while a temporary one of
// its kind has the identifier; a missing one is an error unless ifExists.
func (c *Catalog) DropPermanentAt(id ObjectID, view, ifExists bool) error {
	kind, m := "table", "Table"
	if view {
		kind, m = "view", "View"
	}
	if _, tt := c.tempTables[id]; tt && !view {
		return fmt.Errorf("sql: Temporary %s with identifier '%s' exists. Drop it first before removing the permanent %s.", kind, id, kind)
	}
	if _, tv := c.tempViews[id]; tv && view {
		return fmt.Errorf("sql: Temporary %s with identifier '%s' exists. Drop it first before removing the permanent %s.", kind, id, kind)
	}
	// The object the identifier names (a temporary one of the other kind
	// shadows the permanent one) must be of the statement's kind.
	t, v := c.lookup(id)
	var ok bool
	if view && v != nil {
		ok = true
		delete(c.views, id)
	} else if !view && t != nil {
		ok = true
		delete(c.tables, id)
	}
	if !ok && !ifExists {
		return fmt.Errorf("sql: %s with identifier '%s' does not exist", m, id.Summary())
	}
	return nil
}

// DropTemporaryAt removes a temporary table (view false) or view (DROP
// TEMPORARY TABLE|VIEW); a missing one is an error unless ifExists, with
// Flink's message.
func (c *Catalog) DropTemporaryAt(id ObjectID, view, ifExists bool) error {
	var ok bool
	kind := "table"
	if view {
		kind = "view"
		_, ok = c.tempViews[id]
		delete(c.tempViews, id)
	} else {
		_, ok = c.tempTables[id]
		delete(c.tempTables, id)
	}
	if !ok && !ifExists {
		return fmt.Errorf("sql: Temporary %s with identifier '%s' does not exist.", kind, id.Summary())
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
	seen := map[string]bool{}
	for _, m := range []map[ObjectID]*Table{c.tables, c.tempTables} {
		for id := range m {
			if id.Catalog == ns.Catalog && id.Database == ns.Database && !seen[id.Name] {
				seen[id.Name] = true
				n = append(n, id.Name)
			}
		}
	}
	if withViews {
		for _, v := range c.ViewNamesIn(ns) {
			if !seen[v] {
				seen[v] = true
				n = append(n, v)
			}
		}
	}
	sort.Strings(n)
	return n
}

// ViewNames returns the names of the current database's views, sorted.
func (c *Catalog) ViewNames() []string { return c.ViewNamesIn(c.current) }

// ViewNamesIn returns the names of a database's views, sorted.
func (c *Catalog) ViewNamesIn(ns Namespace) []string {
	var n []string
	seen := map[string]bool{}
	for _, m := range []map[ObjectID]*View{c.views, c.tempViews} {
		for id := range m {
			if id.Catalog == ns.Catalog && id.Database == ns.Database && !seen[id.Name] {
				seen[id.Name] = true
				n = append(n, id.Name)
			}
		}
	}
	sort.Strings(n)
	return n
}
