package sql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/weirtest"
)

// topNJobOf plans query over T (cat STRING, shop INT, v INT) on h as
// UpdateFastStrategy (or RetractStrategy with retract), appending the
// changelog rows it emits to out.
func topNJobOf(t *testing.T, h *weirtest.Harness, query string, retract bool, out *[]row.Row) (*weirtest.Input[row.Row], []row.Type) {
	t.Helper()
	return topNJobChecked(t, h, query, retract, true, out)
}

// topNJobChecked is topNJobOf; with check it fails unless the Top-N is
// planned as UpdateFastStrategy (as RetractStrategy with retract).
func topNJobChecked(t *testing.T, h *weirtest.Harness, query string, retract, check bool, out *[]row.Row) (*weirtest.Input[row.Row], []row.Type) {
	t.Helper()
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse("CREATE TABLE T (cat STRING, shop INT, v INT) WITH ('connector' = 'datagen');\n" + query)
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
	if err := job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		*out = append(*out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rk := findRank(job.query); check && (rk == nil || (rk.UpdateFast == nil) != retract) {
		t.Fatalf("%s: Top-N planned with UpdateFast %v, want retract %t", query, rk.UpdateFast, retract)
	}
	if err := h.StartErr(); err != nil {
		t.Fatal(err)
	}
	return in, job.Schema().Types()
}

// finalTable applies a changelog to a table, failing on a retraction of
// a row the table does not hold, and returns the table's rows sorted.
func finalTable(t *testing.T, log []row.Row, types []row.Type) []string {
	t.Helper()
	var tab []string
	for _, r := range log {
		s := row.FormatRow(row.Row{Fields: r.Fields}, types)
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			tab = append(tab, s)
		default:
			i := slices.Index(tab, s)
			if i < 0 {
				t.Fatalf("retraction %s of a row not in the table %v", row.FormatRow(r, types), tab)
			}
			tab = slices.Delete(tab, i, i+1)
		}
	}
	slices.Sort(tab)
	return tab
}

