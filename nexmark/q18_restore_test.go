package nexmark

import (
	"testing"

	"github.com/weirstream/weir"
)

// q18Fixture is a savepoint of q18 (parallelism 2) after the first half
// of topJoinEvents, written by main at 0d98c66: q18's state was then the
// value state "last" (lastOrder: dateTime, price and the extra string of
// the last bid) per (bidder, auction). Rewrite it (only on purpose: it is
// the old layout that later code must keep restoring) with
// WEIR_WRITE_Q18_FIXTURE=1 go test ./nexmark/ -run TestQ18Fixture.
const q18Fixture = "testdata/q18-0d98c66"

// TestQ18Fixture writes q18Fixture when asked to, and otherwise checks
// that it is there.
func TestQ18Fixture(t *testing.T) {
	writeOrCheckFixture(t, q18Fixture, "WEIR_WRITE_Q18_FIXTURE", weir.Options{Parallelism: 2}, topJoinEvents, queryJob("q18"))
}

// q18Probes returns, for every second pair whose last bid in events is
// known, two bids that test what a restored pair remembers: one a
// millisecond older than its last bid at a higher price (it must not
// replace it), and one at its time and price with another extra (a tie:
// it replaces it only if its extra's fingerprint is greater than that of
// the kept bid's extra, which the state restored from the old layout held
// as the string).
func q18Probes(events []Event) []Event {
	type pair struct{ bidder, auction int64 }
	last := map[pair]*Bid{}
	var order []pair
	for _, b := range refBids(events) {
		k := pair{b.Bidder, b.Auction}
		cur, ok := last[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || q18Order(b).after(q18Order(cur)) {
			last[k] = b
		}
	}
	var out []Event
	for i, k := range order {
		if i%2 != 0 {
			continue
		}
		b := last[k]
		older := *b
		older.DateTime--
		older.Price++
		older.Extra = "older"
		tie := *b
		tie.Extra = b.Extra + "-tie"
		out = append(out, Event{Type: BidEvent, Bid: &older}, Event{Type: BidEvent, Bid: &tie})
	}
	return out
}

// TestQ18RestoresOldLayout restores q18Fixture (the state "last" of
// 0d98c66, with the extra string) on both backends at parallelism 1 and
// 3, pushes q18Probes for the first half's pairs and then the second half
// of the events, and requires the final table to be the batch reference's
// over all of these once the restored job's rows are applied, as upserts,
// over the reference's table of the first half: a restored pair keeps its
// last bid (the older probe is dropped) and breaks ties by the
// fingerprint of the restored extra. A snapshot of the restored job then
// restores at parallelism 2 on the other backend and finishes the same
// way.
func TestQ18RestoresOldLayout(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	probes := q18Probes(events[:half])
	if len(probes) < 100 {
		t.Fatalf("%d probes: the test would prove little", len(probes))
	}
	all := append(append(append([]Event(nil), events[:half]...), probes...), events[half:]...)
	rest := all[half:]
	q18, _ := Lookup("q18")
	oldLayoutRestore[*Result]{
		fixture: q18Fixture,
		attach:  queryJob("q18"),
		rest:    rest,
		// The probes and a quarter from the fixture, a snapshot (the
		// current layout, with the keys no record touched still in the
		// old one), the rest from it on the other backend.
		mid: len(probes) + (len(rest)-len(probes))/2,
		check: func(t *testing.T, r *Result) {
			checkUpserted(t, q18, all, half, r, "bidder", "auction")
		},
		checkSnapshot: func(t *testing.T, ra, rb *Result) {
			checkUpserted(t, q18, all, half, ra, "bidder", "auction", rb)
		},
	}.run(t)
}

// TestExtraTieStable pins extraTie: it is persisted in q18's state, and a
// changed function would order a restored pair's next tie differently
// from the fingerprint it was kept with. It also requires the order of a
// tie to depend on every byte (the fixture's probes append to an extra).
func TestExtraTieStable(t *testing.T) {
	for s, want := range map[string]uint64{
		"":                       0,
		"abc":                    0xf60457839b007a6b,
		"abcdefgh":               0x32fc20f1f04f3032,
		"xvdsoxoikzvagazmpbuxqi": 0xd2d3cf30cb74e2f6,
	} {
		if got := extraTie(s); got != want {
			t.Errorf("extraTie(%q) = %#x, want %#x", s, got, want)
		}
	}
	seen := map[uint64]string{}
	for _, s := range []string{"", "a", "b", "ab", "ba", "abcdefgh", "abcdefgi", "abcdefghi", "bbcdefgh", "abcdefgh\x00"} {
		if o, ok := seen[extraTie(s)]; ok {
			t.Errorf("extraTie(%q) = extraTie(%q)", s, o)
		}
		seen[extraTie(s)] = s
	}
}
