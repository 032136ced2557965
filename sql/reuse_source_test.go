package sql_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestReuseSource checks that two scans of one table in a job read one
// source (table.optimizer.reuse-source-enabled, Flink's default), and
// that the self-join gives the same rows with and without reuse.
func TestReuseSource(t *testing.T) {
	run := func(reuse string) (sources int, rows []string) {
		sess := sql.NewSession(sql.SessionOptions{})
		stmts, err := parser.Parse(`SET 'table.optimizer.reuse-source-enabled' = '` + reuse + `';
CREATE TABLE T (id BIGINT, v BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '200', 'fields.v.min' = '0', 'fields.v.max' = '9');
SELECT a.id, b.id FROM T a JOIN T b ON a.v = b.v WHERE a.id < b.id AND a.id + 10 > b.id;`)
		if err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		var mu sync.Mutex
		for _, st := range stmts {
			_, job, err := sess.Execute(st)
			if err != nil {
				t.Fatal(err)
			}
			if job == nil {
				continue
			}
			if err := job.Build(env, func(r row.Row) error {
				mu.Lock()
				defer mu.Unlock()
				rows = append(rows, fmt.Sprint(r.Kind, r.Fields))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range env.Plan().Vertices {
			for _, op := range v.Operators {
				if strings.HasPrefix(op.Name, "Source") {
					sources++
				}
			}
		}
		if err := env.Execute(t.Context()); err != nil {
			t.Fatal(err)
		}
		slices.Sort(rows)
		return sources, rows
	}
	n1, reused := run("true")
	n2, separate := run("false")
	if n1 != 1 || n2 != 2 {
		t.Errorf("sources: %d with reuse, %d without; want 1 and 2", n1, n2)
	}
	if len(reused) == 0 {
		t.Fatal("the self-join emitted nothing: the comparison proves nothing")
	}
	if !slices.Equal(reused, separate) {
		t.Errorf("with reuse %d rows, without %d:\n%v\n%v", len(reused), len(separate), reused, separate)
	}
}
