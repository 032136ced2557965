package sql_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/weirstream/weir/row"
)

// TestOverGroupPostgres is a differential test of OVER windows together
// with GROUP BY (and GROUPING SETS / ROLLUP / CUBE, HAVING, WHERE, SELECT
// DISTINCT, aggregates without GROUP BY) in the batch mode, with
// PostgreSQL as the oracle: random small tables of INT, BIGINT, DECIMAL,
// DOUBLE, VARCHAR and DATE columns with NULLs and ties are loaded into
// both, random queries are written twice (Weir's and PostgreSQL's
// spelling) and their rows compared as multisets of normalised values.
//
// Legitimate Flink/PostgreSQL differences the queries avoid or spell
// differently (each is Flink's documented semantics, not a Weir choice):
//   - NULL order: Flink sorts NULL as the smallest value (ASC NULLS
//     FIRST, DESC NULLS LAST), PostgreSQL as the largest; every ORDER BY
//     here names NULLS FIRST/LAST.
//   - AVG of an exact type keeps the type in Flink (AVG of INT or BIGINT
//     is the truncated integer quotient, of DECIMAL(p, s) a DECIMAL of
//     scale max(s, 6)); PostgreSQL returns NUMERIC: the PostgreSQL query
//     spells trunc(AVG(x)) and round(AVG(x), 6).
//   - FIRST_VALUE/LAST_VALUE are Flink aggregates that skip NULL values;
//     PostgreSQL's return the frame's first/last row's value, NULL or
//     not: they only take arguments that are never NULL here.
//   - SUM of INT is INT in Flink, BIGINT (of BIGINT NUMERIC) in
//     PostgreSQL: values are compared as numbers, not types; the data is
//     small enough never to overflow an INT.
//   - Strings compare bytewise in Flink; the PostgreSQL columns are
//     COLLATE "C".
//
// Numbers compare at 12 significant digits (a DOUBLE AVG may differ in
// its last bit with another summation order). Ties: calls whose result
// depends on the order of peers (ROW_NUMBER, NTILE, LAG, LEAD,
// FIRST_VALUE, LAST_VALUE, ROWS frames) order by every group key (and
// GROUPING of them under grouping sets) after the random keys, which
// makes the order total. WEIR_OVERPG_ITERS sets the number of queries
// (default 60).
func TestOverGroupPostgres(t *testing.T) {
	pg := pgConn(t)
	ctx := context.Background()
	pgTestSchema(t, pg, "weir_overpg", "t")
	iters := int(envInt(t, "WEIR_OVERPG_ITERS", 60))
	seed := envInt(t, "WEIR_OVERPG_SEED", 17)
	rnd := rand.New(rand.NewSource(seed))
	for it := 0; it < iters; it++ {
		tab := randPGTable(rnd)
		if err := tab.loadPG(ctx, pg, "t"); err != nil {
			t.Fatal(err)
		}
		q := randPGQuery(rnd)
		par := 1 + rnd.Intn(3)
		want, err := pgRows(ctx, pg, q.pg)
		if err != nil {
			t.Fatalf("iteration %d: PostgreSQL: %v\n%s", it, err, q.pg)
		}
		got, err := weirRows(tab, q.w, par)
		if err != nil {
			t.Fatalf("iteration %d: Weir: %v\n%s\nPostgreSQL: %s", it, err, q.w, q.pg)
		}
		if os.Getenv("WEIR_OVERPG_LOG") != "" {
			t.Logf("iteration %d: %s\n%s", it, q.w, got)
		}
		if got != want {
			t.Fatalf("iteration %d (parallelism %d):\nWeir:       %s\nPostgreSQL: %s\ndata:\n%s\ngot:\n%s\nwant:\n%s",
				it, par, q.w, q.pg, strings.Join(tab.pgValues(), "\n"), got, want)
		}
	}
}

// pgRow is a row of the random table; nil pointers are NULLs.
type pgRow struct {
	id int
	g1 *string
	g2 *int
	a  *int
	b  *int64
	d  *int64 // hundredths
	x  *float64
	dt *int // day of January 2024
	k  int
}

type pgTable []pgRow

