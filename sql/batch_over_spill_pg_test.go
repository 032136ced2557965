package sql_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// TestBatchOverSpillPostgres checks batch OVER windows, spilled and not,
// against PostgreSQL: random tables of up to 70 rows, a sixth of them of
// 100 to 500 rows (NULLs and ties in the order keys, partitions of one
// row, empty tables), and random calls over frames of every shape
// (FOLLOWING-only frames, ROWS offsets far past both ends of the
// partition, RANGE offsets over an INT and a DATE key, ascending and
// descending, NULLS FIRST and LAST): aggregates that retract and those
// recomputed row by row (DOUBLE SUM and AVG, LISTAGG; DISTINCT is
// refused in OVER windows, as in Flink), MIN/MAX of strings and dates,
// LAG/LEAD with offsets and defaults, NTILE, PERCENT_RANK, CUME_DIST,
// FIRST_VALUE/LAST_VALUE. Each query runs on Weir with no memory limit,
// with table.exec.resource.external-buffer-memory at 1 byte (every
// partition of two or more rows sorted through a spill file, one run per
// row, several merge passes past 16 rows) and at a few hundred bytes; all
// three must equal PostgreSQL's rows. The adaptations are
// TestOverGroupPostgres's: every ORDER BY names NULLS FIRST/LAST,
// FIRST_VALUE/LAST_VALUE take never-NULL arguments, calls whose result
// depends on the order of peers order by id last, strings compare
// bytewise. WEIR_OVERSPILL_PG_ITERS and WEIR_OVERSPILL_PG_SEED run more
// queries or another seed, WEIR_OVERSPILL_PG_LOG logs each query.
func TestBatchOverSpillPostgres(t *testing.T) {
	pg := pgConn(t)
	ctx := context.Background()
	pgTestSchema(t, pg, "weir_overspill", "t")
	iters := int(envInt(t, "WEIR_OVERSPILL_PG_ITERS", 40))
	seed := envInt(t, "WEIR_OVERSPILL_PG_SEED", 1)
	rnd := rand.New(rand.NewSource(seed))
	for it := 0; it < iters; it++ {
		tab := randSpillPGTable(rnd)
		if err := tab.loadPG(ctx, pg, "t"); err != nil {
			t.Fatal(err)
		}
		w, p := randSpillPGQuery(rnd)
		want, err := pgRows(ctx, pg, p)
		if err != nil {
			t.Fatalf("iteration %d: PostgreSQL: %v\n%s", it, err, p)
		}
		par := 1 + rnd.Intn(3)
		if os.Getenv("WEIR_OVERSPILL_PG_LOG") != "" {
			t.Logf("iteration %d (%d rows): %s", it, len(tab), w)
		}
		for _, budget := range []string{"1 tb", "1 b", fmt.Sprintf("%d b", 200+rnd.Intn(600))} {
			got, err := weirRows(tab, spillBudget(budget)+"\n"+w, par)
			if err != nil {
				t.Fatalf("iteration %d, budget %s: Weir: %v\n%s\nPostgreSQL: %s", it, budget, err, w, p)
			}
			if got != want {
				t.Fatalf("iteration %d (parallelism %d, budget %s):\nWeir:       %s\nPostgreSQL: %s\ndata:\n%s\ngot:\n%s\nwant:\n%s",
					it, par, budget, w, p, strings.Join(tab.pgValues(), "\n"), got, want)
			}
		}
	}
}

