package sql_test

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// This file writes TestRelationalPostgres's random queries.

// relQuery is a query in Weir's and PostgreSQL's spelling whose columns
// are c0, c1, ... of the kinds (pgEx's kinds, and big for BIGINT).
type relQuery struct {
	w, pg string
	kinds []string
}

// relCol is a column a query may reference, qualified by its alias.
type relCol struct{ ref, kind string }

// relFrom is a FROM clause and the columns it brings.
type relFrom struct {
	w, pg string
	cols  []relCol
}

// relGen writes random queries; aliases r0, r1, ... are unique in one.
type relGen struct {
	rnd   *rand.Rand
	alias int
}

func (g *relGen) next() string {
	g.alias++
	return fmt.Sprintf("r%d", g.alias-1)
}

// numeric kinds; int and big compare with each other.
func relGroup(kind string) string {
	if kind == "big" {
		return "int"
	}
	return kind
}

func isNum(kind string) bool {
	return kind == "int" || kind == "big" || kind == "dec" || kind == "dbl"
}

// base is one of the tables under a new alias.
func (g *relGen) base() relFrom {
	a := g.next()
	name := pick(g.rnd, relTables)
	var cols []relCol
	for _, c := range []relCol{{"id", "int"}, {"g1", "str"}, {"g2", "int"}, {"a", "int"}, {"b", "big"},
		{"d", "dec"}, {"x", "dbl"}, {"dt", "date"}, {"k", "int"}} {
		cols = append(cols, relCol{a + "." + c.ref, c.kind})
	}
	s := name + " AS " + a
	return relFrom{w: s, pg: s, cols: cols}
}

// derived is a subquery in FROM.
func (g *relGen) derived(depth int) relFrom {
	q := g.query(depth, false)
	a := g.next()
	var cols []relCol
	for i, k := range q.kinds {
		cols = append(cols, relCol{fmt.Sprintf("%s.c%d", a, i), k})
	}
	return relFrom{w: "(" + q.w + ") AS " + a, pg: "(" + q.pg + ") AS " + a, cols: cols}
}

func (g *relGen) leaf(depth int) relFrom {
	if depth > 0 && g.rnd.Intn(3) == 0 {
		return g.derived(depth - 1)
	}
	return g.base()
}

// from is a base table, a derived table or a join of two or three.
func (g *relGen) from(depth int) relFrom {
	switch g.rnd.Intn(5) {
	case 0, 1:
		return g.leaf(depth)
	}
	f := g.join(g.leaf(depth), g.leaf(depth))
	if g.rnd.Intn(3) == 0 {
		f = g.join(f, g.leaf(depth-1))
	}
	return f
}

