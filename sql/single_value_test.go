package sql_test

import (
	"errors"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/parser"
)

// TestSingleValueErrorIs checks that a scalar subquery with a second row
// fails the job with an error that is exec.ErrSingleValue (Flink's
// "SingleValueAggFunction received more than one element."), for one and
// two phases.
func TestSingleValueErrorIs(t *testing.T) {
	for _, twoPhase := range []bool{false, true} {
		sess := sql.NewSession(sql.SessionOptions{})
		if twoPhase {
			for k, v := range map[string]string{
				"table.exec.mini-batch.enabled":       "true",
				"table.exec.mini-batch.allow-latency": "1 h",
				"table.exec.mini-batch.size":          "10",
				"table.optimizer.agg-phase-strategy":  "TWO_PHASE",
			} {
				if err := sess.Config().Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		stmts, err := parser.Parse(`SELECT x, (SELECT y FROM (VALUES (1), (2)) AS T(y)) AS v FROM (VALUES (7)) AS S(x)`)
		if err != nil {
			t.Fatal(err)
		}
		_, job, err := sess.Execute(stmts[0])
		if err != nil {
			t.Fatal(err)
		}
		_, err = runJob(t, job, scriptOpts{par: 2, backend: weir.StateHeap, table: true})
		if !errors.Is(err, exec.ErrSingleValue) {
			t.Fatalf("two phases %v: got %v, want exec.ErrSingleValue", twoPhase, err)
		}
	}
}
