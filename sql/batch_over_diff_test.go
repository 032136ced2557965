package sql_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestBatchOverDifferential runs random batch OVER queries over random
// small tables and compares every row with a naive reference that
// evaluates each call from its definition (frames by membership, ranks
// by counting), independent of exec.BatchOver's sliding frames and
// binary searches.
func TestBatchOverDifferential(t *testing.T) {
	rnd := rand.New(rand.NewSource(6))
	iters := 40
	if s := os.Getenv("WEIR_OVER_ITERS"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		iters = 10
	}
	for it := 0; it < iters; it++ {
		tab := randOverTable(rnd)
		q := randOverQuery(rnd)
		par := 1 + it%3
		got, err := runBatchOverQuery(t, tab, q.sql(), par)
		if err != nil {
			t.Fatalf("iteration %d: %s\n%v", it, q.sql(), err)
		}
		want := q.reference(tab)
		if got != want {
			t.Fatalf("iteration %d (parallelism %d): %s\ndata %v\ngot:\n%swant:\n%s", it, par, q.sql(), tab, got, want)
		}
	}
}

// ovRow is a row of the random table: id unique, p the partition, o the
// order key, v the value (nil: NULL).
type ovRow struct {
	id   int64
	p, o *int64
	v    *int64
	// gk is the group of TestBatchOverGroupDifferential (0 elsewhere).
	gk int64
}

func (r ovRow) String() string {
	f := func(x *int64) string {
		if x == nil {
			return "NULL"
		}
		return strconv.FormatInt(*x, 10)
	}
	return fmt.Sprintf("(%d,%s,%s,%s)", r.id, f(r.p), f(r.o), f(r.v))
}

func randOverTable(rnd *rand.Rand) []ovRow {
	n := 1 + rnd.Intn(12)
	opt := func(lo, hi int64, nullPct int) *int64 {
		if rnd.Intn(100) < nullPct {
			return nil
		}
		x := lo + rnd.Int63n(hi-lo+1)
		return &x
	}
	rows := make([]ovRow, n)
	for i := range rows {
		rows[i] = ovRow{id: int64(i + 1), p: opt(1, 2, 15), o: opt(0, 6, 20), v: opt(-5, 20, 20)}
	}
	return rows
}

// ovWindow is a window: PARTITION BY p or not, ORDER BY o then (when
// unique) id.
type ovWindow struct {
	partition      bool
	desc, nullLast bool
	nulls          string // "", "NULLS FIRST", "NULLS LAST"
	unique         bool
	idDesc         bool
}

type ovBound struct {
	kind string // UP, P, C, F, UF
	n    int64
}

type ovCall struct {
	fn      string // SUM, COUNT, COUNTSTAR, MIN, MAX, FIRST_VALUE, LAST_VALUE, RANK, ...
	w       ovWindow
	frame   string // "", "ROWS", "RANGE"
	lo, hi  ovBound
	k       int64 // NTILE buckets, LEAD/LAG offset
	dflt    *int64
	hasDflt bool
}

type ovQuery struct{ calls []ovCall }

func (b ovBound) sql() string {
	switch b.kind {
	case "UP":
		return "UNBOUNDED PRECEDING"
	case "UF":
		return "UNBOUNDED FOLLOWING"
	case "C":
		return "CURRENT ROW"
	case "P":
		return fmt.Sprintf("%d PRECEDING", b.n)
	}
	return fmt.Sprintf("%d FOLLOWING", b.n)
}

// ovNames are the SQL expressions the calls name the columns by: the
// table's columns, or over a GROUP BY the aggregates standing for them.
type ovNames struct{ id, p, o, v string }

var plainNames = ovNames{id: "id", p: "p", o: "o", v: "v"}

func (w ovWindow) sql() string { return w.sqlAs(plainNames) }

func (w ovWindow) sqlAs(n ovNames) string {
	var s string
	if w.partition {
		s = "PARTITION BY " + n.p + " "
	}
	s += "ORDER BY " + n.o
	if w.desc {
		s += " DESC"
	}
	if w.nulls != "" {
		s += " " + w.nulls
	}
	if w.unique {
		s += ", " + n.id
		if w.idDesc {
			s += " DESC"
		}
	}
	return s
}

func (c ovCall) sql() string { return c.sqlAs(plainNames) }

