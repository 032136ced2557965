package sql

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
	"github.com/weirstream/weir/weirtest"
)

// countTopNJob plans a Top-2 by COUNT(*) DESC over GROUP BY cat, shop of
// T (UpdateFastStrategy, or RetractStrategy with retract: the plan before
// Weir had UpdatableTopN) on h, whose input stands for T. It returns the
// input and the error of building or starting the job.
func countTopNJob(t *testing.T, h *weirtest.Harness, retract bool, out *[]string) (*weirtest.Input[row.Row], error) {
	t.Helper()
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse(`CREATE TABLE T (cat STRING, shop INT) WITH ('connector' = 'datagen');
SELECT cat, shop, c FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY c DESC) AS rn
  FROM (SELECT cat, shop, COUNT(*) AS c FROM T GROUP BY cat, shop))
WHERE rn <= 2;`)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	job.retractTopN = retract
	in := weirtest.NewInput[row.Row](h)
	types := job.Schema().Types()
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		*out = append(*out, row.FormatRow(r, types))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rk := findRank(job.query); rk == nil || (rk.UpdateFast == nil) != retract {
		t.Fatalf("Top-N planned with UpdateFast key %v, want retract %t", rk, retract)
	}
	return in, h.StartErr()
}

func findRank(r plan.Rel) *plan.Rank {
	if rk, ok := r.(*plan.Rank); ok {
		return rk
	}
	for _, in := range r.Inputs() {
		if rk := findRank(in); rk != nil {
			return rk
		}
	}
	return nil
}

// TestUpdatableTopNRestoreOfRetractSavepoint: a savepoint of a Top-N
// planned as RetractStrategy (Weir before UpdatableTopN) does not restore
// into the same query planned as UpdateFastStrategy: the operator and its
// state layout changed, and the restore fails naming the retractable
// operator, rather than starting the Top-N empty. (Flink does not carry
// Top-N state across such a plan change either.) The same savepoint still
// restores into the retractable plan.
func TestUpdatableTopNRestoreOfRetractSavepoint(t *testing.T) {
	opts := weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	var out []string
	h := weirtest.New(opts)
	in, err := countTopNJob(t, h, true, &out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := in.Push(row.Of(row.Str("a"), row.Int(int64(i%3))), weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}

	_, err = countTopNJob(t, weirtest.Restore(opts, snap), false, &out)
	if err == nil || !strings.Contains(err.Error(), "RetractableTopN") {
		t.Fatalf("restore of the retractable plan's savepoint into UpdateFastStrategy: error %v, want one naming RetractableTopN", err)
	}

	out = nil
	in, err = countTopNJob(t, weirtest.Restore(opts, snap), true, &out)
	if err != nil {
		t.Fatalf("restore into the same (retractable) plan: %v", err)
	}
	if err := in.Push(row.Of(row.Str("a"), row.Int(2)), weir.NoTimestamp); err != nil {
		t.Fatal(err)
	}
	// (a, 2) reaches count 4 and passes (a, 0) at 4: its old row (count
	// 3, second) is retracted and it comes in first.
	if got := fmt.Sprint(out); !strings.Contains(got, "[a, 2, 4]") {
		t.Fatalf("after restore into the retractable plan: %v, want (a, 2) at count 4", got)
	}
}
