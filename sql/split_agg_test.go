package sql_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestSplitDistinctSameAnswer runs group aggregations with DISTINCT calls
// unsplit and split (table.optimizer.distinct-agg.split.enabled, Flink's
// SplitAggregateRule) at parallelism 1 and 4, heap and Pebble, with
// mini-batch off and on, and checks that the final tables are equal (each
// changelog applies cleanly to its table). The queries cover NULL keys
// and NULL arguments, FILTER on distinct and non-distinct calls, several
// distinct arguments and MIN/MAX (an Expand), AVG, no group key, a
// distinct argument that is a key, GROUPING SETS, COUNT(DISTINCT a, b),
// and an updating input with
// retractions (an aggregation over an aggregation).
func TestSplitDistinctSameAnswer(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	x := uint64(7)
	next := func(n uint64) uint64 { x = x*6364136223846793005 + 1442695040888963407; return (x >> 33) % n }
	for i := range 3000 {
		cust := fmt.Sprintf("c%d", next(41))
		amount := fmt.Sprint(next(60))
		region := fmt.Sprint(next(5))
		if next(11) == 0 {
			amount = ""
		}
		if next(7) == 0 {
			region = ""
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", i, cust, amount, region)
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	queries := []string{
		`SELECT region, COUNT(DISTINCT customer) AS dc, COUNT(*) AS n, SUM(amount) AS s, MAX(amount) AS mx, MIN(DISTINCT amount) AS mi, COUNT(DISTINCT amount) FILTER (WHERE amount > 20) AS dcf, AVG(amount) AS av, SUM(DISTINCT amount) FILTER (WHERE customer < 'c2') AS sdf, COUNT(amount) FILTER (WHERE amount < 10) AS cf FROM orders GROUP BY region`,
		`SELECT COUNT(DISTINCT customer) AS dc, COUNT(DISTINCT region) AS dr, SUM(amount) AS s FROM orders`,
		`SELECT region, COUNT(DISTINCT customer) AS dc FROM orders GROUP BY region`,
		`SELECT customer, COUNT(DISTINCT customer) AS dcc, COUNT(DISTINCT amount) AS da, SUM0(DISTINCT region) AS sr FROM orders GROUP BY customer`,
		`SELECT region, customer, COUNT(DISTINCT amount) AS da, COUNT(*) AS n, MAX(amount) FILTER (WHERE region > 1) AS mf FROM orders GROUP BY GROUPING SETS ((region), (customer), ())`,
		`SELECT region, COUNT(DISTINCT customer, amount) AS dca, COUNT(DISTINCT customer) AS dc FROM orders GROUP BY region`,
		`SELECT n, COUNT(DISTINCT r) AS dr, COUNT(*) AS c, SUM(s) AS ss, MIN(s) AS mi, MAX(s) AS ma, AVG(s) AS av, COUNT(DISTINCT s) FILTER (WHERE s > 100) AS dsf FROM (SELECT customer, region AS r, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY customer, region) GROUP BY n`,
	}
	run := func(q string, split, miniBatch bool, par int, backend string) (string, string) {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		script := fmt.Sprintf(`CREATE TABLE orders (id BIGINT, customer STRING, amount INT, region INT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
SET 'table.optimizer.distinct-agg.split.enabled' = '%t';
SET 'table.optimizer.distinct-agg.split.bucket-num' = '8';
`, filepath.Join(dir, "orders.csv"), split)
		if miniBatch {
			script += `SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '97';
`
		}
		stmts, err := parser.Parse(script + "EXPLAIN " + q + ";" + q + ";")
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		var job *sql.Job
		for _, st := range stmts {
			res, j, err := sess.Execute(st)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if res != nil && strings.Contains(res.Text, "== Optimized Execution Plan ==") {
				plan = res.Text[strings.Index(res.Text, "== Optimized Execution Plan =="):]
			}
			job = j
		}
		out, err := runJob(t, job, scriptOpts{par: par, backend: backend, table: true})
		if err != nil {
			t.Fatalf("%s (split %t, mini-batch %t, parallelism %d, %s): %v", q, split, miniBatch, par, backend, err)
		}
		return out, plan
	}
	for _, q := range queries {
		want, plan1 := run(q, false, false, 1, weir.StateHeap)
		if strings.Contains(plan1, "partialFinalType") {
			t.Fatalf("%s: unsplit plan\n%s", q, plan1)
		}
		if strings.Count(want, "\n") < 1 {
			t.Fatalf("%s: empty result", q)
		}
		for _, c := range []struct {
			miniBatch bool
			par       int
			backend   string
		}{{false, 1, weir.StateHeap}, {false, 4, weir.StateHeap}, {false, 4, weir.StatePebble}, {true, 1, weir.StateHeap}, {true, 4, weir.StatePebble}} {
			got, plan2 := run(q, true, c.miniBatch, c.par, c.backend)
			if !strings.Contains(plan2, "partialFinalType=[PARTIAL]") || !strings.Contains(plan2, "partialFinalType=[FINAL]") {
				t.Fatalf("%s: split plan\n%s", q, plan2)
			}
			if got != want {
				t.Errorf("%s: split, mini-batch %t, parallelism %d, %s:\n%s\nunsplit:\n%s", q, c.miniBatch, c.par, c.backend, got, want)
			}
		}
	}
}
