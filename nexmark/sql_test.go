package nexmark_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
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
	"github.com/weirstream/weir/statebackend/pebble"
)

// sqlFinal runs a query's SQL job (its INSERT's SELECT) and returns the
// final table as sorted JSON objects named after the sink's columns, the
// form of the reference results.
func sqlFinal(t *testing.T, name string, events int64, par int, backend string, set ...string) [][]byte {
	t.Helper()
	script, err := nexmark.SQLScriptIn(name, events, 7, 10000, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := nexmark.SQLSession(sql.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range set {
		k, v, _ := strings.Cut(kv, "=")
		if err := sess.Config().Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
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
	_, job, err := sess.Execute(&ast.QueryStmt{Query: ins.Query})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sink, _ := sess.Catalog().Table(ins.Table.Last().Name)
	opts := job.Options()
	opts.Parallelism = par
	if backend == weir.StatePebble {
		opts.StateBackend, opts.Pebble, opts.StateDir = weir.StatePebble, pebble.New(), t.TempDir()
	}
	env := weir.NewEnvironment(opts)
	types := job.Schema().Types()
	tab := result.NewTable(types, nil)
	var mu sync.Mutex
	var applyErr error
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		if err := tab.Apply(r); err != nil && applyErr == nil {
			applyErr = err
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if applyErr != nil {
		t.Fatalf("%s: %v", name, applyErr)
	}
	var out [][]byte
	for _, r := range tab.Rows() {
		m := make(map[string]any, len(sink.Columns))
		for i, c := range sink.Columns {
			v, err := jsonAny(r.Fields[i], types[i])
			if err != nil {
				t.Fatalf("%s: column %s: %v", name, c.Name, err)
			}
			m[c.Name] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// jsonAny returns a value as canonical's decoder reads the reference
// results' encoding of it: numbers as json.Number (their exact text),
// booleans as bool, timestamps as RFC 3339 strings with milliseconds,
// everything else as its formatted string, NULL as nil. Marshalling a map
// of these gives exactly canonical's bytes for the JSON object the row
// used to be written as and decoded again (that round trip took a fifth
// of the CPU of TestSQLSameAnswer under -race).
func jsonAny(v row.Value, t row.Type) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	switch {
	case t.IsInteger(), t.Root == row.TypeDecimal, t.Root == row.TypeDouble:
		s := row.Format(v, t)
		if s == "" {
			return nil, fmt.Errorf("number formatted as the empty string")
		}
		return json.Number(s), nil
	case t.Root == row.TypeBoolean:
		switch s := strings.ToLower(row.Format(v, t)); s {
		case "true", "false":
			return s == "true", nil
		default:
			return nil, fmt.Errorf("boolean formatted as %q", s)
		}
	case t.IsTimestamp():
		return time.UnixMilli(v.Millis()).UTC().Format("2006-01-02T15:04:05.000Z07:00"), nil
	}
	return row.Format(v, t), nil
}

// canonical re-encodes a JSON object with sorted keys and exact numbers.
func canonical(t *testing.T, b []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLSameAnswer runs every query written in SQL and its DataStream
// version on the same events and compares the final tables: SQL at
// parallelism 1 on the heap backend and at parallelism 4 on Pebble.
func TestSQLSameAnswer(t *testing.T) {
	const events = 10000
	evs, err := nexmark.Generate(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range nexmark.SQLQueries() {
		t.Run(name, func(t *testing.T) {
			if name == "q12" {
				// Processing-time windows: the results depend on the wall
				// clock, so the query only has to run.
				sqlFinal(t, name, events, 1, weir.StateHeap)
				return
			}
			q, ok := nexmark.Lookup(name)
			if !ok {
				t.Fatalf("no DataStream query %s", name)
			}
			ref, err := nexmark.Run(context.Background(), q, evs, weir.Options{Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i := range ref {
				ref[i] = canonical(t, ref[i])
			}
			sort.Slice(ref, func(i, j int) bool { return bytes.Compare(ref[i], ref[j]) < 0 })
			runs := []struct {
				par     int
				backend string
				set     []string
			}{{1, weir.StateHeap, nil}, {4, weir.StatePebble, nil}}
			if slices.Contains([]string{"q3", "q4", "q9", "q15", "q16", "q17", "q20"}, name) {
				// Group aggregations and regular joins (q3, q4, q9, q20:
				// mini-batch joins): mini-batch gives the same final
				// table (Flink's nexmark settings, but small batches);
				// with the default agg-phase-strategy (AUTO) q4's and
				// q17's aggregations run in two phases
				// (LocalGroupAggregate, GlobalGroupAggregate; q15 and q16
				// have DISTINCT calls, which AUTO keeps in one).
				runs = append(runs, struct {
					par     int
					backend string
					set     []string
				}{4, weir.StateHeap, []string{"table.exec.mini-batch.enabled=true", "table.exec.mini-batch.allow-latency=2s", "table.exec.mini-batch.size=500"}})
			}
			for _, run := range runs {
				par := run.par
				got := sqlFinal(t, name, events, par, run.backend, run.set...)
				switch name {
				case "q18":
					got = q18Ties(t, got, ref, evs)
				case "q19":
					got = q19Ties(t, got, ref, evs)
				}
				if len(got) != len(ref) {
					t.Errorf("parallelism %d, %s: %d rows, DataStream %d", par, run.backend, len(got), len(ref))
				}
				for i := 0; i < len(got) && i < len(ref); i++ {
					if !bytes.Equal(got[i], ref[i]) {
						t.Fatalf("parallelism %d: row %d differs:\nSQL:        %s\nDataStream: %s", par, i, got[i], ref[i])
					}
				}
			}
			if len(ref) == 0 {
				t.Errorf("the reference result is empty: the comparison proves nothing")
			}
		})
	}
}

// q18Ties accounts for ties in q18 (the last bid of each bidder and
// auction by dateTime): Flink's event-time deduplication keeps the last
// row to arrive among bids of equal dateTime (RowTimeDeduplicateFunction
// replaces on rowtime >= kept rowtime), which depends on arrival order,
// while the DataStream version breaks ties by price and a fingerprint of
// extra (extraTie) to be deterministic. Where the two disagree, the SQL row is replaced by the
// reference's if both are bids of that pair at the same, latest dateTime
// (a tie in the input); any other difference stays and fails the test.
func q18Ties(t *testing.T, got, ref [][]byte, evs []nexmark.Event) [][]byte {
	t.Helper()
	type pair struct{ auction, bidder string }
	decode := func(b []byte) map[string]any {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	keyOf := func(m map[string]any) pair { return pair{fmt.Sprint(m["auction"]), fmt.Sprint(m["bidder"])} }
	refBy := map[pair][]byte{}
	for _, r := range ref {
		refBy[keyOf(decode(r))] = r
	}
	// Bids per pair and dateTime, as (price, extra) strings.
	type at struct {
		p    pair
		time string
	}
	bidsAt := map[at][]string{}
	for _, e := range evs {
		if b := e.Bid; b != nil {
			k := at{pair{fmt.Sprint(b.Auction), fmt.Sprint(b.Bidder)}, time.UnixMilli(int64(b.DateTime)).UTC().Format("2006-01-02T15:04:05.000Z07:00")}
			bidsAt[k] = append(bidsAt[k], fmt.Sprint(b.Price)+"/"+b.Extra)
		}
	}
	out := make([][]byte, len(got))
	for i, g := range got {
		out[i] = g
		gm := decode(g)
		r, ok := refBy[keyOf(gm)]
		if !ok || bytes.Equal(r, g) {
			continue
		}
		rm := decode(r)
		if gm["dateTime"] != rm["dateTime"] {
			continue
		}
		tied := bidsAt[at{keyOf(gm), fmt.Sprint(gm["dateTime"])}]
		found := false
		for _, b := range tied {
			found = found || b == fmt.Sprint(gm["price"])+"/"+fmt.Sprint(gm["extra"])
		}
		if len(tied) >= 2 && found {
			out[i] = r
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// q19Ties accounts for ties in q19 (the top 10 bids of each auction by
// price): Flink's Top-N ranks rows of equal price in arrival order, which
// at parallelism > 1 depends on how the source subtasks interleave, while
// the DataStream version breaks ties by time, bidder and extra. An
// auction's SQL rows are replaced by the reference's when, price by price,
// they hold the same rank numbers, and the same bids — or, for a price
// straddling rank 10, bids of that auction at that price.
func q19Ties(t *testing.T, got, ref [][]byte, evs []nexmark.Event) [][]byte {
	t.Helper()
	decode := func(b []byte) map[string]any {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	type group struct {
		ranks []string
		bids  []string
		rows  [][]byte
	}
	type key struct{ auction, price string }
	collect := func(rows [][]byte) (map[string]map[string]*group, map[string][][]byte) {
		out := map[string]map[string]*group{}
		byAuction := map[string][][]byte{}
		for _, r := range rows {
			m := decode(r)
			a, p := fmt.Sprint(m["auction"]), fmt.Sprint(m["price"])
			if out[a] == nil {
				out[a] = map[string]*group{}
			}
			g := out[a][p]
			if g == nil {
				g = &group{}
				out[a][p] = g
			}
			g.ranks = append(g.ranks, fmt.Sprint(m["rank_number"]))
			g.bids = append(g.bids, fmt.Sprint(m["bidder"], "/", m["dateTime"], "/", m["extra"]))
			g.rows = append(g.rows, r)
			byAuction[a] = append(byAuction[a], r)
		}
		return out, byAuction
	}
	gotG, gotRows := collect(got)
	refG, refRows := collect(ref)
	inputBids := map[key]map[string]bool{}
	for _, e := range evs {
		if b := e.Bid; b != nil {
			k := key{fmt.Sprint(b.Auction), fmt.Sprint(b.Price)}
			if inputBids[k] == nil {
				inputBids[k] = map[string]bool{}
			}
			ts := time.UnixMilli(int64(b.DateTime)).UTC().Format("2006-01-02T15:04:05.000Z07:00")
			inputBids[k][fmt.Sprint(b.Bidder, "/", ts, "/", b.Extra)] = true
		}
	}
	sorted := func(xs []string) string {
		ys := append([]string(nil), xs...)
		sort.Strings(ys)
		return strings.Join(ys, "|")
	}
	var out [][]byte
	for a, rows := range gotRows {
		ok := len(gotG[a]) == len(refG[a])
		for p, g := range gotG[a] {
			r := refG[a][p]
			if !ok || r == nil || sorted(g.ranks) != sorted(r.ranks) {
				ok = false
				break
			}
			if sorted(g.bids) == sorted(r.bids) {
				continue
			}
			all := inputBids[key{a, p}]
			if len(all) <= len(g.bids) {
				ok = false // no tie straddles rank 10: the bids must be equal
				break
			}
			for _, b := range g.bids {
				ok = ok && all[b]
			}
		}
		if ok {
			rows = refRows[a]
		}
		out = append(out, rows...)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}