// join joins l and r on an equi key (or, rarely, only a non-equi
// condition) with extra conditions.
//
// PostgreSQL runs a FULL join only when every condition is an equality
// of an expression of one side with one of the other (merge- or
// hash-joinable): a FULL join here takes no condition comparing the two
// sides otherwise, and PostgreSQL's spelling folds the conditions over
// one side into the first key, CASE WHEN p THEN key END (no match unless
// p is TRUE, as in ON), and IS NOT DISTINCT FROM into an equality of
// COALESCEs with a value no column holds.
func (g *relGen) join(l, r relFrom) relFrom {
	typ := pick(g.rnd, []string{"JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL OUTER JOIN", "LEFT OUTER JOIN", "FULL JOIN"})
	full := strings.HasPrefix(typ, "FULL")
	pairs := func(match func(a, b relCol) bool) [][2]relCol {
		var ps [][2]relCol
		for _, a := range l.cols {
			for _, b := range r.cols {
				if match(a, b) {
					ps = append(ps, [2]relCol{a, b})
				}
			}
		}
		return ps
	}
	keyKinds := func(a, b relCol) bool {
		return relGroup(a.kind) == relGroup(b.kind) && (a.kind == "int" || a.kind == "big" || a.kind == "str" || a.kind == "date")
	}
	eq := pairs(keyKinds)
	// Prefer the low-cardinality keys k, g1, g2, dt so that rows match.
	var good [][2]relCol
	low := func(c relCol) bool {
		return strings.HasSuffix(c.ref, ".k") || strings.HasSuffix(c.ref, ".g1") || strings.HasSuffix(c.ref, ".g2") ||
			strings.HasSuffix(c.ref, ".dt") || strings.Contains(c.ref, ".c")
	}
	for _, p := range eq {
		if low(p[0]) && low(p[1]) && p[0].kind == p[1].kind {
			good = append(good, p)
		}
	}
	if len(good) > 0 && g.rnd.Intn(4) > 0 {
		eq = good
	}
	var conds []string
	// PostgreSQL's FULL join: the keys' two sides, the one-sided
	// conditions.
	var keys [][2]string
	var onL, onR []string
	if len(eq) > 0 && g.rnd.Intn(12) > 0 {
		p := pick(g.rnd, eq)
		if g.rnd.Intn(8) == 0 {
			conds = append(conds, p[0].ref+" IS NOT DISTINCT FROM "+p[1].ref)
			none := map[string]string{"int": "-999999999", "big": "-999999999", "str": "'~'", "date": "DATE '1999-01-01'"}[p[0].kind]
			keys = append(keys, [2]string{"COALESCE(" + p[0].ref + ", " + none + ")", "COALESCE(" + p[1].ref + ", " + none + ")"})
		} else {
			conds = append(conds, p[0].ref+" = "+p[1].ref)
			keys = append(keys, [2]string{p[0].ref, p[1].ref})
		}
		if g.rnd.Intn(3) == 0 {
			p := pick(g.rnd, eq)
			conds = append(conds, p[0].ref+" = "+p[1].ref)
			keys = append(keys, [2]string{p[0].ref, p[1].ref})
		}
	}
	if len(conds) == 0 || g.rnd.Intn(2) == 0 {
		// A non-equi condition over both sides, or one side only.
		ne := pairs(func(a, b relCol) bool { return relGroup(a.kind) == relGroup(b.kind) })
		switch {
		case !full && len(ne) > 0 && g.rnd.Intn(2) == 0:
			p := pick(g.rnd, ne)
			conds = append(conds, p[0].ref+" "+pick(g.rnd, []string{"<", "<=", ">", "<>", ">="})+" "+p[1].ref)
		case g.rnd.Intn(2) == 0:
			p := g.simplePred(l.cols).w
			conds, onL = append(conds, p), append(onL, p)
		default:
			p := g.simplePred(r.cols).w
			conds, onR = append(conds, p), append(onR, p)
		}
	}
	on := strings.Join(conds, " AND ")
	pgOn := on
	if full {
		if len(keys) == 0 {
			// No key: a constant of each side's first column.
			one := func(c relCol) string { return "(CASE WHEN " + c.ref + " IS NULL THEN 1 ELSE 1 END)" }
			keys = [][2]string{{one(l.cols[0]), one(r.cols[0])}}
		}
		guard := func(ps []string, e string) string {
			if len(ps) == 0 {
				return e
			}
			return "(CASE WHEN " + strings.Join(ps, " AND ") + " THEN " + e + " END)"
		}
		keys[0] = [2]string{guard(onL, keys[0][0]), guard(onR, keys[0][1])}
		var ks []string
		for _, k := range keys {
			ks = append(ks, k[0]+" = "+k[1])
		}
		pgOn = strings.Join(ks, " AND ")
	}
	cols := append(append([]relCol{}, l.cols...), r.cols...)
	return relFrom{w: l.w + " " + typ + " " + r.w + " ON " + on, pg: l.pg + " " + typ + " " + r.pg + " ON " + pgOn, cols: cols}
}

func (g *relGen) colOf(cols []relCol, ok func(relCol) bool) (relCol, bool) {
	var cs []relCol
	for _, c := range cols {
		if ok(c) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return relCol{}, false
	}
	return pick(g.rnd, cs), true
}

// literal is a constant of the kind, the same in both spellings.
func (g *relGen) literal(kind string) string {
	switch kind {
	case "int":
		return strconv.Itoa(g.rnd.Intn(24) - 4)
	case "big":
		return fmt.Sprintf("CAST(%d AS BIGINT)", int64(g.rnd.Intn(9)-3)*1000000007)
	case "dec":
		return decLit(int64(g.rnd.Intn(1601) - 400))
	case "dbl":
		return strconv.FormatFloat(float64(g.rnd.Intn(41)-10)/4, 'f', 2, 64)
	case "str":
		return "'" + string(rune('a'+g.rnd.Intn(4))) + "'"
	case "date":
		return fmt.Sprintf("DATE '2024-01-%02d'", 1+g.rnd.Intn(6))
	}
	panic(kind)
}

