package nexmark

import (
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// priceRank is the reference's price level: 1 below 10,000, 2 below
// 1,000,000, 3 above.
func priceRank(p int64) int {
	switch {
	case p < 10000:
		return 1
	case p < 1000000:
		return 2
	}
	return 3
}

func day(ts Time) string    { return time.UnixMilli(int64(ts)).UTC().Format("2006-01-02") }
func minute(ts Time) string { return time.UnixMilli(int64(ts)).UTC().Format("15:04") }

// Counts3 counts in total and per price rank.
type Counts3 struct{ Total, Rank1, Rank2, Rank3 int64 }

func (c *Counts3) add(rank int) {
	c.Total++
	switch rank {
	case 1:
		c.Rank1++
	case 2:
		c.Rank2++
	default:
		c.Rank3++
	}
}

// DistinctStats is the accumulator of q15 and q16.
type DistinctStats struct {
	Minute                  string
	Bids, Bidders, Auctions Counts3
}

// Q15Row is a row of q15.
type Q15Row struct {
	Day           string `json:"day"`
	TotalBids     int64  `json:"total_bids"`
	Rank1Bids     int64  `json:"rank1_bids"`
	Rank2Bids     int64  `json:"rank2_bids"`
	Rank3Bids     int64  `json:"rank3_bids"`
	TotalBidders  int64  `json:"total_bidders"`
	Rank1Bidders  int64  `json:"rank1_bidders"`
	Rank2Bidders  int64  `json:"rank2_bidders"`
	Rank3Bidders  int64  `json:"rank3_bidders"`
	TotalAuctions int64  `json:"total_auctions"`
	Rank1Auctions int64  `json:"rank1_auctions"`
	Rank2Auctions int64  `json:"rank2_auctions"`
	Rank3Auctions int64  `json:"rank3_auctions"`
}

func q15Row(d string, s DistinctStats) Q15Row {
	return Q15Row{d, s.Bids.Total, s.Bids.Rank1, s.Bids.Rank2, s.Bids.Rank3,
		s.Bidders.Total, s.Bidders.Rank1, s.Bidders.Rank2, s.Bidders.Rank3,
		s.Auctions.Total, s.Auctions.Rank1, s.Auctions.Rank2, s.Auctions.Rank3}
}

// distinctStats keeps, per key, the counts of q15/q16 and, per bidder and
// auction, a bit mask of the price ranks seen (bit 0: seen at all).
type distinctStats[K comparable] struct {
	acc      state.Value[DistinctStats]
	bidders  state.Map[int64, uint8]
	auctions state.Map[int64, uint8]
}

func (d *distinctStats[K]) open(ctx *weir.KeyedRuntimeContext[K]) {
	d.acc = state.GetValue[K, DistinctStats](ctx.State(), state.Descriptor{Name: "stats"})
	d.bidders = state.GetMap[K, int64, uint8](ctx.State(), state.Descriptor{Name: "bidders"})
	d.auctions = state.GetMap[K, int64, uint8](ctx.State(), state.Descriptor{Name: "auctions"})
}

func distinctAdd(m state.Map[int64, uint8], c *Counts3, id int64, rank int) {
	seen, _ := m.Get(id)
	bit := uint8(1) << rank
	if seen&1 == 0 {
		c.Total++
	}
	if seen&bit == 0 {
		switch rank {
		case 1:
			c.Rank1++
		case 2:
			c.Rank2++
		default:
			c.Rank3++
		}
	}
	if next := seen | 1 | bit; next != seen {
		m.Put(id, next)
	}
}

func (d *distinctStats[K]) add(b *Bid) DistinctStats {
	s, _ := d.acc.Value()
	r := priceRank(b.Price)
	s.Bids.add(r)
	distinctAdd(d.bidders, &s.Bidders, b.Bidder, r)
	distinctAdd(d.auctions, &s.Auctions, b.Auction, r)
	if m := minute(b.DateTime); m > s.Minute {
		s.Minute = m
	}
	d.acc.Update(s)
	return s
}

type q15Agg struct{ distinctStats[string] }

func (q *q15Agg) Open(ctx *weir.KeyedRuntimeContext[string]) error { q.open(ctx); return nil }

func (q *q15Agg) ProcessElement(ctx *weir.KeyedContext[string, Q15Row], b *Bid) error {
	ctx.Collect(q15Row(ctx.Key(), q.add(b)))
	return nil
}

// q15: bidding statistics report. Per day: bids, distinct bidders and
// distinct auctions, in total and per price rank. An unbounded group
// aggregation that updates; one row per day in the final table.
func q15() Query {
	return define("q15", "Bidding Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q15Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) string { return day(b.DateTime) }), &q15Agg{}).Name("q15")
	}, lastPerKey(func(r Q15Row) string { return r.Day }), refQ15)
}

