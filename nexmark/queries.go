package nexmark

import (
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

// The window sizes of the reference queries.
const (
	windowSize = 10 * time.Second // q5 (size), q7, q8, q12
	windowHop  = 2 * time.Second  // q5 slide
	sessionGap = 10 * time.Second // q11
)

func bids(s weir.Stream[Event]) weir.Stream[*Bid] {
	return weir.FlatMap(s.Filter(func(e Event) bool { return e.Type == BidEvent && e.Bid != nil }).Name("Bids"),
		func(e Event, out weir.Collector[*Bid]) error { out.Collect(e.Bid); return nil }).Name("Bid")
}

func persons(s weir.Stream[Event]) weir.Stream[*Person] {
	return weir.Map(s.Filter(func(e Event) bool { return e.Type == PersonEvent && e.Person != nil }).Name("Persons"),
		func(e Event) *Person { return e.Person }).Name("Person")
}

func auctions(s weir.Stream[Event]) weir.Stream[*Auction] {
	return weir.Map(s.Filter(func(e Event) bool { return e.Type == AuctionEvent && e.Auction != nil }).Name("Auctions"),
		func(e Event) *Auction { return e.Auction }).Name("Auction")
}

// Q0Row is a row of q0 and q7.
type Q0Row struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime Time   `json:"dateTime"`
	Extra    string `json:"extra"`
}

// q0: pass-through. SELECT auction, bidder, price, dateTime, extra FROM bid.
func q0() Query {
	return define("q0", "Pass Through", Append, func(s weir.Stream[Event]) weir.Stream[Q0Row] {
		return weir.Map(bids(s), func(b *Bid) Q0Row {
			return Q0Row{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra}
		}).Name("q0")
	}, nil, refQ0)
}

// Q1Row is a row of q1: the price in euros.
type Q1Row struct {
	Auction  int64    `json:"auction"`
	Bidder   int64    `json:"bidder"`
	Price    Decimal3 `json:"price"`
	DateTime Time     `json:"dateTime"`
	Extra    string   `json:"extra"`
}

// q1: currency conversion. SELECT auction, bidder, 0.908 * price as price,
// dateTime, extra FROM bid.
func q1() Query {
	return define("q1", "Currency Conversion", Append, func(s weir.Stream[Event]) weir.Stream[Q1Row] {
		return weir.Map(bids(s), func(b *Bid) Q1Row {
			return Q1Row{Auction: b.Auction, Bidder: b.Bidder, Price: Decimal3(b.Price * 908), DateTime: b.DateTime, Extra: b.Extra}
		}).Name("q1")
	}, nil, refQ1)
}

// Q2Row is a row of q2.
type Q2Row struct {
	Auction int64 `json:"auction"`
	Price   int64 `json:"price"`
}

// q2: selection. SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0.
func q2() Query {
	return define("q2", "Selection", Append, func(s weir.Stream[Event]) weir.Stream[Q2Row] {
		return weir.Map(bids(s).Filter(func(b *Bid) bool { return b.Auction%123 == 0 }).Name("q2Filter"),
			func(b *Bid) Q2Row { return Q2Row{Auction: b.Auction, Price: b.Price} }).Name("q2")
	}, nil, refQ2)
}

// Q3Row is a row of q3.
type Q3Row struct {
	Name  string `json:"name"`
	City  string `json:"city"`
	State string `json:"state"`
	ID    int64  `json:"id"`
}

// q3: local item suggestion. SELECT P.name, P.city, P.state, A.id FROM
// auction A INNER JOIN person P on A.seller = P.id WHERE A.category = 10
// and P.state IN ('OR', 'ID', 'CA'): a regular join keeping both sides; as
// both inputs only insert, the output only appends.
func q3() Query {
	return define("q3", "Local Item Suggestion", Append, func(s weir.Stream[Event]) weir.Stream[Q3Row] {
		p := persons(s).Filter(func(p *Person) bool { return p.State == "OR" || p.State == "ID" || p.State == "CA" }).Name("q3Persons")
		a := auctions(s).Filter(func(a *Auction) bool { return a.Category == 10 }).Name("q3Auctions")
		return weir.CoProcessKeyed(weir.ConnectKeyed(
			weir.KeyBy(p, func(p *Person) int64 { return p.ID }),
			weir.KeyBy(a, func(a *Auction) int64 { return a.Seller })), &q3Join{}).Name("q3Join")
	}, nil, refQ3)
}