// ordered returns two literals of the kind, the lower first.
func (g *relGen) ordered(kind, a, b string) (string, string) {
	num := func(s string) float64 {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "CAST("), " AS BIGINT)")
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	if kind == "str" || kind == "date" {
		if a > b {
			return b, a
		}
		return a, b
	}
	if num(a) > num(b) {
		return b, a
	}
	return a, b
}

// simplePred is a predicate over cols without subqueries, NULLs making
// it UNKNOWN.
func (g *relGen) simplePred(cols []relCol) pgEx {
	c := pick(g.rnd, cols)
	var s string
	switch g.rnd.Intn(9) {
	case 0, 1, 2:
		s = c.ref + " " + pick(g.rnd, []string{"=", "<>", "<", "<=", ">", ">="}) + " " + g.literal(c.kind)
	case 3:
		if d, ok := g.colOf(cols, func(d relCol) bool { return relGroup(d.kind) == relGroup(c.kind) && d.ref != c.ref }); ok {
			s = c.ref + " " + pick(g.rnd, []string{"=", "<>", "<", ">="}) + " " + d.ref
		} else {
			s = c.ref + " IS NULL"
		}
	case 4:
		s = c.ref + pick(g.rnd, []string{" IS NULL", " IS NOT NULL"})
	case 5:
		lo, hi := g.literal(c.kind), g.literal(c.kind)
		if g.rnd.Intn(4) > 0 {
			// Mostly lo <= hi (a range that can hold values).
			lo, hi = g.ordered(c.kind, lo, hi)
		}
		s = c.ref + pick(g.rnd, []string{" BETWEEN ", " NOT BETWEEN "}) + lo + " AND " + hi
	case 6:
		s = c.ref + pick(g.rnd, []string{" IN (", " NOT IN ("}) + g.literal(c.kind) + ", " + g.literal(c.kind) + ")"
	case 7:
		p, q := g.simplePred(cols), g.simplePred(cols)
		s = "(" + p.w + pick(g.rnd, []string{" AND ", " OR "}) + q.w + ")"
	default:
		p := g.simplePred(cols)
		s = pick(g.rnd, []string{"NOT (%s)", "(%s) IS TRUE", "(%s) IS NOT TRUE", "(%s) IS FALSE", "(%s) IS NOT FALSE", "(%s) IS UNKNOWN"})
		s = fmt.Sprintf(s, p.w)
	}
	return pgEx{w: s, pg: s}
}

// subqueryPred is an IN, NOT IN, EXISTS, NOT EXISTS or scalar subquery
// predicate over outer columns cols, correlated or not. value tells
// whether it may be used as a value (under OR, NOT or CASE), not only as
// a conjunct of WHERE: as a value, an uncorrelated IN over nullable
// values is Calcite's (and Flink's) INNER join of the outer rows with
// the subquery's COUNT aggregates, which in the streaming mode has no
// row while the subquery is empty (see TestRelationalPostgres on global
// aggregates; sql/plan/subquery_mark.go), so it is not used so.
func (g *relGen) subqueryPred(cols []relCol) (p pgEx, value, ok bool) {
	inner := g.base()
	corr := ""
	if o, ok := g.colOf(cols, func(c relCol) bool { return c.kind == "int" }); ok && g.rnd.Intn(2) == 0 {
		ic, _ := g.colOf(inner.cols, func(c relCol) bool {
			return strings.HasSuffix(c.ref, ".k") || strings.HasSuffix(c.ref, ".g2") || strings.HasSuffix(c.ref, ".a")
		})
		corr = ic.ref + " = " + o.ref
	}
	where := func(extra bool) string {
		var cs []string
		if corr != "" {
			cs = append(cs, corr)
		}
		if extra || g.rnd.Intn(2) == 0 {
			cs = append(cs, g.simplePred(inner.cols).w)
		}
		if len(cs) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(cs, " AND ")
	}
	switch g.rnd.Intn(4) {
	case 0, 1:
		// [NOT] IN: the inner column of the outer column's group.
		o := pick(g.rnd, cols)
		ic, ok := g.colOf(inner.cols, func(c relCol) bool { return relGroup(c.kind) == relGroup(o.kind) })
		if !ok || o.kind == "dbl" {
			return pgEx{}, false, false
		}
		not := pick(g.rnd, []string{"", "NOT "})
		s := fmt.Sprintf("%s %sIN (SELECT %s FROM %s%s)", o.ref, not, ic.ref, inner.w, where(false))
		return pgEx{w: s, pg: s}, corr != "", true
	case 2:
		not := pick(g.rnd, []string{"", "NOT "})
		s := fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s%s)", not, inner.w, where(corr == ""))
		return pgEx{w: s, pg: s}, true, true
	default:
		// A scalar subquery: an aggregate, compared with an outer
		// column. COUNT only correlated (see TestRelationalPostgres).
		o, ok := g.colOf(cols, func(c relCol) bool { return isNum(c.kind) && c.kind != "dbl" })
		if !ok {
			return pgEx{}, false, false
		}
		ic, _ := g.colOf(inner.cols, func(c relCol) bool { return relGroup(c.kind) == relGroup(o.kind) })
		fns := []string{"MAX(%s)", "MIN(%s)", "SUM(%s)"}
		if corr != "" {
			fns = append(fns, "COUNT(%s)", "COUNT(*)")
		}
		agg := pick(g.rnd, fns)
		if agg != "COUNT(*)" {
			agg = fmt.Sprintf(agg, ic.ref)
		}
		op := pick(g.rnd, []string{"=", "<>", "<", ">=", ">"})
		s := fmt.Sprintf("%s %s (SELECT %s FROM %s%s)", o.ref, op, agg, inner.w, where(false))
		return pgEx{w: s, pg: s}, true, true
	}
}