// randSpillPGTable is a table of pgRows: empty, one row, or up to 70
// rows whose order keys (a, dt, g2) repeat and are NULL a fifth of the
// time.
func randSpillPGTable(rnd *rand.Rand) pgTable {
	n := rnd.Intn(71)
	switch rnd.Intn(12) {
	case 0:
		n = 0
	case 1:
		n = 1
	case 2, 3:
		// Past the index's stride (64 rows) and the row cache, through
		// three merge passes at 1 byte.
		n = 100 + rnd.Intn(400)
	}
	null := func() bool { return rnd.Intn(100) < 20 }
	tab := make(pgTable, n)
	for i := range tab {
		r := pgRow{id: i + 1, k: rnd.Intn(4)}
		if !null() {
			s := strings.Repeat(string(rune('a'+rnd.Intn(4))), 1+rnd.Intn(3))
			r.g1 = &s
		}
		if !null() {
			v := rnd.Intn(3)
			r.g2 = &v
		}
		if !null() {
			v := rnd.Intn(16) - 5
			r.a = &v
		}
		if !null() {
			v := int64(rnd.Intn(9)-3) * 1000000007
			r.b = &v
		}
		if !null() {
			v := int64(rnd.Intn(2001) - 500)
			r.d = &v
		}
		if !null() {
			v := float64(rnd.Intn(41)-10) / 4
			if rnd.Intn(10) == 0 {
				v = 1e17 // a DOUBLE SUM retracting it would lose the small terms
			}
			r.x = &v
		}
		if !null() {
			v := 1 + rnd.Intn(12)
			r.dt = &v
		}
		tab[i] = r
	}
	return tab
}

// randSpillPGQuery is a query of one to three OVER calls in Weir's and
// PostgreSQL's spelling (PostgreSQL's computes the windows in a derived
// table, where a call's value may be post-processed).
func randSpillPGQuery(rnd *rand.Rand) (string, string) {
	var ws, inner, outer []string
	ncalls := 1 + rnd.Intn(3)
	for c := 0; c < ncalls; c++ {
		w, pw, post := randSpillPGCall(rnd)
		ws = append(ws, fmt.Sprintf("%s AS c%d", w, c))
		inner = append(inner, fmt.Sprintf("%s AS w%d", pw, c))
		outer = append(outer, fmt.Sprintf(post, fmt.Sprintf("s.w%d", c))+fmt.Sprintf(" AS c%d", c))
	}
	return "SELECT id, " + strings.Join(ws, ", ") + " FROM t",
		"SELECT id, " + strings.Join(outer, ", ") + " FROM (SELECT id, " + strings.Join(inner, ", ") + " FROM t) AS s"
}

