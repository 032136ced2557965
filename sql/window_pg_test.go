package sql_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
)

// TestWindowPostgres is a differential test of the event-time operators
// with PostgreSQL as the oracle: window TVF aggregations (TUMBLE, HOP,
// CUMULATE with offsets, SESSION with and without PARTITION BY; GROUP BY
// window_start, window_end and keys or GROUPING SETS/ROLLUP/CUBE;
// COUNT, COUNT(DISTINCT), SUM, MIN, MAX, AVG, FILTER, HAVING), window
// Top-N (over a TVF and over a window aggregation), window deduplication,
// window joins (INNER/LEFT/RIGHT/FULL, EXISTS/NOT EXISTS) and interval
// joins (inner and outer, inclusive and strict bounds, with and without
// an equi key).
//
// Two random event tables e1, e2 (id, k VARCHAR, g INT, v INT, x DOUBLE,
// with NULLs and tied timestamps on a 250 ms grid) are written to CSV
// files read by the filesystem connector with a rowtime column rt — a
// TIMESTAMP(3), or a TIMESTAMP_LTZ(3) (TO_TIMESTAMP_LTZ of an epoch
// BIGINT) under a random table.local-time-zone without daylight saving
// time in January — and WATERMARK FOR rt AS rt - INTERVAL 'B' SECOND.
// The file's rows are out of order, but each row's time is more than B
// after the largest time before it (wnEvents): no row is late, so Flink
// drops none. Each query runs on Weir in the streaming mode (the input
// ends, the final watermark fires every window) and in the batch mode,
// at parallelism 1 to 3; both must emit only inserts and equal
// PostgreSQL's rows as multisets. PostgreSQL computes the windows
// itself: TUMBLE by floor arithmetic over epoch milliseconds, HOP and
// CUMULATE by generate_series, SESSION by LAG over the partition's rows
// ordered by time (a new session where the gap to the previous row is
// more than the session gap), window_end = last row + gap.
//
// Adaptations (Flink's semantics): those of TestOverGroupPostgres for
// aggregates (trunc(AVG) of INT, bytewise strings, numbers compared as
// numbers); window Top-N orders by a unique tail (id, or the group key
// over a window aggregation) since Flink breaks ties by arrival order;
// window deduplication (ORDER BY rt, rn = 1) keeps a row whose rt is
// the smallest (largest) of its partition but which of tied rows
// depends on arrival order, so the query selects the deduplication
// keys and the row's time only, compared with MIN(rt)/MAX(rt); the
// LTZ rowtime itself is never selected (its wall clock column wt is).
// A WHERE between a SESSION TVF and its aggregation filters the rows
// before sessions form (Flink's PullUpWindowTableFunctionIntoWindow-
// AggregateRule), so PostgreSQL filters before computing sessions.
//
// WEIR_WINPG_SEEDS sets the seeds (1,5,9 or 1-200; default 1-3),
// WEIR_WINPG_QUERIES the queries per seed (default 12) and
// WEIR_WINPG_LOG logs each query.
func TestWindowPostgres(t *testing.T) {
	pg := pgOracleConn(t)
	ctx := context.Background()
	pgTestSchema(t, pg, "weir_winpg")
	for _, st := range []string{
		`CREATE TABLE e1 (id INT NOT NULL, k VARCHAR COLLATE "C", g INT, v INT, x DOUBLE PRECISION, rt TIMESTAMP(3) NOT NULL)`,
		`CREATE TABLE e2 (id INT NOT NULL, k VARCHAR COLLATE "C", g INT, v INT, x DOUBLE PRECISION, rt TIMESTAMP(3) NOT NULL)`,
		// Milliseconds since the epoch of a timestamp's wall clock, and back.
		`CREATE FUNCTION tms(t TIMESTAMP) RETURNS BIGINT AS $$ SELECT (EXTRACT(EPOCH FROM t) * 1000)::BIGINT $$ LANGUAGE SQL IMMUTABLE`,
		`CREATE FUNCTION wts(m BIGINT) RETURNS TIMESTAMP(3) AS $$ SELECT TIMESTAMP '1970-01-01' + m * INTERVAL '1 millisecond' $$ LANGUAGE SQL IMMUTABLE`,
		// The non-negative remainder.
		`CREATE FUNCTION wmod(a BIGINT, b BIGINT) RETURNS BIGINT AS $$ SELECT ((a % b) + b) % b $$ LANGUAGE SQL IMMUTABLE`,
	} {
		if _, err := pg.Exec(ctx, st); err != nil {
			t.Fatalf("%v\n%s", err, st)
		}
	}
	seeds := []int64{1, 2, 3}
	if s := os.Getenv("WEIR_WINPG_SEEDS"); s != "" {
		var err error
		if seeds, err = parseSeeds(s); err != nil {
			t.Fatal(err)
		}
	}
	queries := int(envInt(t, "WEIR_WINPG_QUERIES", 12))
	dir := t.TempDir()
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewSource(seed))
			for it := 0; it < queries; it++ {
				c := randWnCase(rnd)
				n, err := c.check(ctx, pg, dir)
				if err != nil {
					t.Fatalf("seed %d query %d: %v", seed, it, err)
				}
				if os.Getenv("WEIR_WINPG_LOG") != "" {
					t.Logf("query %d (%s): %d rows: %s", it, c.family, n, c.w)
				}
			}
		})
	}
}

