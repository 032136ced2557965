package sql_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
)

// TestSharedAggregationKeepsUpdateBefore runs one group aggregation for
// two sinks (sub-plan reuse): a print sink, which takes -U rows, and a
// blackhole, which takes none. The aggregation must emit its -U rows for
// the print sink (the union of its consumers' needs), so the print sink
// writes what it writes alone; and alone the blackhole's aggregation
// emits none, which the EXPLAIN shows.
func TestSharedAggregationKeepsUpdateBefore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "words.csv"), []byte("a\nb\na\nc\na\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ddl := `CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '` + filepath.Join(dir, "words.csv") + `', 'format' = 'csv');
CREATE TABLE out (w STRING, n BIGINT) WITH ('connector' = 'print');
CREATE TABLE bh (w STRING, n BIGINT) WITH ('connector' = 'blackhole');`
	agg := "SELECT w, COUNT(*) FROM words GROUP BY w"
	run := func(stmt string) []string {
		var buf bytes.Buffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		sess := sql.NewSession(sql.SessionOptions{Connectors: reg})
		stmts, err := parser.Parse(ddl + stmt)
		if err != nil {
			t.Fatal(err)
		}
		var job *sql.Job
		for _, st := range stmts {
			_, j, err := sess.Execute(st)
			if err != nil {
				t.Fatal(err)
			}
			if j != nil {
				job = j
			}
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		if err := job.Build(env, nil); err != nil {
			t.Fatal(err)
		}
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		sort.Strings(lines)
		return lines
	}
	alone := run("INSERT INTO out " + agg + ";")
	// The blackhole's INSERT first: its translation builds the shared
	// aggregation.
	shared := run("EXECUTE STATEMENT SET BEGIN INSERT INTO bh " + agg + "; INSERT INTO out " + agg + "; END;")
	if strings.Join(shared, "\n") != strings.Join(alone, "\n") {
		t.Errorf("print sink beside a blackhole wrote\n%s\nwant (alone)\n%s", strings.Join(shared, "\n"), strings.Join(alone, "\n"))
	}
	if !strings.Contains(strings.Join(alone, "\n"), "-U[a, 1]") {
		t.Errorf("print sink wrote no -U rows:\n%s", strings.Join(alone, "\n"))
	}
}
