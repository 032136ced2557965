package sql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/weirtest"
)

// subqRev3Job plans query over the changelog tables L (k, v) and R (k,
// w) on h, whose inputs stand for them; the result is applied to table.
func subqRev3Job(t *testing.T, h *weirtest.Harness, query string, table **result.Table) (l, r *weirtest.Input[row.Row]) {
	t.Helper()
	sess := NewSession(SessionOptions{})
	with := `'connector' = 'filesystem', 'path' = '/nonexistent-subq-rev3', 'format' = 'debezium-json'`
	stmts, err := parser.Parse(`CREATE TABLE L (k BIGINT, v BIGINT) WITH (` + with + `);
CREATE TABLE R (k BIGINT, w BIGINT) WITH (` + with + `);
` + query + `;`)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	if *table == nil {
		*table = result.NewTable(job.Schema().Types(), nil)
	}
	l, r = weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"L": l.Stream(), "R": r.Stream()}, func(out row.Row) error {
		return (*table).Apply(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return l, r
}

// subqRev3Steps are interleaved changelogs of L (side 0) and R (side 1)
// over few values, NULL among them: inserts, deletes, updates.
func subqRev3Steps() []mbInput {
	rng := rand.New(rand.NewPCG(3, 5))
	val := func() row.Value {
		if rng.IntN(10) == 0 {
			return row.Null()
		}
		return row.Int(int64(rng.IntN(6)))
	}
	var steps []mbInput
	var live [2][]row.Row
	for range 300 {
		s := rng.IntN(2)
		op := 0
		if len(live[s]) > 0 {
			op = max(0, rng.IntN(6)-3)
		}
		switch op {
		case 0:
			r := row.Of(val(), val())
			live[s] = append(live[s], r)
			steps = append(steps, mbInput{s, r})
		case 1:
			i := rng.IntN(len(live[s]))
			steps = append(steps, mbInput{s, live[s][i].WithKind(row.Delete)})
			live[s] = slices.Delete(live[s], i, i+1)
		case 2:
			i, r := rng.IntN(len(live[s])), row.Of(val(), val())
			steps = append(steps, mbInput{s, live[s][i].WithKind(row.UpdateBefore)}, mbInput{s, r.WithKind(row.UpdateAfter)})
			live[s][i] = r
		}
	}
	return steps
}

// TestSubqueryValuesRestore: IN, NOT IN, SOME/ALL and EXISTS as values
// and as semi/anti joins over changelog inputs end, after a savepoint in
// the middle restored at parallelism 4, in the final table of the
// uninterrupted run at parallelism 1.
func TestSubqueryValuesRestore(t *testing.T) {
	queries := []string{
		"SELECT k, v, v IN (SELECT k FROM R), v NOT IN (SELECT w FROM R WHERE R.k < L.k) FROM L",
		"SELECT k, v, v > ALL (SELECT w FROM R WHERE R.k > L.k), v <= SOME (SELECT w FROM R), EXISTS (SELECT * FROM R WHERE R.w = L.v) FROM L",
		"SELECT k, v FROM L WHERE (k, v) NOT IN (SELECT k, w FROM R WHERE k IS NOT NULL AND w IS NOT NULL)",
		"SELECT k, v FROM L WHERE (L.k, L.v) IN (SELECT k, w FROM R WHERE R.w <= L.k) OR NOT EXISTS (SELECT * FROM R WHERE R.k = L.v)",
	}
	steps := subqRev3Steps()
	if testing.Verbose() {
		// The final tables, for the SQLite cross-check.
		var live [2][]string
		for _, s := range steps {
			f := row.FormatRow(s.r.WithKind(row.Insert), []row.Type{row.IntType(), row.IntType()})
			if s.r.Kind == row.Insert || s.r.Kind == row.UpdateAfter {
				live[s.side] = append(live[s.side], f)
			} else {
				i := slices.Index(live[s.side], f)
				live[s.side] = slices.Delete(live[s.side], i, i+1)
			}
		}
		t.Logf("L %q\nR %q", live[0], live[1])
	}
	push := func(t *testing.T, l, r *weirtest.Input[row.Row], steps []mbInput) {
		t.Helper()
		for _, s := range steps {
			in := l
			if s.side == 1 {
				in = r
			}
			if err := in.Push(s.r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	end := func(t *testing.T, h *weirtest.Harness, l, r *weirtest.Input[row.Row]) {
		t.Helper()
		if err := l.End(); err != nil {
			t.Fatal(err)
		}
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range queries {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var want *result.Table
			h := weirtest.New(weir.Options{})
			l, r := subqRev3Job(t, h, q, &want)
			push(t, l, r, steps)
			end(t, h, l, r)
			if len(want.Sorted()) == 0 {
				t.Fatalf("%s: empty result table", q)
			}
			opts := weir.Options{Parallelism: 4, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			var table *result.Table
			h = weirtest.New(opts)
			l, r = subqRev3Job(t, h, q, &table)
			cut := len(steps) / 2
			push(t, l, r, steps[:cut])
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h2 := weirtest.Restore(opts, snap)
			l2, r2 := subqRev3Job(t, h2, q, &table)
			push(t, l2, r2, steps[cut:])
			end(t, h2, l2, r2)
			if got, exp := table.Sorted(), want.Sorted(); !slices.Equal(got, exp) {
				t.Fatalf("%s: final table\n%q\nwant\n%q", q, got, exp)
			}
			// The final rows, for the SQLite cross-check (go test -v).
			t.Logf("%s\n%s", q, want.String())
		})
	}
}