// wnEvent is a row of an event table; nil pointers are NULLs. wms is the
// rowtime's wall clock, milliseconds since the epoch.
type wnEvent struct {
	id  int
	k   *string
	g   int
	v   *int
	x   *float64
	wms int64
}

// wnBase is 2024-01-10 00:00:00 (wall clock) in epoch milliseconds.
var wnBase = time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC).UnixMilli()

// wnEvents returns the rows of an event table in file order: arrival
// times grow (by 0 to 1.5 s, sometimes by a long pause that ends
// sessions), and a row's time is its arrival time minus 0 to boundMs -
// 250 ms, so it is more than boundMs after every earlier row's time and
// the watermark (largest time - boundMs) never passes it.
func wnEvents(rnd *rand.Rand, boundMs int64) []wnEvent {
	n := rnd.Intn(30)
	if rnd.Intn(15) == 0 {
		n = 0
	}
	arrival := wnBase + int64(rnd.Intn(20))*250
	var out []wnEvent
	for i := 0; i < n; i++ {
		switch rnd.Intn(8) {
		case 0:
			arrival += int64(4+rnd.Intn(40)) * 250
		case 1, 2:
		default:
			arrival += int64(1+rnd.Intn(6)) * 250
		}
		back := int64(0)
		if rnd.Intn(2) == 0 {
			back = int64(rnd.Intn(int(boundMs/250))) * 250
		}
		e := wnEvent{id: i + 1, g: rnd.Intn(3), wms: arrival - back}
		if rnd.Intn(8) > 0 {
			s := string(rune('a' + rnd.Intn(3)))
			e.k = &s
		}
		if rnd.Intn(6) > 0 {
			v := rnd.Intn(21) - 5
			e.v = &v
		}
		if rnd.Intn(6) > 0 {
			x := float64(rnd.Intn(41)-10) / 4
			e.x = &x
		}
		out = append(out, e)
	}
	return out
}

func wnTimestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
}

// csv is the table's file: id,k,g,v,x,wt,ms with ms the instant of the
// wall clock wt in a zone offsetMs east of UTC.
func wnCSV(rows []wnEvent, offsetMs int64) string {
	var b strings.Builder
	for _, e := range rows {
		k, v, x := "null", "null", "null"
		if e.k != nil {
			k = *e.k
		}
		if e.v != nil {
			v = strconv.Itoa(*e.v)
		}
		if e.x != nil {
			x = strconv.FormatFloat(*e.x, 'f', -1, 64)
		}
		fmt.Fprintf(&b, "%d,%s,%d,%s,%s,%s,%d\n", e.id, k, e.g, v, x, wnTimestamp(e.wms), e.wms-offsetMs)
	}
	return b.String()
}

func wnLoadPG(ctx context.Context, pg *pgx.Conn, name string, rows []wnEvent) error {
	if _, err := pg.Exec(ctx, "TRUNCATE "+name); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	var vals []string
	for _, e := range rows {
		k, v, x := "NULL", "NULL", "NULL"
		if e.k != nil {
			k = "'" + *e.k + "'"
		}
		if e.v != nil {
			v = strconv.Itoa(*e.v)
		}
		if e.x != nil {
			x = strconv.FormatFloat(*e.x, 'f', -1, 64)
		}
		vals = append(vals, fmt.Sprintf("(%d, %s, %d, %s, %s, TIMESTAMP '%s')", e.id, k, e.g, v, x, wnTimestamp(e.wms)))
	}
	_, err := pg.Exec(ctx, "INSERT INTO "+name+" VALUES "+strings.Join(vals, ", "))
	return err
}