// Q3Seller is the state q3 keeps of a person.
type Q3Seller struct{ Name, City, State string }

type q3Join struct {
	person  state.Value[Q3Seller]
	pending state.List[int64]
}

func (j *q3Join) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	j.person = state.GetValue[int64, Q3Seller](ctx.State(), state.Descriptor{Name: "person"})
	j.pending = state.GetList[int64, int64](ctx.State(), state.Descriptor{Name: "auctions"})
	return nil
}

func (j *q3Join) ProcessElement1(ctx *weir.KeyedContext[int64, Q3Row], p *Person) error {
	j.person.Update(Q3Seller{Name: p.Name, City: p.City, State: p.State})
	for _, id := range j.pending.Get() {
		ctx.Collect(Q3Row{Name: p.Name, City: p.City, State: p.State, ID: id})
	}
	j.pending.Clear()
	return nil
}

func (j *q3Join) ProcessElement2(ctx *weir.KeyedContext[int64, Q3Row], a *Auction) error {
	if p, ok := j.person.Value(); ok {
		ctx.Collect(Q3Row{Name: p.Name, City: p.City, State: p.State, ID: a.ID})
		return nil
	}
	j.pending.Add(a.ID)
	return nil
}

// Q4Row is a row of q4: a category and the average winning price.
type Q4Row struct {
	ID    int64 `json:"id"`
	Final int64 `json:"final"`
}

// q4: average price for a category. The maximum bid of every auction
// among its bids between its dateTime and expires (both included), then
// the average of those maxima per category (BIGINT average: truncated).
// Both steps update; the final table has one row per category.
func q4() Query {
	return define("q4", "Average Price for a Category", Update, func(s weir.Stream[Event]) weir.Stream[Q4Row] {
		maxima := winningBids(s)
		return weir.ProcessKeyed(weir.KeyBy(maxima, func(c MaxChange) int64 { return c.Category }), &q4Avg{}).Name("q4Avg")
	}, lastPerKey(func(r Q4Row) int64 { return r.ID }), refQ4)
}

// MaxChange is an update of an auction's highest valid bid.
type MaxChange struct {
	Category int64
	Old      int64 // previous maximum; 0 if HadOld is false
	HadOld   bool
	New      int64
}

// winningBids joins auctions with their bids (by auction id, bid time
// within the auction's life) and emits every change of an auction's
// maximum price.
func winningBids(s weir.Stream[Event]) weir.Stream[MaxChange] {
	return weir.CoProcessKeyed(weir.ConnectKeyed(
		weir.KeyBy(auctions(s), func(a *Auction) int64 { return a.ID }),
		weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Auction })), &maxJoin{}).Name("q4Join")
}

// AuctionLife is what the auction side of q4 keeps.
type AuctionLife struct {
	Start, Expires, Category int64
}

// PendingBid is a bid kept until its auction arrives.
type PendingBid struct{ Price, DateTime int64 }

type maxJoin struct {
	auction state.Value[AuctionLife]
	max     state.Value[int64]
	pending state.List[PendingBid]
}

func (j *maxJoin) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	j.auction = state.GetValue[int64, AuctionLife](ctx.State(), state.Descriptor{Name: "auction"})
	j.max = state.GetValue[int64, int64](ctx.State(), state.Descriptor{Name: "max"})
	j.pending = state.GetList[int64, PendingBid](ctx.State(), state.Descriptor{Name: "bids"})
	return nil
}

func (j *maxJoin) ProcessElement1(ctx *weir.KeyedContext[int64, MaxChange], a *Auction) error {
	life := AuctionLife{Start: int64(a.DateTime), Expires: int64(a.Expires), Category: a.Category}
	j.auction.Update(life)
	best, found := int64(0), false
	for _, b := range j.pending.Get() {
		if b.DateTime >= life.Start && b.DateTime <= life.Expires && (!found || b.Price > best) {
			best, found = b.Price, true
		}
	}
	j.pending.Clear()
	if found {
		j.max.Update(best)
		ctx.Collect(MaxChange{Category: life.Category, New: best})
	}
	return nil
}

