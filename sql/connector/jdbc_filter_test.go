package connector

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestJDBCApplyFilters checks which filters the jdbc scan takes, whether
// it guarantees them (removed from the Calc) and the SQL and parameters
// it sends; the PostgreSQL results are checked by
// sql/testdata_lookup/jdbc_pushdown.txt.
func TestJDBCApplyFilters(t *testing.T) {
	schema := row.NewSchema(
		row.Col("id", row.IntType()), row.Col("name", row.String()), row.Col("ok", row.Boolean()),
		row.Col("price", row.DecimalType(10, 2)), row.Col("d", row.DateType()), row.Col("f", row.Double()),
		row.Col("small", row.SmallInt()))
	col := func(i int) expr.Expr { return expr.Ref(i, schema.Columns[i].Type) }
	lit := func(text string) expr.Expr {
		l, err := expr.NumericLiteral(text)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	date, err := expr.ParseDate("2026-01-02")
	if err != nil {
		t.Fatal(err)
	}
	// The planner offers conditions with their constants folded.
	call := func(name string, args ...expr.Expr) expr.Expr {
		e, err := expr.Fold(expr.MustCall(name, args...))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		e     expr.Expr
		sql   string // "" when refused
		args  string
		exact bool
	}{
		{call("<", col(0), lit("9")), `("id" < $1::int8)`, "[9]", true},
		{call(">=", col(6), lit("5")), `("small" >= $1::int8)`, "[5]", true},
		{call(">", col(3), lit("1")), `("price" > $1::numeric)`, "", true},
		{call("=", col(0), col(6)), `("id" = "small")`, "[]", true},
		{col(2), `"ok"`, "[]", true},
		{call("IS NULL", col(5)), `("f" IS NULL)`, "[]", true},
		{call("OR", call("IS NOT NULL", col(1)), call("<>", col(4), date)), `(("name" IS NOT NULL) OR ("d" <> $1::date))`, "", true},
		{call("=", col(1), expr.StringLiteral("a")), `("name" COLLATE "C" = $1::text COLLATE "C")`, "[a]", false},
		{call("AND", call("=", col(1), expr.StringLiteral("a")), call("<", col(0), lit("3"))), `(("name" COLLATE "C" = $1::text COLLATE "C") AND ("id" < $2::int8))`, "[a 3]", false},
		{call("<", col(1), expr.StringLiteral("a")), "", "", false},
		{call("LIKE", col(1), expr.StringLiteral("a%")), "", "", false},
		{call("<", col(5), lit("2.0E0")), "", "", false},
		{call("=", call("UPPER", col(1)), expr.StringLiteral("A")), "", "", false},
		{call("OR", call("<", col(0), lit("1")), call("<", col(5), lit("2.0E0"))), "", "", false},
	} {
		t.Run(tc.e.String(), func(t *testing.T) {
			s := &jdbcSource{jdbcTable: &jdbcTable{table: "t", schema: schema}}
			accepted, remaining := s.ApplyFilters([]expr.Expr{tc.e})
			if tc.sql == "" {
				if accepted[0] || !remaining[0] || len(s.filters) != 0 {
					t.Fatalf("taken: accepted %v remaining %v filters %v", accepted[0], remaining[0], s.filters)
				}
				return
			}
			if !accepted[0] || remaining[0] == tc.exact || len(s.filters) != 1 {
				t.Fatalf("accepted %v remaining %v, want accepted, remaining %v", accepted[0], remaining[0], !tc.exact)
			}
			if got := s.filters[0].sql; got != tc.sql {
				t.Errorf("sql %s, want %s", got, tc.sql)
			}
			if got := fmt.Sprint(s.filters[0].args); tc.args != "" && got != tc.args {
				t.Errorf("args %s, want %s", got, tc.args)
			}
		})
	}
	// Parameters are numbered across the filters taken.
	s := &jdbcSource{jdbcTable: &jdbcTable{table: "t", schema: schema}}
	s.ApplyFilters([]expr.Expr{call("<", col(0), lit("9")), call("<", col(1), expr.StringLiteral("z")), call(">", col(6), lit("1"))})
	conds, args := s.conditions()
	if want := ` WHERE ("id" < $1::int8) AND ("small" > $2::int8)`; where(conds) != want || fmt.Sprint(args) != "[9 1]" {
		t.Errorf("where %q %v, want %q [9 1]", where(conds), args, want)
	}
}

func where(conds []string) string { return " WHERE " + strings.Join(conds, " AND ") }
