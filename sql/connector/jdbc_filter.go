package connector

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Filter push-down of the jdbc scan (Flink's JdbcDynamicTableSource as a
// SupportsFilterPushDown, with its JdbcFilterPushdownPreparedStatementVisitor):
// a filter the source can write in PostgreSQL's SQL becomes part of the
// scan query's WHERE clause, its literals parameters of the query.
// Flink's connector takes =, <>, <, <=, >, >=, AND, OR, IS [NOT] NULL,
// LIKE and a boolean column, over literals of most types; Weir takes
// those whose answer in PostgreSQL is the one the filter gives in Weir:
//
//   - comparisons of BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, DECIMAL
//     and DATE columns with literals (or columns) of these types:
//     PostgreSQL compares them exactly as Weir does, and a NULL makes
//     the comparison NULL in both, so these are removed from the Calc;
//   - IS NULL and IS NOT NULL of a column of any type, and a BOOLEAN
//     column as a filter;
//   - AND and OR of these;
//   - VARCHAR column = string literal, sent as "col" = $n COLLATE "C":
//     the comparison stays in the Calc as well, as PostgreSQL's answer is
//     a superset of Weir's (a nondeterministic collation may equate more
//     strings). A CHAR(n) column is not: PostgreSQL compares it with text
//     without its trailing spaces, which Weir reads and compares.
//
// Not taken: LIKE (PostgreSQL's LIKE escapes with '\' by default, Weir's
// has no escape character without ESCAPE), string comparisons other
// than = (collations order strings unlike Weir's code-point order), FLOAT
// and DOUBLE (NaN is equal to itself and greater than every number in
// PostgreSQL), TIME and TIMESTAMP (the session time zone of the
// connection and the column's type decide what a value compares with),
// BINARY, and every other function.
//
// The push-down assumes, as the scan does, that each column's declared
// type is the PostgreSQL column's (Flink's JDBC type mapping): a
// comparison of mismatched types fails the query in PostgreSQL.

// jdbcFilter is a filter rendered for the scan query.
type jdbcFilter struct {
	sql  string
	args []any
}

// ApplyFilters takes the filters it can write in PostgreSQL's SQL (see
// above), or MySQL's (jdbc_mysql_filter.go).
func (s *jdbcSource) ApplyFilters(filters []expr.Expr) (accepted, remaining []bool) {
	accepted, remaining = make([]bool, len(filters)), make([]bool, len(filters))
	for i, f := range filters {
		r := &jdbcRender{t: s.jdbcTable, next: 1 + s.params(), mysql: s.mysql != nil}
		var sql string
		var exact, ok bool
		if r.mysql {
			sql, ok = r.renderMySQL(f)
			exact = true
		} else {
			sql, exact, ok = r.render(f)
		}
		if !ok {
			remaining[i] = true
			continue
		}
		accepted[i], remaining[i] = true, !exact
		s.filters = append(s.filters, jdbcFilter{sql: sql, args: r.args})
	}
	return accepted, remaining
}

// params is the number of parameters of the filters taken.
func (s *jdbcSource) params() int {
	n := 0
	for _, f := range s.filters {
		n += len(f.args)
	}
	return n
}

// conditions are the pushed-down filters' SQL, for the scan query's WHERE
// clause, and their parameters.
func (s *jdbcSource) conditions() ([]string, []any) {
	var conds []string
	var args []any
	for _, f := range s.filters {
		conds = append(conds, f.sql)
		args = append(args, f.args...)
	}
	return conds, args
}

// jdbcRender writes a filter in PostgreSQL's SQL, its literals as
// parameters $next, $next+1, ...
type jdbcRender struct {
	t     *jdbcTable
	next  int
	args  []any
	mysql bool // MySQL/MariaDB's SQL and rules (jdbc_mysql_filter.go)
}

// render returns the SQL of e; exact reports that PostgreSQL's answer is
// Weir's, else it is a superset; ok is false if e cannot be written.
func (r *jdbcRender) render(e expr.Expr) (sql string, exact, ok bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		if n.T.Root == row.TypeBoolean {
			return r.column(n.Index), true, true
		}
		return "", false, false
	case *expr.Call:
		switch name := n.Func.Name; name {
		case "AND", "OR":
			var parts []string
			exact = true
			for _, a := range n.Args {
				s, x, ok := r.render(a)
				if !ok {
					return "", false, false
				}
				parts = append(parts, s)
				exact = exact && x
			}
			return "(" + strings.Join(parts, " "+name+" ") + ")", exact, true
		case "IS NULL", "IS NOT NULL":
			if c, ok := n.Args[0].(*expr.InputRef); ok && len(n.Args) == 1 {
				return "(" + r.column(c.Index) + " " + name + ")", true, true
			}
			return "", false, false
		case "=", "<>", "<", "<=", ">", ">=":
			if len(n.Args) != 2 {
				return "", false, false
			}
			return r.compare(name, n.Args[0], n.Args[1])
		}
	}
	return "", false, false
}