func (j *maxJoin) ProcessElement2(ctx *weir.KeyedContext[int64, MaxChange], b *Bid) error {
	life, ok := j.auction.Value()
	if !ok {
		j.pending.Add(PendingBid{Price: b.Price, DateTime: int64(b.DateTime)})
		return nil
	}
	ts := int64(b.DateTime)
	if ts < life.Start || ts > life.Expires {
		return nil
	}
	old, had := j.max.Value()
	if had && b.Price <= old {
		return nil
	}
	j.max.Update(b.Price)
	ctx.Collect(MaxChange{Category: life.Category, Old: old, HadOld: had, New: b.Price})
	return nil
}

// SumCount is q4's running average.
type SumCount struct{ Sum, Count int64 }

type q4Avg struct{ acc state.Value[SumCount] }

func (a *q4Avg) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	a.acc = state.GetValue[int64, SumCount](ctx.State(), state.Descriptor{Name: "avg"})
	return nil
}

func (a *q4Avg) ProcessElement(ctx *weir.KeyedContext[int64, Q4Row], c MaxChange) error {
	sc, _ := a.acc.Value()
	if c.HadOld {
		sc.Sum += c.New - c.Old
	} else {
		sc.Sum += c.New
		sc.Count++
	}
	a.acc.Update(sc)
	ctx.Collect(Q4Row{ID: c.Category, Final: sc.Sum / sc.Count})
	return nil
}

// lastPerKey returns the final table of upserts: the last row of every key.
func lastPerKey[R any, K comparable](key func(R) K) func([]R) []R {
	return func(rows []R) []R {
		idx := map[K]int{}
		var out []R
		for _, r := range rows {
			if i, ok := idx[key(r)]; ok {
				out[i] = r
				continue
			}
			idx[key(r)] = len(out)
			out = append(out, r)
		}
		return out
	}
}

// Q5Row is a row of q5.
type Q5Row struct {
	Auction int64 `json:"auction"`
	Num     int64 `json:"num"`
}

// AuctionCount is the number of bids of an auction in a window.
type AuctionCount struct {
	Auction, Num, End int64
}

// q5: hot items. The number of bids per auction in sliding windows of 10 s
// every 2 s, and the auctions with the most bids of each window (all of
// them on a tie). The reference SQL joins with a non-windowed maximum and
// so updates; Weir emits each window's final rows once, when the
// watermark passes the window, which is the reference's final table.
func q5() Query {
	return define("q5", "Hot Items", Append, func(s weir.Stream[Event]) weir.Stream[Q5Row] {
		counts := weir.WindowAggregateProcess(
			weir.Window(weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Auction }),
				window.SlidingEventTime[*Bid](windowSize, windowHop)),
			countBids{},
			weir.ProcessWindowFunc[int64, int64, AuctionCount, window.TimeWindow](
				func(ctx *weir.WindowContext[int64, AuctionCount, window.TimeWindow], auction int64, n []int64) error {
					ctx.Collect(AuctionCount{Auction: auction, Num: n[0], End: ctx.Window().End})
					return nil
				})).Name("q5Count")
		return weir.ProcessKeyed(weir.KeyBy(counts, func(c AuctionCount) int64 { return c.End }), &q5Max{}).Name("q5Max")
	}, nil, refQ5)
}

type countBids struct{}

func (countBids) CreateAccumulator() int64             { return 0 }
func (countBids) Add(acc int64, _ *Bid) (int64, error) { return acc + 1, nil }
func (countBids) Result(acc int64) (int64, error)      { return acc, nil }
func (countBids) Merge(a, b int64) (int64, error)      { return a + b, nil }

type q5Max struct {
	max  state.Value[int64]
	tops state.List[int64]
}

func (m *q5Max) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	m.max = state.GetValue[int64, int64](ctx.State(), state.Descriptor{Name: "max"})
	m.tops = state.GetList[int64, int64](ctx.State(), state.Descriptor{Name: "top"})
	return nil
}

