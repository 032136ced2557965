package sql

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// proctimeSession makes a session with Nexmark-like tables over CSV files:
// bid (auction, bidder, price) and side_input (key, value).
func proctimeSession(t *testing.T) *Session {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bid.csv"), []byte("1,10,100\n2,20,200\n10001,10,300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "side.csv"), []byte("1,one\n2,two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sess := NewSession(SessionOptions{})
	_, _, err := sess.ExecuteScript(`
CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '` + filepath.Join(dir, "bid.csv") + `', 'format' = 'csv');
CREATE TABLE side_input (key BIGINT, ` + "`value`" + ` STRING)
  WITH ('connector' = 'filesystem', 'path' = '` + filepath.Join(dir, "side.csv") + `', 'format' = 'csv');
CREATE VIEW B AS SELECT *, PROCTIME() AS p_time FROM bid;`)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// planOf plans a query in sess.
func planOf(t *testing.T, sess *Session, query string) *Job {
	t.Helper()
	_, jobs, err := sess.ExecuteScript(query)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].query == nil {
		t.Fatalf("%s: want one query job, got %d", query, len(jobs))
	}
	return jobs[0]
}

// proctimeCalcs returns, for each Calc in r's plan that projects
// PROCTIME(), whether the translator computes it (false: a NULL).
func proctimeCalcs(r plan.Rel) []bool {
	tr := &translator{read: readColumns(r)}
	var out []bool
	var walk func(plan.Rel)
	walk = func(n plan.Rel) {
		if c, ok := n.(*plan.Calc); ok {
			projs := tr.unreadProctime(c)
			for i, p := range c.Projects {
				if isProctimeCall(p) {
					_, null := projs[i].(*expr.Literal)
					out = append(out, !null)
				}
			}
		}
		for _, in := range n.Inputs() {
			walk(in)
		}
	}
	walk(r)
	return out
}

// TestUnreadProctime checks that a PROCTIME() column is computed exactly
// when a consumer reads its value (Flink's PROCTIME_MATERIALIZE): not for
// a lookup join's FOR SYSTEM_TIME AS OF (Nexmark q13) nor a window on
// processing time (q12), but for a projection, a condition or a window
// aggregate's argument; and that EXPLAIN still shows PROCTIME().
func TestUnreadProctime(t *testing.T) {
	sess := proctimeSession(t)
	for _, tc := range []struct {
		query    string
		computed bool
	}{
		// q13
		{"SELECT B.auction, B.bidder, B.price, S.`value` FROM B JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON mod(B.auction, 10000) = S.key", false},
		// q12
		{"SELECT bidder, COUNT(*) AS bid_count, window_start, window_end FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end", false},
		// Read: passed on by the join, projected, filtered on, aggregated.
		{"SELECT B.auction, B.p_time, S.`value` FROM B JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON mod(B.auction, 10000) = S.key", true},
		{"SELECT B.auction, S.`value` FROM B JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON mod(B.auction, 10000) = S.key AND B.p_time IS NOT NULL", true},
		{"SELECT auction, p_time FROM B", true},
		{"SELECT auction, CAST(p_time AS STRING) FROM B", true},
		{"SELECT auction FROM B WHERE p_time IS NOT NULL", true},
		{"SELECT bidder, MAX(p_time) AS m, window_start FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end", true},
	} {
		job := planOf(t, sess, tc.query)
		got := proctimeCalcs(job.query)
		if len(got) == 0 {
			t.Errorf("%s: no Calc computes PROCTIME():\n%s", tc.query, job.Explain())
			continue
		}
		for _, c := range got {
			if c != tc.computed {
				t.Errorf("%s: PROCTIME() computed %v, want %v:\n%s", tc.query, c, tc.computed, job.Explain())
			}
		}
		if !strings.Contains(job.Explain(), "PROCTIME() AS p_time") {
			t.Errorf("%s: EXPLAIN lacks PROCTIME() AS p_time:\n%s", tc.query, job.Explain())
		}
	}
}

// TestProctimeMaterializedWhereRead runs lookup joins that read the
// processing-time attribute after the join (the Calc above the join runs
// in it, translate_lookup.go) and checks that each row's value is the
// wall clock while the job ran, and that a join not reading it gives the
// same rows.
func TestProctimeMaterializedWhereRead(t *testing.T) {
	sess := proctimeSession(t)
	run := func(query string) []row.Row {
		job := planOf(t, sess, query)
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		var rows []row.Row
		if err := job.Build(env, func(r row.Row) error {
			rows = append(rows, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	before := time.Now().UnixMilli()
	rows := run("SELECT B.auction, B.p_time, S.`value` FROM B JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON mod(B.auction, 10000) = S.key")
	after := time.Now().UnixMilli()
	want := []string{"1 one", "2 two", "10001 one"}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows %v, want %d", len(rows), rows, len(want))
	}
	for i, r := range rows {
		if len(r.Fields) != 3 {
			t.Fatalf("row %d has %d columns: %v", i, len(r.Fields), r)
		}
		if got := row.Format(r.Fields[0], row.BigInt()) + " " + row.Format(r.Fields[2], row.String()); got != want[i] {
			t.Errorf("row %d: %s, want %s", i, got, want[i])
		}
		p := r.Fields[1]
		if p.IsNull() || p.Millis() < before || p.Millis() > after {
			t.Errorf("row %d: p_time %v, want the clock between %d and %d", i, p, before, after)
		}
	}
	rows = run("SELECT B.auction, S.`value` FROM B LEFT JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON B.auction = S.key")
	want = []string{"1 one", "2 two", "10001 NULL"}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows %v, want %d", len(rows), rows, len(want))
	}
	for i, r := range rows {
		if len(r.Fields) != 2 {
			t.Fatalf("row %d has %d columns: %v", i, len(r.Fields), r)
		}
		if got := row.Format(r.Fields[0], row.BigInt()) + " " + row.Format(r.Fields[1], row.String()); got != want[i] {
			t.Errorf("row %d: %s, want %s", i, got, want[i])
		}
	}
}

// TestUnreadProctimeMergesCalcs checks that a Calc over one whose
// PROCTIME() is unread runs merged with it (q12: one Calc after the
// source, not two), and that one reading it does not (PROCTIME() is not
// deterministic: merging could evaluate it elsewhere or twice).
func TestUnreadProctimeMergesCalcs(t *testing.T) {
	sess := proctimeSession(t)
	for _, tc := range []struct {
		query, chain string
	}{
		{"SELECT bidder, COUNT(*) AS bid_count, window_start, window_end FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end",
			"Source: bid -> Calc [parallelism"},
		{"SELECT bidder, MAX(p_time) AS m, window_start FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end",
			"Source: bid -> Calc -> Calc-2 [parallelism"},
	} {
		job := planOf(t, sess, tc.query)
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		if err := job.Build(env, func(row.Row) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := env.Explain(); !strings.Contains(got, tc.chain) {
			t.Errorf("%s: the job lacks %q:\n%s", tc.query, tc.chain, got)
		}
	}
}
