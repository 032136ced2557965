package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/weirstream/weir/sql/ast"
)

// This file holds Flink's catalog and database namespace (CatalogManager
// with GenericInMemoryCatalogs): identifiers of 1, 2 or 3 parts qualified
// with the current catalog and database, CREATE/DROP/ALTER DATABASE,
// CREATE/DROP CATALOG and USE [CATALOG], with Flink's messages.

// ObjectID is the full identifier of a table or view (Flink's
// ObjectIdentifier).
type ObjectID struct {
	Catalog, Database, Name string
}

func objectID(catalog, database, name string) ObjectID {
	if catalog == "" {
		catalog, database = DefaultCatalog, DefaultDatabase
	}
	return ObjectID{Catalog: catalog, Database: database, Name: name}
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// String returns the identifier as Flink prints it:
// `catalog`.`database`.`name`.
func (id ObjectID) String() string {
	return quoteIdent(id.Catalog) + "." + quoteIdent(id.Database) + "." + quoteIdent(id.Name)
}

// Summary returns catalog.database.name unquoted (Flink's
// asSummaryString).
func (id ObjectID) Summary() string { return id.Catalog + "." + id.Database + "." + id.Name }

// IsDefault reports whether the object is in the built-in default
// database (default_catalog.default_database).
func (id ObjectID) IsDefault() bool {
	return id.Catalog == DefaultCatalog && id.Database == DefaultDatabase
}

// Namespace is a catalog and one of its databases.
type Namespace struct {
	Catalog, Database string
}

func (ns Namespace) id(name string) ObjectID { return objectID(ns.Catalog, ns.Database, name) }

// Database is a database of a catalog (CREATE DATABASE).
type Database struct {
	Name    string
	Comment *string
	Options map[string]string
}

// catalogEntry is a catalog: the built-in one, or one of CREATE CATALOG
// (a GenericInMemoryCatalog), with its options and databases.
type catalogEntry struct {
	name string
	// options are CREATE CATALOG's WITH options; nil for the built-in
	// catalog, which is not in Flink's catalog store.
	options   map[string]string
	comment   *string
	defaultDB string
	dbs       map[string]*Database
}

// GenericInMemory is the catalog type of CREATE CATALOG Weir supports.
const GenericInMemory = "generic_in_memory"

// Current returns the current catalog and database.
func (c *Catalog) Current() Namespace { return c.current }

// Qualify returns the full identifier of a name of 1, 2 or 3 parts
// relative to the current catalog and database (Flink's
// CatalogManager.qualifyIdentifier).
func (c *Catalog) Qualify(n *ast.Name) (ObjectID, error) { return c.QualifyIn(n, c.current) }

// QualifyIn is Qualify relative to ns.
func (c *Catalog) QualifyIn(n *ast.Name, ns Namespace) (ObjectID, error) {
	p := n.Parts
	switch len(p) {
	case 1:
		return ObjectID{ns.Catalog, ns.Database, p[0].Name}, nil
	case 2:
		return ObjectID{ns.Catalog, p[0].Name, p[1].Name}, nil
	case 3:
		return ObjectID{p[0].Name, p[1].Name, p[2].Name}, nil
	}
	return ObjectID{}, fmt.Errorf("sql: %s: an identifier has at most 3 parts (catalog.database.object)", n)
}

// databaseName resolves a database name of 1 or 2 parts ([catalog.]db);
// what names the statement for the error of a longer one (Flink's
// "create database identifier format error").
func (c *Catalog) databaseName(n *ast.Name, what string) (Namespace, error) {
	switch len(n.Parts) {
	case 1:
		return Namespace{c.current.Catalog, n.Parts[0].Name}, nil
	case 2:
		return Namespace{n.Parts[0].Name, n.Parts[1].Name}, nil
	}
	return Namespace{}, fmt.Errorf("sql: %s database identifier format error", what)
}

func (c *Catalog) catalog(name string) (*catalogEntry, error) {
	cat, ok := c.catalogs[name]
	if !ok {
		return nil, fmt.Errorf("sql: Catalog %s does not exist", name)
	}
	return cat, nil
}

// DatabaseExists reports whether a catalog has a database.
func (c *Catalog) DatabaseExists(ns Namespace) bool {
	cat, ok := c.catalogs[ns.Catalog]
	if !ok {
		return false
	}
	_, ok = cat.dbs[ns.Database]
	return ok
}

// CheckDatabase returns Flink's error of listing the objects of a missing
// catalog or database (SHOW TABLES FROM db), or nil.
func (c *Catalog) CheckDatabase(ns Namespace) error {
	cat, err := c.catalog(ns.Catalog)
	if err != nil {
		return err
	}
	if _, ok := cat.dbs[ns.Database]; !ok {
		return fmt.Errorf("sql: Database %s does not exist", ns.Database)
	}
	return nil
}

// DatabaseNamespace resolves a [catalog.]database name as SHOW TABLES
// FROM|IN takes it.
func (c *Catalog) DatabaseNamespace(n *ast.Name) (Namespace, error) {
	ns, err := c.databaseName(n, "show")
	if err != nil {
		return Namespace{}, err
	}
	return ns, c.CheckDatabase(ns)
}

// CreateDatabase runs CREATE DATABASE [IF NOT EXISTS] [catalog.]db
// [COMMENT ..] [WITH (..)].
func (c *Catalog) CreateDatabase(n *ast.CreateDatabase) error {
	ns, err := c.databaseName(n.Name, "create")
	if err != nil {
		return err
	}
	cat, err := c.catalog(ns.Catalog)
	if err != nil {
		return err
	}
	if _, ok := cat.dbs[ns.Database]; ok {
		if n.IfNotExists {
			return nil
		}
		return fmt.Errorf("sql: Database %s already exists in Catalog %s.", ns.Database, ns.Catalog)
	}
	db := &Database{Name: ns.Database, Comment: n.Comment, Options: map[string]string{}}
	for _, o := range n.Options {
		db.Options[o.Key] = o.Value
	}
	cat.dbs[ns.Database] = db
	return nil
}

// DropDatabase runs DROP DATABASE [IF EXISTS] [catalog.]db
// [RESTRICT|CASCADE]: a database that holds tables, views or functions
// (catalogFuncs reports whether it holds catalog functions) is dropped
// only with CASCADE, which drops them too; the current database is not
// dropped. Temporary objects stay, as in Flink.
func (c *Catalog) DropDatabase(n *ast.Drop, catalogFuncs func(ns Namespace, drop bool) bool) error {
	ns, err := c.databaseName(n.Name, "drop")
	if err != nil {
		return err
	}
	if ns == c.current {
		return fmt.Errorf("sql: Cannot drop a database which is currently in use.")
	}
	cat, ok := c.catalogs[ns.Catalog]
	if !ok {
		return fmt.Errorf("sql: Catalog %s does not exist.", ns.Catalog)
	}
	if _, ok := cat.dbs[ns.Database]; !ok {
		if n.IfExists {
			return nil
		}
		return fmt.Errorf("sql: Database %s does not exist in Catalog %s.", ns.Database, ns.Catalog)
	}
	var objs []ObjectID
	for id, t := range c.tables {
		if !t.Temporary && id.Catalog == ns.Catalog && id.Database == ns.Database {
			objs = append(objs, id)
		}
	}
	var views []ObjectID
	for id, v := range c.views {
		if !v.Temporary && id.Catalog == ns.Catalog && id.Database == ns.Database {
			views = append(views, id)
		}
	}
	empty := len(objs) == 0 && len(views) == 0 && (catalogFuncs == nil || !catalogFuncs(ns, false))
	if !empty && !n.Cascade {
		return fmt.Errorf("sql: Database %s in catalog %s is not empty.", ns.Database, ns.Catalog)
	}
	for _, id := range objs {
		delete(c.tables, id)
	}
	for _, id := range views {
		delete(c.views, id)
	}
	if catalogFuncs != nil {
		catalogFuncs(ns, true)
	}
	delete(cat.dbs, ns.Database)
	return nil
}

// AlterDatabase runs ALTER DATABASE [catalog.]db SET (..): the options
// are merged into the database's; its comment stays.
func (c *Catalog) AlterDatabase(n *ast.AlterDatabase) error {
	ns, err := c.databaseName(n.Name, "alter")
	if err != nil {
		return err
	}
	cat, err := c.catalog(ns.Catalog)
	if err != nil {
		return err
	}
	db, ok := cat.dbs[ns.Database]
	if !ok {
		return fmt.Errorf("sql: Database %s does not exist in Catalog %s.", ns.Database, ns.Catalog)
	}
	for _, o := range n.Options {
		db.Options[o.Key] = o.Value
	}
	return nil
}

// DatabaseOptions returns the options ALTER DATABASE set on the default
// database.
func (c *Catalog) DatabaseOptions() map[string]string {
	db, ok := c.Database(Namespace{DefaultCatalog, DefaultDatabase})
	if !ok {
		return map[string]string{}
	}
	return maps.Clone(db.Options)
}

// Database returns a database.
func (c *Catalog) Database(ns Namespace) (*Database, bool) {
	cat, ok := c.catalogs[ns.Catalog]
	if !ok {
		return nil, false
	}
	db, ok := cat.dbs[ns.Database]
	return db, ok
}

// DatabaseNames returns the names of a catalog's databases, sorted.
func (c *Catalog) DatabaseNames(catalog string) ([]string, error) {
	cat, err := c.catalog(catalog)
	if err != nil {
		return nil, err
	}
	n := slices.Collect(maps.Keys(cat.dbs))
	sort.Strings(n)
	return n, nil
}

// CatalogNames returns the catalogs' names, sorted.
func (c *Catalog) CatalogNames() []string {
	n := slices.Collect(maps.Keys(c.catalogs))
	sort.Strings(n)
	return n
}

// UseCatalog runs USE CATALOG name: the catalog becomes current, and its
// default database.
func (c *Catalog) UseCatalog(name string) error {
	cat, ok := c.catalogs[name]
	if !ok {
		return fmt.Errorf("sql: A catalog with name [%s] does not exist.", name)
	}
	if name != c.current.Catalog {
		c.current = Namespace{name, cat.defaultDB}
	}
	return nil
}

// UseDatabase runs USE [catalog.]db. Unlike Flink, which switches the
// catalog before it finds the database missing, a failing USE changes
// nothing.
func (c *Catalog) UseDatabase(n *ast.Name) error {
	ns, err := c.databaseName(n, "use")
	if err != nil {
		return err
	}
	if _, ok := c.catalogs[ns.Catalog]; !ok {
		return fmt.Errorf("sql: A catalog with name [%s] does not exist.", ns.Catalog)
	}
	if !c.DatabaseExists(ns) {
		return fmt.Errorf("sql: A database with name [%s] does not exist in the catalog: [%s].", ns.Database, ns.Catalog)
	}
	c.current = ns
	return nil
}

// CreateCatalog runs CREATE CATALOG [IF NOT EXISTS] name [COMMENT ..]
// WITH (..): only the 'generic_in_memory' type, whose option
// 'default-database' (default "default") names the database it starts
// with.
func (c *Catalog) CreateCatalog(n *ast.CreateCatalog) error {
	name := n.Name.Name
	if _, ok := c.catalogs[name]; ok {
		if n.IfNotExists {
			return nil
		}
		return fmt.Errorf("sql: Catalog %s already exists.", name)
	}
	opts := map[string]string{}
	for _, o := range n.Options {
		opts[o.Key] = o.Value
	}
	typ, ok := opts["type"]
	if !ok {
		return fmt.Errorf("sql: Unable to create catalog '%s'. Catalog options do not contain an option key 'type' for discovering a catalog.", name)
	}
	if typ != GenericInMemory {
		return fmt.Errorf("sql: Unable to create catalog '%s'. Could not find any factory for identifier '%s' that implements 'org.apache.flink.table.factories.CatalogFactory'. Available factory identifiers are: %s (Weir has only the in-memory catalog)", name, typ, GenericInMemory)
	}
	var bad []string
	for k := range opts {
		switch k {
		case "type", "default-database", "property-version":
		default:
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("sql: Unable to create catalog '%s'. Unsupported options found for '%s'. Unsupported options: %s. Supported options: default-database, property-version, type", name, typ, strings.Join(bad, ", "))
	}
	def := opts["default-database"]
	if def == "" {
		def = "default"
	}
	c.catalogs[name] = &catalogEntry{name: name, options: opts, comment: n.Comment, defaultDB: def,
		dbs: map[string]*Database{def: {Name: def, Options: map[string]string{}}}}
	return nil
}

// DropCatalog runs DROP CATALOG [IF EXISTS] name: its databases and
// permanent objects go with it (temporary objects stay, as in Flink).
func (c *Catalog) DropCatalog(n *ast.Drop) error {
	if len(n.Name.Parts) != 1 {
		return fmt.Errorf("sql: %s: a catalog name has one part", n.Name)
	}
	name := n.Name.Parts[0].Name
	if _, ok := c.catalogs[name]; !ok {
		if n.IfExists {
			return nil
		}
		return fmt.Errorf("sql: Catalog %s does not exist.", name)
	}
	if name == c.current.Catalog {
		return fmt.Errorf("sql: Cannot drop a catalog which is currently in use.")
	}
	for id, t := range c.tables {
		if id.Catalog == name && !t.Temporary {
			delete(c.tables, id)
		}
	}
	for id, v := range c.views {
		if id.Catalog == name && !v.Temporary {
			delete(c.views, id)
		}
	}
	delete(c.catalogs, name)
	return nil
}

// CatalogDescriptor returns the options and comment CREATE CATALOG gave
// a catalog, and false for the built-in catalog or a missing one (Flink's
// catalog store holds only those of CREATE CATALOG).
func (c *Catalog) CatalogDescriptor(name string) (map[string]string, *string, bool) {
	cat, ok := c.catalogs[name]
	if !ok || cat.options == nil {
		return nil, nil, false
	}
	return maps.Clone(cat.options), cat.comment, true
}

// ViewQuery binds a view's query in the namespace it was created in.
func (b *Binder) ViewQuery(v *View) (Rel, error) {
	saved := b.scope
	if v.Scope != (Namespace{}) {
		b.scope = &v.Scope
	}
	defer func() { b.scope = saved }()
	return b.Query(v.Query)
}

// UIDName is the name operator uids derive from: the table's name for a
// table of the built-in default database (the uids jobs had before
// catalogs and databases, so their savepoints restore), else its full
// identifier, so that equal names in two databases do not collide.
func (t *Table) UIDName() string {
	if id := t.ID(); !id.IsDefault() {
		return id.Summary()
	}
	return t.Name
}

// AlterCatalog runs ALTER CATALOG name SET (..) | RESET (..) | COMMENT
// '..' on a catalog of CREATE CATALOG (Flink's catalog store holds only
// those); the options must still make a generic_in_memory catalog, whose
// databases stay.
func (c *Catalog) AlterCatalog(n *ast.AlterCatalog) error {
	name := n.Name.Name
	cat, ok := c.catalogs[name]
	if !ok || cat.options == nil {
		return fmt.Errorf("sql: Catalog %s does not exist in the catalog store.", name)
	}
	opts := maps.Clone(cat.options)
	switch n.Action {
	case "SET":
		for _, o := range n.Options {
			opts[o.Key] = o.Value
		}
	case "RESET":
		for _, k := range n.ResetKeys {
			if k == "type" {
				return fmt.Errorf("sql: ALTER CATALOG RESET does not support changing 'type'")
			}
			delete(opts, k)
		}
	case "COMMENT":
		cat.comment = n.Comment
		return nil
	}
	probe := &ast.CreateCatalog{Pos: n.Pos, Name: n.Name}
	for k, v := range opts {
		probe.Options = append(probe.Options, &ast.Option{Key: k, Value: v})
	}
	check := NewCatalog()
	if err := check.CreateCatalog(probe); err != nil {
		return err
	}
	cat.options = opts
	// Flink opens a new (empty) in-memory catalog; Weir keeps the
	// databases, and adds the new default database.
	if def := check.catalogs[name].defaultDB; def != cat.defaultDB {
		cat.defaultDB = def
		if _, ok := cat.dbs[def]; !ok {
			cat.dbs[def] = &Database{Name: def, Options: map[string]string{}}
		}
	}
	return nil
}

// CatalogExists reports whether the catalog name exists.
func (c *Catalog) CatalogExists(name string) bool {
	_, ok := c.catalogs[name]
	return ok
}