// pred is a WHERE condition: conjuncts of simple and subquery
// predicates.
func (g *relGen) pred(cols []relCol, subqueries bool) pgEx {
	var ps []string
	for n := 1 + g.rnd.Intn(2); n > 0; n-- {
		if subqueries && g.rnd.Intn(2) == 0 {
			if p, value, ok := g.subqueryPred(cols); ok {
				switch r := g.rnd.Intn(6); {
				case !value:
				case r == 0:
					// Under OR: a mark join, not a semi join.
					p.w = "(" + p.w + " OR " + g.simplePred(cols).w + ")"
				case r == 1:
					p.w = "NOT (" + p.w + ")"
				}
				ps = append(ps, p.w)
				continue
			}
		}
		ps = append(ps, g.simplePred(cols).w)
	}
	s := strings.Join(ps, " AND ")
	return pgEx{w: s, pg: s}
}

// scalar is a projected expression over cols.
func (g *relGen) scalar(cols []relCol) pgEx {
	c := pick(g.rnd, cols)
	col := pgEx{w: c.ref, pg: c.ref, kind: c.kind}
	other := func() string {
		if d, ok := g.colOf(cols, func(d relCol) bool { return d.kind == c.kind }); ok && g.rnd.Intn(2) == 0 {
			return d.ref
		}
		return g.literal(c.kind)
	}
	switch g.rnd.Intn(10) {
	case 0:
		if isNum(c.kind) {
			return col.wrap("(%s + 3)", "(%s + 3)")
		}
		if c.kind == "str" {
			return col.wrap("(%s || 'z')", "(%s || 'z')")
		}
	case 1:
		p := g.simplePred(cols)
		e := "CASE WHEN " + p.w + " THEN " + c.ref
		if g.rnd.Intn(3) > 0 {
			e += " ELSE " + other()
		}
		e += " END"
		return pgEx{w: e, pg: e, kind: c.kind}
	case 2:
		e := "COALESCE(" + c.ref + ", " + other() + ")"
		return pgEx{w: e, pg: e, kind: c.kind}
	case 3:
		if c.kind == "int" || c.kind == "str" {
			e := "NULLIF(" + c.ref + ", " + g.literal(c.kind) + ")"
			return pgEx{w: e, pg: e, kind: c.kind}
		}
	}
	return col
}