func (c ovCall) sqlAs(n ovNames) string {
	var f string
	switch c.fn {
	case "COUNTSTAR":
		f = "COUNT(*)"
	case "SUM", "COUNT", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE":
		f = c.fn + "(" + n.v + ")"
	case "NTILE":
		f = fmt.Sprintf("NTILE(%d)", c.k)
	case "LEAD", "LAG":
		f = fmt.Sprintf("%s(%s, %d)", c.fn, n.v, c.k)
		if c.hasDflt {
			d := "CAST(NULL AS INT)"
			if c.dflt != nil {
				d = strconv.FormatInt(*c.dflt, 10)
			}
			f = fmt.Sprintf("%s(%s, %d, %s)", c.fn, n.v, c.k, d)
		}
	default:
		f = c.fn + "()"
	}
	w := c.w.sqlAs(n)
	if c.frame != "" {
		w += " " + c.frame + " BETWEEN " + c.lo.sql() + " AND " + c.hi.sql()
	}
	return f + " OVER (" + w + ")"
}

func (q ovQuery) sql() string {
	s := "SELECT id"
	for i, c := range q.calls {
		s += fmt.Sprintf(", %s AS c%d", c.sql(), i)
	}
	return s + " FROM t"
}

func randOverQuery(rnd *rand.Rand) ovQuery {
	var q ovQuery
	n := 1 + rnd.Intn(4)
	for len(q.calls) < n {
		w := ovWindow{partition: rnd.Intn(3) > 0, desc: rnd.Intn(2) == 0, unique: rnd.Intn(2) == 0, idDesc: rnd.Intn(2) == 0}
		switch rnd.Intn(3) {
		case 1:
			w.nulls = "NULLS FIRST"
		case 2:
			w.nulls = "NULLS LAST"
		}
		c := ovCall{w: w}
		kinds := []string{"RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "SUM", "COUNT", "COUNTSTAR", "MIN", "MAX"}
		if w.unique {
			kinds = append(kinds, "ROW_NUMBER", "NTILE", "LEAD", "LAG", "FIRST_VALUE", "LAST_VALUE")
		}
		c.fn = kinds[rnd.Intn(len(kinds))]
		switch c.fn {
		case "NTILE":
			c.k = 1 + rnd.Int63n(6)
		case "LEAD", "LAG":
			c.k = rnd.Int63n(4)
			c.hasDflt = rnd.Intn(2) == 0
			if c.hasDflt && rnd.Intn(3) > 0 {
				d := rnd.Int63n(100) - 50
				c.dflt = &d
			}
		case "SUM", "COUNT", "COUNTSTAR", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE":
			switch r := rnd.Intn(4); {
			case r == 0:
				// the default frame
			case r == 1:
				c.frame = "ROWS"
			default:
				c.frame = "RANGE"
			}
			if c.frame == "" {
				break
			}
			if c.frame == "ROWS" && !w.unique {
				// ROWS needs a unique order to be deterministic.
				c.w.unique = true
				w.unique = true
			}
			for {
				kinds := []string{"UP", "P", "C", "F", "UF"}
				lo := ovBound{kind: kinds[rnd.Intn(4)], n: rnd.Int63n(4)}
				hi := ovBound{kind: kinds[1+rnd.Intn(4)], n: rnd.Int63n(4)}
				ord := map[string]int{"UP": 0, "P": 1, "C": 2, "F": 3, "UF": 4}
				if ord[lo.kind] > ord[hi.kind] || lo.kind == "C" && hi.kind == "P" || lo.kind == "F" && (hi.kind == "C" || hi.kind == "P") {
					continue
				}
				c.lo, c.hi = lo, hi
				break
			}
			offset := func(b ovBound) bool { return b.kind == "P" || b.kind == "F" }
			if c.frame == "RANGE" && w.unique && (offset(c.lo) || offset(c.hi)) {
				// A RANGE offset needs the one order key; peers (CURRENT
				// ROW) may span both keys.
				c.frame = "ROWS"
			}
		}
		if !c.w.unique && (c.fn == "FIRST_VALUE" || c.fn == "LAST_VALUE") {
			continue
		}
		q.calls = append(q.calls, c)
	}
	return q
}

// cmpNull compares two nullable keys in a direction, NULLs first or last.
func cmpNull(a, b *int64, desc, nullsLast bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsLast {
			return 1
		}
		return -1
	case b == nil:
		if nullsLast {
			return -1
		}
		return 1
	}
	c := 0
	if *a < *b {
		c = -1
	} else if *a > *b {
		c = 1
	}
	if desc {
		c = -c
	}
	return c
}