// TestReview2UpdateFastSameTableAsRetract: on random input, every Top-N
// that plans as UpdateFastStrategy ends with the same table as the same
// query forced to RetractStrategy, and its changelog retracts only rows
// it emitted.
func TestReview2UpdateFastSameTableAsRetract(t *testing.T) {
	const sub = "(SELECT cat, shop, COUNT(*) AS c, MAX(v) AS mx, MIN(v) AS mn, SUM(CASE WHEN v >= 0 THEN v ELSE 0 END) AS s FROM T WHERE v >= -100 GROUP BY cat, shop)"
	var queries []string
	for _, order := range []string{"c DESC, shop", "mx DESC, shop DESC", "mn ASC, shop", "c DESC, mx DESC, shop"} {
		for _, rng := range []string{"rn <= 1", "rn <= 3", "rn BETWEEN 2 AND 3", "rn BETWEEN 3 AND 5", "rn = 2"} {
			inner := "SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY " + order + ") AS rn FROM " + sub
			queries = append(queries,
				"SELECT * FROM ("+inner+") WHERE "+rng+";",
				"SELECT cat, shop, c, mx, mn FROM ("+inner+") WHERE "+rng+";")
		}
	}
	for qi, q := range queries {
		for seed := range uint64(6) {
			par := 1 + int(seed%2)
			rng := rand.New(rand.NewPCG(seed, uint64(qi)))
			var input []row.Row
			for range 150 {
				input = append(input, row.Of(row.Str(string(rune('a'+rng.IntN(2)))), row.Int(int64(rng.IntN(7))), row.Int(int64(rng.IntN(20)-5))))
			}
			var tables [2][]string
			var logs [2][]string
			for i, retract := range []bool{false, true} {
				opts := weir.Options{Parallelism: par, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				h := weirtest.New(opts)
				var out []row.Row
				in, types := topNJobOf(t, h, q, retract, &out)
				for _, r := range input {
					if err := in.Push(r, weir.NoTimestamp); err != nil {
						t.Fatal(err)
					}
				}
				tables[i] = finalTable(t, out, types)
				for _, r := range out {
					logs[i] = append(logs[i], row.FormatRow(r, types))
				}
			}
			if fmt.Sprint(tables[0]) != fmt.Sprint(tables[1]) {
				t.Fatalf("%s seed %d par %d:\nupdate-fast %v\nretract     %v\nfast log %s", q, seed, par, tables[0], tables[1], strings.Join(logs[0], " "))
			}
		}
	}
}

// TestReview2UpdateFastRescaleRestore: a savepoint of an
// UpdateFastStrategy Top-N taken at one parallelism restores at another
// and the job ends with the same table as a run without a restore.
func TestReview2UpdateFastRescaleRestore(t *testing.T) {
	const q = "SELECT cat, shop, c, mx FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY c DESC, shop) AS rn FROM (SELECT cat, shop, COUNT(*) AS c, MAX(v) AS mx FROM T GROUP BY cat, shop)) WHERE rn BETWEEN 2 AND 4;"
	rng := rand.New(rand.NewPCG(7, 7))
	var input []row.Row
	for range 200 {
		input = append(input, row.Of(row.Str(string(rune('a'+rng.IntN(4)))), row.Int(int64(rng.IntN(8))), row.Int(int64(rng.IntN(20)))))
	}
	push := func(in *weirtest.Input[row.Row], rows []row.Row) {
		for _, r := range rows {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts := func(p int) weir.Options {
		return weir.Options{Parallelism: p, MaxParallelism: 16, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	}
	var ref []row.Row
	in, types := topNJobOf(t, weirtest.New(opts(1)), q, false, &ref)
	push(in, input)
	want := finalTable(t, ref, types)

	for _, ps := range [][2]int{{1, 3}, {3, 2}} {
		var out []row.Row
		h := weirtest.New(opts(ps[0]))
		in, _ := topNJobOf(t, h, q, false, &out)
		push(in, input[:110])
		snap, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		in, _ = topNJobOf(t, weirtest.Restore(opts(ps[1]), snap), q, false, &out)
		push(in, input[110:])
		if got := finalTable(t, out, types); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("parallelism %d -> %d: %v, want %v", ps[0], ps[1], got, want)
		}
	}
}

// TestReview2UpdateFastNarrowingCast: a filter on a narrowing CAST of a
// column says nothing of the column's sign (CAST(-200 AS TINYINT) is 56):
// SUM over it may decrease, and the Top-N must give the same table as
// RetractStrategy.
func TestReview2UpdateFastNarrowingCast(t *testing.T) {
	const q = "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY s DESC) AS rn FROM (SELECT cat, shop, SUM(v) AS s FROM T WHERE CAST(v AS TINYINT) >= 0 GROUP BY cat, shop)) WHERE rn <= 1;"
	input := []row.Row{
		row.Of(row.Str("a"), row.Int(1), row.Int(10)),
		row.Of(row.Str("a"), row.Int(2), row.Int(5)),
		row.Of(row.Str("a"), row.Int(1), row.Int(-200)),
	}
	var tables [2][]string
	for i, retract := range []bool{false, true} {
		var out []row.Row
		in, types := topNJobChecked(t, weirtest.New(weir.Options{Parallelism: 1}), q, retract, false, &out)
		for _, r := range input {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		tables[i] = finalTable(t, out, types)
	}
	if fmt.Sprint(tables[0]) != fmt.Sprint(tables[1]) {
		t.Fatalf("UpdateFastStrategy ends with %v, RetractStrategy with %v", tables[0], tables[1])
	}
}

// TestReview2UpdateFastCastToString: ORDER BY CAST(COUNT(*) AS STRING)
// DESC is not monotonic ('10' sorts below '9'): the Top-N must end with
// the same table as RetractStrategy.
func TestReview2UpdateFastCastToString(t *testing.T) {
	const q = "SELECT cat, shop, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY cat ORDER BY c DESC) AS rn FROM (SELECT cat, shop, CAST(COUNT(*) AS STRING) AS c FROM T GROUP BY cat, shop)) WHERE rn <= 1;"
	var input []row.Row
	for range 9 {
		input = append(input, row.Of(row.Str("a"), row.Int(1), row.Int(0)))
	}
	for range 5 {
		input = append(input, row.Of(row.Str("a"), row.Int(2), row.Int(0)))
	}
	// (a, 1) at '10' sorts below (a, 2) at '5'.
	input = append(input, row.Of(row.Str("a"), row.Int(1), row.Int(0)))
	var tables [2][]string
	for i, retract := range []bool{false, true} {
		var out []row.Row
		in, types := topNJobChecked(t, weirtest.New(weir.Options{Parallelism: 1}), q, retract, false, &out)
		for _, r := range input {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		tables[i] = finalTable(t, out, types)
	}
	if fmt.Sprint(tables[0]) != fmt.Sprint(tables[1]) {
		t.Fatalf("UpdateFastStrategy ends with %v, RetractStrategy with %v", tables[0], tables[1])
	}
}
