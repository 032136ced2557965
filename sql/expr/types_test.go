package expr

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// Type inference: argument types -> result type, as Flink derives them
// (LogicalTypeMerging for DECIMAL, Calcite for the rest).
func TestTypeInference(t *testing.T) {
	ref := func(i int, s string) Expr {
		ty, err := parseTestType(s)
		if err != nil {
			t.Fatal(err)
		}
		return Ref(i, ty)
	}
	tests := []struct {
		fn   string
		args []string
		want string // result type, or "ERROR <text>"
	}{
		{"+", []string{"INT", "BIGINT"}, "BIGINT"},
		{"+", []string{"INT NOT NULL", "BIGINT NOT NULL"}, "BIGINT NOT NULL"},
		{"+", []string{"INT NOT NULL", "BIGINT"}, "BIGINT"},
		{"+", []string{"INT", "DOUBLE"}, "DOUBLE"},
		{"+", []string{"TINYINT", "SMALLINT"}, "SMALLINT"},
		{"+", []string{"FLOAT", "INT"}, "FLOAT"},
		{"+", []string{"FLOAT", "DOUBLE"}, "DOUBLE"},
		{"+", []string{"DECIMAL(10, 2)", "DECIMAL(5, 4)"}, "DECIMAL(13, 4)"},
		{"+", []string{"DECIMAL(38, 10)", "DECIMAL(38, 10)"}, "DECIMAL(38, 9)"},
		{"+", []string{"DECIMAL(10, 2)", "INT"}, "DECIMAL(13, 2)"},
		{"+", []string{"DECIMAL(10, 2)", "BIGINT"}, "DECIMAL(22, 2)"},
		{"+", []string{"DECIMAL(10, 2)", "DOUBLE"}, "DOUBLE"},
		{"-", []string{"DECIMAL(5, 1)", "DECIMAL(5, 1)"}, "DECIMAL(6, 1)"},
		{"*", []string{"DECIMAL(10, 2)", "DECIMAL(5, 4)"}, "DECIMAL(16, 6)"},     // Flink: p1+p2+1
		{"*", []string{"DECIMAL(20, 10)", "DECIMAL(20, 10)"}, "DECIMAL(38, 17)"}, // 41 digits: keep 21 integer digits
		{"*", []string{"DECIMAL(30, 10)", "DECIMAL(30, 10)"}, "DECIMAL(38, 6)"},  // LogicalTypeMergingTest
		{"*", []string{"DECIMAL(30, 20)", "DECIMAL(30, 20)"}, "DECIMAL(38, 17)"}, // LogicalTypeMergingTest
		{"/", []string{"DECIMAL(32, 8)", "DECIMAL(38, 8)"}, "DECIMAL(38, 6)"},    // LogicalTypeMergingTest
		{"/", []string{"DECIMAL(30, 20)", "DECIMAL(30, 20)"}, "DECIMAL(38, 8)"},  // LogicalTypeMergingTest
		{"/", []string{"INT", "INT"}, "INT"},
		{"/", []string{"BIGINT", "INT"}, "BIGINT"},
		{"/", []string{"DECIMAL(10, 2)", "DECIMAL(5, 4)"}, "DECIMAL(20, 8)"}, // 10-2+4 integer digits, scale max(6, 2+5+1)
		{"/", []string{"INT", "DECIMAL(5, 2)"}, "DECIMAL(18, 6)"},
		{"/", []string{"DOUBLE", "INT"}, "DOUBLE"},
		{"MOD", []string{"BIGINT", "INT"}, "INT"},
		{"MOD", []string{"DECIMAL(10, 2)", "DECIMAL(5, 4)"}, "DECIMAL(5, 4)"},
		{"-", []string{"TIMESTAMP(3)", "TIMESTAMP(3)"}, "ERROR Cannot apply '-' to arguments of type '<TIMESTAMP(3)> - <TIMESTAMP(3)>'"},
		{"+", []string{"STRING", "INT"}, "ERROR Cannot apply '+' to arguments of type '<STRING> + <INT>'"},
		{"+", []string{"TIMESTAMP(3) NOT NULL", "INTERVAL DAY(2) TO SECOND(3) NOT NULL"}, "TIMESTAMP(3) NOT NULL"},
		{"=", []string{"INT", "BIGINT"}, "BOOLEAN"},
		{"=", []string{"CHAR(3) NOT NULL", "STRING NOT NULL"}, "BOOLEAN NOT NULL"},
		{"=", []string{"TIMESTAMP(3)", "TIMESTAMP(9)"}, "BOOLEAN"},
		{"=", []string{"DATE", "TIMESTAMP(3)"}, "BOOLEAN"},
		{"=", []string{"BOOLEAN", "INT"}, "ERROR Cannot apply '='"},
		{"<", []string{"TIMESTAMP(3)", "TIMESTAMP_LTZ(3)"}, "ERROR Cannot apply '<'"},
		{"COALESCE", []string{"INT", "BIGINT NOT NULL"}, "BIGINT NOT NULL"},
		{"COALESCE", []string{"INT", "DECIMAL(5, 2)"}, "DECIMAL(12, 2)"},
		{"COALESCE", []string{"CHAR(2)", "VARCHAR(5)"}, "VARCHAR(5)"},
		{"NULLIF", []string{"INT NOT NULL", "INT NOT NULL"}, "INT"},
		{"GREATEST", []string{"INT NOT NULL", "DOUBLE NOT NULL"}, "DOUBLE NOT NULL"},
		{"CHAR_LENGTH", []string{"STRING NOT NULL"}, "INT NOT NULL"},
		{"UPPER", []string{"CHAR(3)"}, "STRING"},
		{"CONCAT", []string{"STRING", "INT"}, "ERROR Cannot apply 'CONCAT' to arguments of type 'CONCAT(<STRING>, <INT>)'"},
		{"SUBSTRING", []string{"STRING", "BIGINT"}, "STRING"},
		{"ABS", []string{"DECIMAL(5, 2)"}, "DECIMAL(5, 2)"},
		{"ROUND", []string{"DOUBLE NOT NULL"}, "DOUBLE NOT NULL"},
		{"ROUND", []string{"DECIMAL(10, 4)"}, "DECIMAL(7, 0)"},
		{"FLOOR", []string{"DECIMAL(10, 4)"}, "DECIMAL(7, 0)"},
		{"SQRT", []string{"INT"}, "DOUBLE"},
		{"POWER", []string{"INT NOT NULL", "DECIMAL(5, 2) NOT NULL"}, "DOUBLE NOT NULL"},
		{"IS NULL", []string{"INT"}, "BOOLEAN NOT NULL"},
		{"CARDINALITY", []string{"ARRAY<INT>"}, "INT"},
		{"ITEM", []string{"ARRAY<INT NOT NULL> NOT NULL", "INT NOT NULL"}, "INT"},
		{"ITEM", []string{"MAP<STRING, BIGINT>", "STRING"}, "BIGINT"},
		{"DATE_FORMAT", []string{"TIMESTAMP(3)", "STRING"}, "STRING"},
		{"TO_TIMESTAMP", []string{"STRING NOT NULL"}, "TIMESTAMP(3)"},
		{"TIMESTAMPDIFF", []string{"TIMESTAMP(3)", "DATE"}, "ERROR Cannot apply"}, // needs a unit symbol
		{"NO_SUCH_FN", []string{"INT"}, "ERROR no function named 'NO_SUCH_FN'"},
		{"upper", []string{"STRING NOT NULL"}, "STRING NOT NULL"}, // names are case-insensitive
	}
	for _, tc := range tests {
		args := make([]Expr, len(tc.args))
		for i, a := range tc.args {
			args[i] = ref(i, a)
		}
		e, err := NewCall(tc.fn, args...)
		if strings.HasPrefix(tc.want, "ERROR") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "ERROR ")) {
				t.Errorf("%s%v: err = %v, want %q", tc.fn, tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", tc.fn, tc.args, err)
			continue
		}
		if got := e.Type().String(); got != tc.want {
			t.Errorf("%s%v: type %s, want %s", tc.fn, tc.args, got, tc.want)
		}
	}
}

