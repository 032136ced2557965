package nexmark

import (
	"slices"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/weirtest"
)

// distinctFixture is a savepoint of q15 and q16 (one job, parallelism 2)
// after the first half of distinctEvents, written by 2c2e5f6: q15/q16's
// state was then a value state "stats" (DistinctStats) and a map state
// "ids" (id -> rank masks) per key. Rewrite it (only on purpose: it is the
// old layout that later code must keep restoring) with
// WEIR_WRITE_DISTINCT_FIXTURE=1 go test ./nexmark/ -run TestDistinctFixture.
const distinctFixture = "testdata/distinct-2c2e5f6"

// distinctEvents are the events of the fixture: two days (across
// midnight at three quarters, so that the second half updates keys of
// both days), every channel kind.
func distinctEvents(t *testing.T) []Event {
	t.Helper()
	cfg := DefaultConfig(12000, 7)
	cfg.Rate, cfg.BaseTime = 100, DefaultBaseTime-90000
	events, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// distinctJob attaches q15 and q16, in this order, to the harness's input.
func distinctJob(h *weirtest.Harness) (*weirtest.Input[Event], *Result, *Result) {
	in := weirtest.NewInput[Event](h)
	q15, _ := Lookup("q15")
	q16, _ := Lookup("q16")
	return in, q15.Attach(in.Stream(), true), q16.Attach(in.Stream(), true)
}

// TestDistinctFixture writes distinctFixture when asked to, and otherwise
// checks that it is there.
func TestDistinctFixture(t *testing.T) {
	writeOrCheckFixture(t, distinctFixture, "WEIR_WRITE_DISTINCT_FIXTURE", weir.Options{Parallelism: 2}, distinctEvents, distinctPair)
}

// distinctPair is distinctJob with q15's and q16's results in a pair.
func distinctPair(h *weirtest.Harness) (*weirtest.Input[Event], [2]*Result) {
	in, r15, r16 := distinctJob(h)
	return in, [2]*Result{r15, r16}
}

// TestDistinctRestoresOldLayout restores distinctFixture (q15/q16 state in
// the layout of 2c2e5f6) on both backends at parallelism 1 and 3, runs the
// second half of the events, and requires every key updated there to end
// with the batch reference's row over all events: the counts and distinct
// sets restored from the old layout go on counting.
func TestDistinctRestoresOldLayout(t *testing.T) {
	events := distinctEvents(t)
	second := events[len(events)/2:]
	mid := len(second) * 2 / 3
	oldLayoutRestore[[2]*Result]{
		fixture: distinctFixture,
		attach:  distinctPair,
		rest:    second,
		// And a snapshot of the restored job restores too: events 60 -
		// 100 s from the fixture (midnight at 90 s), a snapshot, the rest
		// from it at parallelism 2 (keys of both layouts' making) on the
		// other backend: the heap's "distinct" layout read by Pebble,
		// Pebble's "stats" and "ids" by the heap.
		mid: mid,
		check: func(t *testing.T, r [2]*Result) {
			checkDistinctRestored(t, events, second, 2, r[0], r[1])
		},
		checkSnapshot: func(t *testing.T, _, rb [2]*Result) {
			checkDistinctRestored(t, events, second[mid:], 1, rb[0], rb[1])
		},
	}.run(t)
}

// checkDistinctRestored requires the final rows of r15 and r16 (a job that
// ran tail after a restore) to be the reference's rows over all events of
// the keys tail updates (of at least minDays days), and one row per bid
// of tail.
func checkDistinctRestored(t *testing.T, all, tail []Event, minDays int, r15, r16 *Result) {
	t.Helper()
	bids := int64(len(refBids(tail)))
	if bids == 0 {
		t.Fatal("no bids after the restore: the test would prove nothing")
	}
	if r15.Rows() != bids || r16.Rows() != bids {
		t.Errorf("rows after the restore: q15 %d, q16 %d, want one per bid: %d", r15.Rows(), r16.Rows(), bids)
	}
	days := map[string]bool{}
	for _, r := range refQ15(tail) {
		days[r.Day] = true
	}
	var want15 []Q15Row
	for _, r := range refQ15(all) {
		if days[r.Day] {
			want15 = append(want15, r)
		}
	}
	keys := map[ChannelDay]bool{}
	for _, r := range refQ16(tail) {
		keys[ChannelDay{r.Channel, r.Day}] = true
	}
	var want16 []Q16Row
	for _, r := range refQ16(all) {
		if keys[ChannelDay{r.Channel, r.Day}] {
			want16 = append(want16, r)
		}
	}
	if len(want15) < minDays || len(want16) < 10 {
		t.Fatalf("%d days, %d channel days after the restore: too few to prove anything", len(want15), len(want16))
	}
	for _, c := range []struct {
		name string
		r    *Result
		want [][]byte
	}{{"q15", r15, mustEncode(t, want15)}, {"q16", r16, mustEncode(t, want16)}} {
		got, err := c.r.Final()
		if err != nil {
			t.Fatal(err)
		}
		if d := diffRows(got, c.want); d != "" {
			t.Errorf("%s after the restore: %s", c.name, d)
		}
	}
}

func mustEncode[R any](t *testing.T, rows []R) [][]byte {
	t.Helper()
	b, err := encodeSorted(slices.Clone(rows))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
