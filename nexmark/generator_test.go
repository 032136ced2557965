package nexmark

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/weirstream/weir"
)

func TestGeneratorShape(t *testing.T) {
	cfg := DefaultConfig(50000, 5)
	events, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var persons, auctions, bids, hotAuction, hotBidder, hotSeller int64
	lastTS := int64(-1)
	var lastPerson, lastAuction int64 = FirstPersonID - 1, FirstAuctionID - 1
	for n, e := range events {
		ts := e.Timestamp()
		if ts < lastTS {
			t.Fatalf("event %d: timestamp %d before %d", n, ts, lastTS)
		}
		lastTS = ts
		if want := cfg.BaseTime + int64(n)/10; ts != want { // 10,000 events/s
			t.Fatalf("event %d: timestamp %d, want %d", n, ts, want)
		}
		switch e.Type {
		case PersonEvent:
			persons++
			if e.Person.ID != lastPerson+1 {
				t.Fatalf("person ids not consecutive: %d after %d", e.Person.ID, lastPerson)
			}
			lastPerson = e.Person.ID
		case AuctionEvent:
			auctions++
			a := e.Auction
			if a.ID != lastAuction+1 || a.Category < FirstCategoryID || a.Category >= FirstCategoryID+NumCategories ||
				a.Expires <= a.DateTime || a.Reserve < a.InitialBid || a.Seller > lastPerson+personIDLead {
				t.Fatalf("bad auction %+v (last person %d)", a, lastPerson)
			}
			lastAuction = a.ID
			if (a.Seller-FirstPersonID)%hotSellerBatch == 0 {
				hotSeller++
			}
		case BidEvent:
			bids++
			b := e.Bid
			if b.Price < 1 || b.Auction > lastAuction+auctionIDLead || b.Auction < lastAuction-int64(cfg.NumInFlightAuctions)-1 ||
				b.Bidder > lastPerson+personIDLead || b.Bidder < lastPerson-int64(cfg.NumActivePeople) || b.Channel == "" || b.URL == "" {
				t.Fatalf("bad bid %+v (last auction %d, last person %d)", b, lastAuction, lastPerson)
			}
			if (b.Auction-FirstAuctionID)%hotAuctionRun == 0 {
				hotAuction++
			}
			if (b.Bidder-FirstPersonID)%hotBidderBatch == 1 {
				hotBidder++
			}
		}
	}
	if persons != 1000 || auctions != 3000 || bids != 46000 {
		t.Fatalf("persons:auctions:bids = %d:%d:%d, want 1000:3000:46000", persons, auctions, bids)
	}
	// Hot auctions get 1-1/2 of the bids, hot bidders and sellers 1-1/4
	// (plus the few random picks that land on them).
	within := func(name string, got, of int64, lo, hi float64) {
		f := float64(got) / float64(of)
		if f < lo || f > hi {
			t.Errorf("%s: fraction %.3f outside [%.2f, %.2f]", name, f, lo, hi)
		}
	}
	within("hot auctions", hotAuction, bids, 0.48, 0.56)
	within("hot bidders", hotBidder, bids, 0.73, 0.78)
	within("hot sellers", hotSeller, auctions, 0.72, 0.79)
}

func TestGeneratorDeterministic(t *testing.T) {
	a, _ := Generate(DefaultConfig(2000, 9))
	b, _ := Generate(DefaultConfig(2000, 9))
	c, _ := Generate(DefaultConfig(2000, 10))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different events")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same events")
	}
}