// randSpillPGCall is an OVER call: Weir's, PostgreSQL's window
// expression and the format of PostgreSQL's value of its column.
func randSpillPGCall(rnd *rand.Rand) (string, string, string) {
	type fn struct {
		w, pg string
		rank  bool // ranking, NTILE, LAG/LEAD: no frame
		tie   bool // depends on the order of peers
	}
	off := func() int64 {
		return pick(rnd, []int64{0, 1, 1, 2, 3, 5, 40, 1000, 2147483647})
	}
	lagOff := pick(rnd, []int{0, 1, 2, 5, 69, 1000})
	lagDflt := pick(rnd, []string{"", ", -7", ", a", ", CAST(NULL AS INT)"})
	lagDfltPG := lagDflt
	if lagDflt == ", CAST(NULL AS INT)" {
		lagDfltPG = ", NULL::int"
	}
	lagFn := pick(rnd, []string{"LAG", "LEAD"})
	ntile := pick(rnd, []int{1, 2, 3, 7, 100})
	fns := []fn{
		{w: "SUM(a)", pg: "SUM(a)"},
		{w: "SUM(x)", pg: "SUM(x)"},
		{w: "AVG(x)", pg: "AVG(x)"},
		{w: "SUM(d)", pg: "SUM(d)"},
		{w: "MIN(a)", pg: "MIN(a)"},
		{w: "MAX(x)", pg: "MAX(x)"},
		{w: "MIN(g1)", pg: "MIN(g1)"},
		{w: "MAX(dt)", pg: "MAX(dt)"},
		{w: "COUNT(a)", pg: "COUNT(a)"},
		{w: "COUNT(*)", pg: "COUNT(*)"},
		{w: "FIRST_VALUE(k)", pg: "FIRST_VALUE(k)", tie: true},
		{w: "LAST_VALUE(id)", pg: "LAST_VALUE(id)", tie: true},
		{w: "LISTAGG(g1, ',')", pg: "string_agg(g1, ',')", tie: true},
		{w: "ROW_NUMBER()", pg: "ROW_NUMBER()", rank: true, tie: true},
		{w: "RANK()", pg: "RANK()", rank: true},
		{w: "DENSE_RANK()", pg: "DENSE_RANK()", rank: true},
		{w: "PERCENT_RANK()", pg: "PERCENT_RANK()", rank: true},
		{w: "CUME_DIST()", pg: "CUME_DIST()", rank: true},
		{w: fmt.Sprintf("NTILE(%d)", ntile), pg: fmt.Sprintf("NTILE(%d)", ntile), rank: true, tie: true},
		{w: fmt.Sprintf("%s(a, %d%s)", lagFn, lagOff, lagDflt), pg: fmt.Sprintf("%s(a, %d%s)", lagFn, lagOff, lagDfltPG), rank: true, tie: true},
	}
	f := pick(rnd, fns)
	part := pick(rnd, []string{"", "", "PARTITION BY g2 ", "PARTITION BY k ", "PARTITION BY g1 "})
	dir := pick(rnd, []string{"", " DESC"})
	nulls := pick(rnd, []string{" NULLS FIRST", " NULLS LAST"})
	idDir := pick(rnd, []string{"", " DESC"})
	frameKind := pick(rnd, []string{"", "ROWS", "RANGE", "RANGE"})
	if f.rank {
		frameKind = ""
	}
	key := pick(rnd, []string{"a", "dt", "g2"})
	if frameKind == "ROWS" || f.tie && frameKind == "" {
		// A total order.
		order := key + dir + nulls + ", id" + idDir
		wo := part + "ORDER BY " + order
		if frameKind == "" {
			return spillPGCall(f.w, f.pg, wo, wo)
		}
		lo, hi := randSpillBounds(rnd, off)
		fr := " ROWS BETWEEN " + lo + " AND " + hi
		return spillPGCall(f.w, f.pg, wo+fr, wo+fr)
	}
	if frameKind == "" {
		wo := part + "ORDER BY " + key + dir + nulls
		if rnd.Intn(5) == 0 && !f.rank {
			wo = strings.TrimSpace(part)
		}
		return spillPGCall(f.w, f.pg, wo, wo)
	}
	// RANGE: one key; peers make FIRST_VALUE, LAST_VALUE and LISTAGG
	// depend on the order of ties, so those take only the partition's
	// whole range or use the id as the key.
	if f.tie {
		key = "id"
	}
	if key == "g2" {
		key = "a"
	}
	lo, hi := randSpillBounds(rnd, func() int64 { return pick(rnd, []int64{0, 1, 2, 3, 5, 100}) })
	wlo, plo, whi, phi := lo, lo, hi, hi
	if key == "dt" {
		conv := func(b string) (string, string) {
			fs := strings.Fields(b)
			if len(fs) == 2 && fs[0] != "UNBOUNDED" && (fs[1] == "PRECEDING" || fs[1] == "FOLLOWING") {
				return fmt.Sprintf("INTERVAL '%s' DAY %s", fs[0], fs[1]), fmt.Sprintf("INTERVAL '%s days' %s", fs[0], fs[1])
			}
			return b, b
		}
		wlo, plo = conv(lo)
		whi, phi = conv(hi)
	}
	o := part + "ORDER BY " + key + dir + nulls
	return spillPGCall(f.w, f.pg, o+" RANGE BETWEEN "+wlo+" AND "+whi, o+" RANGE BETWEEN "+plo+" AND "+phi)
}

// spillPGCall writes an aggregate call over a window in both spellings
// (see randSpillPGQuery).
func spillPGCall(fw, fpg, ww, wpg string) (string, string, string) {
	return fw + " OVER (" + ww + ")", fpg + " OVER (" + wpg + ")", "%s"
}

// randSpillBounds is a valid frame's two bounds.
func randSpillBounds(rnd *rand.Rand, off func() int64) (string, string) {
	kinds := []string{"UP", "P", "C", "F", "UF"}
	ord := map[string]int{"UP": 0, "P": 1, "C": 2, "F": 3, "UF": 4}
	for {
		lo, hi := kinds[rnd.Intn(4)], kinds[1+rnd.Intn(4)]
		if ord[lo] > ord[hi] || lo == "C" && hi == "P" || lo == "F" && (hi == "C" || hi == "P") {
			continue
		}
		b := func(k string) string {
			var n int64
			if k == "P" || k == "F" {
				n = off()
			}
			return ovBound{kind: k, n: n}.sql()
		}
		return b(lo), b(hi)
	}
}
