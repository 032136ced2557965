package nexmark

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/weirtest"
)

// topJoinFixture is a savepoint of q9 and q19 (one job, parallelism 2)
// after the first half of topJoinEvents, written by 2c2e5f6: q9's state
// was then value states "auction" (*Auction) and "best" (*Bid) and a list
// state "bids" (bids before their auction) per auction, q19's a value
// state "top" ([10]*Bid) per auction. Rewrite it (only on purpose: it is
// the old layout that later code must keep restoring) with
// WEIR_WRITE_TOPJOIN_FIXTURE=1 go test ./nexmark/ -run TestTopJoinFixture.
const topJoinFixture = "testdata/q9q19-2c2e5f6"

// topJoinEvents are the fixture's events: 120 s of event time, so that
// auctions expire, hot auctions get far more than ten bids, and bids
// for auctions not yet seen wait in q9's list.
func topJoinEvents(t *testing.T) []Event {
	t.Helper()
	cfg := DefaultConfig(12000, 11)
	cfg.Rate = 100
	events, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// topJoinJob attaches q9 and q19, in this order, to the harness's input.
func topJoinJob(h *weirtest.Harness) (*weirtest.Input[Event], *Result, *Result) {
	in := weirtest.NewInput[Event](h)
	q9, _ := Lookup("q9")
	q19, _ := Lookup("q19")
	return in, q9.Attach(in.Stream(), true), q19.Attach(in.Stream(), true)
}

// TestTopJoinFixture writes topJoinFixture when asked to, and otherwise
// checks that it is there.
func TestTopJoinFixture(t *testing.T) {
	writeOrCheckFixture(t, topJoinFixture, "WEIR_WRITE_TOPJOIN_FIXTURE", weir.Options{Parallelism: 2}, topJoinEvents, topJoinPair)
}

// topJoinPair is topJoinJob with q9's and q19's results in a pair.
func topJoinPair(h *weirtest.Harness) (*weirtest.Input[Event], [2]*Result) {
	in, r9, r19 := topJoinJob(h)
	return in, [2]*Result{r9, r19}
}

// TestTopJoinRestoresOldLayout restores topJoinFixture (q9/q19 state in
// the layout of 2c2e5f6) on both backends at parallelism 1 and 3, runs the
// second half of the events, and requires the final tables to be the
// batch reference's over all events once the restored job's rows are
// applied, as upserts, over the reference's tables of the first half: the
// auctions, best bids, waiting bids and top-10 buffers restored from the
// old layout go on from where they were. A snapshot of the restored job
// (the current layout) then restores at parallelism 2 on the other
// backend and finishes the same way.
func TestTopJoinRestoresOldLayout(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	q9, _ := Lookup("q9")
	q19, _ := Lookup("q19")
	oldLayoutRestore[[2]*Result]{
		fixture: topJoinFixture,
		attach:  topJoinPair,
		rest:    events[half:],
		// The third quarter from the fixture, a snapshot (the current
		// layout), the last quarter from it on the other backend: q19
		// keeps another state on each.
		mid: (len(events) - half) / 2,
		check: func(t *testing.T, r [2]*Result) {
			checkUpserted(t, q9, events, half, r[0], "id")
			checkUpserted(t, q19, events, half, r[1], "auction", "rank_number")
		},
		checkSnapshot: func(t *testing.T, ra, rb [2]*Result) {
			checkUpserted(t, q9, events, half, ra[0], "id", rb[0])
			checkUpserted(t, q19, events, half, ra[1], "auction", "rank_number", rb[1])
		},
	}.run(t)
}

// checkUpserted requires the reference's table of q over events[:from],
// updated by the rows of the restored runs (in order; each row replaces
// the one with the same key fields), to be the reference's table over all
// events. The string arguments name the key fields; the *Result arguments
// are the runs.
func checkUpserted(t *testing.T, q Query, events []Event, from int, args ...any) {
	t.Helper()
	var keys []string
	var runs []*Result
	for _, a := range args {
		switch a := a.(type) {
		case string:
			keys = append(keys, a)
		case *Result:
			runs = append(runs, a)
		}
	}
	table := map[string][]byte{}
	keyOf := func(row []byte) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(row, &m); err != nil {
			t.Fatalf("%s: %s: %v", q.Name, row, err)
		}
		var k []string
		for _, f := range keys {
			v, ok := m[f]
			if !ok {
				t.Fatalf("%s: row %s has no %s", q.Name, row, f)
			}
			k = append(k, string(v))
		}
		return strings.Join(k, ",")
	}
	for _, row := range q.Reference(events[:from]) {
		table[keyOf(row)] = row
	}
	updated := 0
	for _, r := range runs {
		rows, err := r.Final()
		if err != nil {
			t.Fatal(err)
		}
		updated += len(rows)
		for _, row := range rows {
			table[keyOf(row)] = row
		}
	}
	if updated == 0 {
		t.Fatalf("%s: no rows after the restore: the test would prove nothing", q.Name)
	}
	got := make([][]byte, 0, len(table))
	for _, row := range table {
		got = append(got, row)
	}
	slices.SortFunc(got, bytes.Compare)
	if d := diffRows(got, q.Reference(events)); d != "" {
		t.Errorf("%s: %s", q.Name, d)
	}
}
