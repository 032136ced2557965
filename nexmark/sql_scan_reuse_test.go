package nexmark_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
)

// nexmarkStatements returns a Nexmark SQL session and the statements of
// query name's script over events events, after the given SET statements.
func nexmarkStatements(t *testing.T, name string, events int64, sets ...string) (*sql.Session, []ast.Statement) {
	t.Helper()
	script, err := nexmark.SQLScriptIn(name, events, 7, 10000, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := nexmark.SQLSession(sql.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := parser.Parse(strings.Join(sets, ";\n") + ";\n" + script)
	if err != nil {
		t.Fatal(err)
	}
	return sess, stmts
}

// sqlQueryJob plans a Nexmark query's SELECT after the given SET
// statements.
func sqlQueryJob(t *testing.T, name string, events int64, sets ...string) *sql.Job {
	t.Helper()
	sname := name
	if _, ok := selfJoins[name]; ok {
		sname = "q0"
	}
	sess, stmts := nexmarkStatements(t, sname, events, sets...)
	var ins *ast.Insert
	for _, st := range stmts {
		if i, ok := st.(*ast.Insert); ok {
			ins = i
			continue
		}
		if _, _, err := sess.Execute(st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var query ast.Statement = &ast.QueryStmt{Query: ins.Query}
	if q, ok := selfJoins[name]; ok {
		st, err := parser.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		query = st[0]
	}
	_, job, err := sess.Execute(query)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// selfJoins are queries (run after q0's DDL) whose two reads of the event
// table pass the same rows with different projections: the Calcs over a
// shared scan must not write over its rows.
var selfJoins = map[string]string{
	"bids-counts": `SELECT B.auction, B.price, B.bidder, C.cnt
		FROM bid AS B JOIN (SELECT auction, COUNT(*) AS cnt FROM bid GROUP BY auction) AS C
		ON B.auction = C.auction`,
	"bids-max": `SELECT B.price * 2, B.channel, M.maxp
		FROM (SELECT channel, price, auction FROM bid WHERE price > 100) AS B
		JOIN (SELECT auction, MAX(price) AS maxp, MIN(url) AS u FROM bid GROUP BY auction) AS M
		ON B.auction = M.auction AND B.price = M.maxp`,
}

func sqlExplain(t *testing.T, name string, sets ...string) string {
	t.Helper()
	sess, stmts := nexmarkStatements(t, name, 100, sets...)
	var plan string
	for _, st := range stmts {
		if ins, ok := st.(*ast.Insert); ok {
			st = &ast.Explain{Stmt: ins}
		}
		res, _, err := sess.Execute(st)
		if err != nil {
			t.Fatal(err)
		}
		if res != nil && res.Text != "" {
			plan = res.Text
		}
	}
	_, phys, _ := strings.Cut(plan, "== Optimized Physical Plan ==")
	phys, _, _ = strings.Cut(phys, "== Optimized Execution Plan ==")
	return phys
}

// scans returns the TableSourceScan lines of a plan.
func scans(plan string) []string {
	var out []string
	for _, l := range strings.Split(plan, "\n") {
		if i := strings.Index(l, "TableSourceScan("); i >= 0 {
			out = append(out, l[i:])
		}
	}
	return out
}

// TestSQLScanReuse: the joins that read the event table through two views
// (bid and auction, auction and person) read it once, pushing down the
// union of the two projections (Flink's ScanReuser); with
// table.optimizer.reuse-projected-source-enabled off each view has a
// source of its own, as before. (The answers are checked against the
// DataStream versions by TestSQLSameAnswer, with the reuse on.)
func TestSQLScanReuse(t *testing.T) {
	for name, want := range map[string]string{
		"q3":  "project=[event_type, person_id, person_name, person_city, person_state, auction_id, auction_seller, auction_category]",
		"q20": "project=[event_type, auction_id, auction_itemName, auction_description, auction_initialBid, auction_reserve, auction_dateTime, auction_expires, auction_seller, auction_category, auction_extra, bid_auction, bid_bidder, bid_price, bid_channel, bid_url, bid_dateTime, bid_extra]",
		"q8":  "project=[event_type, person_id, person_name, person_dateTime, auction_dateTime, auction_seller]",
	} {
		s := scans(sqlExplain(t, name))
		if len(s) != 2 || s[0] != s[1] || !strings.Contains(s[0], want) {
			t.Errorf("%s: want two equal scans with %s, have:\n%s", name, want, strings.Join(s, "\n"))
		}
		s = scans(sqlExplain(t, name, "SET 'table.optimizer.reuse-projected-source-enabled' = 'false'"))
		if len(s) != 2 || s[0] == s[1] {
			t.Errorf("%s: reuse off: want two different scans, have:\n%s", name, strings.Join(s, "\n"))
		}
		s = scans(sqlExplain(t, name, "SET 'table.optimizer.reuse-source-enabled' = 'false'"))
		if len(s) != 2 || s[0] == s[1] {
			t.Errorf("%s: source reuse off: want two different scans, have:\n%s", name, strings.Join(s, "\n"))
		}
	}
}

// TestSQLScanReuseSameRows: with the reuse on and off, the join queries
// over two views, and two self-joins of bids whose two reads take the
// same rows, give the same final table (at parallelism 2: the shared
// source's rows go to two Calcs, then across exchanges).
func TestSQLScanReuseSameRows(t *testing.T) {
	for _, name := range []string{"q3", "q4", "q8", "q9", "q20", "bids-counts", "bids-max"} {
		events := int64(20000)
		if _, ok := selfJoins[name]; ok {
			events = 3000 // an updating join: pairs re-emitted per count
		}
		on := runQueryJob(t, sqlQueryJob(t, name, events), 2, "")
		off := runQueryJob(t, sqlQueryJob(t, name, events, "SET 'table.optimizer.reuse-projected-source-enabled' = 'false'"), 2, "")
		if len(on) == 0 {
			t.Fatalf("%s: no rows", name)
		}
		if len(on) != len(off) {
			t.Fatalf("%s: %d rows with the reuse, %d without", name, len(on), len(off))
		}
		for i := range on {
			if on[i] != off[i] {
				t.Fatalf("%s: row %d: %s with the reuse, %s without", name, i, on[i], off[i])
			}
		}
	}
}

// stopAtFirstRow runs a planned query at parallelism par with sink as its
// sink (called under a lock) and stops it with a savepoint once the sink
// has taken its first row; it returns the savepoint's path. The job must
// not end before its first row, nor before the savepoint (give it enough
// events).
func stopAtFirstRow(t *testing.T, job *sql.Job, par int, sink func(row.Row) error) string {
	t.Helper()
	dir := t.TempDir()
	o := job.Options()
	o.Parallelism = par
	o.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: dir + "/ck"}
	env := weir.NewEnvironment(o)
	first := make(chan struct{})
	var (
		once sync.Once
		mu   sync.Mutex
	)
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		once.Do(func() { close(first) })
		return sink(r)
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	running, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-first:
	case <-running.Done():
		t.Fatal("the job ended before its first row")
	}
	sp, err := running.StopWithSavepoint(ctx, dir+"/sp")
	if err != nil {
		t.Fatalf("savepoint: %v (the job may have finished first: more events)", err)
	}
	_ = running.Wait()
	return sp
}

// runQueryJob runs a planned query at parallelism par (restoring restore,
// if set) and returns its final table's rows, formatted and sorted.
func runQueryJob(t *testing.T, job *sql.Job, par int, restore string) []string {
	t.Helper()
	opts := job.Options()
	opts.Parallelism = par
	opts.Restore = restore
	env := weir.NewEnvironment(opts)
	types := job.Schema().Types()
	tab := result.NewTable(types, nil)
	var mu sync.Mutex
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		return tab.Apply(r)
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	return formatTable(tab, types)
}

func formatTable(tab *result.Table, types []row.Type) []string {
	var out []string
	for _, r := range tab.Rows() {
		var b bytes.Buffer
		for i, v := range r.Fields {
			b.WriteString(row.Format(v, types[i]) + "|")
		}
		out = append(out, b.String())
	}
	return sortedStrings(out)
}

// sortedStrings sorts s in place and returns it. (It was an insertion
// sort: quadratic, and under -race every swap is instrumented, which cost
// seconds on the tens of thousands of rows of the tests above.)
func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}

// TestSQLScanReuseRestoresOldPlan: a savepoint of q3 as planned before the
// reuse (two sources: the reuse turned off, which plans exactly as before)
// restores into that plan and finishes with the answer of a run without
// a stop; the default plan (one source) refuses it, naming the second
// source's operator, instead of resuming both views from one position.
func TestSQLScanReuseRestoresOldPlan(t *testing.T) {
	const events = 400000
	off := "SET 'table.optimizer.reuse-projected-source-enabled' = 'false'"
	want := runQueryJob(t, sqlQueryJob(t, "q3", events, off), 1, "")

	// Run until the first result rows, stop with a savepoint.
	job := sqlQueryJob(t, "q3", events, off)
	types := job.Schema().Types()
	before := result.NewTable(types, nil)
	sp := stopAtFirstRow(t, job, 1, before.Apply)

	// q3 is insert-only and its rows are distinct (one per auction): the
	// rows before the savepoint and those of the restored run make the
	// full run's answer. (The collector is not transactional: rows it
	// took after the savepoint's barrier come again from the restored
	// run, so compare sets.)
	restored := runQueryJob(t, sqlQueryJob(t, "q3", events, off), 1, sp)
	if len(restored) == 0 || len(restored) == len(want) {
		t.Fatalf("degenerate split: %d rows restored of %d", len(restored), len(want))
	}
	wantSet := map[string]bool{}
	for _, r := range want {
		if wantSet[r] {
			t.Fatalf("q3 emitted %s twice", r)
		}
		wantSet[r] = true
	}
	gotSet := map[string]bool{}
	for _, r := range append(formatTable(before, types), restored...) {
		if !wantSet[r] {
			t.Fatalf("the stopped and restored runs emitted %s, not in the answer of a run without a stop", r)
		}
		gotSet[r] = true
	}
	if len(gotSet) != len(wantSet) {
		t.Fatalf("the stopped and restored runs emitted %d of the %d rows of a run without a stop", len(gotSet), len(wantSet))
	}

	// The default plan has one source: the savepoint's second source
	// state has no operator.
	opts := sqlQueryJob(t, "q3", events).Options()
	opts.Restore = sp
	env := weir.NewEnvironment(opts)
	if err := sqlQueryJob(t, "q3", events).Build(env, func(row.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := env.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), "that this job does not have") {
		t.Fatalf("restoring the two-source savepoint into the one-source plan: err = %v, want the unclaimed-state error", err)
	}
}
