package plan

import (
	"testing"

	"github.com/weirstream/weir/sql/ast"
)

func name(parts ...string) *ast.Name {
	n := &ast.Name{}
	for _, p := range parts {
		n.Parts = append(n.Parts, &ast.Ident{Name: p})
	}
	return n
}

// TestQualify checks names of 1, 2 and 3 parts against the current
// catalog and database (Flink's CatalogManager.qualifyIdentifier).
func TestQualify(t *testing.T) {
	c := NewCatalog()
	if err := c.CreateDatabase(&ast.CreateDatabase{Name: name("db1")}); err != nil {
		t.Fatal(err)
	}
	if err := c.UseDatabase(name("db1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		parts []string
		want  ObjectID
	}{
		{[]string{"t"}, ObjectID{DefaultCatalog, "db1", "t"}},
		{[]string{"db2", "t"}, ObjectID{DefaultCatalog, "db2", "t"}},
		{[]string{"c", "d", "t"}, ObjectID{"c", "d", "t"}},
	} {
		got, err := c.Qualify(name(tc.parts...))
		if err != nil || got != tc.want {
			t.Errorf("Qualify(%v) = %v, %v; want %v", tc.parts, got, err, tc.want)
		}
	}
	if _, err := c.Qualify(name("a", "b", "c", "d")); err == nil {
		t.Errorf("Qualify of 4 parts: no error")
	}
}

// TestUIDName checks that a table of the default database keeps its
// name as the base of its operators' uids (savepoints of jobs made before
// databases restore), and that a table of another database does not
// share it.
func TestUIDName(t *testing.T) {
	for _, tc := range []struct {
		tab  Table
		want string
	}{
		{Table{Name: "orders"}, "orders"},
		{Table{Name: "orders", Catalog: DefaultCatalog, Database: DefaultDatabase}, "orders"},
		{Table{Name: "orders", Catalog: DefaultCatalog, Database: "db1"}, "default_catalog.db1.orders"},
		{Table{Name: "orders", Catalog: "c", Database: DefaultDatabase}, "c.default_database.orders"},
	} {
		if got := tc.tab.UIDName(); got != tc.want {
			t.Errorf("UIDName(%s.%s.%s) = %q, want %q", tc.tab.Catalog, tc.tab.Database, tc.tab.Name, got, tc.want)
		}
	}
}