func (m *q5Max) ProcessElement(ctx *weir.KeyedContext[int64, Q5Row], c AuctionCount) error {
	cur, ok := m.max.Value()
	switch {
	case !ok:
		ctx.RegisterEventTimeTimer(c.End - 1)
		fallthrough
	case c.Num > cur:
		m.max.Update(c.Num)
		m.tops.Update([]int64{c.Auction})
	case c.Num == cur:
		m.tops.Add(c.Auction)
	}
	return nil
}

func (m *q5Max) OnTimer(ctx *weir.KeyedContext[int64, Q5Row], _ int64) error {
	n, _ := m.max.Value()
	for _, a := range m.tops.Get() {
		ctx.Collect(Q5Row{Auction: a, Num: n})
	}
	m.max.Clear()
	m.tops.Clear()
	return nil
}

// WindowBid is a bid routed to a q7 window: the window it belongs to, or,
// for a bid exactly at a window's end (Edge), the window before.
type WindowBid struct {
	Start int64
	Edge  bool
	Bid   *Bid
}

// q7: highest bid. The bids whose price is the maximum of a 10 s tumbling
// window and whose time is within that window, its end included (the
// reference's BETWEEN window_end - 10 s AND window_end). Append.
func q7() Query {
	size := windowSize.Milliseconds()
	return define("q7", "Highest Bid", Append, func(s weir.Stream[Event]) weir.Stream[Q0Row] {
		routed := weir.FlatMap(bids(s), func(b *Bid, out weir.Collector[WindowBid]) error {
			start := window.StartWithOffset(int64(b.DateTime), 0, size)
			out.Collect(WindowBid{Start: start, Bid: b})
			if int64(b.DateTime) == start {
				out.Collect(WindowBid{Start: start - size, Edge: true, Bid: b})
			}
			return nil
		}).Name("q7Route")
		return weir.ProcessKeyed(weir.KeyBy(routed, func(w WindowBid) int64 { return w.Start }), &q7Max{size: size}).Name("q7Max")
	}, nil, refQ7)
}

type q7Max struct {
	size  int64
	max   state.Value[int64]
	tops  state.List[Q0Row]
	edges state.List[Q0Row]
}

func (m *q7Max) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	m.max = state.GetValue[int64, int64](ctx.State(), state.Descriptor{Name: "max"})
	m.tops = state.GetList[int64, Q0Row](ctx.State(), state.Descriptor{Name: "top"})
	m.edges = state.GetList[int64, Q0Row](ctx.State(), state.Descriptor{Name: "edge"})
	return nil
}

func (m *q7Max) ProcessElement(ctx *weir.KeyedContext[int64, Q0Row], w WindowBid) error {
	b := w.Bid
	row := Q0Row{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra}
	ctx.RegisterEventTimeTimer(w.Start + m.size)
	if w.Edge {
		m.edges.Add(row)
		return nil
	}
	cur, ok := m.max.Value()
	switch {
	case !ok || b.Price > cur:
		m.max.Update(b.Price)
		m.tops.Update([]Q0Row{row})
	case b.Price == cur:
		m.tops.Add(row)
	}
	return nil
}

// OnTimer fires when the watermark reaches the window's end: every bid at
// or before the end has arrived.
func (m *q7Max) OnTimer(ctx *weir.KeyedContext[int64, Q0Row], _ int64) error {
	if n, ok := m.max.Value(); ok {
		for _, r := range m.tops.Get() {
			ctx.Collect(r)
		}
		for _, r := range m.edges.Get() {
			if r.Price == n {
				ctx.Collect(r)
			}
		}
	}
	m.max.Clear()
	m.tops.Clear()
	m.edges.Clear()
	return nil
}

// Q8Row is a row of q8.
type Q8Row struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	StartTime Time   `json:"starttime"`
}

// Q8In is a person or an auction's seller, keyed by person id.
type Q8In struct {
	ID     int64
	Name   string
	Person bool
}

// Q8Acc is q8's window accumulator.
type Q8Acc struct {
	Name                  string
	HasPerson, HasAuction bool
}