// agg is an aggregate call over cols.
func (g *relGen) agg(cols []relCol) pgEx {
	c := pick(g.rnd, cols)
	num, _ := g.colOf(cols, func(c relCol) bool { return isNum(c.kind) })
	var e pgEx
	switch g.rnd.Intn(9) {
	case 0:
		e = pgEx{w: "COUNT(*)", pg: "COUNT(*)", kind: "big"}
	case 1:
		e = pgEx{w: "COUNT(" + c.ref + ")", pg: "COUNT(" + c.ref + ")", kind: "big"}
	case 2:
		e = pgEx{w: "COUNT(DISTINCT " + c.ref + ")", pg: "COUNT(DISTINCT " + c.ref + ")", kind: "big"}
	case 3, 4:
		if num.ref == "" {
			return pgEx{w: "COUNT(*)", pg: "COUNT(*)", kind: "big"}
		}
		d := pick(g.rnd, []string{"", "", "DISTINCT "})
		e = pgEx{w: "SUM(" + d + num.ref + ")", pg: "SUM(" + d + num.ref + ")", kind: num.kind}
	case 5:
		if num.ref == "" {
			return pgEx{w: "COUNT(*)", pg: "COUNT(*)", kind: "big"}
		}
		e = pgEx{w: "AVG(" + num.ref + ")", kind: num.kind}
		switch num.kind {
		case "int", "big":
			e.pg = "trunc(AVG(" + num.ref + ")"
		case "dec":
			e.pg = "round(AVG(" + num.ref + ")"
		default:
			e.pg = "(AVG(" + num.ref + ")"
		}
	default:
		fn := pick(g.rnd, []string{"MIN", "MAX"})
		e = pgEx{w: fn + "(" + c.ref + ")", pg: fn + "(" + c.ref + ")", kind: c.kind}
	}
	if g.rnd.Intn(4) == 0 {
		f := " FILTER (WHERE " + g.simplePred(cols).w + ")"
		e.w += f
		e.pg += f
	}
	if strings.HasPrefix(e.w, "AVG(") {
		// The FILTER goes inside trunc/round.
		if e.kind == "dec" {
			e.pg += ", 6)"
		} else {
			e.pg += ")"
		}
	}
	return e
}

// query is a random query whose columns are c0, c1, ...; top allows
// subqueries in the select list.
func (g *relGen) query(depth int, top bool) relQuery {
	switch r := g.rnd.Intn(10); {
	case r < 4:
		return g.selectQuery(depth, top)
	case r < 8:
		return g.aggQuery(depth)
	default:
		return g.unionQuery(depth)
	}
}

func aliased(es []pgEx) (w, p string, kinds []string) {
	var ws, ps []string
	for i, e := range es {
		ws = append(ws, fmt.Sprintf("%s AS c%d", e.w, i))
		ps = append(ps, fmt.Sprintf("%s AS c%d", e.pg, i))
		kinds = append(kinds, e.kind)
	}
	return strings.Join(ws, ", "), strings.Join(ps, ", "), kinds
}

func (g *relGen) selectQuery(depth int, top bool) relQuery {
	f := g.from(depth)
	var sel []pgEx
	for n := 1 + g.rnd.Intn(4); n > 0; n-- {
		sel = append(sel, g.scalar(f.cols))
	}
	if top && g.rnd.Intn(4) == 0 {
		// A correlated scalar subquery, or a subquery predicate as a
		// value, in the select list.
		if o, ok := g.colOf(f.cols, func(c relCol) bool { return c.kind == "int" }); ok {
			in := g.base()
			a := strings.Split(in.cols[0].ref, ".")[0]
			var e pgEx
			switch g.rnd.Intn(3) {
			case 0:
				e = pgEx{w: fmt.Sprintf("(SELECT COUNT(*) FROM %s WHERE %s.k = %s)", in.w, a, o.ref), kind: "big"}
			case 1:
				e = pgEx{w: fmt.Sprintf("(SELECT MAX(%s.a) FROM %s WHERE %s.g2 = %s)", a, in.w, a, o.ref), kind: "int"}
			default:
				p, value, ok := g.subqueryPred(f.cols)
				if !ok || !value {
					break
				}
				e = pgEx{w: "CASE WHEN " + p.w + " THEN 1 WHEN NOT (" + p.w + ") THEN 0 END", kind: "int"}
			}
			if e.w != "" {
				e.pg = e.w
				sel = append(sel, e)
			}
		}
	}
	w, p, kinds := aliased(sel)
	dist := ""
	if g.rnd.Intn(4) == 0 {
		dist = "DISTINCT "
	}
	q := relQuery{w: "SELECT " + dist + w + " FROM " + f.w, pg: "SELECT " + dist + p + " FROM " + f.pg, kinds: kinds}
	if g.rnd.Intn(2) == 0 {
		c := g.pred(f.cols, depth > 0)
		q.w += " WHERE " + c.w
		q.pg += " WHERE " + c.pg
	}
	return q
}

