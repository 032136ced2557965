package nexmark

import (
	"strconv"

	"github.com/weirstream/weir"
)

// SideInputRows is the size of q13's side input: the rows (i, "i") for i
// in [0, SideInputRows), as the reference's SideInputGenerator writes them.
const SideInputRows = 10000

// SideInput returns q13's side input table: value by key.
func SideInput() []string {
	t := make([]string, SideInputRows)
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}

// Q13Row is a row of q13.
type Q13Row struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime Time   `json:"dateTime"`
	Value    string `json:"value"`
}

// q13: bounded side input join. Every bid enriched with the side input's
// value for key auction mod 10000 (a lookup join against a static table,
// which every subtask holds in memory). Append.
func q13() Query {
	return define("q13", "Bounded Side Input Join", Append, func(s weir.Stream[Event]) weir.Stream[Q13Row] {
		side := SideInput() // read-only, shared by the subtasks
		return weir.FlatMap(bids(s), func(b *Bid, out weir.Collector[Q13Row]) error {
			k := b.Auction % SideInputRows
			if k >= 0 {
				out.Collect(Q13Row{b.Auction, b.Bidder, b.Price, b.DateTime, side[k]})
			}
			return nil
		}).Name("q13")
	}, nil, refQ13)
}

func refQ13(events []Event) []Q13Row {
	side := map[int64]string{}
	for i := range SideInputRows {
		side[int64(i)] = strconv.Itoa(i) // the file's "i,i" rows
	}
	var out []Q13Row
	for _, b := range refBids(events) {
		// SQL's MOD keeps the dividend's sign: negative auctions find no key.
		if v, ok := side[b.Auction%SideInputRows]; ok {
			out = append(out, Q13Row{b.Auction, b.Bidder, b.Price, b.DateTime, v})
		}
	}
	return out
}
