package sql_test

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"testing"
)

// TestBatchOverGroupDifferential runs random batch OVER queries over a
// GROUP BY (OVER calls whose value, partition and order are aggregates:
// SUM(v), MIN(p), MAX(o), ordered by the group key for ties) with or
// without HAVING, and compares every row with the naive reference of
// TestBatchOverDifferential run over the groups computed here by hand.
func TestBatchOverGroupDifferential(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	iters := 40
	if s := os.Getenv("WEIR_OVER_ITERS"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		iters = 10
	}
	names := ovNames{id: "gk", p: "MIN(p)", o: "MAX(o)", v: "SUM(v)"}
	havings := []string{"", "COUNT(*) >= 2", "SUM(v) IS NOT NULL"}
	for it := 0; it < iters; it++ {
		tab := randOverTable(rnd)
		groups := 1 + rnd.Int63n(6)
		for i := range tab {
			tab[i].gk = rnd.Int63n(groups)
		}
		q := randOverQuery(rnd)
		having := havings[rnd.Intn(len(havings))]
		query := "SELECT gk"
		for i, c := range q.calls {
			query += fmt.Sprintf(", %s AS c%d", c.sqlAs(names), i)
		}
		query += " FROM t GROUP BY gk"
		if having != "" {
			query += " HAVING " + having
		}
		par := 1 + it%3
		got, err := runBatchOverQuery(t, tab, query, par)
		if err != nil {
			t.Fatalf("iteration %d: %s\n%v", it, query, err)
		}
		want := "\n"
		if agg := groupOverTable(tab, having); len(agg) > 0 {
			want = q.reference(agg)
		}
		if got != want {
			t.Fatalf("iteration %d (parallelism %d): %s\ndata %v\ngot:\n%swant:\n%s", it, par, query, tab, got, want)
		}
	}
}

// groupOverTable is the GROUP BY gk of tab as rows of the reference: id
// the group key, p MIN(p), o MAX(o), v SUM(v) (NULL when every input is
// NULL), keeping the groups having accepts.
func groupOverTable(tab []ovRow, having string) []ovRow {
	type group struct {
		r     ovRow
		count int
	}
	byKey := map[int64]*group{}
	var keys []int64
	pick := func(cur, x *int64, keep func(a, b int64) bool) *int64 {
		if x == nil {
			return cur
		}
		if cur == nil || keep(*x, *cur) {
			v := *x
			return &v
		}
		return cur
	}
	for _, r := range tab {
		g, ok := byKey[r.gk]
		if !ok {
			g = &group{r: ovRow{id: r.gk}}
			byKey[r.gk] = g
			keys = append(keys, r.gk)
		}
		g.count++
		g.r.p = pick(g.r.p, r.p, func(a, b int64) bool { return a < b })
		g.r.o = pick(g.r.o, r.o, func(a, b int64) bool { return a > b })
		if r.v != nil {
			s := *r.v
			if g.r.v != nil {
				s += *g.r.v
			}
			g.r.v = &s
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var out []ovRow
	for _, k := range keys {
		g := byKey[k]
		switch having {
		case "COUNT(*) >= 2":
			if g.count < 2 {
				continue
			}
		case "SUM(v) IS NOT NULL":
			if g.r.v == nil {
				continue
			}
		}
		out = append(out, g.r)
	}
	return out
}
