package nexmark

import (
	"regexp"
	"slices"
	"strings"
)

// Batch computations of the queries' final tables: plain Go over the
// whole input, written from the reference SQL, sharing no code with the
// streaming pipelines. Tests require the engine to produce exactly these
// rows.

func refBids(events []Event) []*Bid {
	var out []*Bid
	for _, e := range events {
		if e.Type == BidEvent && e.Bid != nil {
			out = append(out, e.Bid)
		}
	}
	return out
}

func refQ0(events []Event) []Q0Row {
	var out []Q0Row
	for _, b := range refBids(events) {
		out = append(out, Q0Row{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
	}
	return out
}

func refQ1(events []Event) []Q1Row {
	var out []Q1Row
	for _, b := range refBids(events) {
		out = append(out, Q1Row{b.Auction, b.Bidder, Decimal3(b.Price * 908), b.DateTime, b.Extra})
	}
	return out
}

func refQ2(events []Event) []Q2Row {
	var out []Q2Row
	for _, b := range refBids(events) {
		if b.Auction%123 == 0 {
			out = append(out, Q2Row{b.Auction, b.Price})
		}
	}
	return out
}

func refQ3(events []Event) []Q3Row {
	people := map[int64]*Person{}
	for _, e := range events {
		if e.Type == PersonEvent && (e.Person.State == "OR" || e.Person.State == "ID" || e.Person.State == "CA") {
			people[e.Person.ID] = e.Person
		}
	}
	var out []Q3Row
	for _, e := range events {
		if e.Type != AuctionEvent || e.Auction.Category != 10 {
			continue
		}
		if p, ok := people[e.Auction.Seller]; ok {
			out = append(out, Q3Row{p.Name, p.City, p.State, e.Auction.ID})
		}
	}
	return out
}

func refQ4(events []Event) []Q4Row {
	byID := map[int64]*Auction{}
	for _, e := range events {
		if e.Type == AuctionEvent {
			byID[e.Auction.ID] = e.Auction
		}
	}
	final := map[int64]int64{} // auction id -> max valid price
	for _, b := range refBids(events) {
		a, ok := byID[b.Auction]
		if !ok || b.DateTime < a.DateTime || b.DateTime > a.Expires {
			continue
		}
		if cur, ok := final[a.ID]; !ok || b.Price > cur {
			final[a.ID] = b.Price
		}
	}
	sum, count := map[int64]int64{}, map[int64]int64{}
	for id, p := range final {
		c := byID[id].Category
		sum[c] += p
		count[c]++
	}
	var out []Q4Row
	for c := range sum {
		out = append(out, Q4Row{ID: c, Final: sum[c] / count[c]})
	}
	return out
}

func refQ5(events []Event) []Q5Row {
	const size, slide = 10000, 2000
	type key struct{ start, auction int64 }
	counts := map[key]int64{}
	for _, b := range refBids(events) {
		ts := int64(b.DateTime)
		for s := ts - ts%slide; s > ts-size; s -= slide {
			counts[key{s, b.Auction}]++
		}
	}
	best := map[int64]int64{}
	for k, n := range counts {
		best[k.start] = max(best[k.start], n)
	}
	var out []Q5Row
	for k, n := range counts {
		if n >= best[k.start] {
			out = append(out, Q5Row{k.auction, n})
		}
	}
	return out
}

func refQ7(events []Event) []Q0Row {
	const size = 10000
	bids := refBids(events)
	best := map[int64]int64{} // window end -> max price
	for _, b := range bids {
		ts := int64(b.DateTime)
		end := ts - ts%size + size
		if p, ok := best[end]; !ok || b.Price > p {
			best[end] = b.Price
		}
	}
	var out []Q0Row
	for _, b := range bids {
		ts := int64(b.DateTime)
		// B.dateTime BETWEEN end - 10 s AND end, for every window end.
		for end := ts - ts%size; end <= ts+size; end += size {
			if ts >= end-size && ts <= end {
				if p, ok := best[end]; ok && p == b.Price {
					out = append(out, Q0Row{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
				}
			}
		}
	}
	return out
}

func refQ8(events []Event) []Q8Row {
	const size = 10000
	type key struct{ id, start int64 }
	sellers := map[key]bool{}
	for _, e := range events {
		if e.Type == AuctionEvent {
			ts := int64(e.Auction.DateTime)
			sellers[key{e.Auction.Seller, ts - ts%size}] = true
		}
	}
	seen := map[Q8Row]bool{}
	var out []Q8Row
	for _, e := range events {
		if e.Type != PersonEvent {
			continue
		}
		ts := int64(e.Person.DateTime)
		r := Q8Row{e.Person.ID, e.Person.Name, Time(ts - ts%size)}
		if sellers[key{r.ID, int64(r.StartTime)}] && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func refQ11(events []Event) []Q11Row {
	const gap = 10000
	times := map[int64][]int64{}
	for _, b := range refBids(events) {
		times[b.Bidder] = append(times[b.Bidder], int64(b.DateTime))
	}
	var out []Q11Row
	for bidder, ts := range times {
		slices.Sort(ts)
		start, n := ts[0], int64(0)
		for i, t := range ts {
			// Session windows [t, t+gap) merge when they overlap or touch.
			if i > 0 && t > ts[i-1]+gap {
				out = append(out, Q11Row{bidder, n, Time(start), Time(ts[i-1] + gap)})
				start, n = t, 0
			}
			n++
		}
		out = append(out, Q11Row{bidder, n, Time(start), Time(ts[len(ts)-1] + gap)})
	}
	return out
}

func refQ9(events []Event) []Q9Row {
	byID := map[int64]*Auction{}
	for _, e := range events {
		if e.Type == AuctionEvent {
			byID[e.Auction.ID] = e.Auction
		}
	}
	best := map[int64]*Bid{}
	for _, b := range refBids(events) {
		a, ok := byID[b.Auction]
		if !ok || b.DateTime < a.DateTime || b.DateTime > a.Expires {
			continue
		}
		cur := best[a.ID]
		if cur == nil || b.Price > cur.Price ||
			(b.Price == cur.Price && (b.DateTime < cur.DateTime ||
				(b.DateTime == cur.DateTime && (b.Bidder < cur.Bidder || (b.Bidder == cur.Bidder && b.Extra < cur.Extra))))) {
			best[a.ID] = b
		}
	}
	var out []Q9Row
	for id, b := range best {
		a := byID[id]
		out = append(out, Q9Row{a.ID, a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category, a.Extra,
			b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
	}
	return out
}

func refQ10(events []Event) []Q10Row {
	var out []Q10Row
	for _, b := range refBids(events) {
		s := b.DateTime.String() // 2006-01-02T15:04:05.000Z
		out = append(out, Q10Row{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra, s[:10], s[11:16]})
	}
	return out
}

func refQ14(events []Event) []Q14Row {
	var out []Q14Row
	for _, b := range refBids(events) {
		euros := float64(b.Price) * 0.908
		if !(euros > 1e6 && euros < 5e7) {
			continue
		}
		hour := (int64(b.DateTime) / 3600000) % 24
		kind := "otherTime"
		if hour >= 8 && hour <= 18 {
			kind = "dayTime"
		} else if hour <= 6 || hour >= 20 {
			kind = "nightTime"
		}
		var c int64
		for _, r := range b.Extra {
			if r == 'c' {
				c++
			}
		}
		out = append(out, Q14Row{b.Auction, b.Bidder, Decimal3(b.Price * 908), kind, b.DateTime, b.Extra, c})
	}
	return out
}

func refQ18(events []Event) []Q18Row {
	type key struct{ bidder, auction int64 }
	last := map[key]*Bid{}
	for _, b := range refBids(events) {
		k := key{b.Bidder, b.Auction}
		cur := last[k]
		if cur == nil || q18Order(b).after(q18Order(cur)) {
			last[k] = b
		}
	}
	var out []Q18Row
	for _, b := range last {
		out = append(out, Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra})
	}
	return out
}

func refQ20(events []Event) []Q20Row {
	cat10 := map[int64]*Auction{}
	for _, e := range events {
		if e.Type == AuctionEvent && e.Auction.Category == 10 {
			cat10[e.Auction.ID] = e.Auction
		}
	}
	var out []Q20Row
	for _, b := range refBids(events) {
		if a, ok := cat10[b.Auction]; ok {
			out = append(out, Q20Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra,
				a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category, a.Extra})
		}
	}
	return out
}

// refRank is the price level of the reference's FILTER clauses.
func refRank(p int64) int {
	if p < 10000 {
		return 1
	} else if p >= 10000 && p < 1000000 {
		return 2
	}
	return 3
}

type refStats struct {
	bids              [4]int64 // [0] total, [1..3] per rank
	bidders, auctions [4]map[int64]bool
	minute            string
}

func newRefStats() *refStats {
	s := &refStats{}
	for i := range 4 {
		s.bidders[i], s.auctions[i] = map[int64]bool{}, map[int64]bool{}
	}
	return s
}

func (s *refStats) add(b *Bid) {
	r := refRank(b.Price)
	for _, i := range []int{0, r} {
		s.bids[i]++
		s.bidders[i][b.Bidder] = true
		s.auctions[i][b.Auction] = true
	}
	if m := b.DateTime.String()[11:16]; m > s.minute {
		s.minute = m
	}
}

func (s *refStats) row(day string) Q15Row {
	return Q15Row{day, s.bids[0], s.bids[1], s.bids[2], s.bids[3],
		int64(len(s.bidders[0])), int64(len(s.bidders[1])), int64(len(s.bidders[2])), int64(len(s.bidders[3])),
		int64(len(s.auctions[0])), int64(len(s.auctions[1])), int64(len(s.auctions[2])), int64(len(s.auctions[3]))}
}

func refQ15(events []Event) []Q15Row {
	byDay := map[string]*refStats{}
	for _, b := range refBids(events) {
		d := b.DateTime.String()[:10]
		if byDay[d] == nil {
			byDay[d] = newRefStats()
		}
		byDay[d].add(b)
	}
	var out []Q15Row
	for d, s := range byDay {
		out = append(out, s.row(d))
	}
	return out
}

func refQ16(events []Event) []Q16Row {
	type key struct{ channel, day string }
	by := map[key]*refStats{}
	for _, b := range refBids(events) {
		k := key{b.Channel, b.DateTime.String()[:10]}
		if by[k] == nil {
			by[k] = newRefStats()
		}
		by[k].add(b)
	}
	var out []Q16Row
	for k, s := range by {
		out = append(out, Q16Row{Channel: k.channel, Day: k.day, Minute: s.minute, Q15Row: s.row(k.day)})
	}
	return out
}

func refQ17(events []Event) []Q17Row {
	type key struct {
		auction int64
		day     string
	}
	by := map[key][]int64{}
	var keys []key
	for _, b := range refBids(events) {
		k := key{b.Auction, b.DateTime.String()[:10]}
		if by[k] == nil {
			keys = append(keys, k)
		}
		by[k] = append(by[k], b.Price)
	}
	var out []Q17Row
	for _, k := range keys {
		ps := by[k]
		r := Q17Row{Auction: k.auction, Day: k.day, MinPrice: ps[0], MaxPrice: ps[0]}
		for _, p := range ps {
			r.TotalBids++
			switch refRank(p) {
			case 1:
				r.Rank1Bids++
			case 2:
				r.Rank2Bids++
			case 3:
				r.Rank3Bids++
			}
			r.MinPrice, r.MaxPrice = min(r.MinPrice, p), max(r.MaxPrice, p)
			r.SumPrice += p
		}
		r.AvgPrice = r.SumPrice / r.TotalBids
		out = append(out, r)
	}
	return out
}

func refQ19(events []Event) []Q19Row {
	by := map[int64][]*Bid{}
	for _, b := range refBids(events) {
		by[b.Auction] = append(by[b.Auction], b)
	}
	var out []Q19Row
	for _, bs := range by {
		slices.SortFunc(bs, func(a, b *Bid) int {
			if a.Price != b.Price {
				return cmpInt(b.Price, a.Price)
			}
			if a.DateTime != b.DateTime {
				return cmpInt(int64(a.DateTime), int64(b.DateTime))
			}
			if a.Bidder != b.Bidder {
				return cmpInt(a.Bidder, b.Bidder)
			}
			return strings.Compare(a.Extra, b.Extra)
		})
		for i, b := range bs[:min(len(bs), 10)] {
			out = append(out, Q19Row{Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra}, int64(i + 1)})
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var refChannelID = regexp.MustCompile(`(&|^)channel_id=([^&]*)`)

func refQ21(events []Event) []Q21Row {
	codes := map[string]string{"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}
	var out []Q21Row
	for _, b := range refBids(events) {
		m := refChannelID.FindStringSubmatch(b.URL)
		code, known := codes[strings.ToLower(b.Channel)]
		switch {
		case known:
			out = append(out, Q21Row{b.Auction, b.Bidder, b.Price, b.Channel, code})
		case m != nil:
			out = append(out, Q21Row{b.Auction, b.Bidder, b.Price, b.Channel, m[2]})
		}
	}
	return out
}

func refQ22(events []Event) []Q22Row {
	var out []Q22Row
	for _, b := range refBids(events) {
		parts := strings.Split(b.URL, "/")
		dir := func(i int) *string {
			if i < len(parts) {
				return &parts[i]
			}
			return nil
		}
		out = append(out, Q22Row{b.Auction, b.Bidder, b.Price, b.Channel, dir(3), dir(4), dir(5)})
	}
	return out
}