// wnZone is a table.local-time-zone and its (January) offset.
type wnZone struct {
	name     string
	offsetMs int64
}

var wnZones = []wnZone{
	{"UTC", 0},
	{"Asia/Kolkata", 330 * 60000},
	{"Asia/Kathmandu", 345 * 60000},
	{"America/Los_Angeles", -8 * 3600000},
	{"Asia/Shanghai", 8 * 3600000},
}

// wnCase is one query over e1 and e2 and how Weir runs it.
type wnCase struct {
	family              string
	rows                [2][]wnEvent
	boundMs             int64
	ltz                 bool
	zone                wnZone
	scanPar1            bool
	w, pg               string
	batchPar, streamPar int
}

func randWnCase(rnd *rand.Rand) wnCase {
	c := wnCase{
		boundMs:   int64(1+rnd.Intn(4)) * 1000,
		ltz:       rnd.Intn(3) == 0,
		zone:      wnZones[0],
		scanPar1:  rnd.Intn(2) == 0,
		batchPar:  1 + rnd.Intn(3),
		streamPar: 1 + rnd.Intn(3),
	}
	if c.ltz {
		c.zone = pick(rnd, wnZones)
	}
	c.rows[0] = wnEvents(rnd, c.boundMs)
	c.rows[1] = wnEvents(rnd, c.boundMs)
	g := wnGen{rnd: rnd, ltz: c.ltz}
	c.family = pick(rnd, []string{"agg", "agg", "agg", "topn", "topn-agg", "dedup", "wjoin", "ijoin"})
	switch c.family {
	case "agg":
		c.w, c.pg = g.agg()
	case "topn":
		c.w, c.pg = g.topN()
	case "topn-agg":
		c.w, c.pg = g.topNAgg()
	case "dedup":
		c.w, c.pg = g.dedup()
	case "wjoin":
		c.w, c.pg = g.windowJoin()
	case "ijoin":
		c.w, c.pg = g.intervalJoin()
	}
	return c
}

// wnGen writes random queries.
type wnGen struct {
	rnd *rand.Rand
	ltz bool
}

// wnWindow is a window TVF over a table, in both spellings: w is the
// TVF call, pg a derived table of the table's rows with window_start
// and window_end (one row per window a row falls in).
type wnWindow struct {
	kind string
	// part is the SESSION's PARTITION BY column ("" for none).
	part  string
	w, pg string
}