func randPGTable(rnd *rand.Rand) pgTable {
	n := rnd.Intn(24)
	if rnd.Intn(20) == 0 {
		n = 0
	}
	null := func() bool { return rnd.Intn(100) < 20 }
	tab := make(pgTable, n)
	for i := range tab {
		r := pgRow{id: i + 1, k: rnd.Intn(3)}
		if !null() {
			s := string(rune('a' + rnd.Intn(3)))
			r.g1 = &s
		}
		if !null() {
			v := rnd.Intn(3)
			r.g2 = &v
		}
		if !null() {
			v := rnd.Intn(26) - 5
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
			r.x = &v
		}
		if !null() {
			v := 1 + rnd.Intn(6)
			r.dt = &v
		}
		tab[i] = r
	}
	return tab
}

func decLit(h int64) string {
	s := ""
	if h < 0 {
		s, h = "-", -h
	}
	return fmt.Sprintf("%s%d.%02d", s, h/100, h%100)
}

// literals are a row's fields as SQL literals, dateLit writing a DATE
// of January 2024 from its day.
func (r pgRow) literals(dateLit func(day int) string) []string {
	f := []string{strconv.Itoa(r.id), "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", strconv.Itoa(r.k)}
	if r.g1 != nil {
		f[1] = "'" + *r.g1 + "'"
	}
	if r.g2 != nil {
		f[2] = strconv.Itoa(*r.g2)
	}
	if r.a != nil {
		f[3] = strconv.Itoa(*r.a)
	}
	if r.b != nil {
		f[4] = strconv.FormatInt(*r.b, 10)
	}
	if r.d != nil {
		f[5] = decLit(*r.d)
	}
	if r.x != nil {
		f[6] = strconv.FormatFloat(*r.x, 'f', -1, 64)
	}
	if r.dt != nil {
		f[7] = dateLit(*r.dt)
	}
	return f
}

// pgValues are the rows as PostgreSQL VALUES tuples.
func (tab pgTable) pgValues() []string {
	var out []string
	for _, r := range tab {
		f := r.literals(func(d int) string { return fmt.Sprintf("DATE '2024-01-%02d'", d) })
		out = append(out, "("+strings.Join(f, ", ")+")")
	}
	return out
}

// weirValues are the rows as Weir VALUES tuples, every field cast to its
// column's type.
func (tab pgTable) weirValues() []string {
	var out []string
	types := []string{"INT", "VARCHAR", "INT", "INT", "BIGINT", "DECIMAL(10, 2)", "DOUBLE", "DATE", "INT"}
	for _, r := range tab {
		f := r.literals(func(d int) string { return fmt.Sprintf("'2024-01-%02d'", d) })
		for i := range f {
			f[i] = "CAST(" + f[i] + " AS " + types[i] + ")"
		}
		out = append(out, "("+strings.Join(f, ", ")+")")
	}
	return out
}

// pgEx is an expression in Weir's and PostgreSQL's spelling.
type pgEx struct {
	w, pg string
	kind  string // int, dec, dbl, str, date
	// notNull: never NULL (FIRST_VALUE/LAST_VALUE arguments).
	notNull bool
}

func (e pgEx) wrap(wf, pf string) pgEx {
	return pgEx{w: fmt.Sprintf(wf, e.w), pg: fmt.Sprintf(pf, e.pg), kind: e.kind, notNull: e.notNull}
}