// jdbcClass is the class of types whose comparisons are pushed.
func jdbcClass(t row.Type) string {
	switch t.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return "int8"
	case row.TypeDecimal:
		return "numeric"
	case row.TypeBoolean:
		return "bool"
	case row.TypeDate:
		return "date"
	case row.TypeChar, row.TypeVarChar:
		return "text"
	}
	return ""
}

// operand returns a comparison operand: a column (under an implicit
// widening cast between exact numeric types) or a non-NULL literal.
func (r *jdbcRender) operand(e expr.Expr) (sql, class string, ok bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		return r.column(n.Index), jdbcClass(n.T), true
	case *expr.Cast:
		ref, isRef := n.Arg.(*expr.InputRef)
		if !isRef {
			return "", "", false
		}
		from, to := jdbcClass(ref.T), jdbcClass(n.T)
		if !n.Implicit || (from != "int8" && from != "numeric") || (to != "int8" && to != "numeric") ||
			(from == "numeric" && to == "int8") {
			return "", "", false
		}
		return r.column(ref.Index), to, true
	case *expr.Literal:
		class := jdbcClass(n.T)
		if n.Value.IsNull() || class == "" {
			return "", "", false
		}
		r.args = append(r.args, toPGValue(n.Value, n.T))
		p := fmt.Sprintf("$%d::%s", r.next, class)
		r.next++
		return p, class, true
	}
	return "", "", false
}

func (r *jdbcRender) compare(op string, a, b expr.Expr) (string, bool, bool) {
	mark := len(r.args)
	undo := func() (string, bool, bool) {
		r.next -= len(r.args) - mark
		r.args = r.args[:mark]
		return "", false, false
	}
	_, aLit := a.(*expr.Literal)
	_, bLit := b.(*expr.Literal)
	if aLit && bLit {
		return undo()
	}
	ls, lc, ok1 := r.operand(a)
	rs, rc, ok2 := r.operand(b)
	if !ok1 || !ok2 || lc == "" {
		return undo()
	}
	numeric := (lc == "int8" || lc == "numeric") && (rc == "int8" || rc == "numeric")
	if lc != rc && !numeric {
		return undo()
	}
	if lc == "text" {
		// Equality only, and not exact (see above). Not of a CHAR(n)
		// column: PostgreSQL compares a bpchar with text as text without
		// its trailing spaces, so "code" = 'ab  ' is FALSE there for the
		// 'ab  ' Weir reads (and compares TRUE): not a superset.
		if op != "=" || (!aLit && !bLit) || isCharColumn(a) || isCharColumn(b) {
			return undo()
		}
		return "(" + ls + " COLLATE \"C\" = " + rs + " COLLATE \"C\")", false, true
	}
	return "(" + ls + " " + op + " " + rs + ")", true, true
}

// isCharColumn reports whether e is a CHAR(n) column.
func isCharColumn(e expr.Expr) bool {
	ref, ok := e.(*expr.InputRef)
	return ok && ref.T.Root == row.TypeChar
}

func (r *jdbcRender) column(i int) string {
	return pgx.Identifier{r.t.schema.Columns[i].Name}.Sanitize()
}
