package ast_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
)

func TestQuoteIdent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"},
		{"MyCol_1$", "MyCol_1$"},
		{"naïve", "naïve"},
		{"select", "`select`"},
		{"Value", "`Value`"}, // Flink reserved, accepted unquoted by this parser
		{"timestamp", "`timestamp`"},
		{"key", "key"},
		{"1a", "`1a`"},
		{"a b", "`a b`"},
		{"a`b", "`a``b`"},
		{"", "``"},
		{"$a", "`$a`"},
	} {
		if got := ast.QuoteIdent(tc.in); got != tc.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := ast.QuoteString("it's"); got != "'it''s'" {
		t.Errorf("QuoteString = %s", got)
	}
}

// TestFormatBuilt prints trees built by hand (as the planner might), including shapes the
// parser never produces, and checks that the text parses back to the same shape.
func TestFormatBuilt(t *testing.T) {
	col := func(n string) ast.Expr { return &ast.ColumnRef{Parts: []*ast.Ident{{Name: n}}} }
	lit := func(v string) ast.Expr { return &ast.Literal{Kind: ast.IntegerLit, Value: v} }
	bin := func(op ast.BinaryOp, l, r ast.Expr) ast.Expr { return &ast.BinaryExpr{Op: op, Left: l, Right: r} }
	for _, tc := range []struct {
		e    ast.Expr
		want string
	}{
		{bin(ast.OpMul, bin(ast.OpAdd, col("a"), col("b")), col("c")), "(a + b) * c"},
		{bin(ast.OpSub, col("a"), bin(ast.OpSub, col("b"), col("c"))), "a - (b - c)"},
		{bin(ast.OpAnd, bin(ast.OpOr, col("a"), col("b")), col("c")), "(a OR b) AND c"},
		{&ast.UnaryExpr{Op: ast.OpNeg, Operand: &ast.UnaryExpr{Op: ast.OpNeg, Operand: lit("1")}}, "-(-1)"},
		{&ast.UnaryExpr{Op: ast.OpNot, Operand: bin(ast.OpAnd, col("a"), col("b"))}, "NOT (a AND b)"},
		{&ast.IsExpr{Expr: bin(ast.OpOr, col("a"), col("b")), Test: ast.IsNull, Not: true}, "(a OR b) IS NOT NULL"},
		{&ast.FieldAccess{Expr: col("a"), Field: &ast.Ident{Name: "f"}}, "(a).f"},
		{&ast.IndexExpr{Expr: bin(ast.OpConcat, col("a"), col("b")), Index: lit("1")}, "(a || b)[1]"},
		{&ast.BetweenExpr{Expr: col("x"), Low: bin(ast.OpAnd, col("a"), col("b")), High: col("c")}, "x BETWEEN (a AND b) AND c"},
		{&ast.InExpr{Expr: bin(ast.OpEq, col("a"), col("b")), List: []ast.Expr{lit("1")}}, "(a = b) IN (1)"},
	} {
		got := ast.Format(tc.e)
		if got != tc.want {
			t.Errorf("Format = %s, want %s", got, tc.want)
			continue
		}
		back, err := parser.ParseExpr(got)
		if err != nil {
			t.Errorf("%s does not parse: %v", got, err)
			continue
		}
		if ast.Format(back) != got {
			t.Errorf("%s re-prints as %s", got, ast.Format(back))
		}
	}
}

func TestInspect(t *testing.T) {
	stmt, err := parser.ParseOne(`SELECT a, f(b) FROM t AS x JOIN u ON x.k = u.k WHERE c > 1`)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	counts := map[string]int{}
	ast.Inspect(stmt, func(n ast.Node) bool {
		counts[fmt.Sprintf("%T", n)]++
		if c, ok := n.(*ast.ColumnRef); ok {
			cols = append(cols, c.String())
		}
		return true
	})
	if got := strings.Join(cols, " "); got != "a b x.k u.k c" {
		t.Errorf("columns in source order: %s", got)
	}
	if counts["*ast.Join"] != 1 || counts["*ast.TableName"] != 2 || counts["*ast.Call"] != 1 {
		t.Errorf("counts %v", counts)
	}

	// Returning false skips the children.
	n := 0
	ast.Inspect(stmt, func(node ast.Node) bool {
		n++
		_, isSelect := node.(*ast.Select)
		return !isSelect
	})
	if n != 2 { // QueryStmt and Select
		t.Errorf("visited %d nodes with children of SELECT skipped", n)
	}
}

