package nexmark_test

import (
	"context"
	"fmt"
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
)

// runKept runs query over q0's DDL (the datagen table of events events,
// seed 7) at parallelism par and returns its rows formatted once the job
// ended: the sink keeps the rows it is handed, not copies, so a row that
// shared memory with the source's reused event records would show a later
// event's values. skipped are the ROW columns (person, auction, bid) the
// scan must not read: the source then skips generating their events.
func runKept(t *testing.T, query string, events int64, par int, skipped ...string) []string {
	t.Helper()
	job := eventQueryJob(t, query, events, skipped...)
	opts := job.Options()
	opts.Parallelism = par
	env := weir.NewEnvironment(opts)
	var (
		mu   sync.Mutex
		kept []row.Row
	)
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	types := job.Schema().Types()
	out := make([]string, len(kept))
	for i, r := range kept {
		out[i] = row.FormatRow(r, types)
	}
	slices.Sort(out)
	return out
}

// eventQueryJob plans query over q0's DDL (the datagen table of events
// events, seed 7), after checking that its scan reads none of the ROW
// columns skipped (person, auction, bid): the source then skips
// generating their events.
func eventQueryJob(t *testing.T, query string, events int64, skipped ...string) *sql.Job {
	t.Helper()
	sess, stmts := nexmarkStatements(t, "q0", events)
	for _, st := range stmts {
		if _, ok := st.(*ast.Insert); ok {
			continue
		}
		if _, _, err := sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	q, err := parser.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := sess.Execute(&ast.Explain{Stmt: q[0]})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	read := map[string]bool{}
	for _, l := range scans(res.Text) {
		_, cols, _ := strings.Cut(l, "project=[")
		cols, _, _ = strings.Cut(cols, "]")
		for _, c := range strings.Split(cols, ", ") {
			c, _, _ = strings.Cut(c, "_")
			read[c] = true
		}
	}
	for _, c := range skipped {
		if read[c] {
			t.Fatalf("%s: the scan reads %s: its events are generated, the test would not try skipping them\n%s", query, c, res.Text)
		}
	}
	_, job, err := sess.Execute(q[0])
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return job
}

// eventPath reads one column of the datagen table from an event: p is
// [col] or [col, field] as in ApplyNestedProjection, or nil for the
// computed dateTime column (the event's timestamp).
func eventPath(e nexmark.Event, p []int) (row.Value, row.Type) {
	if p == nil {
		return row.Timestamp(e.Timestamp(), 0), row.TimestampType(3)
	}
	v, ty := nexmark.EventRow(e).Fields[p[0]], nexmark.Schema().Columns[p[0]].Type
	if len(p) == 2 {
		if !v.IsNull() {
			v = v.Elems()[p[1]]
		}
		ty = ty.Fields[p[1]].Type
	}
	return v, ty
}

// TestSQLEventIntoSameRows: the SQL source writes every event into one
// reused record per type and skips the events of types whose ROW no
// column reads; the rows must still be those of the DataStream
// generator's events, for a projection reading bids only, people only,
// no ROW at all, every column, and the computed rowtime, at parallelism
// 1 and 4, with the rows kept by the sink until the job ended.
func TestSQLEventIntoSameRows(t *testing.T) {
	const events = 6000
	evs, err := nexmark.Generate(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sel string
		paths     [][]int
		skipped   []string
	}{
		{"bids", "event_type, bid.auction, bid.bidder, bid.price, bid.channel, bid.url, bid.`dateTime`, bid.extra",
			[][]int{{0}, {3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 6}}, []string{"person", "auction"}},
		{"people", "person.extra, person.name, event_type, person.creditCard, person.emailAddress, person.`dateTime`",
			[][]int{{1, 7}, {1, 1}, {0}, {1, 3}, {1, 2}, {1, 6}}, []string{"auction", "bid"}},
		{"auction-rows", "auction, event_type", [][]int{{2}, {0}}, []string{"person", "bid"}},
		{"type-only", "event_type", [][]int{{0}}, []string{"person", "auction", "bid"}},
		{"type-and-rowtime", "event_type, `dateTime`", [][]int{{0}, nil}, nil},
		{"bid-url-and-rowtime", "`dateTime`, bid.url", [][]int{nil, {3, 4}}, nil},
		{"all", "event_type, person, auction, bid, `dateTime`", [][]int{{0}, {1}, {2}, {3}, nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]string, len(evs))
			for n, e := range evs {
				var r row.Row
				var types []row.Type
				for _, p := range tc.paths {
					v, ty := eventPath(e, p)
					r.Fields, types = append(r.Fields, v), append(types, ty)
				}
				want[n] = row.FormatRow(r, types)
			}
			slices.Sort(want)
			for _, par := range []int{1, 4} {
				got := runKept(t, "SELECT "+tc.sel+" FROM datagen", events, par, tc.skipped...)
				if len(got) != len(want) {
					t.Fatalf("parallelism %d: %d rows, want %d", par, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("parallelism %d: row %d:\n got %s\nwant %s", par, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestSQLEventIntoWindows: the events whose records the source skips keep
// their timestamps and feed the watermarks as before. Per second of event
// time: the counts of every event type (a query reading the three
// dateTimes, so nothing is skipped), the bids' count and sum of prices
// (over the bid view: people and auctions skipped), and the people's
// count and longest name (person view: auctions and bids skipped) are
// those of the generator's events, none dropped as late, at parallelism
// 1 and 4.
func TestSQLEventIntoWindows(t *testing.T) {
	const events = 30000 // 3 s of event time
	evs, err := nexmark.Generate(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		typ nexmark.EventType
		sec int64
	}
	counts, sums, names := map[key]int64{}, map[int64]int64{}, map[int64]string{}
	for _, e := range evs {
		sec := e.Timestamp() / 1000 * 1000
		counts[key{e.Type, sec}]++
		if e.Bid != nil {
			sums[sec] += e.Bid.Price
		}
		if e.Person != nil && e.Person.Name > names[sec] {
			names[sec] = e.Person.Name
		}
	}
	stamp := func(ms int64) string { return row.Format(row.Timestamp(ms, 0), row.TimestampType(3)) }
	var wantCounts, wantBids, wantPeople []string
	for k, c := range counts {
		wantCounts = append(wantCounts, fmt.Sprintf("+I[%d, %s, %d]", k.typ, stamp(k.sec), c))
	}
	for s, p := range sums {
		wantBids = append(wantBids, fmt.Sprintf("+I[%s, %d, %d]", stamp(s), p, counts[key{nexmark.BidEvent, s}]))
	}
	for s, n := range names {
		wantPeople = append(wantPeople, fmt.Sprintf("+I[%s, %s, %d]", stamp(s), n, counts[key{nexmark.PersonEvent, s}]))
	}
	for _, w := range [][]string{wantCounts, wantBids, wantPeople} {
		slices.Sort(w)
	}
	for _, par := range []int{1, 4} {
		for _, tc := range []struct {
			query   string
			want    []string
			skipped []string
		}{
			{`SELECT event_type, window_start, COUNT(*)
				FROM TABLE(TUMBLE(TABLE datagen, DESCRIPTOR(` + "`dateTime`" + `), INTERVAL '1' SECOND))
				GROUP BY event_type, window_start, window_end`, wantCounts, nil},
			{`SELECT window_start, SUM(price), COUNT(*)
				FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(` + "`dateTime`" + `), INTERVAL '1' SECOND))
				GROUP BY window_start, window_end`, wantBids, []string{"person", "auction"}},
			{`SELECT window_start, MAX(name), COUNT(*)
				FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(` + "`dateTime`" + `), INTERVAL '1' SECOND))
				GROUP BY window_start, window_end`, wantPeople, []string{"auction", "bid"}},
		} {
			got := runKept(t, tc.query, events, par, tc.skipped...)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("parallelism %d: %s:\n%s\nwant\n%s", par, tc.query, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		}
	}
}

// TestSQLEventIntoRestore: a job whose source skips people and auctions,
// stopped with a savepoint in the middle at parallelism 2 and restored at
// parallelism 3 (the restored subtasks generate the remaining numbers of
// the old sequences, one split each), emits with the run before the stop
// the bid windows of the generator's events: every bid once, none late.
// The run before the stop is unbounded, so that it cannot end before the
// savepoint; the restored run ends at events.
func TestSQLEventIntoRestore(t *testing.T) {
	const events = 1000000 // 100 s of event time
	g, err := nexmark.NewGenerator(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	type agg struct{ sum, n int64 }
	secs := map[int64]*agg{}
	for n := range int64(events) {
		e := g.Event(n)
		if e.Bid == nil {
			continue
		}
		sec := e.Timestamp() / 1000 * 1000
		if secs[sec] == nil {
			secs[sec] = &agg{}
		}
		secs[sec].sum += e.Bid.Price
		secs[sec].n++
	}
	want := map[string]bool{}
	for s, a := range secs {
		want[fmt.Sprintf("%s|%d|%d|", row.Format(row.Timestamp(s, 0), row.TimestampType(3)), a.sum, a.n)] = true
	}
	const query = `SELECT window_start, SUM(price), COUNT(*)
		FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(` + "`dateTime`" + `), INTERVAL '1' SECOND))
		GROUP BY window_start, window_end`
	skipped := []string{"person", "auction"}

	// Run at parallelism 2 until the first window, stop with a savepoint.
	job := eventQueryJob(t, query, 0, skipped...)
	types := job.Schema().Types()
	var before []string
	sp := stopAtFirstRow(t, job, 2, func(r row.Row) error {
		var b strings.Builder
		for i, v := range r.Fields {
			b.WriteString(row.Format(v, types[i]) + "|")
		}
		before = append(before, b.String())
		return nil
	})

	restored := runQueryJob(t, eventQueryJob(t, query, events, skipped...), 3, sp)
	if len(restored) == 0 || len(restored) == len(want) {
		t.Fatalf("degenerate split: %d windows restored of %d (%d before the stop)", len(restored), len(want), len(before))
	}
	t.Logf("%d windows before the stop, %d after the restore, of %d", len(before), len(restored), len(want))
	// The collector is not transactional: windows it took after the
	// savepoint's barrier come again from the restored run.
	got := map[string]bool{}
	for _, r := range append(before, restored...) {
		if !want[r] {
			t.Fatalf("the stopped and restored runs emitted %s, not a window of the generator's bids", r)
		}
		got[r] = true
	}
	if len(got) != len(want) {
		t.Fatalf("the stopped and restored runs emitted %d of the %d windows", len(got), len(want))
	}
}
