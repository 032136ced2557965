package plan

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/weirstream/weir/sql/ast"
)

// This file holds ALTER TABLE and ALTER VIEW as Flink's planner runs them
// (AlterSchemaConverter and the ALTER converters): the table's definition
// is changed as a CREATE TABLE statement and bound again, so every rule
// of CREATE TABLE holds for the result.

// alterPrefix starts the errors of a schema change, as Flink's.
const alterPrefix = "Failed to execute ALTER TABLE statement.\n"

// expandDDL returns a table's definition with what LIKE brought merged in
// (cols, wms, pk, parts and opts are the merged lists) and an inline
// primary key made a table constraint (keeping its name).
func expandDDL(ct *ast.CreateTable, cols []*ast.ColumnDef, wms []*ast.Watermark, pk *ast.PrimaryKey, parts []*ast.Ident, opts map[string]string) *ast.CreateTable {
	e := &ast.CreateTable{Pos: ct.Pos, Temporary: ct.Temporary, Name: ct.Name, Comment: ct.Comment,
		Watermarks: wms, PartitionedBy: parts, PrimaryKey: pk}
	for _, c := range cols {
		if c.PrimaryKey != nil {
			e.PrimaryKey = &ast.PrimaryKey{Pos: c.PrimaryKey.Pos, Name: c.PrimaryKey.Name,
				Columns: []*ast.Ident{c.Name}, NotEnforced: c.PrimaryKey.NotEnforced}
			cc := *c
			cc.PrimaryKey = nil
			c = &cc
		}
		e.Columns = append(e.Columns, c)
	}
	// The options in their written order; those LIKE brought (not
	// overwritten) first, sorted.
	written := map[string]bool{}
	for _, o := range ct.Options {
		written[o.Key] = true
	}
	var inherited []string
	for k := range opts {
		if !written[k] {
			inherited = append(inherited, k)
		}
	}
	sort.Strings(inherited)
	e.Options = []*ast.Option{}
	for _, k := range inherited {
		e.Options = append(e.Options, &ast.Option{Pos: ct.Pos, Key: k, Value: opts[k]})
	}
	seen := map[string]int{}
	for _, o := range ct.Options {
		if i, dup := seen[o.Key]; dup {
			e.Options[i] = o // the last value wins, as in the bound table
			continue
		}
		seen[o.Key] = len(e.Options)
		e.Options = append(e.Options, o)
	}
	return e
}

// alreadyExists is Flink's error of renaming onto an existing table or view.
func alreadyExists(id ObjectID) error {
	return fmt.Errorf("sql: Table (or view) %s.%s already exists in Catalog %s.", id.Database, id.Name, id.Catalog)
}