func TestLeastRestrictive(t *testing.T) {
	tests := []struct {
		in   []row.Type
		want string
	}{
		{[]row.Type{row.NullType(), row.IntType().NotNull()}, "INT"},
		{[]row.Type{row.IntType().NotNull(), row.BigInt().NotNull()}, "BIGINT NOT NULL"},
		{[]row.Type{row.Char(2).NotNull(), row.Char(2).NotNull()}, "CHAR(2) NOT NULL"},
		{[]row.Type{row.Char(2), row.Char(3)}, "VARCHAR(3)"},
		{[]row.Type{row.TimestampType(3), row.TimestampType(6)}, "TIMESTAMP(6)"},
		{[]row.Type{row.DateType(), row.TimestampType(3)}, "TIMESTAMP(3)"},
		{[]row.Type{row.ArrayType(row.IntType()), row.ArrayType(row.Double())}, "ARRAY<DOUBLE>"},
		{[]row.Type{row.DecimalType(38, 0), row.DecimalType(38, 38)}, "DECIMAL(38, 6)"},
		{[]row.Type{row.Boolean(), row.IntType()}, "none"},
		{[]row.Type{row.NullType()}, "NULL"},
	}
	for _, tc := range tests {
		got, ok := LeastRestrictive(tc.in...)
		s := got.String()
		if !ok {
			s = "none"
		}
		if s != tc.want {
			t.Errorf("LeastRestrictive%v = %s, want %s", tc.in, s, tc.want)
		}
	}
}

