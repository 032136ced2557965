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
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
)

// upsertSink is a test connector: a sink keyed by its primary key that
// takes no UPDATE_BEFORE rows (as upsert-kafka), and discards its rows.
type upsertSink struct{}

func (upsertSink) Identifier() string        { return "test-upsert" }
func (upsertSink) RequiredOptions() []string { return nil }
func (upsertSink) OptionalOptions() []string { return nil }
func (upsertSink) CreateSink(connector.Context) (connector.Sink, error) {
	return upsertSink{}, nil
}
func (upsertSink) ChangelogMode(q connector.ChangelogMode) (connector.ChangelogMode, error) {
	if q.IsInsertOnly() {
		return q, nil
	}
	return connector.Upsert, nil
}
func (upsertSink) Consume(b connector.BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	return in.SinkTo(weir.SinkFunc[row.Row](func(context.Context, row.Row, int64) error { return nil })).Name("test-upsert"), nil
}

// TestSharedAggregationKeepsUpdateBefore runs one group aggregation for
// two sinks (sub-plan reuse): a print sink, which takes -U rows, and an
// upsert sink keyed by the group key, which takes none. The aggregation
// must emit its -U rows for the print sink (the union of its consumers'
// needs), so the print sink writes what it writes alone. Beside a
// blackhole the aggregations run apart, as before the inference
// (translate_changelog.go: the job graph is kept), the print sink's with
// its -U rows.
func TestSharedAggregationKeepsUpdateBefore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "words.csv"), []byte("a\nb\na\nc\na\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ddl := `CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '` + filepath.Join(dir, "words.csv") + `', 'format' = 'csv');
CREATE TABLE out (w STRING, n BIGINT) WITH ('connector' = 'print');
CREATE TABLE bh (w STRING, n BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE up (w STRING, n BIGINT, PRIMARY KEY (w) NOT ENFORCED) WITH ('connector' = 'test-upsert');`
	agg := " SELECT w, COUNT(*) FROM words GROUP BY w"
	run := func(stmt string) ([]string, string) {
		var buf bytes.Buffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		reg.Register(upsertSink{})
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
		graph := env.Explain()
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		sort.Strings(lines)
		return lines, graph
	}
	alone, _ := run("INSERT INTO out" + agg + ";")
	// The other sink's INSERT first: its translation builds the
	// aggregation.
	for other, aggs := range map[string]int{"up": 1, "bh": 2} {
		shared, graph := run("EXECUTE STATEMENT SET BEGIN INSERT INTO " + other + agg + "; INSERT INTO out" + agg + "; END;")
		if strings.Join(shared, "\n") != strings.Join(alone, "\n") {
			t.Errorf("print sink beside %s wrote\n%s\nwant (alone)\n%s", other, strings.Join(shared, "\n"), strings.Join(alone, "\n"))
		}
		if n := strings.Count(graph, "GroupAggregate"); n != aggs {
			t.Errorf("beside %s the job runs %d group aggregations, want %d:\n%s", other, n, aggs, graph)
		}
	}
	if !strings.Contains(strings.Join(alone, "\n"), "-U[a, 1]") {
		t.Errorf("print sink wrote no -U rows:\n%s", strings.Join(alone, "\n"))
	}
}