// AlterTable runs ALTER TABLE: it returns the table as altered, bound as
// CREATE TABLE binds it, and the name it had; the caller replaces the
// table in the catalog (Catalog.ReplaceTable). A missing or temporary
// table with IF EXISTS gives a nil table and no error (Flink's no-op).
func (b *Binder) AlterTable(n *ast.AlterTable) (*Table, ObjectID, error) {
	id, err := b.qualify(n.Name)
	if err != nil {
		return nil, ObjectID{}, err
	}
	name := id
	old, isTable := b.cat.TableAt(id)
	v, isView := b.cat.ViewAt(id)
	if !isTable && !isView || isTable && old.Temporary || isView && v.Temporary {
		if n.IfExists {
			return nil, name, nil
		}
		return nil, name, fmt.Errorf("sql: Table %s doesn't exist or is a temporary table.", id)
	}
	if isView {
		return nil, name, fmt.Errorf("sql: ALTER TABLE for a view is not allowed")
	}
	base := old.Expanded
	if base == nil {
		base = old.DDL
	}
	if base == nil || base.Like != nil {
		return nil, name, fmt.Errorf("sql: table %s has no definition ALTER TABLE can change", name)
	}
	def := *base
	def.Temporary, def.IfNotExists = false, false
	def.Columns = slices.Clone(def.Columns)
	def.Options = slices.Clone(def.Options)
	switch n.Action {
	case ast.AlterRenameTable:
		newID, err := b.qualify(n.NewName)
		if err != nil {
			return nil, name, err
		}
		// Flink's catalogs rename within the table's database.
		newID = ObjectID{id.Catalog, id.Database, newID.Name}
		if b.cat.existsAt(newID) {
			return nil, name, alreadyExists(newID)
		}
		def.Name = n.NewName
	case ast.AlterSetOptions:
		for _, o := range n.Options {
			if i := slices.IndexFunc(def.Options, func(d *ast.Option) bool { return d.Key == o.Key }); i >= 0 {
				def.Options[i] = o
			} else {
				def.Options = append(def.Options, o)
			}
		}
	case ast.AlterResetOptions:
		switch {
		case len(n.ResetKeys) == 0:
			return nil, name, fmt.Errorf("sql: ALTER TABLE RESET does not support empty key")
		case slices.Contains(n.ResetKeys, "connector"):
			return nil, name, fmt.Errorf("sql: ALTER TABLE RESET does not support changing 'connector'")
		}
		def.Options = slices.DeleteFunc(def.Options, func(o *ast.Option) bool { return slices.Contains(n.ResetKeys, o.Key) })
	case ast.AlterAdd, ast.AlterModify:
		if err := alterSchema(&def, n); err != nil {
			return nil, name, err
		}
	case ast.AlterDropColumns:
		if err := dropColumns(&def, n); err != nil {
			return nil, name, err
		}
	case ast.AlterDropPrimaryKey, ast.AlterDropConstraint:
		if def.PrimaryKey == nil {
			return nil, name, errAt(n, alterPrefix+"The base table does not define any primary key.")
		}
		if n.Action == ast.AlterDropConstraint {
			if pkName := constraintName(def.PrimaryKey); n.Constraint.Name != pkName {
				return nil, name, errAt(n.Constraint, alterPrefix+"The base table does not define a primary key constraint named '%s'. Available constraint name: ['%s'].", n.Constraint.Name, pkName)
			}
		}
		def.PrimaryKey = nil
	case ast.AlterDropWatermark:
		if len(def.Watermarks) == 0 {
			return nil, name, errAt(n, alterPrefix+"The base table does not define any watermark strategy.")
		}
		def.Watermarks = nil
	case ast.AlterRenameColumn:
		refs := newReferences(&def)
		if err := refs.check(n.Column); err != nil {
			return nil, name, err
		}
		if columnDef(&def, n.NewColumn.Name) >= 0 {
			return nil, name, errAt(n.NewColumn, alterPrefix+"The column `%s` already existed in table schema.", n.NewColumn.Name)
		}
		i := columnDef(&def, n.Column.Name)
		c := *def.Columns[i]
		c.Name = n.NewColumn
		def.Columns[i] = &c
		if pk := def.PrimaryKey; pk != nil {
			npk := *pk
			npk.Columns = slices.Clone(pk.Columns)
			for j, k := range npk.Columns {
				if k.Name == n.Column.Name {
					npk.Columns[j] = n.NewColumn
				}
			}
			if npk.Name == nil {
				// The generated name stays the one of the key as created.
				npk.Name = &ast.Ident{Pos: pk.Pos, Name: constraintName(pk)}
			}
			def.PrimaryKey = &npk
		}
	}
	t, err := b.CreateTable(&def)
	if err != nil {
		if n.Action == ast.AlterAdd || n.Action == ast.AlterModify || n.Action == ast.AlterRenameColumn || n.Action == ast.AlterDropColumns {
			return nil, name, errAt(n, "%s%s", alterPrefix, strings.TrimPrefix(err.Error(), "sql: "))
		}
		return nil, name, err
	}
	t.DDL = &def
	return t, name, nil
}

// columnDef returns the index of the named column of def, or -1.
func columnDef(def *ast.CreateTable, name string) int {
	return slices.IndexFunc(def.Columns, func(c *ast.ColumnDef) bool { return c.Name.Name == name })
}

// constraintName is a primary key's name: the one written, or the one
// Flink generates for CREATE TABLE (PK_ and the Java hash code of the
// list of column names).
func constraintName(pk *ast.PrimaryKey) string {
	if pk.Name != nil {
		return pk.Name.Name
	}
	h := int32(1)
	for _, c := range pk.Columns {
		h = 31*h + javaStringHash(c.Name)
	}
	return "PK_" + strconv.Itoa(int(h))
}