// Q16Row is a row of q16.
type Q16Row struct {
	Channel string `json:"channel"`
	Day     string `json:"day"`
	Minute  string `json:"minute"`
	Q15Row
}

// ChannelDay is q16's key.
type ChannelDay struct{ Channel, Day string }

type q16Agg struct{ distinctStats[ChannelDay] }

func (q *q16Agg) Open(ctx *weir.KeyedRuntimeContext[ChannelDay]) error { q.open(ctx); return nil }

func (q *q16Agg) ProcessElement(ctx *weir.KeyedContext[ChannelDay, Q16Row], b *Bid) error {
	s := q.add(b)
	k := ctx.Key()
	r := q15Row(k.Day, s)
	ctx.Collect(Q16Row{Channel: k.Channel, Day: k.Day, Minute: s.Minute, Q15Row: r})
	return nil
}

// q16: channel statistics report: q15 per channel and day, with the
// latest minute (max of HH:mm). Updates.
func q16() Query {
	return define("q16", "Channel Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q16Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) ChannelDay { return ChannelDay{b.Channel, day(b.DateTime)} }), &q16Agg{}).Name("q16")
	}, lastPerKey(func(r Q16Row) ChannelDay { return ChannelDay{r.Channel, r.Day} }), refQ16)
}

// Q17Row is a row of q17.
type Q17Row struct {
	Auction   int64  `json:"auction"`
	Day       string `json:"day"`
	TotalBids int64  `json:"total_bids"`
	Rank1Bids int64  `json:"rank1_bids"`
	Rank2Bids int64  `json:"rank2_bids"`
	Rank3Bids int64  `json:"rank3_bids"`
	MinPrice  int64  `json:"min_price"`
	MaxPrice  int64  `json:"max_price"`
	AvgPrice  int64  `json:"avg_price"`
	SumPrice  int64  `json:"sum_price"`
}

// AuctionDay is q17's key.
type AuctionDay struct {
	Auction int64
	Day     string
}

// PriceStats is q17's accumulator.
type PriceStats struct {
	Bids          Counts3
	Min, Max, Sum int64
}

type q17Agg struct{ acc state.Value[PriceStats] }

func (q *q17Agg) Open(ctx *weir.KeyedRuntimeContext[AuctionDay]) error {
	q.acc = state.GetValue[AuctionDay, PriceStats](ctx.State(), state.Descriptor{Name: "stats"})
	return nil
}

func (q *q17Agg) ProcessElement(ctx *weir.KeyedContext[AuctionDay, Q17Row], b *Bid) error {
	s, ok := q.acc.Value()
	if !ok || b.Price < s.Min {
		s.Min = b.Price
	}
	if !ok || b.Price > s.Max {
		s.Max = b.Price
	}
	s.Sum += b.Price
	s.Bids.add(priceRank(b.Price))
	q.acc.Update(s)
	k := ctx.Key()
	ctx.Collect(Q17Row{k.Auction, k.Day, s.Bids.Total, s.Bids.Rank1, s.Bids.Rank2, s.Bids.Rank3, s.Min, s.Max, s.Sum / s.Bids.Total, s.Sum})
	return nil
}

// q17: auction statistics report. Per auction and day: bids per price
// rank, min, max, average (BIGINT: truncated) and sum of prices. Updates.
func q17() Query {
	return define("q17", "Auction Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q17Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) AuctionDay { return AuctionDay{b.Auction, day(b.DateTime)} }), &q17Agg{}).Name("q17")
	}, lastPerKey(func(r Q17Row) AuctionDay { return AuctionDay{r.Auction, r.Day} }), refQ17)
}

// Q19Row is a row of q19: a bid and its rank in its auction.
type Q19Row struct {
	Q18Row
	RankNumber int64 `json:"rank_number"`
}

// higher reports whether a ranks before b in q19: higher price; the
// reference leaves ties open, Weir breaks them by earlier time, lower
// bidder, then extra.
func higher(a, b *Bid) bool {
	switch {
	case a.Price != b.Price:
		return a.Price > b.Price
	case a.DateTime != b.DateTime:
		return a.DateTime < b.DateTime
	case a.Bidder != b.Bidder:
		return a.Bidder < b.Bidder
	}
	return a.Extra < b.Extra
}

const q19TopN = 10

// AuctionRank is q19's upsert key.
type AuctionRank struct{ Auction, Rank int64 }

// q19Ranks is the top-10 buffer of an auction, best first; the ranks
// held are a prefix (the first nil ends it). A fixed array in a value
// state, not a list state: a record reads and rewrites it in place without
// the two slices a list's Get and Update allocate (which, with the bids
// they point to, the GC scanned again and again).
type q19Ranks [q19TopN]*Bid