// q8: monitor new users. The people who registered and opened an auction
// in the same 10 s tumbling window. Append.
func q8() Query {
	return define("q8", "Monitor New Users", Append, func(s weir.Stream[Event]) weir.Stream[Q8Row] {
		p := weir.Map(persons(s), func(p *Person) Q8In { return Q8In{ID: p.ID, Name: p.Name, Person: true} }).Name("q8Persons")
		a := weir.Map(auctions(s), func(a *Auction) Q8In { return Q8In{ID: a.Seller} }).Name("q8Sellers")
		return weir.WindowAggregateProcess(
			weir.Window(weir.KeyBy(weir.Union(p, a), func(v Q8In) int64 { return v.ID }),
				window.TumblingEventTime[Q8In](windowSize)),
			q8Agg{},
			weir.ProcessWindowFunc[int64, Q8Acc, Q8Row, window.TimeWindow](
				func(ctx *weir.WindowContext[int64, Q8Row, window.TimeWindow], id int64, acc []Q8Acc) error {
					if acc[0].HasPerson && acc[0].HasAuction {
						ctx.Collect(Q8Row{ID: id, Name: acc[0].Name, StartTime: Time(ctx.Window().Start)})
					}
					return nil
				})).Name("q8")
	}, nil, refQ8)
}

type q8Agg struct{}

func (q8Agg) CreateAccumulator() Q8Acc { return Q8Acc{} }
func (q8Agg) Add(acc Q8Acc, v Q8In) (Q8Acc, error) {
	if v.Person {
		if !acc.HasPerson {
			acc.Name = v.Name
		}
		acc.HasPerson = true
	} else {
		acc.HasAuction = true
	}
	return acc, nil
}
func (q8Agg) Result(acc Q8Acc) (Q8Acc, error) { return acc, nil }
func (q8Agg) Merge(a, b Q8Acc) (Q8Acc, error) {
	if !a.HasPerson {
		a.Name = b.Name
	}
	a.HasPerson = a.HasPerson || b.HasPerson
	a.HasAuction = a.HasAuction || b.HasAuction
	return a, nil
}

// Q11Row is a row of q11.
type Q11Row struct {
	Bidder    int64 `json:"bidder"`
	BidCount  int64 `json:"bid_count"`
	StartTime Time  `json:"starttime"`
	EndTime   Time  `json:"endtime"`
}

// q11: user sessions. The number of bids of each bidder per session (gap
// 10 s; the session ends 10 s after its last bid). Append.
func q11() Query {
	return define("q11", "User Sessions", Append, func(s weir.Stream[Event]) weir.Stream[Q11Row] {
		return weir.WindowAggregateProcess(
			weir.Window(weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Bidder }),
				window.EventTimeSession[*Bid](sessionGap)),
			countBids{},
			weir.ProcessWindowFunc[int64, int64, Q11Row, window.TimeWindow](
				func(ctx *weir.WindowContext[int64, Q11Row, window.TimeWindow], bidder int64, n []int64) error {
					w := ctx.Window()
					ctx.Collect(Q11Row{Bidder: bidder, BidCount: n[0], StartTime: Time(w.Start), EndTime: Time(w.End)})
					return nil
				})).Name("q11")
	}, nil, refQ11)
}

// Q12Row is a row of q12.
type Q12Row struct {
	Bidder      int64 `json:"bidder"`
	BidCount    int64 `json:"bid_count"`
	WindowStart Time  `json:"window_start"`
	WindowEnd   Time  `json:"window_end"`
}

// q12: processing-time windows. The number of bids of each bidder per
// 10 s tumbling window of processing time: nondeterministic. Append.
func q12() Query {
	return define("q12", "Processing Time Windows", Append, func(s weir.Stream[Event]) weir.Stream[Q12Row] {
		return weir.WindowAggregateProcess(
			weir.Window(weir.KeyBy(bids(s), func(b *Bid) int64 { return b.Bidder }),
				window.TumblingProcessingTime[*Bid](windowSize)),
			countBids{},
			weir.ProcessWindowFunc[int64, int64, Q12Row, window.TimeWindow](
				func(ctx *weir.WindowContext[int64, Q12Row, window.TimeWindow], bidder int64, n []int64) error {
					w := ctx.Window()
					ctx.Collect(Q12Row{Bidder: bidder, BidCount: n[0], WindowStart: Time(w.Start), WindowEnd: Time(w.End)})
					return nil
				})).Name("q12")
	}, nil, nil)
}
