package sql

import (
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/weirtest"
)

// TestWindowAntiJoinRefusesRegularJoinSavepoint restores a savepoint of a
// regular anti join (the plan window anti joins had before they ran as
// window joins; here its correlation's window_start goes through an
// expression) into the window anti join: the restore is refused naming the
// old operator, and allowed with AllowNonRestoredState (docs/sql.md,
// "Window semi and anti joins").
func TestWindowAntiJoinRefusesRegularJoinSavepoint(t *testing.T) {
	const ddl = `CREATE TABLE L (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
CREATE TABLE R (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
`
	query := func(startExpr string) string {
		return `SELECT L.k FROM (SELECT * FROM TABLE(TUMBLE(TABLE L, DESCRIPTOR(ts), INTERVAL '5' SECOND))) L WHERE NOT EXISTS (
  SELECT * FROM TABLE(TUMBLE(TABLE R, DESCRIPTOR(ts), INTERVAL '5' SECOND)) R
  WHERE L.window_start = ` + startExpr + ` AND L.window_end = R.window_end AND L.k = R.k);`
	}
	build := func(h *weirtest.Harness, q string) {
		t.Helper()
		sess := NewSession(SessionOptions{})
		stmts, err := parser.Parse(ddl + q)
		if err != nil {
			t.Fatal(err)
		}
		var job *Job
		for _, st := range stmts {
			if _, job, err = sess.Execute(st); err != nil {
				t.Fatal(err)
			}
		}
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		if err := job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"L": l.Stream(), "R": r.Stream()}, func(row.Row) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	old := weirtest.New(opts)
	build(old, query("R.window_start + INTERVAL '0' SECOND"))
	old.Start(t)
	snap, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h := weirtest.Restore(opts, snap)
	build(h, query("R.window_start"))
	err = h.StartErr()
	if err == nil || !strings.Contains(err.Error(), "Join(ANTI)") {
		t.Fatalf("restore of the regular join's savepoint: %v, want a refusal naming Join(ANTI)", err)
	}
	t.Log(err)
	opts.AllowNonRestoredState = true
	h = weirtest.Restore(opts, snap)
	build(h, query("R.window_start"))
	h.Start(t) // fails the test if refused
}
