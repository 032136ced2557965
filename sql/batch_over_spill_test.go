package sql_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
)

// spillBudget is the SET statement of an OVER partition's memory budget.
func spillBudget(b string) string {
	return fmt.Sprintf("SET 'table.exec.resource.external-buffer-memory' = '%s';", b)
}

// TestBatchOverScriptsSpilled runs the batch OVER scripts
// (testdata/batch_over*.txt) with a budget of one byte, so that every
// partition of more than one row is sorted into a spill file (each row a
// run of its own, merged 16 at a time) and read back from it, and with a
// budget of a few rows: the output must be the scripts' expected output.
func TestBatchOverScriptsSpilled(t *testing.T) {
	files, err := filepath.Glob("testdata/batch_over*.txt")
	if err != nil || len(files) < 4 {
		t.Fatalf("scripts %v, %v", files, err)
	}
	for _, budget := range []string{"1 b", "300 b"} {
		for _, path := range files {
			t.Run(budget+"/"+filepath.Base(path), func(t *testing.T) {
				runScript(t, path, []string{spillBudget(budget)})
			})
		}
	}
}

// TestBatchOverSpillSameAnswer runs random OVER queries (those of
// TestBatchOverDifferential) over random tables of up to 80 rows in two
// partitions with no limit, a budget of a few bytes (every row spilled
// as a run of its own, several merge passes) and of a few dozen rows, at
// parallelism 1 to 3: the rows must be the same, and the reference's.
func TestBatchOverSpillSameAnswer(t *testing.T) {
	rnd := rand.New(rand.NewSource(13))
	iters := 12
	if testing.Short() {
		iters = 4
	}
	for it := 0; it < iters; it++ {
		n := 20 + rnd.Intn(61)
		tab := make([]ovRow, n)
		opt := func(lo, hi int64, nullPct int) *int64 {
			if rnd.Intn(100) < nullPct {
				return nil
			}
			x := lo + rnd.Int63n(hi-lo+1)
			return &x
		}
		for i := range tab {
			tab[i] = ovRow{id: int64(i + 1), p: opt(1, 2, 5), o: opt(0, 12, 10), v: opt(-5, 20, 15)}
		}
		q := randOverQuery(rnd)
		want := q.reference(tab)
		par := 1 + it%3
		var first string
		for bi, budget := range []string{"1 tb", "3 b", "2 kb"} {
			got, err := runBatchOverQuery(t, tab, spillBudget(budget)+"\n"+q.sql(), par)
			if err != nil {
				t.Fatalf("iteration %d, budget %s: %s\n%v", it, budget, q.sql(), err)
			}
			if bi == 0 {
				first = got
			}
			if got != first || got != want {
				t.Fatalf("iteration %d (parallelism %d, budget %s): %s\ndata %v\ngot:\n%sunlimited:\n%swant:\n%s",
					it, par, budget, q.sql(), tab, got, first, want)
			}
		}
	}
}

// spillQuery is a batch OVER query over 300 rows in one partition, with
// a frame of each kind, ranks and LAG; bad (when set) makes the row
// numbered 250 fail a CAST after the window.
func spillQuery(bad bool) string {
	var vals []string
	for i := range 300 {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, i*37%101))
	}
	value := "rn"
	if bad {
		value = "CAST(CASE WHEN rn = 250 THEN 'x' ELSE '1' END AS INT)"
	}
	return "CREATE TEMPORARY VIEW t AS SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") AS x(id, v);\n" +
		"SET 'execution.runtime-mode' = 'batch';\n" +
		"SELECT id, " + value + ", s, c, lg FROM (SELECT id, v,\n" +
		"  ROW_NUMBER() OVER (ORDER BY v, id) AS rn,\n" +
		"  SUM(v) OVER (ORDER BY v ROWS BETWEEN 5 PRECEDING AND 3 FOLLOWING) AS s,\n" +
		"  COUNT(*) OVER (ORDER BY v RANGE BETWEEN 10 PRECEDING AND CURRENT ROW) AS c,\n" +
		"  LAG(v, 7) OVER (ORDER BY id) AS lg FROM t)"
}

// runInDirs runs script (its last statement a query) with the job's
// state directory stateDir and returns the number of rows and the job's
// error.
func runInDirs(t *testing.T, script, stateDir string) (int, error) {
	t.Helper()
	job, err := executeScript(sql.NewSession(sql.SessionOptions{}), script)
	if err != nil {
		t.Fatal(err)
	}
	opts := job.Options()
	opts.Parallelism = 2
	opts.StateDir = stateDir
	env := weir.NewEnvironment(opts)
	rows := 0
	if err := job.Build(env, func(row.Row) error { rows++; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return rows, env.Execute(ctx)
}

// leftFiles lists the files under dir.
func leftFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBatchOverSpillFilesRemoved runs a spilling OVER query to its end
// and into a failure after its partition spilled (a CAST failing on a
// row the window emits): either way no spill file is left in io.tmp.dirs
// nor in the job's state directory. That the query spilled shows in the
// spill directory the operator made under io.tmp.dirs.
func TestBatchOverSpillFilesRemoved(t *testing.T) {
	for _, bad := range []bool{false, true} {
		t.Run(fmt.Sprintf("fails=%v", bad), func(t *testing.T) {
			tmp := filepath.Join(t.TempDir(), "spill")
			stateDir := t.TempDir()
			for _, dirs := range []string{"", tmp} {
				script := spillBudget("1 kb") + "\n" + spillQuery(bad)
				if dirs != "" {
					script = fmt.Sprintf("SET 'io.tmp.dirs' = '%s';\n", dirs) + script
				}
				rows, err := runInDirs(t, script, stateDir)
				t.Logf("io.tmp.dirs %q: %d rows, %v", dirs, rows, err)
				switch {
				case bad && (err == nil || !strings.Contains(err.Error(), "cannot cast 'x' to INT")):
					t.Fatalf("io.tmp.dirs %q: the failing CAST gave %v", dirs, err)
				case !bad && (err != nil || rows != 300):
					t.Fatalf("io.tmp.dirs %q: %d rows, %v", dirs, rows, err)
				}
				if left := leftFiles(t, stateDir); len(left) != 0 {
					t.Fatalf("io.tmp.dirs %q: files left in the state directory: %v", dirs, left)
				}
			}
			if _, err := os.Stat(tmp); err != nil {
				t.Fatalf("no spill directory was made (the query did not spill): %v", err)
			}
			if left := leftFiles(t, tmp); len(left) != 0 {
				t.Fatalf("spill files left: %v", left)
			}
		})
	}
}

// TestBatchOverSpillUnwritable points io.tmp.dirs below a regular file:
// the first partition to spill fails the job with an error naming the
// operator and the directory, not a panic.
func TestBatchOverSpillUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "spill")
	script := fmt.Sprintf("SET 'io.tmp.dirs' = '%s';\n", dir) + spillBudget("1 kb") + "\n" + spillQuery(false)
	_, err := runInDirs(t, script, t.TempDir())
	t.Logf("job error: %v", err)
	if err == nil || !strings.Contains(err.Error(), `operator "OverAggregate"`) || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("job error %v; want one naming the operator and %s", err, dir)
	}
}