func (g *relGen) aggQuery(depth int) relQuery {
	f := g.from(depth)
	var keys []string
	var sel []pgEx
	for n := g.rnd.Intn(3); n > 0; n-- {
		c, ok := g.colOf(f.cols, func(c relCol) bool { return c.kind != "dbl" && c.kind != "dec" })
		if !ok {
			break
		}
		dup := false
		for _, k := range keys {
			dup = dup || k == c.ref
		}
		if dup {
			continue
		}
		keys = append(keys, c.ref)
		sel = append(sel, pgEx{w: c.ref, pg: c.ref, kind: c.kind})
	}
	for n := 1 + g.rnd.Intn(3); n > 0; n-- {
		sel = append(sel, g.agg(f.cols))
	}
	w, p, kinds := aliased(sel)
	q := relQuery{w: "SELECT " + w + " FROM " + f.w, pg: "SELECT " + p + " FROM " + f.pg, kinds: kinds}
	if g.rnd.Intn(3) == 0 {
		c := g.pred(f.cols, depth > 0)
		q.w += " WHERE " + c.w
		q.pg += " WHERE " + c.pg
	}
	global := len(keys) == 0
	if len(keys) > 0 {
		k := strings.Join(keys, ", ")
		var gb string
		switch g.rnd.Intn(6) {
		case 0:
			gb, global = "ROLLUP ("+k+")", true
		case 1:
			gb, global = "CUBE ("+k+")", true
		case 2:
			var sets []string
			for _, key := range keys {
				sets = append(sets, "("+key+")")
			}
			if len(keys) > 1 && g.rnd.Intn(2) == 0 {
				sets = append(sets, "("+k+")")
			}
			if g.rnd.Intn(2) == 0 {
				sets, global = append(sets, "()"), true
			}
			gb = "GROUPING SETS (" + strings.Join(sets, ", ") + ")"
		default:
			gb = k
		}
		q.w += " GROUP BY " + gb
		q.pg += " GROUP BY " + gb
	}
	if g.rnd.Intn(3) == 0 {
		var h pgEx
		switch g.rnd.Intn(3) {
		case 0:
			h = pgEx{w: "COUNT(*) > 1", pg: "COUNT(*) > 1"}
		case 1:
			a := g.agg(f.cols)
			if isNum(a.kind) {
				lit := g.literal("int")
				h = pgEx{w: a.w + " > " + lit, pg: a.pg + " > " + lit}
			} else {
				h = pgEx{w: a.w + " IS NOT NULL", pg: a.pg + " IS NOT NULL"}
			}
		default:
			h = pgEx{w: "MIN(" + pick(g.rnd, f.cols).ref + ") IS NOT NULL"}
			h.pg = h.w
		}
		q.w += " HAVING " + h.w
		q.pg += " HAVING " + h.pg
		if global {
			q.pg += nonEmptyAnd
		}
	} else if global {
		q.pg += nonEmptyHaving
	}
	return q
}

// unionQuery is a UNION ALL of a select or an aggregate and a select of
// the same column kinds.
func (g *relGen) unionQuery(depth int) relQuery {
	var l relQuery
	if g.rnd.Intn(3) == 0 {
		l = g.aggQuery(depth - 1)
	} else {
		l = g.selectQuery(depth-1, false)
	}
	f := g.from(depth - 1)
	var sel []pgEx
	for _, k := range l.kinds {
		if c, ok := g.colOf(f.cols, func(c relCol) bool { return c.kind == k }); ok && g.rnd.Intn(6) > 0 {
			sel = append(sel, pgEx{w: c.ref, pg: c.ref, kind: k})
			continue
		}
		lit := g.literal(k)
		sel = append(sel, pgEx{w: lit, pg: lit, kind: k})
	}
	w, p, _ := aliased(sel)
	r := relQuery{w: "SELECT " + w + " FROM " + f.w, pg: "SELECT " + p + " FROM " + f.pg}
	if g.rnd.Intn(2) == 0 {
		c := g.simplePred(f.cols)
		r.w += " WHERE " + c.w
		r.pg += " WHERE " + c.pg
	}
	return relQuery{w: l.w + " UNION ALL " + r.w, pg: l.pg + " UNION ALL " + r.pg, kinds: l.kinds}
}