func (w ovWindow) nullsLast() bool {
	switch w.nulls {
	case "NULLS FIRST":
		return false
	case "NULLS LAST":
		return true
	}
	return w.desc // Flink: ASC NULLS FIRST, DESC NULLS LAST
}

func (w ovWindow) cmp(a, b ovRow) int {
	if c := cmpNull(a.o, b.o, w.desc, w.nullsLast()); c != 0 || !w.unique {
		return c
	}
	c := cmpNull(&a.id, &b.id, w.idDesc, false)
	return c
}

func (q ovQuery) reference(tab []ovRow) string {
	res := map[int64][]string{}
	for _, c := range q.calls {
		parts := map[string][]ovRow{}
		for _, r := range tab {
			key := "all"
			if c.w.partition {
				key = "NULL"
				if r.p != nil {
					key = strconv.FormatInt(*r.p, 10)
				}
			}
			parts[key] = append(parts[key], r)
		}
		for _, rows := range parts {
			sort.SliceStable(rows, func(i, j int) bool { return c.w.cmp(rows[i], rows[j]) < 0 })
			for i, r := range rows {
				res[r.id] = append(res[r.id], c.eval(rows, i))
			}
		}
	}
	var lines []string
	for _, r := range tab {
		lines = append(lines, fmt.Sprintf("+I[%d, %s]", r.id, strings.Join(res[r.id], ", ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func fmtInt(x *int64) string {
	if x == nil {
		return "NULL"
	}
	return strconv.FormatInt(*x, 10)
}

func fmtFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// inFrame reports whether row j is in row i's frame, from the frame's
// definition: ROWS by position, RANGE by the order key (a bound's value
// is the current key shifted in the order's direction, a NULL key's
// bound is NULL, equal to the NULL keys).
func (c ovCall) inFrame(rows []ovRow, i, j int) bool {
	frame, lo, hi := c.frame, c.lo, c.hi
	if frame == "" {
		frame, lo, hi = "RANGE", ovBound{kind: "UP"}, ovBound{kind: "C"}
	}
	ok := func(b ovBound, lower bool) bool {
		if b.kind == "UP" {
			return lower
		}
		if b.kind == "UF" {
			return !lower
		}
		var d int
		if frame == "ROWS" {
			at := i
			switch b.kind {
			case "P":
				at = i - int(b.n)
			case "F":
				at = i + int(b.n)
			}
			d = j - at
		} else if b.kind == "C" {
			d = c.w.cmp(rows[j], rows[i])
		} else {
			var bound *int64
			if x := rows[i].o; x != nil {
				sh := b.n
				if (b.kind == "P") != c.w.desc {
					sh = -sh
				}
				v := *x + sh
				bound = &v
			}
			d = cmpNull(rows[j].o, bound, c.w.desc, c.w.nullsLast())
		}
		if lower {
			return d >= 0
		}
		return d <= 0
	}
	return ok(lo, true) && ok(hi, false)
}

func (c ovCall) eval(rows []ovRow, i int) string {
	n := len(rows)
	peer := func(j int) bool { return c.w.cmp(rows[i], rows[j]) == 0 }
	before := 0 // rows sorting strictly before row i
	upTo := 0   // rows up to row i's last peer
	groups := map[int]bool{}
	dense := 0
	for j := range rows {
		if c.w.cmp(rows[j], rows[i]) < 0 {
			before++
		}
		if c.w.cmp(rows[j], rows[i]) <= 0 {
			upTo++
		}
	}
	for j := 0; j <= i; j++ {
		first := j
		for first > 0 && c.w.cmp(rows[first-1], rows[j]) == 0 {
			first--
		}
		if !groups[first] {
			groups[first] = true
			dense++
		}
	}
	_ = peer
	switch c.fn {
	case "ROW_NUMBER":
		return strconv.Itoa(i + 1)
	case "RANK":
		return strconv.Itoa(before + 1)
	case "DENSE_RANK":
		return strconv.Itoa(dense)
	case "PERCENT_RANK":
		if n == 1 {
			return fmtFloat(0)
		}
		return fmtFloat(float64(before) / float64(n-1))
	case "CUME_DIST":
		return fmtFloat(float64(upTo) / float64(n))
	case "NTILE":
		// Bucket sizes: n/k each, the first n%k one more.
		k := int(c.k)
		b, pos := 1, 0
		for b <= k {
			size := n / k
			if b <= n%k {
				size++
			}
			if i < pos+size {
				return strconv.Itoa(b)
			}
			pos += size
			b++
		}
		return "?"
	case "LEAD", "LAG":
		j := i + int(c.k)
		if c.fn == "LAG" {
			j = i - int(c.k)
		}
		if j >= 0 && j < n {
			return fmtInt(rows[j].v)
		}
		return fmtInt(c.dflt)
	}
	var vals []int64
	count := 0
	for j := range rows {
		if !c.inFrame(rows, i, j) {
			continue
		}
		count++
		if rows[j].v != nil {
			vals = append(vals, *rows[j].v)
		}
	}
	switch c.fn {
	case "COUNTSTAR":
		return strconv.Itoa(count)
	case "COUNT":
		return strconv.Itoa(len(vals))
	}
	if len(vals) == 0 {
		return "NULL"
	}
	switch c.fn {
	case "SUM":
		s := int64(0)
		for _, v := range vals {
			s += v
		}
		return strconv.FormatInt(s, 10)
	case "MIN", "MAX":
		m := vals[0]
		for _, v := range vals {
			if c.fn == "MIN" && v < m || c.fn == "MAX" && v > m {
				m = v
			}
		}
		return strconv.FormatInt(m, 10)
	case "FIRST_VALUE":
		return strconv.FormatInt(vals[0], 10)
	case "LAST_VALUE":
		return strconv.FormatInt(vals[len(vals)-1], 10)
	}
	return "?"
}

func runBatchOverQuery(t *testing.T, tab []ovRow, query string, par int) (string, error) {
	var vals []string
	for _, r := range tab {
		f := func(x *int64) string {
			if x == nil {
				return "CAST(NULL AS INT)"
			}
			return fmt.Sprintf("CAST(%d AS INT)", *x)
		}
		vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s, %d)", r.id, f(r.p), f(r.o), f(r.v), r.gk))
	}
	script := "CREATE TEMPORARY VIEW t AS SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") AS x(id, p, o, v, gk);\n" +
		"SET 'execution.runtime-mode' = 'batch';\n" + query + ";"
	return runBatchScript(script, par, func(r row.Row, types []row.Type) (string, error) {
		return row.FormatRow(r, types), nil
	})
}

// runBatchScript runs a SQL script whose last statement is a query at
// parallelism par and returns its rows, each as line formats it, sorted,
// one per line; the first error line returns fails the run.
func runBatchScript(script string, par int, line func(r row.Row, types []row.Type) (string, error)) (string, error) {
	var lines []string
	var lerr error
	err := runQueryScript(script, par, func(r row.Row, types []row.Type) {
		l, err := line(r, types)
		if err != nil && lerr == nil {
			lerr = err
		}
		lines = append(lines, l)
	})
	if err != nil {
		return "", err
	}
	if lerr != nil {
		return "", lerr
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// executeScript executes the statements of script in sess and returns
// the job of the last one that makes a job (nil if none).
func executeScript(sess *sql.Session, script string) (*sql.Job, error) {
	stmts, err := parser.Parse(script)
	if err != nil {
		return nil, err
	}
	var job *sql.Job
	for _, st := range stmts {
		_, j, err := sess.Execute(st)
		if err != nil {
			return nil, err
		}
		if j != nil {
			job = j
		}
	}
	return job, nil
}

// runQueryScript runs a SQL script whose last statement is a query at
// parallelism par, calling each (one call at a time) with every row the
// query emits, in arrival order.
//
// WEIR_OVER_SPILL_BUDGET (a memory size such as '1 b') sets
// table.exec.resource.external-buffer-memory first, so that the batch
// OVER windows of every test using this runner spill their partitions.
func runQueryScript(script string, par int, each func(r row.Row, types []row.Type)) error {
	if b := os.Getenv("WEIR_OVER_SPILL_BUDGET"); b != "" {
		script = spillBudget(b) + "\n" + script
	}
	job, err := executeScript(sql.NewSession(sql.SessionOptions{}), script)
	if err != nil {
		return err
	}
	opts := job.Options()
	opts.Parallelism = par
	opts.AutoWatermarkInterval = time.Millisecond
	env := weir.NewEnvironment(opts)
	var mu sync.Mutex
	types := job.Schema().Types()
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		each(r, types)
		return nil
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return env.Execute(ctx)
}
