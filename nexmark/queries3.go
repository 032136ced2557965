package nexmark

import (
	"fmt"
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

const msPerDay = 24 * 3600 * 1000

// dayNumber is the UTC day of ts, in days since 1970-01-01.
func dayNumber(ts Time) int64 {
	d := int64(ts) / msPerDay
	if int64(ts)%msPerDay < 0 {
		d--
	}
	return d
}

// dayNames caches the name of the last day a subtask formatted: q15-q17
// key by the day's number (a cheap key to hash and compare, made without
// allocating) and name it in the rows they emit.
type dayNames struct {
	n  int64
	s  string
	ok bool
}

func (c *dayNames) name(n int64) string {
	if !c.ok || c.n != n {
		c.n, c.s, c.ok = n, day(Time(n*msPerDay)), true
	}
	return c.s
}

// day is DATE_FORMAT(ts, 'yyyy-MM-dd') in UTC. It formats the civil date
// itself (the time package's general formatter was a tenth of q16's time)
// and leaves years outside 0 to 9999 to the time package.
func day(ts Time) string {
	days := dayNumber(ts)
	// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	if y < 0 || y > 9999 {
		return time.UnixMilli(int64(ts)).UTC().Format("2006-01-02")
	}
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d/10), byte('0' + d%10)}
	return string(b[:])
}

// minuteNames holds "HH:mm" for every minute of a day; never changed.
var minuteNames = func() (n [24 * 60]string) {
	for i := range n {
		n[i] = fmt.Sprintf("%02d:%02d", i/60, i%60)
	}
	return n
}()

// minute is DATE_FORMAT(ts, 'HH:mm') in UTC, without allocating.
func minute(ts Time) string {
	ms := int64(ts) % msPerDay
	if ms < 0 {
		ms += msPerDay
	}
	return minuteNames[ms/60000]
}

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

func q15Row(d string, s *DistinctStats) Q15Row {
	return Q15Row{d, s.Bids.Total, s.Bids.Rank1, s.Bids.Rank2, s.Bids.Rank3,
		s.Bidders.Total, s.Bidders.Rank1, s.Bidders.Rank2, s.Bidders.Rank3,
		s.Auctions.Total, s.Auctions.Rank1, s.Auctions.Rank2, s.Auctions.Rank3}
}

type q15Agg struct {
	distinctStats[int64]
	days dayNames
}

func (q *q15Agg) Open(ctx *weir.KeyedRuntimeContext[int64]) error { q.open(ctx); return nil }

func (q *q15Agg) ProcessElement(ctx *weir.KeyedContext[int64, Q15Row], b *Bid) error {
	s, err := q.add(b)
	if err != nil {
		return err
	}
	ctx.Collect(q15Row(q.days.name(ctx.Key()), s))
	return nil
}

// q15: bidding statistics report. Per day: bids, distinct bidders and
// distinct auctions, in total and per price rank. An unbounded group
// aggregation that updates; one row per day in the final table.
func q15() Query {
	return define("q15", "Bidding Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q15Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) int64 { return dayNumber(b.DateTime) }), &q15Agg{}).Name("q15")
	}, lastPerKey(func(r Q15Row) string { return r.Day }), refQ15)
}

// Q16Row is a row of q16.
type Q16Row struct {
	Channel string `json:"channel"`
	Day     string `json:"day"`
	Minute  string `json:"minute"`
	Q15Row
}

// ChannelDay is q16's upsert key (the key of its final table).
type ChannelDay struct{ Channel, Day string }

// channelDayKey is q16's key inside the operator: the day by number.
type channelDayKey struct {
	Channel string
	Day     int64
}

type q16Agg struct {
	distinctStats[channelDayKey]
	days dayNames
}

func (q *q16Agg) Open(ctx *weir.KeyedRuntimeContext[channelDayKey]) error { q.open(ctx); return nil }

func (q *q16Agg) ProcessElement(ctx *weir.KeyedContext[channelDayKey, Q16Row], b *Bid) error {
	s, err := q.add(b)
	if err != nil {
		return err
	}
	k := ctx.Key()
	d := q.days.name(k.Day)
	r := q15Row(d, s)
	ctx.Collect(Q16Row{Channel: k.Channel, Day: d, Minute: s.Minute, Q15Row: r})
	return nil
}

// q16: channel statistics report: q15 per channel and day, with the
// latest minute (max of HH:mm). Updates.
func q16() Query {
	return define("q16", "Channel Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q16Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) channelDayKey { return channelDayKey{b.Channel, dayNumber(b.DateTime)} }), &q16Agg{}).Name("q16")
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

// AuctionDay is q17's upsert key (the key of its final table).
type AuctionDay struct {
	Auction int64
	Day     string
}

// PriceStats is q17's accumulator.
type PriceStats struct {
	Bids          Counts3
	Min, Max, Sum int64
}

// auctionDayKey is q17's key inside the operator: the day by number.
type auctionDayKey struct{ Auction, Day int64 }

type q17Agg struct {
	acc  state.Value[PriceStats]
	days dayNames
}

func (q *q17Agg) Open(ctx *weir.KeyedRuntimeContext[auctionDayKey]) error {
	q.acc = state.GetValue[auctionDayKey, PriceStats](ctx.State(), state.Descriptor{Name: "stats"})
	return nil
}

func (q *q17Agg) ProcessElement(ctx *weir.KeyedContext[auctionDayKey, Q17Row], b *Bid) error {
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
	ctx.Collect(Q17Row{k.Auction, q.days.name(k.Day), s.Bids.Total, s.Bids.Rank1, s.Bids.Rank2, s.Bids.Rank3, s.Min, s.Max, s.Sum / s.Bids.Total, s.Sum})
	return nil
}

// q17: auction statistics report. Per auction and day: bids per price
// rank, min, max, average (BIGINT: truncated) and sum of prices. Updates.
func q17() Query {
	return define("q17", "Auction Statistics Report", Update, func(s weir.Stream[Event]) weir.Stream[Q17Row] {
		return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) auctionDayKey { return auctionDayKey{b.Auction, dayNumber(b.DateTime)} }), &q17Agg{}).Name("q17")
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
