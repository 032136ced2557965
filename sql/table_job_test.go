package sql

import (
	"fmt"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/weirtest"
)

// tableJob runs script (DDL of a table T, SET statements, one query) on a
// harness whose input stands for T, and keeps the query's result table in
// table by its first column: +I/+U write a key's row, -U/-D must retract
// the row the table holds (else the job fails). The restore tests plan
// one query two ways and compare their final tables.
func tableJob(t *testing.T, h *weirtest.Harness, script string, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	in := weirtest.NewInput[row.Row](h)
	types := job.Schema().Types()
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		key := row.FormatRow(row.Of(r.Fields[0]), types[:1])
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			table[key] = row.FormatRow(r.WithKind(row.Insert), types)
		default:
			if table[key] != row.FormatRow(r.WithKind(row.Insert), types) {
				return fmt.Errorf("%s retracts a row the table does not hold (%q)", row.FormatRow(r, types), table[key])
			}
			delete(table, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return in
}