var pgAggs = []pgEx{
	{w: "COUNT(*)", pg: "COUNT(*)", kind: "int", notNull: true},
	{w: "COUNT(a)", pg: "COUNT(a)", kind: "int", notNull: true},
	{w: "COUNT(DISTINCT g2)", pg: "COUNT(DISTINCT g2)", kind: "int", notNull: true},
	{w: "SUM(a)", pg: "SUM(a)", kind: "int"},
	{w: "SUM(b)", pg: "SUM(b)", kind: "int"},
	{w: "SUM(d)", pg: "SUM(d)", kind: "dec"},
	{w: "SUM(x)", pg: "SUM(x)", kind: "dbl"},
	{w: "MIN(a)", pg: "MIN(a)", kind: "int"},
	{w: "MAX(b)", pg: "MAX(b)", kind: "int"},
	{w: "MIN(d)", pg: "MIN(d)", kind: "dec"},
	{w: "MAX(x)", pg: "MAX(x)", kind: "dbl"},
	{w: "MIN(g1)", pg: "MIN(g1)", kind: "str"},
	{w: "MAX(dt)", pg: "MAX(dt)", kind: "date"},
	{w: "AVG(a)", pg: "trunc(AVG(a))", kind: "int"},
	{w: "AVG(b)", pg: "trunc(AVG(b))", kind: "int"},
	{w: "AVG(d)", pg: "round(AVG(d), 6)", kind: "dec"},
	{w: "AVG(x)", pg: "AVG(x)", kind: "dbl"},
	{w: "SUM(a) FILTER (WHERE a > 0)", pg: "SUM(a) FILTER (WHERE a > 0)", kind: "int"},
	{w: "COUNT(*) FILTER (WHERE g1 = 'a')", pg: "COUNT(*) FILTER (WHERE g1 = 'a')", kind: "int", notNull: true},
	{w: "SUM(a) + COUNT(*)", pg: "SUM(a) + COUNT(*)", kind: "int"},
	{w: "MAX(a) - MIN(a)", pg: "MAX(a) - MIN(a)", kind: "int"},
	{w: "COUNT(*) * 2 + 1", pg: "COUNT(*) * 2 + 1", kind: "int", notNull: true},
	{w: "CASE WHEN SUM(a) > 10 THEN 1 ELSE 0 END", pg: "CASE WHEN SUM(a) > 10 THEN 1 ELSE 0 END", kind: "int", notNull: true},
}

var pgKeys = map[string]pgEx{
	"g1": {w: "g1", pg: "g1", kind: "str"},
	"g2": {w: "g2", pg: "g2", kind: "int"},
	"k":  {w: "k", pg: "k", kind: "int", notNull: true},
	"dt": {w: "dt", pg: "dt", kind: "date"},
	// A grouped expression.
	"(k + 1)": {w: "(k + 1)", pg: "(k + 1)", kind: "int", notNull: true},
}

type pgQuery struct{ w, pg string }

func pick[T any](rnd *rand.Rand, xs []T) T { return xs[rnd.Intn(len(xs))] }

