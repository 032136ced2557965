package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/plan"
)

// SHOW CREATE TABLE and SHOW CREATE VIEW print the statement as Flink's
// ShowCreateUtil builds it: the table's full identifier back-quoted, one
// column per line (types in their serializable form, VARCHAR(2147483647)
// for STRING; computed columns as AS expr; metadata columns as METADATA
// [FROM 'key'] [VIRTUAL]), the watermark, the primary key constraint
// (named as Flink generates it, PK_<hash of the columns>, unless named
// in the DDL or by ALTER TABLE ADD), COMMENT, PARTITIONED BY,
// and the options sorted by key.

const showIndent = "  "

func quoteAll(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func commentClause(c string) string { return "COMMENT " + ast.QuoteString(c) }

// showCreateTable returns Flink's SHOW CREATE TABLE text of t.
func showCreateTable(t *plan.Table) string {
	def := tableDef(t)
	byName := map[string]*ast.ColumnDef{}
	for _, c := range def.Columns {
		byName[c.Name.Name] = c
	}
	var b strings.Builder
	b.WriteString("CREATE ")
	if t.Temporary {
		b.WriteString("TEMPORARY ")
	}
	b.WriteString("TABLE " + t.ID().String() + " (\n")
	var lines []string
	for i, c := range t.Columns {
		d := byName[c.Name]
		var l strings.Builder
		l.WriteString(showIndent + quoteAll(c.Name) + " ")
		switch t.Kinds[i] {
		case plan.Computed:
			if d != nil && d.Expr != nil {
				l.WriteString("AS " + ast.FormatQuoted(d.Expr))
			} else {
				l.WriteString("AS " + t.Computed[i].String())
			}
		case plan.Metadata:
			l.WriteString(c.Type.SerializableString() + " METADATA")
			if d != nil && d.MetadataKey != nil {
				l.WriteString(" FROM " + ast.QuoteString(*d.MetadataKey))
			}
			if t.Virtual[i] {
				l.WriteString(" VIRTUAL")
			}
		default:
			l.WriteString(c.Type.SerializableString())
		}
		if d != nil && d.Comment != nil && *d.Comment != "" {
			l.WriteString(" " + commentClause(*d.Comment))
		}
		lines = append(lines, l.String())
	}
	for _, w := range def.Watermarks {
		lines = append(lines, showIndent+"WATERMARK FOR "+quoteAll(w.Column.Last().Name)+" AS "+ast.FormatQuoted(w.Expr))
	}
	if len(t.PrimaryKey) > 0 {
		var cols []string
		for _, k := range t.PrimaryKey {
			cols = append(cols, t.Columns[k].Name)
		}
		// Unnamed in CREATE TABLE: Flink's generated name (PK_3599338 for
		// `user`); ALTER TABLE ADD names its key PK_<columns> in the DDL.
		name := plan.GeneratedPrimaryKeyName(cols)
		if pk := pkConstraint(def); pk != nil && pk.Name != nil {
			name = pk.Name.Name
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = quoteAll(c)
		}
		lines = append(lines, fmt.Sprintf("%sCONSTRAINT %s PRIMARY KEY (%s) NOT ENFORCED", showIndent, quoteAll(name), strings.Join(quoted, ", ")))
	}
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n)\n")
	if def.Comment != nil && *def.Comment != "" {
		b.WriteString(commentClause(*def.Comment) + "\n")
	}
	if len(t.PartitionKeys) > 0 {
		var ps []string
		for _, k := range t.PartitionKeys {
			ps = append(ps, quoteAll(t.Columns[k].Name))
		}
		b.WriteString("PARTITIONED BY (" + strings.Join(ps, ", ") + ")\n")
	}
	if len(t.Options) > 0 {
		keys := make([]string, 0, len(t.Options))
		for k := range t.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		opts := make([]string, len(keys))
		for i, k := range keys {
			opts[i] = showIndent + ast.QuoteString(k) + " = " + ast.QuoteString(t.Options[k])
		}
		b.WriteString("WITH (\n" + strings.Join(opts, ",\n") + "\n)\n")
	}
	return b.String()
}

// pkConstraint returns the primary key constraint of a definition: the
// table constraint, or an inline one on a column.
func pkConstraint(def *ast.CreateTable) *ast.PrimaryKey {
	if def.PrimaryKey != nil {
		return def.PrimaryKey
	}
	for _, c := range def.Columns {
		if c.PrimaryKey != nil {
			return c.PrimaryKey
		}
	}
	return nil
}

