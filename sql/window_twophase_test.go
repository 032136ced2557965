package sql_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestWindowTwoPhaseSameAnswer runs window TVF aggregations in one phase
// (ONE_PHASE) and in two (TWO_PHASE: LocalWindowAggregate,
// GlobalWindowAggregate) at parallelism 1 and 4, heap and Pebble, and
// checks that the results are equal. The input is out of order, with
// late rows (the watermark follows every row, so which rows are late does
// not depend on timing); the queries cover TUMBLE (with an offset), HOP
// (sliced state), CUMULATE, NULL keys, no key, FILTER, AVG, MIN and MAX
// over NULLs, and grouping sets.
func TestWindowTwoPhaseSameAnswer(t *testing.T) {
	dir := t.TempDir()
	// Two inputs: one with late rows (up to 1.5 s out of order past the
	// 1 s watermark delay, and 8 s late now and then), run at
	// parallelism 1 only, and one whose rows are at most 0.9 s out of
	// order, so none is late, for parallelism 4. At parallelism 4 the
	// source subtasks without a file hold the watermark back until they
	// end, which they do at their first poll, some rows later or sooner
	// (under load hundreds of rows later), so which rows are late would
	// depend on timing there.
	gen := func(name string, late bool) {
		var b strings.Builder
		x := uint64(7)
		next := func(n uint64) uint64 { x = x*6364136223846793005 + 1442695040888963407; return (x >> 33) % n }
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		ts := int64(0)
		for i := range 1500 {
			ts += int64(next(400))
			back := int64(next(1500))
			if !late {
				back = back * 900 / 1500
			}
			at := ts - back
			if next(50) == 0 && late {
				at -= 8000 // late
			}
			if i < 200 {
				at = ts
			}
			cust := fmt.Sprintf("c%d", next(13))
			if next(17) == 0 {
				cust = ""
			}
			amount := fmt.Sprint(next(50))
			if next(11) == 0 {
				amount = ""
			}
			fmt.Fprintf(&b, "%d,%s,%s,%s\n", i, cust, amount, base.Add(time.Duration(at)*time.Millisecond).Format("2006-01-02 15:04:05.000"))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen("late.csv", true)
	gen("calm.csv", false)
	queries := []string{
		`SELECT customer, window_start, window_end, COUNT(*) AS n, COUNT(amount) AS na, SUM(amount) AS s, AVG(amount) AS a, MIN(amount) AS mi, MAX(amount) AS ma
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY customer, window_start, window_end`,
		`SELECT window_start, window_end, COUNT(*) AS n, SUM(amount) FILTER (WHERE amount > 20) AS sf, MAX(customer) AS mc
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '4' SECOND, INTERVAL '1' SECOND)) GROUP BY window_start, window_end`,
		`SELECT customer, window_start, window_end, COUNT(*) AS n, SUM(amount) AS s, MIN(amount) AS mi
FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND)) GROUP BY customer, window_start, window_end`,
		`SELECT customer, window_start, window_end, COUNT(*) AS n, SUM(amount) AS s, MAX(amount) AS ma
FROM TABLE(CUMULATE(TABLE orders, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '8' SECOND)) GROUP BY customer, window_start, window_end`,
		`SELECT GROUPING_ID(customer), customer, window_start, window_end, COUNT(*) AS n, SUM(amount) AS s
FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '3' SECOND, INTERVAL '6' SECOND)) GROUP BY ROLLUP(customer), window_start, window_end`,
	}
	run := func(q, file, strategy string, par int, backend string) (string, string) {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		script := fmt.Sprintf(`CREATE TABLE orders (id BIGINT, customer STRING, amount INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
SET 'table.optimizer.agg-phase-strategy' = '%s';
`, filepath.Join(dir, file), strategy)
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
		out, err := runJob(t, job, scriptOpts{par: par, backend: backend, table: true, perRecordWatermarks: true})
		if err != nil {
			t.Fatalf("%s (%s, parallelism %d, %s): %v", q, strategy, par, backend, err)
		}
		return out, plan
	}
	for _, q := range queries {
		for _, in := range []struct {
			file string
			pars []int
		}{{"late.csv", []int{1}}, {"calm.csv", []int{1, 4}}} {
			want, plan1 := run(q, in.file, "ONE_PHASE", 1, weir.StateHeap)
			if strings.Contains(plan1, "LocalWindowAggregate") || !strings.Contains(plan1, "WindowAggregate(") {
				t.Fatalf("%s: ONE_PHASE plan\n%s", q, plan1)
			}
			if strings.Count(want, "\n") < 10 {
				t.Fatalf("%s: result too small to tell:\n%s", q, want)
			}
			for _, par := range in.pars {
				for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
					got, plan2 := run(q, in.file, "TWO_PHASE", par, backend)
					if !strings.Contains(plan2, "LocalWindowAggregate") || !strings.Contains(plan2, "GlobalWindowAggregate") {
						t.Fatalf("%s: TWO_PHASE plan\n%s", q, plan2)
					}
					if got != want {
						t.Errorf("%s (%s): TWO_PHASE at parallelism %d, %s:\n%s\nONE_PHASE:\n%s", q, in.file, par, backend, got, want)
					}
				}
			}
		}
	}
}