// Implicit casts are visible in the tree and EXPLAIN strings.
func TestStringAndImplicitCasts(t *testing.T) {
	types, _ := testInput(t)
	tests := []struct{ src, want string }{
		{"+($0, $1)", "+(CAST($0 AS BIGINT), $1)"},
		{"+($0, 1)", "+($0, 1)"},
		{"=($7, 1.5)", "=($7, CAST(1.5 AS DECIMAL(10, 2)))"},
		{"=($0, NULL)", "=($0, null:INT)"},
		{"UPPER($3)", "UPPER($3)"},
		{"IS NULL($4)", "IS NULL($4)"},
		{"CASE(=($0, 1), 'a', 'bc')", "CASE(=($0, 1), CAST('a' AS VARCHAR(2)), CAST('bc' AS VARCHAR(2)))"},
		{"EXTRACT(YEAR, $6)", "EXTRACT(YEAR, $6)"},
		{"TRY_CAST($3 AS INT)", "TRY_CAST($3 AS INT)"},
		{"+($6, INTERVAL '1' DAY)", "+($6, INTERVAL '+1 00:00:00.000')"},
		{"SQRT($0)", "SQRT(CAST($0 AS DOUBLE))"},
		{"=($10, DATE '2020-01-01')", "=($10, DATE '2020-01-01')"},
		{"+(CAST(1 AS BIGINT), 1e0)", "+(CAST(CAST(1 AS BIGINT) AS DOUBLE), 1.0)"},
	}
	for _, tc := range tests {
		e, err := parseTestExpr(tc.src, types)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("%s: String() = %s, want %s", tc.src, got, tc.want)
		}
	}
}

func TestFieldAccess(t *testing.T) {
	rt := row.RowType(row.Col("a", row.IntType().NotNull()), row.Col("b", row.String())).NotNull()
	x := Ref(0, rt)
	e, err := NewFieldAccess(x, "b")
	if err != nil {
		t.Fatal(err)
	}
	if e.String() != "$0.b" || e.Type().String() != "STRING" {
		t.Fatalf("%s : %s", e, e.Type())
	}
	v, err := Eval(nil, e, []row.Value{row.Nested([]row.Value{row.Int(1), row.Str("x")})})
	if err != nil || v.Str() != "x" {
		t.Fatalf("got %v %v", v, err)
	}
	if v, _ := Eval(nil, e, []row.Value{row.Null()}); !v.IsNull() {
		t.Fatal("field of NULL row is not NULL")
	}
	if _, err := NewFieldAccess(x, "c"); err == nil {
		t.Fatal("missing field accepted")
	}
}