func randPGQuery(rnd *rand.Rand) pgQuery {
	// Grouping.
	names := []string{"g1", "g2", "k", "dt", "(k + 1)"}
	rnd.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	var keys []string
	mode := pick(rnd, []string{"group", "group", "group", "none", "rollup", "cube", "sets"})
	if mode != "none" {
		keys = names[:1+rnd.Intn(3)]
	}
	gsets := mode == "rollup" || mode == "cube" || mode == "sets"
	var keyEx []pgEx
	for _, k := range keys {
		e := pgKeys[k]
		if rnd.Intn(3) == 0 {
			// Qualified elsewhere than in GROUP BY.
			q := strings.Replace(e.w, "k", "t.k", 1)
			if q == e.w {
				q = "t." + e.w
			}
			e.w, e.pg = q, q
		}
		if gsets {
			e.notNull = false
		}
		keyEx = append(keyEx, e)
	}
	// Values a window call may take: aggregates, group keys and
	// expressions over them.
	vals := append([]pgEx{}, keyEx...)
	for _, e := range keyEx {
		if e.kind == "int" && rnd.Intn(3) == 0 {
			vals = append(vals, e.wrap("(%s * 2 - 1)", "(%s * 2 - 1)"))
		}
		if e.kind == "str" && rnd.Intn(3) == 0 {
			vals = append(vals, e.wrap("(%s || 'z')", "(%s || 'z')"))
		}
	}
	for i := 0; i < 3; i++ {
		a := pick(rnd, pgAggs)
		if rnd.Intn(4) == 0 {
			// Spelled in lower case (the same call as in upper case).
			a.w = strings.ToLower(a.w)
		}
		if rnd.Intn(5) == 0 {
			a = pick(rnd, []pgEx{
				{w: "SUM(DISTINCT a)", pg: "SUM(DISTINCT a)", kind: "int"},
				{w: "COUNT(DISTINCT g1)", pg: "COUNT(DISTINCT g1)", kind: "int", notNull: true},
				{w: "MAX(DISTINCT d)", pg: "MAX(DISTINCT d)", kind: "dec"},
			})
		}
		vals = append(vals, a)
	}
	orderVals := append([]pgEx{}, vals...)
	if gsets {
		g := pgEx{w: "GROUPING(" + strings.Join(keys, ", ") + ")", pg: "GROUPING(" + strings.Join(keys, ", ") + ")", kind: "int", notNull: true}
		orderVals = append(orderVals, g)
	}
	// The total order's tail: every group key, then GROUPING.
	var tail []pgEx
	tail = append(tail, keyEx...)
	if gsets {
		tail = append(tail, orderVals[len(orderVals)-1])
	}
	orderItem := func(e pgEx) pgEx {
		dir := pick(rnd, []string{"", " DESC"})
		nulls := pick(rnd, []string{" NULLS FIRST", " NULLS LAST"})
		return pgEx{w: e.w + dir + nulls, pg: e.pg + dir + nulls}
	}
	join := func(xs []pgEx) pgEx {
		var w, p []string
		for _, x := range xs {
			w = append(w, x.w)
			p = append(p, x.pg)
		}
		return pgEx{w: strings.Join(w, ", "), pg: strings.Join(p, ", ")}
	}
	var sel []pgEx
	distinct := rnd.Intn(6) == 0
	for _, e := range keyEx {
		if !distinct || rnd.Intn(2) == 0 {
			sel = append(sel, e)
		}
	}
	if !distinct {
		for i := rnd.Intn(3); i > 0; i-- {
			sel = append(sel, pick(rnd, vals))
		}
	}
	ncalls := 1 + rnd.Intn(3)
	var rankCols []int
	var named []pgEx
	for c := 0; c < ncalls; c++ {
		fn := pick(rnd, []string{"ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE",
			"LAG", "LEAD", "SUM", "COUNT", "MIN", "MAX", "AVG", "FIRST_VALUE", "LAST_VALUE", "SUM", "COUNT",
			"COUNTSTAR", "SHARE"})
		var call pgEx
		var arg pgEx
		switch fn {
		case "SUM", "AVG", "SHARE":
			for {
				arg = pick(rnd, vals)
				if arg.kind == "int" || arg.kind == "dec" || arg.kind == "dbl" {
					break
				}
				if rnd.Intn(4) == 0 {
					arg = pick(rnd, pgAggs[:2])
					break
				}
			}
		case "FIRST_VALUE", "LAST_VALUE":
			for {
				arg = pick(rnd, append(vals, pgAggs[0], pgAggs[1]))
				if arg.notNull {
					break
				}
			}
		default:
			arg = pick(rnd, vals)
		}
		tieDep := false
		needOrder := false
		switch fn {
		case "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST":
			call = pgEx{w: fn + "()", pg: fn + "()", kind: "int"}
			needOrder = true
			tieDep = fn == "ROW_NUMBER"
		case "NTILE":
			n := strconv.Itoa(1 + rnd.Intn(4))
			call = pgEx{w: "NTILE(" + n + ")", pg: "NTILE(" + n + ")"}
			needOrder, tieDep = true, true
		case "LAG", "LEAD":
			off := strconv.Itoa(1 + rnd.Intn(2))
			call = arg.wrap(fn+"(%s, "+off+")", fn+"(%s, "+off+")")
			if arg.kind == "int" && rnd.Intn(2) == 0 {
				call = arg.wrap(fn+"(%s, "+off+", -7)", fn+"(%s, "+off+", -7)")
			}
			needOrder, tieDep = true, true
		case "AVG":
			switch arg.kind {
			case "int":
				call = arg.wrap("AVG(%s)", "trunc(AVG(%s)")
			case "dec":
				call = arg.wrap("AVG(%s)", "round(AVG(%s)")
			default:
				call = arg.wrap("AVG(%s)", "(AVG(%s)")
			}
		case "FIRST_VALUE", "LAST_VALUE":
			call = arg.wrap(fn+"(%s)", fn+"(%s)")
			tieDep = true
		case "COUNTSTAR":
			call = pgEx{w: "COUNT(*)", pg: "COUNT(*)"}
		case "SHARE":
			// The TPC-DS q12/q20/q98 share of a partition, as DOUBLE
			// in both (PostgreSQL's division of BIGINT or NUMERIC
			// differs from Flink's), NULL for a zero total.
			call = pgEx{w: fmt.Sprintf("CAST(%s AS DOUBLE) * 100 / NULLIF(CAST(SUM(%s)", arg.w, arg.w),
				pg: fmt.Sprintf("CAST(%s AS DOUBLE PRECISION) * 100 / NULLIF(CAST(SUM(%s)", arg.pg, arg.pg)}
		default:
			call = arg.wrap(fn+"(%s)", fn+"(%s)")
		}
		// The window.
		var spec pgEx
		var parts []pgEx
		if rnd.Intn(2) == 0 {
			parts = append(parts, pick(rnd, orderVals))
		}
		if len(parts) > 0 {
			spec = parts[0].wrap("PARTITION BY %s ", "PARTITION BY %s ")
		}
		frame := pgEx{}
		var order []pgEx
		hasOrder := needOrder || rnd.Intn(4) > 0
		if hasOrder {
			for i := 1 + rnd.Intn(2); i > 0; i-- {
				order = append(order, orderItem(pick(rnd, orderVals)))
			}
			isAgg := fn == "SUM" || fn == "COUNT" || fn == "MIN" || fn == "MAX" || fn == "AVG"
			switch {
			case !needOrder && rnd.Intn(3) == 0:
				lo := pick(rnd, []string{"UNBOUNDED PRECEDING", "1 PRECEDING", "CURRENT ROW", "2 PRECEDING"})
				hi := pick(rnd, []string{"UNBOUNDED FOLLOWING", "1 FOLLOWING", "CURRENT ROW"})
				frame = pgEx{w: " ROWS BETWEEN " + lo + " AND " + hi, pg: " ROWS BETWEEN " + lo + " AND " + hi}
				tieDep = true
			case isAgg && rnd.Intn(3) == 0:
				// A RANGE offset frame over one numeric or date key.
				var cands []pgEx
				for _, v := range orderVals {
					if v.kind == "int" || v.kind == "date" {
						cands = append(cands, v)
					}
				}
				if len(cands) == 0 {
					break
				}
				key := cands[rnd.Intn(len(cands))]
				order = []pgEx{orderItem(key)}
				n := 1 + rnd.Intn(3)
				wb := func(s string) string { return fmt.Sprintf("%d %s", n, s) }
				pb := wb
				if key.kind == "date" {
					wb = func(s string) string { return fmt.Sprintf("INTERVAL '%d' DAY %s", n, s) }
					pb = func(s string) string { return fmt.Sprintf("INTERVAL '%d days' %s", n, s) }
				}
				switch rnd.Intn(3) {
				case 0:
					frame = pgEx{w: " RANGE BETWEEN " + wb("PRECEDING") + " AND CURRENT ROW", pg: " RANGE BETWEEN " + pb("PRECEDING") + " AND CURRENT ROW"}
				case 1:
					frame = pgEx{w: " RANGE BETWEEN " + wb("PRECEDING") + " AND " + wb("FOLLOWING"), pg: " RANGE BETWEEN " + pb("PRECEDING") + " AND " + pb("FOLLOWING")}
				default:
					frame = pgEx{w: " RANGE BETWEEN CURRENT ROW AND " + wb("FOLLOWING"), pg: " RANGE BETWEEN CURRENT ROW AND " + pb("FOLLOWING")}
				}
			}
			if tieDep && frame.w == "" || tieDep && strings.Contains(frame.w, "ROWS") {
				for _, e := range tail {
					order = append(order, orderItem(e))
				}
			}
			if len(order) == 0 {
				order = append(order, orderItem(pick(rnd, orderVals)))
			}
			o := join(order)
			spec.w += "ORDER BY " + o.w + frame.w
			spec.pg += "ORDER BY " + o.pg + frame.pg
		} else if tieDep {
			// FIRST_VALUE/LAST_VALUE over the whole partition: still
			// needs a total order.
			o := join(func() []pgEx {
				var xs []pgEx
				for _, e := range tail {
					xs = append(xs, orderItem(e))
				}
				return xs
			}())
			if o.w != "" {
				spec.w += "ORDER BY " + o.w + " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
				spec.pg += "ORDER BY " + o.pg + " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
			}
		}
		w := call.w + " OVER (" + strings.TrimSpace(spec.w) + ")"
		p := call.pg + " OVER (" + strings.TrimSpace(spec.pg) + ")"
		if rnd.Intn(5) == 0 {
			// A named window.
			name := fmt.Sprintf("w%d", len(named))
			named = append(named, pgEx{w: name + " AS (" + strings.TrimSpace(spec.w) + ")", pg: name + " AS (" + strings.TrimSpace(spec.pg) + ")"})
			w = call.w + " OVER " + name
			p = call.pg + " OVER " + name
		}
		if fn == "SHARE" {
			w += " AS DOUBLE), 0)"
			p += " AS DOUBLE PRECISION), 0)"
		}
		if fn == "AVG" {
			switch arg.kind {
			case "int":
				p += ")"
			case "dec":
				p += ", 6)"
			default:
				p += ")"
			}
		}
		switch {
		case rnd.Intn(8) == 0 && (arg.kind != "str" && arg.kind != "date" || fn == "COUNT"):
			// The call inside an expression.
			w, p = "2 * "+w+" + 1", "2 * "+p+" + 1"
		case fn == "ROW_NUMBER" || fn == "RANK" || fn == "DENSE_RANK":
			rankCols = append(rankCols, len(sel))
		}
		sel = append(sel, pgEx{w: w, pg: p})
	}
	var ws, ps []string
	for i, e := range sel {
		ws = append(ws, fmt.Sprintf("%s AS c%d", e.w, i))
		ps = append(ps, fmt.Sprintf("%s AS c%d", e.pg, i))
	}
	dist := ""
	if distinct {
		dist = "DISTINCT "
	}
	w := "SELECT " + dist + strings.Join(ws, ", ") + " FROM t"
	p := "SELECT " + dist + strings.Join(ps, ", ") + " FROM t"
	if rnd.Intn(4) == 0 {
		c := pick(rnd, []string{"a > 0", "g1 <> 'c'", "x IS NOT NULL", "id > 20"})
		w += " WHERE " + c
		p += " WHERE " + c
	}
	if mode != "none" {
		k := strings.Join(keys, ", ")
		switch mode {
		case "group":
			w += " GROUP BY " + k
		case "rollup":
			w += " GROUP BY ROLLUP (" + k + ")"
		case "cube":
			w += " GROUP BY CUBE (" + k + ")"
		case "sets":
			// Sets naming every key: one set per key, or all keys
			// and the last one, with or without ().
			var sets []string
			if len(keys) == 1 || rnd.Intn(2) == 0 {
				for _, key := range keys {
					sets = append(sets, "("+key+")")
				}
			} else {
				sets = []string{"(" + k + ")", "(" + keys[len(keys)-1] + ")"}
			}
			if rnd.Intn(2) == 0 {
				sets = append(sets, "()")
			}
			s := strings.Join(sets, ", ")
			w += " GROUP BY GROUPING SETS (" + s + ")"
		}
		p += w[strings.LastIndex(w, " GROUP BY "):]
	}
	if rnd.Intn(3) == 0 {
		h := pick(rnd, []pgEx{
			{w: "COUNT(*) >= 2", pg: "COUNT(*) >= 2"},
			{w: "SUM(a) > 5", pg: "SUM(a) > 5"},
			{w: "MIN(a) IS NOT NULL", pg: "MIN(a) IS NOT NULL"},
		})
		w += " HAVING " + h.w
		p += " HAVING " + h.pg
	}
	if len(named) > 0 {
		j := join(named)
		w += " WINDOW " + j.w
		p += " WINDOW " + j.pg
	}
	switch {
	case len(rankCols) > 0 && rnd.Intn(3) == 0:
		// Top-N: an enclosing query filters the numbers.
		c := fmt.Sprintf(" AS s WHERE c%d <= %d", pick(rnd, rankCols), 1+rnd.Intn(3))
		w = "SELECT * FROM (" + w + ")" + c
		p = "SELECT * FROM (" + p + ")" + c
	case rnd.Intn(5) == 0:
		// ORDER BY every column (a total order of the values) and LIMIT.
		var o []string
		for i := range sel {
			o = append(o, fmt.Sprintf("c%d%s NULLS FIRST", i, pick(rnd, []string{"", " DESC"})))
		}
		c := fmt.Sprintf(" ORDER BY %s LIMIT %d", strings.Join(o, ", "), 1+rnd.Intn(4))
		w += c
		p += c
	}
	return pgQuery{w: w, pg: p}
}