// javaStringHash is Java's String.hashCode (over UTF-16 code units).
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// escape quotes a name as Flink's EncodingUtils.escapeIdentifier.
func escape(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// references are the dependencies between a table's columns that make
// dropping or renaming a column an error: computed columns, partition
// keys and the watermark refer to columns.
type references struct {
	def *ast.CreateTable
	// by maps a column to the computed columns referring to it; uses maps
	// a computed column to the columns it refers to.
	by, uses  map[string]map[string]bool
	watermark map[string]bool
	parts     map[string]bool
	columns   map[string]bool
}

// referredColumns returns the table columns an expression refers to.
func referredColumns(e ast.Expr, columns map[string]bool) map[string]bool {
	out := map[string]bool{}
	ast.Inspect(e, func(n ast.Node) bool {
		if r, ok := n.(*ast.ColumnRef); ok && len(r.Parts) > 0 && columns[r.Parts[0].Name] {
			out[r.Parts[0].Name] = true
		}
		return true
	})
	return out
}

func newReferences(def *ast.CreateTable) *references {
	r := &references{def: def, by: map[string]map[string]bool{}, uses: map[string]map[string]bool{},
		watermark: map[string]bool{}, parts: map[string]bool{}, columns: map[string]bool{}}
	for _, c := range def.Columns {
		r.columns[c.Name.Name] = true
	}
	for _, c := range def.Columns {
		if c.Kind != ast.ComputedColumn {
			continue
		}
		r.uses[c.Name.Name] = referredColumns(c.Expr, r.columns)
		for used := range r.uses[c.Name.Name] {
			if r.by[used] == nil {
				r.by[used] = map[string]bool{}
			}
			r.by[used][c.Name.Name] = true
		}
	}
	for _, w := range def.Watermarks {
		r.watermark[w.Column.Parts[0].Name] = true
		for c := range referredColumns(w.Expr, r.columns) {
			r.watermark[c] = true
		}
	}
	for _, p := range def.PartitionedBy {
		r.parts[p.Name] = true
	}
	return r
}

// check fails when the column does not exist or something refers to it.
func (r *references) check(col *ast.Ident) error {
	name := col.Name
	if !r.columns[name] {
		return errAt(col, alterPrefix+"The column `%s` does not exist in the base table.", name)
	}
	if by := r.by[name]; len(by) > 0 {
		var names []string
		for c := range by {
			names = append(names, escape(c))
		}
		sort.Strings(names)
		return errAt(col, alterPrefix+"The column %s is referenced by computed column %s.", escape(name), strings.Join(names, ", "))
	}
	if r.parts[name] {
		return errAt(col, alterPrefix+"The column `%s` is used as the partition keys.", name)
	}
	if r.watermark[name] {
		return errAt(col, alterPrefix+"The column `%s` is referenced by watermark expression.", name)
	}
	return nil
}

// drop removes a column from the references, after check.
func (r *references) drop(col *ast.Ident) error {
	if err := r.check(col); err != nil {
		return err
	}
	if r.def.PrimaryKey != nil && slices.ContainsFunc(r.def.PrimaryKey.Columns, func(k *ast.Ident) bool { return k.Name == col.Name }) {
		return errAt(col, alterPrefix+"The column %s is used as the primary key.", escape(col.Name))
	}
	for used := range r.uses[col.Name] {
		delete(r.by[used], col.Name)
	}
	delete(r.uses, col.Name)
	delete(r.columns, col.Name)
	return nil
}

// dropColumns runs DROP column | (column, ..): the columns referring to
// others are dropped first (so a computed column and what it refers to
// go together).
func dropColumns(def *ast.CreateTable, n *ast.AlterTable) error {
	seen := map[string]bool{}
	for _, c := range n.Drop {
		if seen[c.Name] {
			return errAt(c, alterPrefix+"Duplicate column `%s`.", c.Name)
		}
		seen[c.Name] = true
	}
	refs := newReferences(def)
	order := slices.Clone(n.Drop)
	slices.SortStableFunc(order, func(a, b *ast.Ident) int { return len(refs.uses[b.Name]) - len(refs.uses[a.Name]) })
	for _, c := range order {
		if err := refs.drop(c); err != nil {
			return err
		}
	}
	def.Columns = slices.DeleteFunc(def.Columns, func(c *ast.ColumnDef) bool { return seen[c.Name.Name] })
	return nil
}

// alterSchema runs ADD and MODIFY: columns (placed FIRST, AFTER a column
// or, added, at the end), the watermark and the primary key.
func alterSchema(def *ast.CreateTable, n *ast.AlterTable) error {
	add := n.Action == ast.AlterAdd
	byName := map[string]*ast.ColumnDef{}
	var order []string
	for _, c := range def.Columns {
		byName[c.Name.Name] = c
		order = append(order, c.Name.Name)
	}
	pk := n.PrimaryKey
	altered := map[string]bool{}
	for _, ac := range n.Columns {
		col := ac.Column
		name := col.Name.Name
		if altered[name] {
			return errAt(col.Name, alterPrefix+"Encounter duplicate column `%s`.", name)
		}
		altered[name] = true
		exists := slices.Contains(order, name)
		switch {
		case add && exists:
			return errAt(col.Name, alterPrefix+"Try to add a column `%s` which already exists in the table.", name)
		case !add && !exists:
			return errAt(col.Name, alterPrefix+"Try to modify a column `%s` which does not exist in the table.", name)
		}
		var after string
		if ac.After != nil {
			after = ac.After.Name
			if !slices.Contains(order, after) {
				return errAt(ac.After, alterPrefix+"Referenced column `%s` by 'AFTER' does not exist in the table.", after)
			}
		}
		if !add && (ac.First || ac.After != nil) {
			order = slices.DeleteFunc(order, func(s string) bool { return s == name })
		}
		switch {
		case ac.First:
			order = slices.Insert(order, 0, name)
		case ac.After != nil:
			order = slices.Insert(order, slices.Index(order, after)+1, name)
		case add:
			order = append(order, name)
		}
		nc := *col
		if nc.PrimaryKey != nil {
			// An inline key is the statement's primary key component.
			if pk != nil {
				return errAt(nc.PrimaryKey, alterPrefix+"Duplicate primary key definition")
			}
			pk = &ast.PrimaryKey{Pos: nc.PrimaryKey.Pos, Name: nc.PrimaryKey.Name,
				Columns: []*ast.Ident{nc.Name}, NotEnforced: nc.PrimaryKey.NotEnforced}
			nc.PrimaryKey = nil
		}
		if !add && nc.Comment == nil {
			nc.Comment = byName[name].Comment // MODIFY keeps the comment unless it gives one
		}
		byName[name] = &nc
	}
	if w := n.Watermark; w != nil {
		switch {
		case add && len(def.Watermarks) > 0:
			old := def.Watermarks[0]
			return errAt(w, alterPrefix+"The base table has already defined the watermark strategy `%s` AS %s. You might want to drop it before adding a new one.", old.Column, old.Expr)
		case !add && len(def.Watermarks) == 0:
			return errAt(w, alterPrefix+"The base table does not define any watermark. You might want to add a new one.")
		case len(w.Column.Parts) != 1:
			return errAt(w, alterPrefix+"Watermark strategy on nested column is not supported yet.")
		}
		def.Watermarks = []*ast.Watermark{w}
	}
	if pk != nil {
		switch {
		case add && def.PrimaryKey != nil:
			var cols []string
			for _, c := range def.PrimaryKey.Columns {
				cols = append(cols, c.Name)
			}
			return errAt(pk, alterPrefix+"The base table has already defined the primary key constraint [`%s`]. You might want to drop it before adding a new one.", strings.Join(cols, "`, `"))
		case !add && def.PrimaryKey == nil:
			return errAt(pk, alterPrefix+"The base table does not define any primary key constraint. You might want to add a new one.")
		}
		npk := *pk
		if npk.Name == nil {
			// Flink names a key ALTER TABLE adds PK_ and its columns.
			var cols []string
			for _, c := range pk.Columns {
				cols = append(cols, c.Name)
			}
			npk.Name = &ast.Ident{Pos: pk.Pos, Name: "PK_" + strings.Join(cols, "_")}
		}
		def.PrimaryKey = &npk
	}
	def.Columns = def.Columns[:0:0]
	for _, name := range order {
		def.Columns = append(def.Columns, byName[name])
	}
	return nil
}

// ReplaceTable puts an altered table in the catalog in place of the table
// named old (the names differ after RENAME TO).
func (c *Catalog) ReplaceTable(old ObjectID, t *Table) error {
	t.Catalog, t.Database = old.Catalog, old.Database
	if t.ID() != old && c.existsAt(t.ID()) {
		return alreadyExists(t.ID())
	}
	m := c.tables
	if _, tmp := c.tempTables[old]; tmp {
		m = c.tempTables
	}
	delete(m, old)
	m[t.ID()] = t
	return nil
}

// AlterView runs ALTER VIEW name RENAME TO new_name | AS query, changing
// the catalog.
func (b *Binder) AlterView(n *ast.AlterView) error {
	id, err := b.qualify(n.Name)
	if err != nil {
		return err
	}
	t, isTable := b.cat.TableAt(id)
	v, isView := b.cat.ViewAt(id)
	if !isTable && !isView || isTable && t.Temporary || isView && v.Temporary {
		return fmt.Errorf("sql: View %s doesn't exist or is a temporary view.", id)
	}
	if isTable {
		return fmt.Errorf("sql: ALTER VIEW for a table is not allowed")
	}
	def := *v.DDL
	def.IfNotExists = false
	if n.NewName != nil {
		newID, err := b.qualify(n.NewName)
		if err != nil {
			return err
		}
		newID = ObjectID{id.Catalog, id.Database, newID.Name}
		if b.cat.existsAt(newID) {
			return alreadyExists(newID)
		}
		def.Name = n.NewName
	} else {
		// The new query's columns, the comment kept (Flink's
		// SqlAlterViewAsConverter).
		def.Query, def.Columns = n.Query, nil
	}
	nv, err := b.CreateView(&def)
	if err != nil {
		return err
	}
	// The view stays in its database and keeps the namespace its query
	// resolves in, unless AS gave a new query.
	nv.Catalog, nv.Database = id.Catalog, id.Database
	if n.NewName != nil {
		nv.Scope = v.Scope
	}
	m := b.cat.views
	if _, tmp := b.cat.tempViews[id]; tmp {
		m = b.cat.tempViews
		nv.Temporary = true
	}
	delete(m, id)
	m[nv.ID()] = nv
	return nil
}