// TestSourceSplits checks that the parallel source generates every event
// number exactly once, with its timestamp, whatever the parallelism.
func TestSourceSplits(t *testing.T) {
	cfg := DefaultConfig(3000, 4)
	want, _ := Generate(cfg)
	for _, p := range []int{1, 3} {
		env := weir.NewEnvironment(weir.Options{Parallelism: p})
		s, err := Events(env, cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := weir.Collect(s)
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		tv := got.Timestamped()
		if len(tv) != len(want) {
			t.Fatalf("p=%d: %d events, want %d", p, len(tv), len(want))
		}
		evs := make([]Event, len(tv))
		for i, v := range tv {
			if v.TS != v.Value.Timestamp() {
				t.Fatalf("p=%d: record timestamp %d, event dateTime %d", p, v.TS, v.Value.Timestamp())
			}
			evs[i] = v.Value
		}
		key := func(e Event) int64 { return e.Timestamp()*4 + int64(e.Type) }
		slices.SortStableFunc(evs, func(a, b Event) int { return int(key(a) - key(b)) })
		sorted := slices.Clone(want)
		slices.SortStableFunc(sorted, func(a, b Event) int { return int(key(a) - key(b)) })
		// Events at the same millisecond and type may come in another
		// order from another subtask: compare as multisets per millisecond.
		if !sameMultiset(evs, sorted) {
			t.Fatalf("p=%d: the source's events differ from Generate's", p)
		}
	}
}

func sameMultiset(a, b []Event) bool {
	count := map[string]int{}
	for i := range a {
		count[eventKey(a[i])]++
		count[eventKey(b[i])]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func eventKey(e Event) string {
	switch e.Type {
	case PersonEvent:
		return fmtAny(*e.Person)
	case AuctionEvent:
		return fmtAny(*e.Auction)
	}
	return fmtAny(*e.Bid)
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Rate = 0 },
		func(c *Config) { c.BidProportion = 0 },
		func(c *Config) { c.HotAuctionRatio = 0 },
		func(c *Config) { c.NumActivePeople = 0 },
		func(c *Config) { c.AvgBidByteSize = -1 },
	}
	for i, f := range bad {
		c := DefaultConfig(10, 0)
		f(&c)
		if _, err := NewGenerator(c); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	if _, err := Generate(DefaultConfig(0, 0)); err == nil {
		t.Error("Generate of 0 events: no error")
	}
}

// TestEventInto: eventInto makes the events Event makes, into the reused
// records, in any order of event numbers; an event of a type not wanted
// comes back with its type alone, and skipping it changes no other event.
func TestEventInto(t *testing.T) {
	cfg := DefaultConfig(3000, 4)
	want, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wants := [][3]bool{{true, true, true}, {false, false, true}, {true, true, false}, {false, false, false}}
	for _, wanted := range wants {
		g, err := NewGenerator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		recs := new(eventRecords)
		for _, n := range []int64{5, 3, 2999, 0, 1, 1, 2, 100, 57, 58, 1500} {
			got := g.eventInto(n, recs, &wanted)
			w := want[n]
			if !wanted[w.Type] {
				w = Event{Type: w.Type}
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("want %v: event %d: %+v, want %+v", wanted, n, got, w)
			}
		}
	}
}

// TestChannelTable: the channel table carved from one buffer is the one
// the generator drew before, one string per concatenation.
func TestChannelTable(t *testing.T) {
	for _, seed := range []uint64{0, 7} {
		g, err := NewGenerator(DefaultConfig(1, seed))
		if err != nil {
			t.Fatal(err)
		}
		g.pcg.Seed(seed, math.MaxUint64)
		urlPart := func() string {
			b := make([]byte, minStringLen+g.r.IntN(5-minStringLen))
			for i := range b {
				if g.r.IntN(13) == 0 {
					b[i] = '_'
				} else {
					b[i] = byte('a' + g.r.IntN(26))
				}
			}
			return string(b)
		}
		baseURL := func() string {
			return "https://www.nexmark.com/" + urlPart() + "/" + urlPart() + "/" + urlPart() + "/item.htm?query=1"
		}
		for i, h := range hotChannel {
			if u := baseURL(); g.hotURLs[i] != u {
				t.Fatalf("seed %d: hot channel %s: url %q, want %q", seed, h, g.hotURLs[i], u)
			}
		}
		for i := range numChannels {
			u := baseURL()
			if g.r.IntN(10) > 0 {
				d := []byte(strconv.Itoa(i))
				slices.Reverse(d)
				u += "&channel_id=" + strconv.FormatInt(int64(math.Abs(float64(javaHash(string(d))))), 10)
			}
			if c := "channel-" + strconv.Itoa(i); g.channels[i] != c || g.urls[i] != u {
				t.Fatalf("seed %d: channel %d: %q %q, want %q %q", seed, i, g.channels[i], g.urls[i], c, u)
			}
		}
	}
}
