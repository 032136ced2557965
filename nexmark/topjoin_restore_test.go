package nexmark

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
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

func pushTopJoin(t *testing.T, in *weirtest.Input[Event], events []Event) {
	t.Helper()
	for _, e := range events {
		if err := in.Push(e, e.Timestamp()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTopJoinFixture writes topJoinFixture when asked to, and otherwise
// checks that it is there.
func TestTopJoinFixture(t *testing.T) {
	if os.Getenv("WEIR_WRITE_TOPJOIN_FIXTURE") == "" {
		if matches, _ := filepath.Glob(filepath.Join(topJoinFixture, "*")); len(matches) == 0 {
			t.Fatalf("fixture %s missing", topJoinFixture)
		}
		return
	}
	events := topJoinEvents(t)
	h := weirtest.New(weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	in, _, _ := topJoinJob(h)
	h.Start(t)
	pushTopJoin(t, in, events[:len(events)/2])
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(topJoinFixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(topJoinFixture, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", topJoinFixture, path)
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
	fixture, err := filepath.Abs(topJoinFixture)
	if err != nil {
		t.Fatal(err)
	}
	q9, _ := Lookup("q9")
	q19, _ := Lookup("q19")
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, par := range []int{1, 3} {
			t.Run(backend+"/p"+string(rune('0'+par)), func(t *testing.T) {
				// Restoring must not change the fixture: restore from a copy.
				dir := t.TempDir()
				if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
					t.Fatal(err)
				}
				opts := weir.Options{Parallelism: par, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
					Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				h := weirtest.Restore(opts, weirtest.Snapshot{Path: dir})
				in, r9, r19 := topJoinJob(h)
				h.Start(t)
				pushTopJoin(t, in, events[half:])
				if err := in.End(); err != nil {
					t.Fatal(err)
				}
				checkUpserted(t, q9, events, half, r9, "id")
				checkUpserted(t, q19, events, half, r19, "auction", "rank_number")

				// The third quarter from the fixture, a snapshot (the
				// current layout), the last quarter from it.
				three := half + (len(events)-half)/2
				h2 := weirtest.Restore(opts, weirtest.Snapshot{Path: dir})
				in2, r9a, r19a := topJoinJob(h2)
				h2.Start(t)
				pushTopJoin(t, in2, events[half:three])
				snap, err := h2.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				// On the other backend: q19 keeps another state on each.
				opts.Parallelism = 2
				opts.StateBackend = map[string]string{weir.StateHeap: weir.StatePebble, weir.StatePebble: weir.StateHeap}[backend]
				h3 := weirtest.Restore(opts, snap)
				in3, r9b, r19b := topJoinJob(h3)
				h3.Start(t)
				pushTopJoin(t, in3, events[three:])
				if err := in3.End(); err != nil {
					t.Fatal(err)
				}
				checkUpserted(t, q9, events, half, r9a, "id", r9b)
				checkUpserted(t, q19, events, half, r19a, "auction", "rank_number", r19b)
			})
		}
	}
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
