package connector

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Filter push-down into MySQL/MariaDB scans: the filters whose answer in
// MariaDB is the one Weir gives become part of the scan query's WHERE
// clause, literals as '?' parameters:
//
//   - comparisons (=, <>, <, <=, >, >=) of TINYINT, SMALLINT, INT, BIGINT
//     and DECIMAL columns with each other or with literals of these
//     types (a DECIMAL literal sent as CAST(? AS DECIMAL(p, s)), so that
//     MariaDB compares it exactly, not as a DOUBLE), and of DATE columns
//     with DATE columns or literals (CAST(? AS DATE));
//   - a BOOLEAN column (TINYINT(1) in MariaDB, where any value but 0 is
//     TRUE, as Weir reads it) as a filter, written (col <> 0), and its
//     comparisons with a BOOLEAN column or literal over that form;
//   - IS NULL and IS NOT NULL of a column, except DATE, TIME and TIMESTAMP
//     columns (MariaDB's "date_col IS NULL" is TRUE for a zero date
//     '0000-00-00' of a NOT NULL column);
//   - AND and OR of these.
//
// Not taken: every comparison of strings (MariaDB's default collations
// ignore case and trailing spaces, and a binary comparison depends on the
// column's character set), LIKE, FLOAT and DOUBLE (approximate, and a
// DOUBLE literal against a DECIMAL column is compared as DOUBLE), TIME,
// TIMESTAMP (the session time zone of TIMESTAMP columns), BINARY and
// every function. Each accepted filter is exact: it leaves the Calc.

// renderMySQL returns the MySQL SQL of e (see above); ok is false if e
// cannot be written.
func (r *jdbcRender) renderMySQL(e expr.Expr) (sql string, ok bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		if n.T.Root == row.TypeBoolean {
			return "(" + mysqlQuoteColumn(r.t.schema.Columns[n.Index].Name) + " <> 0)", true
		}
		return "", false
	case *expr.Call:
		switch name := n.Func.Name; name {
		case "AND", "OR":
			var parts []string
			for _, a := range n.Args {
				s, ok := r.renderMySQL(a)
				if !ok {
					return "", false
				}
				parts = append(parts, s)
			}
			return "(" + strings.Join(parts, " "+name+" ") + ")", true
		case "IS NULL", "IS NOT NULL":
			c, ok := n.Args[0].(*expr.InputRef)
			if !ok || len(n.Args) != 1 {
				return "", false
			}
			switch c.T.Root {
			case row.TypeDate, row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ:
				return "", false
			}
			return "(" + mysqlQuoteColumn(r.t.schema.Columns[c.Index].Name) + " " + name + ")", true
		case "=", "<>", "<", "<=", ">", ">=":
			if len(n.Args) != 2 {
				return "", false
			}
			return r.compareMySQL(name, n.Args[0], n.Args[1])
		}
	}
	return "", false
}

// mysqlClass is the class of types whose MySQL comparisons are pushed.
func mysqlClass(t row.Type) string {
	switch t.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return "int"
	case row.TypeDecimal:
		return "decimal"
	case row.TypeBoolean:
		return "bool"
	case row.TypeDate:
		return "date"
	}
	return ""
}

// operandMySQL returns a comparison operand: a column (under an implicit
// widening cast between exact numeric types) or a non-NULL literal.
func (r *jdbcRender) operandMySQL(e expr.Expr) (sql, class string, ok bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		name := mysqlQuoteColumn(r.t.schema.Columns[n.Index].Name)
		class := mysqlClass(n.T)
		if class == "bool" {
			name = "(" + name + " <> 0)"
		}
		return name, class, class != ""
	case *expr.Cast:
		ref, isRef := n.Arg.(*expr.InputRef)
		if !isRef {
			return "", "", false
		}
		from, to := mysqlClass(ref.T), mysqlClass(n.T)
		if !n.Implicit || (from != "int" && from != "decimal") || (to != "int" && to != "decimal") ||
			(from == "decimal" && to == "int") {
			return "", "", false
		}
		return mysqlQuoteColumn(r.t.schema.Columns[ref.Index].Name), to, true
	case *expr.Literal:
		class := mysqlClass(n.T)
		if n.Value.IsNull() || class == "" {
			return "", "", false
		}
		switch class {
		case "int":
			r.args = append(r.args, n.Value.Int())
			return "?", class, true
		case "bool":
			v := int64(0)
			if n.Value.Bool() {
				v = 1
			}
			r.args = append(r.args, v)
			return "?", class, true
		case "decimal":
			r.args = append(r.args, row.DecimalString(n.Value, n.T))
			return fmt.Sprintf("CAST(? AS DECIMAL(%d, %d))", n.T.Precision, n.T.Scale), class, true
		case "date":
			r.args = append(r.args, row.FormatDate(n.Value.Int()))
			return "CAST(? AS DATE)", class, true
		}
	}
	return "", "", false
}

func (r *jdbcRender) compareMySQL(op string, a, b expr.Expr) (string, bool) {
	mark := len(r.args)
	_, aLit := a.(*expr.Literal)
	_, bLit := b.(*expr.Literal)
	ls, lc, ok1 := "", "", false
	rs, rc, ok2 := "", "", false
	if !aLit || !bLit {
		ls, lc, ok1 = r.operandMySQL(a)
		rs, rc, ok2 = r.operandMySQL(b)
	}
	numeric := (lc == "int" || lc == "decimal") && (rc == "int" || rc == "decimal")
	if !ok1 || !ok2 || (lc != rc && !numeric) {
		r.args = r.args[:mark]
		return "", false
	}
	return "(" + ls + " " + op + " " + rs + ")", true
}