// window returns a random window TVF over table; filter (a condition
// over the table's columns, or "") is applied by PostgreSQL before the
// windows are computed (Flink filters a SESSION aggregation's rows
// before the sessions form; the other windows do not care).
func (g wnGen) window(table, kind, part, filter string) wnWindow {
	rnd := g.rnd
	sec := func(ms int64) string {
		return fmt.Sprintf("INTERVAL '%s' SECOND", strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
	}
	src := table
	if filter != "" {
		src = "(SELECT * FROM " + table + " WHERE " + filter + ")"
	}
	offset := func(size int64) int64 {
		if rnd.Intn(3) > 0 {
			return 0
		}
		return int64(rnd.Intn(int(2*size/1000))-int(size/1000)+1) * 1000
	}
	offW := func(off int64) string {
		if off == 0 && rnd.Intn(2) == 0 {
			return ""
		}
		return ", " + sec(off)
	}
	w := wnWindow{kind: kind, part: part}
	switch kind {
	case "TUMBLE":
		size := int64(pick(rnd, []int{1, 2, 3, 5, 7, 10, 60})) * 1000
		off := offset(size)
		w.w = fmt.Sprintf("TUMBLE(TABLE %s, DESCRIPTOR(rt), %s%s)", table, sec(size), offW(off))
		w.pg = fmt.Sprintf("(SELECT e.*, wts(s.ws) AS window_start, wts(s.ws + %d) AS window_end FROM %s AS e, "+
			"LATERAL (SELECT tms(e.rt) - wmod(tms(e.rt) - %d, %d) AS ws) AS s)", size, src, off, size)
	case "HOP":
		slide := int64(pick(rnd, []int{1, 2, 3, 5})) * 1000
		size := slide * int64(1+rnd.Intn(4))
		off := offset(slide)
		w.w = fmt.Sprintf("HOP(TABLE %s, DESCRIPTOR(rt), %s, %s%s)", table, sec(slide), sec(size), offW(off))
		w.pg = fmt.Sprintf("(SELECT e.*, wts(s.ws) AS window_start, wts(s.ws + %d) AS window_end FROM %s AS e, "+
			"LATERAL (SELECT tms(e.rt) - wmod(tms(e.rt) - %d, %d) - i * %d AS ws FROM generate_series(0, %d) AS i) AS s)",
			size, src, off, slide, slide, size/slide-1)
	case "CUMULATE":
		step := int64(pick(rnd, []int{1, 2, 3, 5})) * 1000
		size := step * int64(1+rnd.Intn(4))
		off := offset(step)
		w.w = fmt.Sprintf("CUMULATE(TABLE %s, DESCRIPTOR(rt), %s, %s%s)", table, sec(step), sec(size), offW(off))
		w.pg = fmt.Sprintf("(SELECT e.*, wts(s.ws) AS window_start, wts(s.ws + j * %d) AS window_end FROM %s AS e, "+
			"LATERAL (SELECT tms(e.rt) - wmod(tms(e.rt) - %d, %d) AS ws) AS s, generate_series(1, %d) AS j "+
			"WHERE s.ws + j * %d > tms(e.rt))", step, src, off, size, size/step, step)
	case "SESSION":
		gap := int64(pick(rnd, []int{1, 2, 3, 5})) * 1000
		p, pp := "", ""
		if part != "" {
			p, pp = " PARTITION BY "+part, "PARTITION BY "+part+" "
		}
		w.w = fmt.Sprintf("SESSION(TABLE %s%s, DESCRIPTOR(rt), %s)", table, p, sec(gap))
		// Sessions: a new one starts where the previous row of the
		// partition (by time) is more than the gap before.
		pb := "PARTITION BY " + part + ", sid"
		if part == "" {
			pb = "PARTITION BY sid"
		}
		w.pg = fmt.Sprintf("(SELECT s.id, s.k, s.g, s.v, s.x, s.rt, wts(MIN(tms(s.rt)) OVER (%s)) AS window_start, "+
			"wts(MAX(tms(s.rt)) OVER (%s) + %d) AS window_end FROM "+
			"(SELECT l.*, SUM(CASE WHEN l.prev IS NULL OR tms(l.rt) - l.prev > %d THEN 1 ELSE 0 END) "+
			"OVER (%sORDER BY l.rt, l.id ROWS UNBOUNDED PRECEDING) AS sid FROM "+
			"(SELECT e.*, LAG(tms(e.rt)) OVER (%sORDER BY e.rt, e.id) AS prev FROM %s AS e) AS l) AS s)",
			pb, pb, gap, gap, pp, pp, src)
	}
	w.w = "TABLE(" + w.w + ")"
	return w
}

func (g wnGen) windowKind() string {
	return pick(g.rnd, []string{"TUMBLE", "HOP", "CUMULATE", "SESSION"})
}

// wnAgg is an aggregate call in Weir's and PostgreSQL's spelling.
type wnAgg struct{ w, pg string }

var wnAggs = []wnAgg{
	{"COUNT(*)", "COUNT(*)"},
	{"COUNT(v)", "COUNT(v)"},
	{"COUNT(DISTINCT k)", "COUNT(DISTINCT k)"},
	{"COUNT(DISTINCT v)", "COUNT(DISTINCT v)"},
	{"SUM(v)", "SUM(v)"},
	{"SUM(DISTINCT v)", "SUM(DISTINCT v)"},
	{"MIN(v)", "MIN(v)"},
	{"MAX(v)", "MAX(v)"},
	{"AVG(v)", "trunc(AVG(v))"},
	{"SUM(x)", "SUM(x)"},
	{"AVG(x)", "AVG(x)"},
	{"MAX(x)", "MAX(x)"},
	{"MIN(k)", "MIN(k)"},
	{"MAX(wt)", "MAX(rt)"},
	{"MIN(wt)", "MIN(rt)"},
	{"SUM(v) FILTER (WHERE v > 0)", "SUM(v) FILTER (WHERE v > 0)"},
	{"COUNT(*) FILTER (WHERE k = 'a')", "COUNT(*) FILTER (WHERE k = 'a')"},
	{"COUNT(DISTINCT v) FILTER (WHERE g = 1)", "COUNT(DISTINCT v) FILTER (WHERE g = 1)"},
	{"MAX(v) - MIN(v)", "MAX(v) - MIN(v)"},
}

var wnFilters = []string{"v > 0", "k <> 'c'", "g = 1 OR v IS NULL", "x IS NOT NULL"}

// windowCols are the window columns a query selects: window_time (a
// TIMESTAMP_LTZ over an LTZ rowtime, not selected there) sometimes.
func (g wnGen) windowCols(prefix string) (w, pg string) {
	w = prefix + "window_start, " + prefix + "window_end"
	pg = w
	if !g.ltz && g.rnd.Intn(3) == 0 {
		w += ", " + prefix + "window_time"
		pg += ", " + prefix + "window_end - INTERVAL '1 millisecond'"
	}
	return w, pg
}

// agg is a window aggregation.
func (g wnGen) agg() (string, string) {
	rnd := g.rnd
	kind := g.windowKind()
	filter := ""
	if rnd.Intn(4) == 0 {
		filter = pick(rnd, wnFilters)
	}
	var keys []string
	grouping := "plain"
	part := ""
	if kind == "SESSION" {
		// The session's partition is the group key.
		if rnd.Intn(2) == 0 {
			part = pick(rnd, []string{"k", "g"})
			keys = []string{part}
		}
	} else {
		keys = []string{"k", "g"}[:rnd.Intn(3)]
		if rnd.Intn(3) == 0 {
			keys = []string{"g", "k"}[:rnd.Intn(3)]
		}
		if len(keys) > 0 && rnd.Intn(3) == 0 {
			grouping = pick(rnd, []string{"rollup", "cube", "sets"})
		}
	}
	win := g.window("e1", kind, part, filter)
	ww, wp := g.windowCols("")
	selW, selP := []string{ww}, []string{wp}
	for _, k := range keys {
		selW, selP = append(selW, k), append(selP, k)
	}
	if grouping != "plain" {
		gk := "GROUPING(" + strings.Join(keys, ", ") + ")"
		selW, selP = append(selW, gk), append(selP, gk)
	}
	for i := 1 + rnd.Intn(3); i > 0; i-- {
		a := pick(rnd, wnAggs)
		selW, selP = append(selW, a.w), append(selP, a.pg)
	}
	gb := "window_start, window_end"
	gbW := gb
	if strings.Contains(ww, "window_time") {
		// Flink's window aggregation selects window_time only
		// grouped by it too.
		gbW += ", window_time"
	}
	var gk string
	if len(keys) > 0 {
		k := strings.Join(keys, ", ")
		switch grouping {
		case "plain":
			gk = ", " + k
		case "rollup":
			gk = ", ROLLUP (" + k + ")"
		case "cube":
			gk = ", CUBE (" + k + ")"
		case "sets":
			sets := []string{"(" + k + ")"}
			if len(keys) == 2 {
				sets = append(sets, "("+keys[1]+")")
			}
			if rnd.Intn(2) == 0 {
				sets = append(sets, "()")
			}
			gk = ", GROUPING SETS (" + strings.Join(sets, ", ") + ")"
		}
	}
	w := "SELECT " + strings.Join(selW, ", ") + " FROM " + win.w
	p := "SELECT " + strings.Join(selP, ", ") + " FROM " + win.pg + " AS w"
	if filter != "" {
		w += " WHERE " + filter
	}
	w += " GROUP BY " + gbW + gk
	p += " GROUP BY " + gb + gk
	if rnd.Intn(4) == 0 {
		h := pick(rnd, []string{"COUNT(*) > 1", "SUM(v) > 3", "MIN(v) IS NOT NULL"})
		w += " HAVING " + h
		p += " HAVING " + h
	}
	return w, p
}

// topN is a window Top-N over a window TVF; the order ends with id, so
// it is total.
func (g wnGen) topN() (string, string) {
	rnd := g.rnd
	kind := g.windowKind()
	part := ""
	if kind == "SESSION" && rnd.Intn(2) == 0 {
		part = "k"
	}
	win := g.window("e1", kind, part, "")
	pb := "window_start, window_end"
	if part != "" || rnd.Intn(2) == 0 {
		pb += ", k"
	}
	ord := pick(rnd, []string{"v DESC NULLS LAST, id", "v ASC NULLS FIRST, id DESC", "rt, id", "rt DESC, id", "id", "x DESC NULLS FIRST, id"})
	ordW := strings.ReplaceAll(ord, "rt", "wt")
	n := 1 + rnd.Intn(3)
	cmp := pick(rnd, []string{fmt.Sprintf("rn <= %d", n), fmt.Sprintf("rn < %d", n+1), "rn = 1"})
	cols := "window_start, window_end, id, k, v"
	if rnd.Intn(2) == 0 {
		cols += ", rn"
	}
	// Weir orders by rt itself over a TIMESTAMP rowtime and by its wall
	// clock wt (the same order) over an LTZ one; PostgreSQL's rt is the
	// wall clock.
	if !g.ltz {
		ordW = ord
	}
	w := fmt.Sprintf("SELECT %s FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS rn FROM %s) WHERE %s",
		cols, pb, ordW, win.w, cmp)
	p := fmt.Sprintf("SELECT %s FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS rn FROM %s AS w) AS r WHERE %s",
		cols, pb, ord, win.pg, cmp)
	return w, p
}

// topNAgg is a window Top-N over a window aggregation by k (unique per
// window, NULL first as Flink sorts it).
func (g wnGen) topNAgg() (string, string) {
	rnd := g.rnd
	kind := pick(rnd, []string{"TUMBLE", "HOP", "CUMULATE"})
	win := g.window("e1", kind, "", "")
	a := pick(rnd, []wnAgg{{"COUNT(*)", "COUNT(*)"}, {"SUM(v)", "SUM(v)"}, {"MAX(v)", "MAX(v)"}})
	dir := pick(rnd, []string{"DESC NULLS LAST", "ASC NULLS FIRST"})
	kdir := pick(rnd, []string{"ASC NULLS FIRST", "DESC NULLS LAST"})
	n := 1 + rnd.Intn(3)
	inner := "SELECT window_start, window_end, k, %s AS m FROM %s GROUP BY window_start, window_end, k"
	outer := "SELECT window_start, window_end, k, m, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY m %s, k %s) AS rn FROM (%s)%s)%s WHERE rn <= %d"
	w := fmt.Sprintf(outer, dir, kdir, fmt.Sprintf(inner, a.w, win.w), "", "", n)
	p := fmt.Sprintf(outer, dir, kdir, fmt.Sprintf(inner, a.pg, win.pg+" AS w"), " AS a", " AS r", n)
	return w, p
}

// dedup is a window deduplication: the first (or last) row by rowtime
// of each window and key; only the deterministic columns are selected.
func (g wnGen) dedup() (string, string) {
	rnd := g.rnd
	kind := g.windowKind()
	part := ""
	if kind == "SESSION" && rnd.Intn(2) == 0 {
		part = "k"
	}
	win := g.window("e1", kind, part, "")
	keys := "window_start, window_end"
	if part != "" || rnd.Intn(2) == 0 {
		keys += ", k"
	}
	dir, agg := "", "MIN"
	if rnd.Intn(2) == 0 {
		dir, agg = " DESC", "MAX"
	}
	w := fmt.Sprintf("SELECT %s, wt FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY rt%s) AS rn FROM %s) WHERE rn = 1",
		keys, keys, dir, win.w)
	p := fmt.Sprintf("SELECT %s, %s(rt) FROM %s AS w GROUP BY %s", keys, agg, win.pg, keys)
	return w, p
}

// windowJoin joins the same window TVF over e1 and e2 on the windows.
func (g wnGen) windowJoin() (string, string) {
	rnd := g.rnd
	kind := g.windowKind()
	part := ""
	if kind == "SESSION" && rnd.Intn(2) == 0 {
		part = "k"
	}
	l := g.window("e1", kind, part, "")
	// The same window over e2: the same random choices.
	r := l
	r.w = strings.Replace(l.w, "TABLE e1", "TABLE e2", 1)
	r.pg = strings.Replace(l.pg, " e1 AS e", " e2 AS e", 1)
	r.pg = strings.Replace(r.pg, "FROM e1 WHERE", "FROM e2 WHERE", 1)
	on := "L.window_start = R.window_start AND L.window_end = R.window_end"
	if part != "" || rnd.Intn(3) > 0 {
		on += " AND L.k = R.k"
	}
	if rnd.Intn(4) == 0 {
		on += " AND L.v < R.v"
	}
	jt := pick(rnd, []string{"JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "EXISTS", "NOT EXISTS"})
	if strings.Contains(jt, "EXISTS") {
		q := "SELECT L.window_start, L.window_end, L.id, L.k FROM %s AS L WHERE " + jt + " (SELECT * FROM %s AS R WHERE " + on + ")"
		return fmt.Sprintf(q, "(SELECT * FROM "+l.w+")", "(SELECT * FROM "+r.w+")"), fmt.Sprintf(q, l.pg, r.pg)
	}
	sel := "L.window_start, R.window_end, L.id, R.id, L.k, R.v"
	q := "SELECT " + sel + " FROM %s AS L " + jt + " %s AS R ON " + on
	return fmt.Sprintf(q, "(SELECT * FROM "+l.w+")", "(SELECT * FROM "+r.w+")"), pgJoin(jt, sel, l.pg, "L", r.pg, "R", on)
}

// pgJoin is PostgreSQL's spelling of "SELECT sel FROM l AS ln jt r AS rn
// ON on": PostgreSQL runs a FULL join only on hashable or mergeable
// conditions, so a FULL join is a LEFT join and the right rows without
// a match, padded.
func pgJoin(jt, sel, l, ln, r, rn, on string) string {
	if jt != "FULL JOIN" {
		return fmt.Sprintf("SELECT %s FROM %s AS %s %s %s AS %s ON %s", sel, l, ln, jt, r, rn, on)
	}
	return fmt.Sprintf("SELECT %s FROM %s AS %s LEFT JOIN %s AS %s ON %s UNION ALL "+
		"SELECT %s FROM (SELECT * FROM %s AS %s WHERE FALSE) AS %s RIGHT JOIN %s AS %s ON TRUE "+
		"WHERE NOT EXISTS (SELECT 1 FROM %s AS %s WHERE %s)",
		sel, l, ln, r, rn, on, sel, l, ln, ln, r, rn, l, ln, on)
}

// intervalJoin joins e1 and e2 on a time interval.
func (g wnGen) intervalJoin() (string, string) {
	rnd := g.rnd
	lo := int64(rnd.Intn(13)-8) * 250
	hi := lo + int64(rnd.Intn(13))*250
	bound := func(ms int64, pgs bool) string {
		sign := "+"
		if ms < 0 {
			sign, ms = "-", -ms
		}
		s := strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
		if pgs {
			return fmt.Sprintf("b.rt %s INTERVAL '%s seconds'", sign, s)
		}
		return fmt.Sprintf("b.rt %s INTERVAL '%s' SECOND", sign, s)
	}
	var cw, cp string
	switch rnd.Intn(3) {
	case 0:
		cw = fmt.Sprintf("a.rt BETWEEN %s AND %s", bound(lo, false), bound(hi, false))
		cp = fmt.Sprintf("a.rt BETWEEN %s AND %s", bound(lo, true), bound(hi, true))
	default:
		o1 := pick(rnd, []string{">=", ">"})
		o2 := pick(rnd, []string{"<=", "<"})
		cw = fmt.Sprintf("a.rt %s %s AND a.rt %s %s", o1, bound(lo, false), o2, bound(hi, false))
		cp = fmt.Sprintf("a.rt %s %s AND a.rt %s %s", o1, bound(lo, true), o2, bound(hi, true))
	}
	if rnd.Intn(4) > 0 {
		eq := pick(rnd, []string{"a.k = b.k", "a.g = b.g"})
		cw, cp = eq+" AND "+cw, eq+" AND "+cp
	}
	jt := pick(rnd, []string{"JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"})
	q := "SELECT a.id, b.id, a.k, b.v, %s FROM e1 AS a " + jt + " e2 AS b ON %s"
	return fmt.Sprintf(q, "a.wt", cw), pgJoin(jt, "a.id, b.id, a.k, b.v, a.rt", "e1", "a", "e2", "b", cp)
}

// check runs the case on PostgreSQL and on Weir in both modes; it
// returns the number of PostgreSQL's rows.
func (c wnCase) check(ctx context.Context, pg *pgx.Conn, dir string) (int, error) {
	for i, name := range []string{"e1", "e2"} {
		if err := wnLoadPG(ctx, pg, name, c.rows[i]); err != nil {
			return 0, err
		}
	}
	want, err := pgRows(ctx, pg, c.pg)
	if err != nil {
		return 0, fmt.Errorf("PostgreSQL: %w\n%s", err, c.pg)
	}
	ddl, err := c.tables(dir)
	if err != nil {
		return 0, err
	}
	for _, mode := range []string{"streaming", "batch"} {
		par := c.streamPar
		script := ddl
		if mode == "batch" {
			par = c.batchPar
			script += "SET 'execution.runtime-mode' = 'batch';\n"
		}
		got, err := runBatchScript(script+c.w+";", par, func(r row.Row, types []row.Type) (string, error) {
			if r.Kind != row.Insert {
				return "", fmt.Errorf("unexpected row kind %v: %s", r.Kind, row.FormatRow(r, types))
			}
			return normWeirRow(r, types)
		})
		if err != nil {
			return 0, fmt.Errorf("Weir %s mode, parallelism %d: %w\n%s\n%s", mode, par, err, c.w, c.data())
		}
		if got != want {
			return 0, fmt.Errorf("%s mode, parallelism %d:\nWeir:       %s\nPostgreSQL: %s\n%s\ngot:\n%s\nwant:\n%s",
				mode, par, c.w, c.pg, c.data(), got, want)
		}
	}
	if want == "\n" {
		return 0, nil
	}
	return strings.Count(want, "\n"), nil
}

// runChangelogScript runs a script whose last statement is a query and
// returns its changelog's final table, normalised and sorted.
func runChangelogScript(script string, par int) (string, error) {
	var tab *result.Table
	var types []row.Type
	var aerr error
	err := runQueryScript(script, par, func(r row.Row, ts []row.Type) {
		if tab == nil {
			tab, types = result.NewTable(ts, nil), ts
		}
		if err := tab.Apply(r); err != nil && aerr == nil {
			aerr = err
		}
	})
	if err == nil {
		err = aerr
	}
	if err != nil {
		return "", err
	}
	var lines []string
	if tab != nil {
		for _, r := range tab.Rows() {
			l, err := normWeirRow(r, types)
			if err != nil {
				return "", err
			}
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// tables writes the CSV files and returns the Weir statements creating
// e1 and e2 over them.
func (c wnCase) tables(dir string) (string, error) {
	var b strings.Builder
	if c.ltz {
		fmt.Fprintf(&b, "SET 'table.local-time-zone' = '%s';\n", c.zone.name)
	}
	rt := "wt"
	if c.ltz {
		rt = "TO_TIMESTAMP_LTZ(ms, 3)"
	}
	scan := ""
	if c.scanPar1 {
		scan = ", 'scan.parallelism' = '1'"
	}
	for i, name := range []string{"e1", "e2"} {
		path := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(path, []byte(wnCSV(c.rows[i], c.zone.offsetMs)), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "CREATE TEMPORARY TABLE %s (id INT, k STRING, g INT, v INT, x DOUBLE, wt TIMESTAMP(3), ms BIGINT, "+
			"rt AS %s, WATERMARK FOR rt AS rt - INTERVAL '%d' SECOND) WITH ('connector' = 'filesystem', "+
			"'path' = '%s', 'format' = 'csv', 'csv.null-literal' = 'null'%s);\n", name, rt, c.boundMs/1000, path, scan)
	}
	return b.String(), nil
}

// data describes the tables for a failure message (file order).
func (c wnCase) data() string {
	var b strings.Builder
	fmt.Fprintf(&b, "watermark bound %d ms, LTZ %v (zone %s), scan.parallelism 1 %v\n", c.boundMs, c.ltz, c.zone.name, c.scanPar1)
	for i, name := range []string{"e1", "e2"} {
		fmt.Fprintf(&b, "%s (id,k,g,v,x,wt,ms):\n", name)
		for _, l := range strings.Split(strings.TrimSuffix(wnCSV(c.rows[i], c.zone.offsetMs), "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}
