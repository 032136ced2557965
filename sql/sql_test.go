package sql_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/statebackend/pebble"
)

// TestScripts runs the script tests of testdata/: each file is one
// session.
//
//	file name=NAME       writes the block's input to $DIR/NAME
//	exec [parallelism=N] [backend=heap|pebble] [table]
//	                     runs the statements; results of DDL/SET/SHOW are
//	                     printed, a query's changelog is printed in arrival
//	                     order (parallelism 1) or, with table, as its
//	                     final sorted table; errors print as "error: ..."
//	                     With sorted, the changelog prints sorted.
//	                     With per-record-watermarks, sources emit a watermark
//	                     after each record (AutoWatermarkInterval -1), so late
//	                     rows are late deterministically.
//	                     With agg-modes, the block runs in each mode of
//	                     Flink's StreamingWithAggTestBase (phase strategy,
//	                     mini-batch, heap/pebble) and must print the same;
//	                     with state-modes, on heap and on Pebble; with
//	                     minibatch-modes, mini-batch off/on on each.
//	explain              prints the optimized physical plan of one EXPLAIN
//	                     statement, with changelog modes (the section of
//	                     EXPLAIN CHANGELOG_MODE)
//	explain-full         prints the whole output of one EXPLAIN statement
//	read name=NAME [dirs] prints the sorted lines of the files under $DIR/NAME
//	                     (dirs: each after its directory relative to $DIR/NAME)
//	read name=NAME files prints the sorted paths, relative to $DIR/NAME, of
//	                     the files under it whose names start with '_'
//	                     (success files of partition commit), or none
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.Contains(path, "match_steps") {
			t.Skip("a stepped MATCH_RECOGNIZE script (TestMatchSteps)")
		}
		if strings.HasPrefix(filepath.ToSlash(path), "testdata/fixtures/") {
			t.Skip("a checkpoint fixture, not a script")
		}
		runScript(t, path, nil)
	})
}

