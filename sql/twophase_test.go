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

// TestTwoPhaseSameAnswer runs group aggregations with mini-batch on in one
// phase (ONE_PHASE) and in two (TWO_PHASE: LocalGroupAggregate,
// GlobalGroupAggregate) at parallelism 1 and 4, heap and Pebble, and
// checks that the final tables are equal (each changelog applies cleanly
// to its table: no retraction of a row the table does not hold). The
// queries cover NULL keys, FILTER, DISTINCT (with and without FILTER),
// no group key, updating input (an aggregation over an aggregation) with
// groups whose COUNT(*) goes to zero, and SELECT DISTINCT.
func TestTwoPhaseSameAnswer(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	x := uint64(42)
	next := func(n uint64) uint64 { x = x*6364136223846793005 + 1442695040888963407; return (x >> 33) % n }
	for i := range 3000 {
		cust := fmt.Sprintf("c%d", next(37))
		amount := fmt.Sprint(next(50))
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
		`SELECT region, COUNT(*) AS n, COUNT(amount) AS na, SUM(amount) AS s, AVG(amount) AS a, MIN(amount) AS mi, MAX(amount) AS ma FROM orders GROUP BY region`,
		`SELECT region, COUNT(DISTINCT customer) AS dc, SUM(amount) FILTER (WHERE amount > 20) AS sf, COUNT(DISTINCT customer) FILTER (WHERE amount > 20) AS dcf, SUM(DISTINCT amount) AS sd FROM orders GROUP BY region`,
		`SELECT COUNT(*) AS n, SUM(amount) AS s, COUNT(DISTINCT region) AS dr, LISTAGG(customer) IS NOT NULL AS l FROM orders`,
		`SELECT n, COUNT(*) AS c, SUM(s) AS ss, MIN(s) AS mi, MAX(s) AS ma, COUNT(DISTINCT r) AS dr, AVG(s) AS av FROM (SELECT customer, region AS r, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY customer, region) GROUP BY n`,
		`SELECT mx, COUNT(*) AS c FROM (SELECT customer, MAX(amount) AS mx FROM orders GROUP BY customer) GROUP BY mx`,
		`SELECT DISTINCT region, customer FROM orders WHERE amount > 45`,
	}
	run := func(q, strategy string, par int, backend string) (string, string) {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		script := fmt.Sprintf(`CREATE TABLE orders (id BIGINT, customer STRING, amount INT, region INT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '97';
SET 'table.optimizer.agg-phase-strategy' = '%s';
`, filepath.Join(dir, "orders.csv"), strategy)
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
			t.Fatalf("%s (%s, parallelism %d, %s): %v", q, strategy, par, backend, err)
		}
		return out, plan
	}
	for _, q := range queries {
		want, plan1 := run(q, "ONE_PHASE", 1, weir.StateHeap)
		if strings.Contains(plan1, "LocalGroupAggregate") || !strings.Contains(plan1, "GroupAggregate(") {
			t.Fatalf("%s: ONE_PHASE plan\n%s", q, plan1)
		}
		if strings.Count(want, "\n") < 1 {
			t.Fatalf("%s: empty result", q)
		}
		for _, c := range []struct {
			par     int
			backend string
		}{{1, weir.StateHeap}, {4, weir.StateHeap}, {4, weir.StatePebble}} {
			got, plan2 := run(q, "TWO_PHASE", c.par, c.backend)
			if !strings.Contains(plan2, "LocalGroupAggregate") || !strings.Contains(plan2, "GlobalGroupAggregate") {
				t.Fatalf("%s: TWO_PHASE plan\n%s", q, plan2)
			}
			if got != want {
				t.Errorf("%s: TWO_PHASE at parallelism %d, %s:\n%s\nONE_PHASE:\n%s", q, c.par, c.backend, got, want)
			}
		}
	}
}
