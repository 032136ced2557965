package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// scopeCol is a column visible by name in a scope: the output column Index
// of the current input, visible as Qual.Name (and as Name alone).
type scopeCol struct {
	Qual  string
	Name  string
	Index int
	Type  row.Type
	// merged marks the right-hand column of a JOIN ... USING pair: it is
	// reachable qualified only, and SELECT * lists the pair once.
	merged bool
	// ID is the full identifier of the catalog table or view the column
	// comes from when the FROM item has no alias (else zero): as in
	// Calcite, db.t.c and catalog.db.t.c name the column too.
	ID ObjectID
}

// scope is the set of columns an expression can name: the columns of the
// FROM clause, each with the alias of the table it came from.
type scope struct {
	cols []scopeCol
}

func scopeOf(r Rel, qual string) *scope {
	s := &scope{}
	for i, c := range r.Columns() {
		s.cols = append(s.cols, scopeCol{Qual: qual, Name: c.Name, Index: i, Type: c.Type})
	}
	return s
}

// resolve finds the column a dotted reference names and returns an
// expression for it, with trailing parts as field accesses into ROW
// columns.
func (s *scope) resolve(ref *ast.ColumnRef) (expr.Expr, error) {
	parts := make([]string, len(ref.Parts))
	for i, p := range ref.Parts {
		parts[i] = p.Name
	}
	// A column qualified by the table's catalog and database
	// (catalog.db.t.c, db.t.c), by the longest prefix first as Calcite's
	// DelegatingScope.fullyQualify, then by the table (t.c ...), then a
	// bare column (c.f ...).
	for k := 3; k >= 2; k-- {
		if len(parts) < k+1 {
			continue
		}
		for i := range s.cols {
			c := &s.cols[i]
			if c.ID.Name != "" && idHasSuffix(c.ID, parts[:k]) && c.Name == parts[k] {
				return fieldPath(expr.Ref(c.Index, c.Type), parts[k+1:], ref)
			}
		}
	}
	if len(parts) >= 2 {
		var hit *scopeCol
		for i := range s.cols {
			c := &s.cols[i]
			if c.Qual != "" && c.Qual == parts[0] && c.Name == parts[1] {
				hit = c
				break
			}
		}
		if hit != nil {
			return fieldPath(expr.Ref(hit.Index, hit.Type), parts[2:], ref)
		}
	}
	var hit *scopeCol
	for i := range s.cols {
		c := &s.cols[i]
		if c.Name == parts[0] && !c.merged {
			if hit != nil && hit.Index != c.Index {
				return nil, fmt.Errorf("sql: %s: Column '%s' is ambiguous", pos(ref.Pos), parts[0])
			}
			hit = c
		}
	}
	if hit == nil {
		if len(parts) >= 2 && s.hasQual(parts[0]) {
			return nil, fmt.Errorf("sql: %s: Column '%s' not found in table '%s'", pos(ref.Pos), parts[1], parts[0])
		}
		return nil, fmt.Errorf("sql: %s: Column '%s' not found in any table", pos(ref.Pos), strings.Join(parts, "."))
	}
	return fieldPath(expr.Ref(hit.Index, hit.Type), parts[1:], ref)
}

// idHasSuffix reports whether names (2 or 3 parts) are the last parts of
// id (database.name or catalog.database.name).
func idHasSuffix(id ObjectID, names []string) bool {
	full := []string{id.Catalog, id.Database, id.Name}
	tail := full[len(full)-len(names):]
	for i := range names {
		if tail[i] != names[i] {
			return false
		}
	}
	return true
}

func (s *scope) hasQual(q string) bool {
	for _, c := range s.cols {
		if c.Qual == q {
			return true
		}
	}
	return false
}

func fieldPath(e expr.Expr, fields []string, ref *ast.ColumnRef) (expr.Expr, error) {
	for _, f := range fields {
		var err error
		e, err = expr.NewFieldAccess(e, f)
		if err != nil {
			return nil, fmt.Errorf("sql: %s: %w", pos(ref.Pos), err)
		}
	}
	return e, nil
}

// star expands * (qual empty) or qual.* to column indexes.
func (s *scope) star(qual string) []scopeCol {
	var out []scopeCol
	for _, c := range s.cols {
		if qual == "" && !c.merged || qual != "" && c.Qual == qual {
			out = append(out, c)
		}
	}
	return out
}

// walkExpr calls f on e and every expression below it.
func walkExpr(e expr.Expr, f func(expr.Expr)) {
	if e == nil {
		return
	}
	f(e)
	switch n := e.(type) {
	case *expr.Call:
		for _, a := range n.Args {
			walkExpr(a, f)
		}
	case *expr.Cast:
		walkExpr(n.Arg, f)
	case *expr.Case:
		for i := range n.Whens {
			walkExpr(n.Whens[i], f)
			walkExpr(n.Thens[i], f)
		}
		walkExpr(n.Else, f)
	case *expr.FieldAccess:
		walkExpr(n.Arg, f)
	}
}
