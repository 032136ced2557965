package nexmark

import (
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// Q9Row is a row of q9: an auction and its winning bid.
type Q9Row struct {
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	DateTime    Time   `json:"dateTime"`
	Expires     Time   `json:"expires"`
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`
	Extra       string `json:"extra"`
	Auction     int64  `json:"auction"`
	Bidder      int64  `json:"bidder"`
	Price       int64  `json:"price"`
	BidDateTime Time   `json:"bid_dateTime"`
	BidExtra    string `json:"bid_extra"`
}

// better reports whether bid a ranks before bid b in q9: higher price,
// then earlier time; the reference leaves ties of both open, Weir breaks
// them by lower bidder, then extra.
func better(a, b *Bid) bool {
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

// q9: winning bids. Every auction with its best bid among those within
// its life (ROW_NUMBER by price descending, time ascending, rownum <= 1).
// Updates; the final table has one row per auction with a valid bid.
func q9() Query {
	return define("q9", "Winning Bids", Update, func(s weir.Stream[Event]) weir.Stream[Q9Row] {
		return weir.CoProcessKeyed(weir.ConnectKeyed(
			weir.KeyBy(auctions(s), func(a *Auction) int64 { return a.ID }),
			weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Auction })), &q9Join{}).Name("q9Join")
	}, lastPerKey(func(r Q9Row) int64 { return r.ID }), refQ9)
}

func within(a *Auction, b *Bid) bool { return b.DateTime >= a.DateTime && b.DateTime <= a.Expires }

func q9Row(a *Auction, b *Bid) Q9Row {
	return Q9Row{a.ID, a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category, a.Extra,
		b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra}
}

// Q10Row is a row of q10: a bid with its day and minute partition.
type Q10Row struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime Time   `json:"dateTime"`
	Extra    string `json:"extra"`
	DT       string `json:"dt"`
	HM       string `json:"hm"`
}

// q10: log to file system. Every bid with DATE_FORMAT(dateTime,
// 'yyyy-MM-dd') and 'HH:mm' (UTC), the partition columns of the
// reference's file sink. Weir emits the rows; writing them partitioned is
// left to a file sink. Append.
func q10() Query {
	return define("q10", "Log to File System", Append, func(s weir.Stream[Event]) weir.Stream[Q10Row] {
		return weir.Map(bids(s), func(b *Bid) Q10Row {
			t := time.UnixMilli(int64(b.DateTime)).UTC()
			return Q10Row{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra, t.Format("2006-01-02"), t.Format("15:04")}
		}).Name("q10")
	}, nil, refQ10)
}

// Q14Row is a row of q14.
type Q14Row struct {
	Auction     int64    `json:"auction"`
	Bidder      int64    `json:"bidder"`
	Price       Decimal3 `json:"price"`
	BidTimeType string   `json:"bidTimeType"`
	DateTime    Time     `json:"dateTime"`
	Extra       string   `json:"extra"`
	CCounts     int64    `json:"c_counts"`
}

func bidTimeType(ts Time) string {
	h := time.UnixMilli(int64(ts)).UTC().Hour()
	switch {
	case h >= 8 && h <= 18:
		return "dayTime"
	case h <= 6 || h >= 20:
		return "nightTime"
	}
	return "otherTime"
}

// q14: calculation. Bids whose euro price is strictly between 1,000,000
// and 50,000,000, with the time of day (UTC hour) and the number of 'c'
// in extra. Append.
func q14() Query {
	return define("q14", "Calculation", Append, func(s weir.Stream[Event]) weir.Stream[Q14Row] {
		return weir.FlatMap(bids(s), func(b *Bid, out weir.Collector[Q14Row]) error {
			p := b.Price * 908 // thousandths
			if p > 1_000_000_000 && p < 50_000_000_000 {
				out.Collect(Q14Row{b.Auction, b.Bidder, Decimal3(p), bidTimeType(b.DateTime), b.DateTime, b.Extra, int64(strings.Count(b.Extra, "c"))})
			}
			return nil
		}).Name("q14")
	}, nil, refQ14)
}

// Q18Row is a row of q18 (and the bid columns of q20).
type Q18Row struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	Channel  string `json:"channel"`
	URL      string `json:"url"`
	DateTime Time   `json:"dateTime"`
	Extra    string `json:"extra"`
}

// BidderAuction is q18's key.
type BidderAuction struct{ Bidder, Auction int64 }

// lastOrder is what q18 kept of the last bid of a pair up to 0d98c66
// (state "last"): the columns that order bids. Keys restored into it move
// to "lastTie" on their first record.
type lastOrder struct {
	DateTime Time
	Price    int64
	Extra    string
}

// lastTie is what q18 keeps of the last bid of a pair (state "lastTie"):
// the columns that order bids, with extra as its tie fingerprint
// (extraTie). It holds no pointer: the heap backend's maps of pairs are
// then memory the GC never scans, and the bids' extra strings (about 70
// bytes each, one per pair) are not kept alive by the state.
type lastTie struct {
	DateTime Time
	Price    int64
	Tie      uint64
}

// q18Order returns what orders b in q18.
func q18Order(b *Bid) lastTie { return lastTie{b.DateTime, b.Price, extraTie(b.Extra)} }

// after reports whether a replaces b as the last bid of a pair in q18: a
// later time; ties, which the SQL leaves to arrival order, go to the
// higher price, then the greater fingerprint of extra (extraTie); a bid
// equal to the kept one in all three does not replace it. The reference
// (refQ18) orders bids the same way.
func (a lastTie) after(b lastTie) bool {
	switch {
	case a.DateTime != b.DateTime:
		return a.DateTime > b.DateTime
	case a.Price != b.Price:
		return a.Price > b.Price
	}
	return a.Tie > b.Tie
}

// extraTie is the fingerprint of a bid's extra that breaks q18's ties of
// time and price: a 64-bit hash of its bytes, 8 at a time (little
// endian), mixed with splitmix64's multipliers. It is persisted in q18's
// state, so it must never change: a restored pair would order its next
// tie differently from the reference.
func extraTie(s string) uint64 {
	h := uint64(len(s)) * 0x9e3779b97f4a7c15
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
		s = s[8:]
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	h = (h ^ w) * 0x94d049bb133111eb
	return h ^ h>>29
}

// q18: find last bid. The last bid of every (bidder, auction)
// (ROW_NUMBER by dateTime descending, rank 1): a deduplication that
// updates; the final table has one row per pair.
func q18() Query {
	return define("q18", "Find Last Bid", Update, q18Stream,
		lastPerKey(func(r Q18Row) BidderAuction { return BidderAuction{r.Bidder, r.Auction} }), refQ18)
}

// q18Stream is q18's pipeline: its rows are upserts by (bidder, auction).
func q18Stream(s weir.Stream[Event]) weir.Stream[Q18Row] {
	return weir.ProcessKeyed(weir.KeyBy(bids(s), func(b *Bid) BidderAuction { return BidderAuction{b.Bidder, b.Auction} }), &q18Last{}).Name("q18")
}

// q18Last keeps the last bid of every pair in "lastTie". Keys restored
// into "last" (the layout up to 0d98c66) move to "lastTie" on their first
// record; whether any was restored there is checked once, on the first
// record.
type q18Last struct {
	last    state.Value[lastTie]
	old     state.Value[lastOrder]
	checked bool
	hasOld  bool
}

func (q *q18Last) Open(ctx *weir.KeyedRuntimeContext[BidderAuction]) error {
	q.last = state.GetValue[BidderAuction, lastTie](ctx.State(), state.Descriptor{Name: "lastTie"})
	q.old = state.GetValue[BidderAuction, lastOrder](ctx.State(), state.Descriptor{Name: "last"})
	return nil
}

func (q *q18Last) ProcessElement(ctx *weir.KeyedContext[BidderAuction, Q18Row], b *Bid) error {
	cur, ok := q.last.Value()
	if !ok {
		if !q.checked {
			q.checked = true
			err := state.KeysOf[BidderAuction](q.old, func(BidderAuction) { q.hasOld = true })
			if err != nil {
				return err
			}
		}
		if q.hasOld {
			if o, found := q.old.Value(); found {
				cur, ok = lastTie{o.DateTime, o.Price, extraTie(o.Extra)}, true
				q.old.Clear()
				q.last.Update(cur) // moved even if b does not replace it
			}
		}
	}
	if ok && (b.DateTime < cur.DateTime || b.DateTime == cur.DateTime && !q18Order(b).after(cur)) {
		return nil
	}
	q.last.Update(q18Order(b))
	ctx.Collect(Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra})
	return nil
}

// Q20Row is a row of q20: a bid with its auction.
type Q20Row struct {
	Auction         int64  `json:"auction"`
	Bidder          int64  `json:"bidder"`
	Price           int64  `json:"price"`
	Channel         string `json:"channel"`
	URL             string `json:"url"`
	BidDateTime     Time   `json:"bid_dateTime"`
	BidExtra        string `json:"bid_extra"`
	ItemName        string `json:"itemName"`
	Description     string `json:"description"`
	InitialBid      int64  `json:"initialBid"`
	Reserve         int64  `json:"reserve"`
	AuctionDateTime Time   `json:"auction_dateTime"`
	Expires         Time   `json:"expires"`
	Seller          int64  `json:"seller"`
	Category        int64  `json:"category"`
	AuctionExtra    string `json:"auction_extra"`
}

func q20Row(b *Bid, a *Auction) Q20Row {
	return Q20Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra,
		a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category, a.Extra}
}

// q20: expand bid with auction. Every bid joined with its auction if the
// auction's category is 10: a regular join keeping both sides; append.
//
// The join sees every auction, not only those of category 10, and
// remembers the others as nil: an auction id is the auction's key (it
// occurs once), so a bid of an auction known to be of another category can
// never match and is dropped, and the bids waiting for such an auction go
// when it arrives. With the filter before the join (as Flink's planner
// pushes it) the join cannot tell "not yet" from "never" and kept nearly
// every bid for ever (~0.9 GB at 5M events, which the GC marked again and
// again); now it keeps one entry per auction and the few bids that come
// before their auction.
func q20() Query {
	return define("q20", "Expand Bid with Auction", Append, func(s weir.Stream[Event]) weir.Stream[Q20Row] {
		return weir.CoProcessKeyed(weir.ConnectKeyed(
			weir.KeyBy(auctions(s), func(a *Auction) int64 { return a.ID }),
			weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Auction })), &q20Join{}).Name("q20Join")
	}, nil, refQ20)
}

// q20Category is the category q20 joins.
const q20Category = 10

type q20Join struct {
	// auction: the key's auction if its category is q20Category, nil if
	// it is of another; absent until it arrives.
	auction state.Value[*Auction]
	// pending: the bids that came before their auction.
	pending state.List[*Bid]
}

func (j *q20Join) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	j.auction = state.GetValue[int64, *Auction](ctx.State(), state.Descriptor{Name: "auction"})
	j.pending = state.GetList[int64, *Bid](ctx.State(), state.Descriptor{Name: "bids"})
	return nil
}

func (j *q20Join) ProcessElement1(ctx *weir.KeyedContext[int64, Q20Row], a *Auction) error {
	if a.Category != q20Category {
		j.auction.Update(nil)
		j.pending.Clear()
		return nil
	}
	j.auction.Update(a)
	for _, b := range j.pending.Get() {
		ctx.Collect(q20Row(b, a))
	}
	j.pending.Clear()
	return nil
}

func (j *q20Join) ProcessElement2(ctx *weir.KeyedContext[int64, Q20Row], b *Bid) error {
	if a, ok := j.auction.Value(); ok {
		if a != nil {
			ctx.Collect(q20Row(b, a))
		}
		return nil
	}
	j.pending.Add(b)
	return nil
}