type q19Top struct{ top state.Value[q19Ranks] }

func (q *q19Top) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	q.top = state.GetValue[int64, q19Ranks](ctx.State(), state.Descriptor{Name: "top"})
	return nil
}

func (q *q19Top) ProcessElement(ctx *weir.KeyedContext[int64, Q19Row], b *Bid) error {
	top, _ := q.top.Value()
	n := 0
	for n < len(top) && top[n] != nil {
		n++
	}
	pos := n
	for i, t := range top[:n] {
		if higher(b, t) {
			pos = i
			break
		}
	}
	if pos >= q19TopN {
		return nil
	}
	// Shift the ranks from pos down by one (the last falls out) and put b
	// at pos.
	copy(top[pos+1:], top[pos:])
	top[pos] = b
	if n < q19TopN {
		n++
	}
	q.top.Update(top)
	// Every rank from pos on now holds another bid.
	for i := pos; i < n; i++ {
		t := top[i]
		ctx.Collect(Q19Row{Q18Row{t.Auction, t.Bidder, t.Price, t.Channel, t.URL, t.DateTime, t.Extra}, int64(i + 1)})
	}
	return nil
}

// q19: auction top-10 price. The ten highest bids of every auction with
// their rank (ROW_NUMBER by price descending, rank <= 10). Updates; the
// final table has one row per auction and rank.
func q19() Query {
	return define("q19", "Auction TOP-10 Price", Update, func(s weir.Stream[Event]) weir.Stream[Q19Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Auction }), &q19Top{}).Name("q19")
	}, lastPerKey(func(r Q19Row) AuctionRank { return AuctionRank{r.Auction, r.RankNumber} }), refQ19)
}

// Q21Row is a row of q21.
type Q21Row struct {
	Auction   int64  `json:"auction"`
	Bidder    int64  `json:"bidder"`
	Price     int64  `json:"price"`
	Channel   string `json:"channel"`
	ChannelID string `json:"channel_id"`
}

// channelIDParam returns the value of the channel_id query parameter in
// url (REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)).
func channelIDParam(url string) (string, bool) {
	const p = "channel_id="
	for i := 0; i <= len(url)-len(p); i++ {
		if (i == 0 || url[i-1] == '&') && strings.HasPrefix(url[i:], p) {
			v := url[i+len(p):]
			if j := strings.IndexByte(v, '&'); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
	}
	return "", false
}

// q21: add channel id. Bids of the four known channels get their code;
// others the channel_id parameter of their URL; bids with neither are
// dropped. Append.
func q21() Query {
	return define("q21", "Add Channel ID", Append, func(s weir.Stream[Event]) weir.Stream[Q21Row] {
		return weir.FlatMap(bids(s), func(b *Bid, out weir.Collector[Q21Row]) error {
			id, ok := "", true
			switch strings.ToLower(b.Channel) {
			case "apple":
				id = "0"
			case "google":
				id = "1"
			case "facebook":
				id = "2"
			case "baidu":
				id = "3"
			default:
				id, ok = channelIDParam(b.URL)
			}
			if ok {
				out.Collect(Q21Row{b.Auction, b.Bidder, b.Price, b.Channel, id})
			}
			return nil
		}).Name("q21")
	}, nil, refQ21)
}

// Q22Row is a row of q22; a directory is null if the URL has no such part.
type Q22Row struct {
	Auction int64   `json:"auction"`
	Bidder  int64   `json:"bidder"`
	Price   int64   `json:"price"`
	Channel string  `json:"channel"`
	Dir1    *string `json:"dir1"`
	Dir2    *string `json:"dir2"`
	Dir3    *string `json:"dir3"`
}

// splitIndex is SPLIT_INDEX(s, '/', i): the i-th (from 0) part of s split
// at '/', or nil.
func splitIndex(s string, i int) *string {
	for range i {
		j := strings.IndexByte(s, '/')
		if j < 0 {
			return nil
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '/'); j >= 0 {
		s = s[:j]
	}
	return &s
}

// q22: get URL directories. The third to fifth '/'-separated parts of
// every bid's URL. Append.
func q22() Query {
	return define("q22", "Get URL Directories", Append, func(s weir.Stream[Event]) weir.Stream[Q22Row] {
		return weir.Map(bids(s), func(b *Bid) Q22Row {
			return Q22Row{b.Auction, b.Bidder, b.Price, b.Channel, splitIndex(b.URL, 3), splitIndex(b.URL, 4), splitIndex(b.URL, 5)}
		}).Name("q22")
	}, nil, refQ22)
}
