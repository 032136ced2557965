package nexmark

import (
	"context"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

const t0 = DefaultBaseTime // a multiple of 10 s

func bidAt(ts, auction, bidder, price int64) Event {
	return Event{Type: BidEvent, Bid: &Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: Time(ts), Channel: "c", URL: "u", Extra: "x"}}
}

func auctionAt(ts, id, seller, category, expires int64) Event {
	return Event{Type: AuctionEvent, Auction: &Auction{ID: id, Seller: seller, Category: category, DateTime: Time(ts), Expires: Time(expires), ItemName: "i"}}
}

func personAt(ts, id int64, name, state string) Event {
	return Event{Type: PersonEvent, Person: &Person{ID: id, Name: name, City: "Bend", State: state, DateTime: Time(ts)}}
}

// TestEdgeCases runs hand-made inputs whose results are worked out by
// hand from the reference SQL, and requires both the engine and the batch
// reference to give them.
func TestEdgeCases(t *testing.T) {
	cases := []struct {
		query  string
		events []Event
		want   []string
	}{{
		// q7: the bid exactly at the end of window [t0, t0+10s) has that
		// window's maximum price: it joins both windows (BETWEEN includes
		// the end). Ties are all kept.
		query: "q7",
		events: []Event{
			bidAt(t0+1000, 1, 1, 50),
			bidAt(t0+2000, 2, 2, 90),
			bidAt(t0+3000, 3, 3, 90),
			bidAt(t0+10000, 4, 4, 90),
			bidAt(t0+12000, 5, 5, 70),
		},
		want: []string{
			`{"auction":2,"bidder":2,"price":90,"dateTime":"2024-01-01T00:00:02.000Z","extra":"x"}`,
			`{"auction":3,"bidder":3,"price":90,"dateTime":"2024-01-01T00:00:03.000Z","extra":"x"}`,
			`{"auction":4,"bidder":4,"price":90,"dateTime":"2024-01-01T00:00:10.000Z","extra":"x"}`,
			`{"auction":4,"bidder":4,"price":90,"dateTime":"2024-01-01T00:00:10.000Z","extra":"x"}`,
		},
	}, {
		// q4: a bid before its auction arrives counts; a bid at expires
		// counts; a bid after expires or before the start does not; the
		// average is truncated.
		query: "q4",
		events: []Event{
			bidAt(t0+500, 7, 1, 500), // before auction 7 starts: no
			bidAt(t0+1000, 7, 1, 40), // arrives before auction 7
			auctionAt(t0+1000, 7, 1, 10, t0+5000),
			auctionAt(t0+1000, 8, 1, 10, t0+5000),
			bidAt(t0+5000, 7, 1, 60),  // at expires: yes
			bidAt(t0+5001, 7, 1, 900), // after expires: no
			bidAt(t0+2000, 8, 1, 3),
			auctionAt(t0+1000, 9, 1, 11, t0+9000),
			bidAt(t0+2000, 9, 1, 5),
			bidAt(t0+3000, 9, 1, 4), // lower: no update
		},
		want: []string{`{"id":10,"final":31}`, `{"id":11,"final":5}`},
	}, {
		// q11: bids 10 s apart are in one session (windows touch), 10.001 s
		// apart in two.
		query: "q11",
		events: []Event{
			bidAt(t0, 1, 5, 1),
			bidAt(t0+10000, 1, 5, 1),
			bidAt(t0+20001, 1, 5, 1),
		},
		want: []string{
			`{"bidder":5,"bid_count":1,"starttime":"2024-01-01T00:00:20.001Z","endtime":"2024-01-01T00:00:30.001Z"}`,
			`{"bidder":5,"bid_count":2,"starttime":"2024-01-01T00:00:00.000Z","endtime":"2024-01-01T00:00:20.000Z"}`,
		},
	}, {
		// q3: the auction before its seller registers still joins;
		// category and state filter.
		query: "q3",
		events: []Event{
			auctionAt(t0, 1, 100, 10, t0+1),
			personAt(t0+1, 100, "Ann", "OR"),
			auctionAt(t0+2, 2, 100, 10, t0+3),
			auctionAt(t0+2, 3, 100, 11, t0+3),
			personAt(t0+3, 101, "Bob", "WA"),
			auctionAt(t0+4, 4, 101, 10, t0+5),
		},
		want: []string{
			`{"name":"Ann","city":"Bend","state":"OR","id":1}`,
			`{"name":"Ann","city":"Bend","state":"OR","id":2}`,
		},
	}, {
		// q8: a person and an auction of theirs in the same window; not
		// in the next one.
		query: "q8",
		events: []Event{
			personAt(t0+1000, 100, "Ann", "OR"),
			auctionAt(t0+9999, 1, 100, 10, t0+20000),
			personAt(t0+9000, 101, "Bob", "OR"),
			auctionAt(t0+10000, 2, 101, 10, t0+20000),
		},
		want: []string{`{"id":100,"name":"Ann","starttime":"2024-01-01T00:00:00.000Z"}`},
	}, {
		// q5: windows of 10 s every 2 s: a tie in some windows.
		query: "q5",
		events: []Event{
			bidAt(t0+1000, 1, 1, 1),
			bidAt(t0+1500, 1, 1, 1),
			bidAt(t0+9000, 2, 1, 1),
		},
		// Windows ending at t0+2,4,6,8,10 s hold two bids of auction 1;
		// windows ending at t0+10 s also one of 2 (max 2: only 1); windows
		// ending at t0+12..18 s hold only auction 2's bid.
		want: []string{
			`{"auction":1,"num":2}`, `{"auction":1,"num":2}`, `{"auction":1,"num":2}`, `{"auction":1,"num":2}`, `{"auction":1,"num":2}`,
			`{"auction":2,"num":1}`, `{"auction":2,"num":1}`, `{"auction":2,"num":1}`, `{"auction":2,"num":1}`,
		},
	}}
	for _, c := range cases {
		q, ok := Lookup(c.query)
		if !ok {
			t.Fatalf("no query %s", c.query)
		}
		if d := diffRows(q.Reference(c.events), lines(c.want)); d != "" {
			t.Errorf("%s reference: %s", c.query, d)
		}
		for _, p := range []int{1, 2} {
			got, err := Run(context.Background(), q, c.events, weir.Options{Parallelism: p})
			if err != nil {
				t.Fatal(err)
			}
			if d := diffRows(got, lines(c.want)); d != "" {
				t.Errorf("%s engine p=%d: %s", c.query, p, d)
			}
		}
	}
}

func lines(rows []string) [][]byte {
	out := make([][]byte, len(rows))
	for i, r := range rows {
		out[i] = []byte(strings.TrimSpace(r))
	}
	sortBytes(out)
	return out
}