// runScript runs one script of testdata (see TestScripts) in a new
// session, after the statements of setup (may be empty).
func runScript(t *testing.T, path string, setup []string) {
	dir := t.TempDir()
	sess := sql.NewSession(sql.SessionOptions{})
	for _, st := range setup {
		stmts, err := parser.Parse(st)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range stmts {
			if _, _, err := sess.Execute(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	registerTestFunctions(t, sess)
	if strings.Contains(path, "flink_itcase_") {
		registerFlinkTestFunctions(t, sess)
	}
	if strings.Contains(path, "catalog_ns") {
		registerTagFunctions(t, sess)
	}
	if strings.Contains(path, "udf_multiset") {
		registerMultisetTestFunctions(t, sess)
	}
	if strings.Contains(path, "udf_over.txt") {
		registerOverTestFunctions(t, sess)
	}
	if strings.Contains(path, "udf_overload_agg") || strings.Contains(path, "udf_default") {
		registerOverloadedAggregates(t, sess)
	}
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		input := strings.ReplaceAll(d.Input, "$DIR", dir)
		switch d.Cmd {
		case "file":
			var name string
			d.ScanArgs(t, "name", &name)
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(input+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return ""
		case "read":
			var name string
			d.ScanArgs(t, "name", &name)
			if d.HasArg("files") {
				return markerFiles(filepath.Join(dir, name))
			}
			return readLines(t, filepath.Join(dir, name), d.HasArg("dirs"))
		case "explain", "explain-full":
			stmts, err := parser.Parse(input)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			if d.Cmd == "explain" {
				stmts[0] = changelogModeOnly(stmts[0])
			}
			res, _, err := sess.Execute(stmts[0])
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			if d.Cmd == "explain" {
				return physicalSection(res.Text)
			}
			return res.Text
		case "exec":
			if d.HasArg("skip") {
				// A case kept with its expected (Flink's) output but not
				// run; the comment above the block says why.
				return d.Expected
			}
			par, backend := 1, weir.StateHeap
			table := d.HasArg("table")
			if d.HasArg("parallelism") {
				d.ScanArgs(t, "parallelism", &par)
			}
			if d.HasArg("backend") {
				d.ScanArgs(t, "backend", &backend)
			}
			so := scriptOpts{par: par, backend: backend, table: table,
				perRecordWatermarks: d.HasArg("per-record-watermarks"), sorted: d.HasArg("sorted")}
			if a, ok := d.Arg("upsert-key"); ok {
				// The result materialised as an upsert sink keyed by these
				// columns (a change replaces or deletes the key's row).
				for _, v := range a.Vals {
					k, err := strconv.Atoi(v)
					if err != nil {
						t.Fatalf("upsert-key: %v", err)
					}
					so.upsertKey = append(so.upsertKey, k)
				}
				so.table = true
			}
			// The test's directory prints as $DIR (errors naming files).
			out := func(s string) string { return strings.ReplaceAll(s, dir, "$DIR") }
			if d.HasArg("drop-update-before") {
				// The records an upsert sink receives (Flink's
				// getRawResultsAsStrings): the changelog without its -U
				// rows, which the planner asks of no operator for such a
				// sink (their other rows are the same).
				out = func(s string) string {
					var keep []string
					for _, l := range strings.SplitAfter(strings.ReplaceAll(s, dir, "$DIR"), "\n") {
						if !strings.HasPrefix(l, "-U[") {
							keep = append(keep, l)
						}
					}
					return strings.Join(keep, "")
				}
			}
			if d.HasArg("agg-modes") {
				// Flink's StreamingWithAggTestBase matrix
				// (itcase_modes_test.go).
				return out(execAggModes(t, sess, input, so))
			}
			if d.HasArg("minibatch-modes") {
				// Flink's StreamingWithMiniBatchTestBase.
				return out(execModes(t, sess, input, so, flinkMiniBatchModes))
			}
			if d.HasArg("state-modes") {
				// Flink's StreamingWithStateTestBase: heap, RocksDB.
				return out(execModes(t, sess, input, so, flinkStateModes))
			}
			return out(execScriptOpts(t, sess, input, so))
		}
		t.Fatalf("unknown command %s", d.Cmd)
		return ""
	})
}

func readLines(t *testing.T, path string, dirs bool) string {
	var lines []string
	err := filepath.WalkDir(path, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		prefix := ""
		if dirs {
			rel, _ := filepath.Rel(path, filepath.Dir(p))
			prefix = filepath.ToSlash(rel) + ": "
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				lines = append(lines, prefix+l)
			}
		}
		return nil
	})
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// markerFiles lists the files under path whose names start with '_'.
func markerFiles(path string) string {
	var names []string
	err := filepath.WalkDir(path, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasPrefix(e.Name(), "_") {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	if len(names) == 0 {
		return "none\n"
	}
	sort.Strings(names)
	return strings.Join(names, "\n") + "\n"
}

// scriptOpts are the arguments of an exec block.
type scriptOpts struct {
	par                 int
	backend             string
	table               bool
	perRecordWatermarks bool
	// upsertKey materialises the result by upsert on these columns
	// (table must be set).
	upsertKey []int
	// sorted prints the changelog sorted (Flink's sorted raw sink results).
	sorted bool
}

func execScript(t *testing.T, sess *sql.Session, script string, par int, backend string, table bool) string {
	return execScriptOpts(t, sess, script, scriptOpts{par: par, backend: backend, table: table})
}

func execScriptOpts(t *testing.T, sess *sql.Session, script string, so scriptOpts) string {
	stmts, err := parser.Parse(script)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, st := range stmts {
		res, job, err := sess.Execute(st)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		if res != nil {
			switch {
			case res.Text != "":
				b.WriteString(res.Text)
			case len(res.Schema.Columns) > 0:
				result.PrintTableau(&b, res.Schema, res.Rows)
			default:
				b.WriteString("ok\n")
			}
			continue
		}
		out, err := runJob(t, job, so)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		b.WriteString(out)
	}
	return b.String()
}

func runJob(t *testing.T, job *sql.Job, so scriptOpts) (string, error) {
	par, backend, table := so.par, so.backend, so.table
	opts := job.Options()
	opts.Parallelism = par
	opts.StateBackend = backend
	opts.AutoWatermarkInterval = time.Millisecond
	if so.perRecordWatermarks {
		opts.AutoWatermarkInterval = -1
	}
	if backend == weir.StatePebble {
		opts.Pebble = pebble.New()
		opts.StateDir = t.TempDir()
	}
	env := weir.NewEnvironment(opts)
	var mu sync.Mutex
	var rows []row.Row
	err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, r.Clone())
		return nil
	})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		return "", err
	}
	if !job.IsQuery() {
		return "ok\n", nil
	}
	types := job.Schema().Types()
	var b strings.Builder
	if table {
		tab := result.NewTable(types, so.upsertKey)
		for _, r := range rows {
			if err := tab.Apply(r); err != nil {
				return "", err
			}
		}
		for _, l := range tab.Sorted() {
			b.WriteString(l + "\n")
		}
		return b.String(), nil
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = row.FormatRow(r, types)
	}
	if so.sorted {
		sort.Strings(lines)
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String(), nil
}

// TestBatchModeEmitsFinalRows checks that in the batch mode an updating
// query emits only its final rows (+I), and they equal the streaming run's
// materialised result.
func TestBatchModeEmitsFinalRows(t *testing.T) {
	run := func(batch bool) ([]row.Row, []row.Type) {
		sess := sql.NewSession(sql.SessionOptions{})
		if batch {
			if err := sess.Config().Set("execution.runtime-mode", "batch"); err != nil {
				t.Fatal(err)
			}
		}
		stmts, err := parser.Parse(`SELECT name, COUNT(*) AS cnt FROM (VALUES ('Bob'), ('Alice'), ('Greg'), ('Bob'), ('Bob')) AS T(name) GROUP BY name`)
		if err != nil {
			t.Fatal(err)
		}
		_, job, err := sess.Execute(stmts[0])
		if err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 2})
		var mu sync.Mutex
		var rows []row.Row
		if err := job.Build(env, func(r row.Row) error {
			mu.Lock()
			defer mu.Unlock()
			rows = append(rows, r.Clone())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		return rows, job.Schema().Types()
	}
	streaming, types := run(false)
	batch, _ := run(true)
	want := result.NewTable(types, nil)
	for _, r := range streaming {
		if err := want.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	got := result.NewTable(types, nil)
	for _, r := range batch {
		if r.Kind != row.Insert {
			t.Errorf("batch mode emitted %s", row.FormatRow(r, types))
		}
		got.Apply(r)
	}
	if len(streaming) <= len(batch) {
		t.Errorf("the streaming run emitted %d rows, the batch run %d: the streaming run should update", len(streaming), len(batch))
	}
	if got.String() != want.String() || got.Len() != 3 {
		t.Errorf("batch result\n%s\nwant\n%s", got, want)
	}
}
