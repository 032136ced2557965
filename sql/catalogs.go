package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/plan"
)

// This file holds the session's side of Flink's catalogs and databases
// (plan/catalogs.go): the catalog functions a database holds, SHOW
// CREATE CATALOG, and views bound in their own namespace.

// catalogFunctions reports whether the database ns holds catalog
// functions (not temporary ones), and with drop removes them (DROP
// DATABASE .. CASCADE; temporary catalog functions stay, as temporary
// tables do).
func (s *Session) catalogFunctions(ns plan.Namespace, drop bool) bool {
	fs := s.funcs.names.CatalogFunctionsIn(ns)
	if drop {
		s.funcs.names.DropCatalogFunctionsIn(ns)
	}
	return len(fs) > 0
}

// checkFunctionDatabase checks that the catalog and database of a catalog
// function exist (Flink's FunctionCatalog.registerCatalogFunction and
// GenericInMemoryCatalog.createFunction).
func (s *Session) checkFunctionDatabase(id plan.ObjectID) error {
	if !s.cat.CatalogExists(id.Catalog) {
		return fmt.Errorf("sql: Catalog %s not exists.", id.Catalog)
	}
	if !s.cat.DatabaseExists(plan.Namespace{Catalog: id.Catalog, Database: id.Database}) {
		return fmt.Errorf("sql: Could not register catalog function '%s.%s.%s': Database %s does not exist in Catalog %s.", id.Catalog, id.Database, id.Name, id.Database, id.Catalog)
	}
	return nil
}

// showCreateCatalog is SHOW CREATE CATALOG name as Flink's ShowCreateUtil
// prints it, for a catalog of CREATE CATALOG.
func (s *Session) showCreateCatalog(n *ast.Show) (*Result, *Job, error) {
	name := n.Name.String()
	if len(n.Name.Parts) == 1 {
		name = n.Name.Parts[0].Name
	}
	opts, comment, ok := s.cat.CatalogDescriptor(name)
	if !ok {
		return nil, nil, fmt.Errorf("sql: Cannot obtain metadata information from Catalog %s.", name)
	}
	var b strings.Builder
	b.WriteString("CREATE CATALOG " + quoteAll(name) + "\n")
	if comment != nil {
		b.WriteString(commentClause(*comment) + "\n")
	}
	if len(opts) > 0 {
		keys := make([]string, 0, len(opts))
		for k := range opts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		lines := make([]string, len(keys))
		for i, k := range keys {
			lines[i] = showIndent + ast.QuoteString(k) + " = " + ast.QuoteString(opts[k])
		}
		b.WriteString("WITH (\n" + strings.Join(lines, ",\n") + "\n)\n")
	}
	return &Result{Text: b.String()}, nil, nil
}

// viewQuery binds a view's query in the namespace it was created in.
func (s *Session) viewQuery(v *plan.View) (plan.Rel, error) {
	return s.binder().ViewQuery(v)
}

// describeCatalog is DESCRIBE CATALOG [EXTENDED] name as Flink's
// DescribeCatalogOperation: name, type and comment, and with EXTENDED
// the other options sorted, for a catalog of CREATE CATALOG.
func (s *Session) describeCatalog(n *ast.Describe) (*Result, *Job, error) {
	name := n.Name.String()
	if len(n.Name.Parts) == 1 {
		name = n.Name.Parts[0].Name
	}
	opts, comment, ok := s.cat.CatalogDescriptor(name)
	if !ok {
		return nil, nil, fmt.Errorf("sql: Cannot obtain metadata information from Catalog %s.", name)
	}
	res := &Result{Schema: row.NewSchema(row.Col("info name", row.String()), row.Col("info value", row.String()))}
	c := row.Null()
	if comment != nil {
		c = row.Str(*comment)
	}
	res.Rows = append(res.Rows,
		row.Of(row.Str("name"), row.Str(name)),
		row.Of(row.Str("type"), row.Str(opts["type"])),
		row.Of(row.Str("comment"), c))
	if n.Extended {
		keys := make([]string, 0, len(opts))
		for k := range opts {
			if k != "type" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			res.Rows = append(res.Rows, row.Of(row.Str("option:"+k), row.Str(opts[k])))
		}
	}
	return res, nil, nil
}