// showCreateView returns Flink's SHOW CREATE VIEW text of v: its column
// names, then AS and its query. Flink prints the expanded query, the one
// its validator wrote at CREATE VIEW, whose table names are full
// identifiers; Weir prints the query as written with each table or view
// name made the full identifier it resolves to in the view's namespace
// (identifiers back-quoted). Flink's expansion also qualifies columns and
// expands *; Weir's does not.
func showCreateView(v *plan.View, cols []string) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if v.Temporary {
		b.WriteString("TEMPORARY ")
	}
	b.WriteString("VIEW " + v.ID().String() + " (\n")
	lines := make([]string, len(cols))
	for i, c := range cols {
		lines[i] = showIndent + quoteAll(c)
	}
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n)\n")
	if v.DDL != nil && v.DDL.Comment != nil && *v.DDL.Comment != "" {
		b.WriteString(commentClause(*v.DDL.Comment) + "\n")
	}
	b.WriteString("AS " + expandedQuery(v) + "\n")
	return b.String()
}

// expandedQuery formats v's query with its table and view names made full
// identifiers in v's namespace (names of WITH items stay as written).
func expandedQuery(v *plan.View) string {
	ns := v.Scope
	if ns == (plan.Namespace{}) {
		ns = plan.Namespace{Catalog: plan.DefaultCatalog, Database: plan.DefaultDatabase}
	}
	ctes := map[string]bool{}
	var names []*ast.Name
	ast.Inspect(v.Query, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CTE:
			ctes[x.Name.Name] = true
		case *ast.TableName:
			names = append(names, x.Name)
		}
		return true
	})
	// Format a copy of each name's parts, then put the originals back:
	// the view's query stays as written.
	saved := make([][]*ast.Ident, len(names))
	for i, n := range names {
		saved[i] = n.Parts
		if len(n.Parts) == 1 && ctes[n.Parts[0].Name] || len(n.Parts) > 3 {
			continue
		}
		full := []string{ns.Catalog, ns.Database}[:3-len(n.Parts)]
		parts := make([]*ast.Ident, 0, 3)
		for _, f := range full {
			parts = append(parts, &ast.Ident{Pos: n.Pos, Name: f})
		}
		n.Parts = append(parts, n.Parts...)
	}
	out := ast.FormatQuoted(v.Query)
	for i, n := range names {
		n.Parts = saved[i]
	}
	return out
}

// filterNames keeps the names that match a SHOW statement's [NOT]
// LIKE|ILIKE pattern (all without one).
func filterNames(n *ast.Show, names []string) []string {
	if n.Like == nil {
		return names
	}
	var kept []string
	for _, x := range names {
		if likeMatch(x, *n.Like, n.ILike) != n.NotLike {
			kept = append(kept, x)
		}
	}
	return kept
}

// showFrom resolves the FROM|IN [catalog.]database of SHOW
// TABLES|VIEWS (the current database without one), as Flink's
// SqlShowTablesConverter and CatalogManager.listTables.
func (s *Session) showFrom(n *ast.Show) (plan.Namespace, error) {
	if n.From == nil {
		return s.cat.Current(), nil
	}
	parts := n.From.Parts
	if len(parts) > 2 {
		return plan.Namespace{}, fmt.Errorf("sql: SHOW %s FROM/IN identifier [ %s ] format error, it should be [catalog_name.]database_name.", n.Object, n.From)
	}
	ns := plan.Namespace{Catalog: s.cat.Current().Catalog, Database: parts[len(parts)-1].Name}
	if len(parts) == 2 {
		ns.Catalog = parts[0].Name
	}
	if !s.cat.DatabaseExists(ns) {
		if _, err := s.cat.DatabaseNames(ns.Catalog); err != nil {
			return plan.Namespace{}, err
		}
		return plan.Namespace{}, fmt.Errorf("sql: Database %s does not exist", strings.Join(quotedParts(parts), "."))
	}
	return ns, nil
}

func quotedParts(parts []*ast.Ident) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = quoteAll(p.Name)
	}
	return out
}

// showColumns is SHOW COLUMNS FROM|IN t [[NOT] LIKE|ILIKE 'p']: DESCRIBE's
// rows of the columns whose names match.
func (s *Session) showColumns(n *ast.Show) (*Result, *Job, error) {
	if n.From == nil {
		return nil, nil, fmt.Errorf("sql: SHOW COLUMNS needs FROM or IN and a table")
	}
	res, _, err := s.describe(&ast.Describe{Pos: n.Pos, Name: n.From})
	if err != nil {
		return nil, nil, err
	}
	if n.Like != nil {
		var kept []row.Row
		for _, r := range res.Rows {
			if likeMatch(r.Fields[0].Str(), *n.Like, n.ILike) != n.NotLike {
				kept = append(kept, r)
			}
		}
		res.Rows = kept
	}
	return res, nil, nil
}
