package nexmark

import "slices"

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
		if cur == nil || b.DateTime > cur.DateTime ||
			(b.DateTime == cur.DateTime && (b.Price > cur.Price || (b.Price == cur.Price && b.Extra > cur.Extra))) {
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
