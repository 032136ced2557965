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

// TestMiniBatchDedupSameAnswer runs processing-time deduplications
// (keep-first, keep-last) with
// mini-batch off and on at parallelism 1 and 4, heap and Pebble, and
// checks that the final tables are equal (each changelog applies cleanly
// to its table).
func TestMiniBatchDedupSameAnswer(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	x := uint64(11)
	next := func(n uint64) uint64 { x = x*6364136223846793005 + 1442695040888963407; return (x >> 33) % n }
	for i := range 3000 {
		fmt.Fprintf(&b, "%d,u%d,p%d\n", i, next(97), next(13))
	}
	if err := os.WriteFile(filepath.Join(dir, "clicks.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	queries := []string{
		`SELECT id, usr, page FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY usr ORDER BY pt DESC) AS rn FROM clicks) WHERE rn = 1`,
		`SELECT id, usr, page FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY usr ORDER BY pt ASC) AS rn FROM clicks) WHERE rn = 1`,
	}
	run := func(q string, miniBatch bool, par int, backend string) string {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		script := fmt.Sprintf(`CREATE TABLE clicks (id BIGINT, usr STRING, page STRING, pt AS PROCTIME()) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
SET 'table.exec.mini-batch.enabled' = '%t';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '97';
`, filepath.Join(dir, "clicks.csv"), miniBatch)
		stmts, err := parser.Parse(script + q + ";")
		if err != nil {
			t.Fatal(err)
		}
		var job *sql.Job
		for _, st := range stmts {
			_, j, err := sess.Execute(st)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			job = j
		}
		out, err := runJob(t, job, scriptOpts{par: par, backend: backend, table: true})
		if err != nil {
			t.Fatalf("%s (mini-batch %t, parallelism %d, %s): %v", q, miniBatch, par, backend, err)
		}
		return out
	}
	for _, q := range queries {
		want := run(q, false, 1, weir.StateHeap)
		if strings.Count(want, "\n") < 2 {
			t.Fatalf("%s: result too small:\n%s", q, want)
		}
		for _, c := range []struct {
			par     int
			backend string
		}{{1, weir.StateHeap}, {4, weir.StateHeap}, {4, weir.StatePebble}} {
			if got := run(q, true, c.par, c.backend); got != want {
				t.Errorf("%s: mini-batch at parallelism %d, %s:\n%s\nwithout:\n%s", q, c.par, c.backend, got, want)
			}
		}
	}
}