// TestChildrenCoverAllNodes walks trees of every statement kind and checks that every node
// reachable through exported fields is also reached by Walk: a node type added without a
// Children case would be missed.
func TestChildrenCoverAllNodes(t *testing.T) {
	stmts, err := parser.Parse(`
CREATE TABLE t (a INT PRIMARY KEY NOT ENFORCED COMMENT 'c', b AS a + 1, m STRING METADATA FROM 'k',
  r ROW<x ARRAY<INT>>, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) PARTITIONED BY (a)
  WITH ('k' = 'v') LIKE s (INCLUDING ALL);
CREATE VIEW v (a) AS WITH w AS (SELECT 1) SELECT * FROM w ORDER BY 1 LIMIT 1 OFFSET 1;
INSERT INTO s PARTITION (p = 1) (a) SELECT CAST(a AS INT), CASE a WHEN 1 THEN 2 ELSE 3 END,
  a IS NULL, a IS DISTINCT FROM b, a BETWEEN 1 AND 2, a IN (1), a IN (SELECT 1), a LIKE 'x' ESCAPE 'y',
  EXISTS (SELECT 1), (SELECT 1), COUNT(*) FILTER (WHERE a > 1) OVER (w PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
  SUM(a) OVER w, EXTRACT(DAY FROM ts), FLOOR(ts TO DAY), POSITION('a' IN s), TRIM(BOTH 'x' FROM s),
  SUBSTRING(s FROM 1 FOR 2), OVERLAY(s PLACING 'x' FROM 1 FOR 2), ARRAY[1], MAP[1, 2], ROW(1), (1, 2),
  a[1], (a).f, TIMESTAMPADD(DAY, 1, ts), -a, DATE '2020-01-01', INTERVAL '1' DAY, t.*,
  JSON_VALUE(d, '$' RETURNING INT DEFAULT 1 ON EMPTY), JSON_OBJECT(KEY 'a' VALUE 1), d IS JSON
  FROM TABLE(TUMBLE(DATA => TABLE x PARTITION BY k, TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL '1' HOUR)) AS tw (a)
  JOIN (SELECT 1) AS d ON TRUE, LATERAL TABLE(f(1)), UNNEST(ARRAY[1]) AS u (v), y /*+ OPTIONS('a' = 'b') */ FOR SYSTEM_TIME AS OF p
  MATCH_RECOGNIZE (PARTITION BY a ORDER BY b MEASURES A.x AS x ONE ROW PER MATCH AFTER MATCH SKIP TO FIRST A
    PATTERN ((A | B)+? C{1,2}) WITHIN INTERVAL '1' HOUR DEFINE A AS TRUE)
  WHERE TRUE GROUP BY GROUPING SETS ((a), ()) HAVING TRUE WINDOW w AS (ORDER BY ts)
  UNION ALL VALUES (1);
CREATE FUNCTION f AS 'c'; CREATE CATALOG c WITH ('a' = 'b'); CREATE DATABASE d WITH ('a' = 'b');
DROP TABLE t; SET 'a' = 'b'; RESET; SHOW CREATE TABLE t; DESCRIBE t; USE c;
EXPLAIN EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END;
ALTER TABLE t ADD (a INT FIRST, b AS a + 1 AFTER a, WATERMARK FOR ts AS ts, PRIMARY KEY (a) NOT ENFORCED);
ALTER TABLE t SET ('k' = 'v'); ALTER TABLE t RENAME a TO b; ALTER TABLE t RENAME TO u; ALTER TABLE t DROP (a);
ALTER TABLE t DROP CONSTRAINT c; ALTER VIEW v AS SELECT 1; ALTER VIEW v RENAME TO w;
ALTER DATABASE d SET ('a' = 'b'); ALTER CATALOG c SET ('a' = 'b'); ALTER FUNCTION f AS 'c';
SHOW JOBS; STOP JOB 'j' WITH SAVEPOINT WITH DRAIN; DESCRIBE JOB 'j';
LOAD MODULE m WITH ('a' = 'b'); UNLOAD MODULE m; USE MODULES m, core;`)
	if err != nil {
		t.Fatal(err.(*parser.Error).Detail())
	}
	kinds := map[string]bool{}
	for _, s := range stmts {
		ast.Inspect(s, func(n ast.Node) bool {
			kinds[fmt.Sprintf("%T", n)] = true
			// Every node held in a field (directly or in a slice) is one of the children.
			children := map[ast.Node]bool{}
			for _, c := range ast.Children(n) {
				children[c] = true
			}
			for _, f := range fieldNodes(reflect.ValueOf(n).Elem()) {
				if !children[f] {
					t.Errorf("%T: field node %T (%s) missing from Children", n, f, f)
				}
			}
			return true
		})
	}
	for _, want := range []string{"*ast.ColumnDef", "*ast.Watermark", "*ast.PrimaryKey",
		"*ast.LikeClause", "*ast.LikeOption", "*ast.DataType", "*ast.RowField", "*ast.Option",
		"*ast.CTE", "*ast.Query", "*ast.OrderItem", "*ast.CastExpr", "*ast.CaseExpr",
		"*ast.When", "*ast.IsExpr", "*ast.IsDistinctFrom", "*ast.BetweenExpr", "*ast.InExpr",
		"*ast.LikeExpr", "*ast.ExistsExpr", "*ast.SubqueryExpr", "*ast.WindowSpec",
		"*ast.Frame", "*ast.FrameBound", "*ast.ExtractExpr", "*ast.FloorCeilExpr",
		"*ast.PositionExpr", "*ast.TrimExpr", "*ast.SubstringExpr", "*ast.OverlayExpr",
		"*ast.ArrayExpr", "*ast.MapExpr", "*ast.RowExpr", "*ast.IndexExpr", "*ast.FieldAccess",
		"*ast.TimeUnitArg", "*ast.UnaryExpr", "*ast.TypedLiteral", "*ast.IntervalLiteral",
		"*ast.Star", "*ast.NamedArg", "*ast.TableArg", "*ast.Descriptor", "*ast.TableFunc",
		"*ast.Alias", "*ast.DerivedTable", "*ast.Unnest", "*ast.MatchRecognize",
		"*ast.AfterMatch", "*ast.PatternSeq", "*ast.PatternQuant", "*ast.PatternGroup",
		"*ast.PatternAlt", "*ast.PatternVar", "*ast.PatternDefine", "*ast.GroupingSets",
		"*ast.NamedWindow", "*ast.SetOp", "*ast.Values", "*ast.Insert", "*ast.CreateTable",
		"*ast.CreateView", "*ast.CreateFunction", "*ast.CreateCatalog", "*ast.CreateDatabase",
		"*ast.Drop", "*ast.Set", "*ast.Reset", "*ast.Show", "*ast.Describe", "*ast.Use",
		"*ast.Explain", "*ast.StatementSet", "*ast.SelectItem", "*ast.Join", "*ast.Name",
		"*ast.Ident", "*ast.Literal", "*ast.BinaryExpr", "*ast.Call", "*ast.JSONFunc",
		"*ast.JSONKeyValue", "*ast.JSONBehavior", "*ast.IsJSONExpr", "*ast.Hint",
		"*ast.AlterTable", "*ast.AlterColumn", "*ast.AlterView", "*ast.AlterDatabase",
		"*ast.AlterCatalog", "*ast.AlterFunction", "*ast.ShowJobs", "*ast.StopJob", "*ast.DescribeJob",
		"*ast.LoadModule", "*ast.UnloadModule", "*ast.UseModules"} {
		if !kinds[want] {
			t.Errorf("Walk never reached a %s", want)
		}
	}
}

var nodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()

// fieldNodes returns the non-nil nodes held by the fields of struct v, looking into slices
// (and slices of slices), but not into nested nodes.
func fieldNodes(v reflect.Value) []ast.Node {
	var out []ast.Node
	var visit func(f reflect.Value)
	visit = func(f reflect.Value) {
		switch f.Kind() {
		case reflect.Slice:
			for i := 0; i < f.Len(); i++ {
				visit(f.Index(i))
			}
			return
		case reflect.Interface, reflect.Pointer:
			if f.IsNil() {
				return
			}
		default:
			return
		}
		if f.Type().Implements(nodeType) || f.Kind() == reflect.Interface && f.Elem().Type().Implements(nodeType) {
			out = append(out, f.Interface().(ast.Node))
		}
	}
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Anonymous {
			continue // the embedded Pos
		}
		visit(v.Field(i))
	}
	return out
}