// normNum is a number at 12 significant digits.
func normNum(r *big.Rat) string {
	f, _ := r.Float64()
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', 12, 64)
}

func pgRows(ctx context.Context, pg *pgx.Conn, q string) (string, error) {
	rows, err := pg.Query(ctx, q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	fields := rows.FieldDescriptions()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", err
		}
		var f []string
		for i, v := range vals {
			var s string
			switch x := v.(type) {
			case nil:
				s = "NULL"
			case int16:
				s = normNum(new(big.Rat).SetInt64(int64(x)))
			case int32:
				s = normNum(new(big.Rat).SetInt64(int64(x)))
			case int64:
				s = normNum(new(big.Rat).SetInt64(x))
			case float64:
				s = normNum(new(big.Rat).SetFloat64(x))
			case pgtype.Numeric:
				if !x.Valid {
					s = "NULL"
					break
				}
				r := new(big.Rat).SetInt(x.Int)
				e := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(x.Exp))), nil))
				if x.Exp >= 0 {
					r.Mul(r, e)
				} else {
					r.Quo(r, e)
				}
				s = normNum(r)
			case string:
				s = x
			case time.Time:
				s = x.Format("2006-01-02")
				if fields[i].DataTypeOID == pgtype.TimestampOID {
					// Weir's TIMESTAMP(3) form.
					s = x.Format("2006-01-02 15:04:05.000")
				}
			default:
				return "", fmt.Errorf("unexpected PostgreSQL value %T %v", v, v)
			}
			f = append(f, s)
		}
		lines = append(lines, strings.Join(f, " | "))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func weirRows(tab pgTable, query string, par int) (string, error) {
	script := tab.weirView("t") + ";\nSET 'execution.runtime-mode' = 'batch';\n" + query + ";"
	return runBatchScript(script, par, func(r row.Row, types []row.Type) (string, error) {
		if r.Kind != row.Insert {
			return "", fmt.Errorf("unexpected row kind %v", r.Kind)
		}
		return normWeirRow(r, types)
	})
}

// pgTestSchema creates a schema of its own for the test on pg (dropped
// at its end), makes it the search path and creates there a table of
// pgRow's columns under each of the names.
func pgTestSchema(t *testing.T, pg *pgx.Conn, prefix string, tables ...string) {
	ctx := context.Background()
	schema := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), time.Now().UnixNano())
	if _, err := pg.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pg.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	if _, err := pg.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	for _, name := range tables {
		if _, err := pg.Exec(ctx, "CREATE TABLE "+name+` (id INT NOT NULL, g1 VARCHAR COLLATE "C", g2 INT,
			a INT, b BIGINT, d NUMERIC(10, 2), x DOUBLE PRECISION, dt DATE, k INT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
	}
}

// loadPG replaces the rows of PostgreSQL's table name with tab.
func (tab pgTable) loadPG(ctx context.Context, pg *pgx.Conn, name string) error {
	if _, err := pg.Exec(ctx, "TRUNCATE "+name); err != nil {
		return err
	}
	if len(tab) == 0 {
		return nil
	}
	_, err := pg.Exec(ctx, "INSERT INTO "+name+" VALUES "+strings.Join(tab.pgValues(), ", "))
	return err
}

// weirView is the statement creating Weir's temporary view name over a
// VALUES of tab's rows.
func (tab pgTable) weirView(name string) string {
	view := "SELECT * FROM (VALUES " + strings.Join(tab.weirValues(), ", ") + ") AS x(id, g1, g2, a, b, d, x, dt, k)"
	if len(tab) == 0 {
		// No rows: a one-row VALUES filtered out.
		view = "SELECT * FROM (VALUES " + strings.Join(pgTable{{id: 0}}.weirValues(), ", ") + ") AS x(id, g1, g2, a, b, d, x, dt, k) WHERE id > 0"
	}
	return "CREATE TEMPORARY VIEW " + name + " AS " + view
}

// normWeirRow formats a Weir row's fields as pgRows does PostgreSQL's:
// numbers at 12 significant digits, fields joined by " | ".
func normWeirRow(r row.Row, types []row.Type) (string, error) {
	var f []string
	for i, v := range r.Fields {
		s := row.Format(v, types[i])
		if !v.IsNull() && types[i].IsNumeric() {
			x, ok := new(big.Rat).SetString(s)
			if !ok {
				return "", fmt.Errorf("bad number %q", s)
			}
			s = normNum(x)
		}
		f = append(f, s)
	}
	return strings.Join(f, " | "), nil
}

// envInt returns the integer in the environment variable name, def when
// it is unset; a value that is not an integer fails t (rather than
// running no query).
func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}
