package nexmark

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Reference constants of the generator (GeneratorConfig, PersonGenerator,
// AuctionGenerator, BidGenerator of the nexmark project).
const (
	// FirstPersonID is the id of the first person.
	FirstPersonID = 1000
	// FirstAuctionID is the id of the first auction.
	FirstAuctionID = 1000
	// FirstCategoryID is the first of the NumCategories category ids.
	FirstCategoryID = 10
	// NumCategories is the number of auction categories.
	NumCategories = 5

	personIDLead   = 10
	auctionIDLead  = 10
	hotSellerBatch = 100 // sellers are chosen from batches of this many people
	hotAuctionRun  = 100 // hot auctions are the first of batches of this many
	hotBidderBatch = 100
	minStringLen   = 3

	numChannels      = 10000
	hotChannelsRatio = 2
)

var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannel = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// Config configures the generator. DefaultConfig gives the reference's
// defaults; the zero value is not valid.
type Config struct {
	// Events is the number of events to generate; 0 or less: unbounded.
	Events int64
	// Seed makes the random choices of every event deterministic: event
	// number n is a function of Seed, n and the configuration only, not of
	// the parallelism that generates it.
	Seed uint64
	// Rate is the number of events per second of event time (the
	// reference's first-event.rate): event n has timestamp
	// BaseTime + n/Rate seconds.
	Rate float64
	// BaseTime is the timestamp of event 0 in milliseconds.
	BaseTime int64

	// PersonProportion, AuctionProportion and BidProportion divide every
	// run of their sum of events (1:3:46).
	PersonProportion, AuctionProportion, BidProportion int
	// HotAuctionRatio: a bid is for a hot auction with probability
	// 1-1/HotAuctionRatio; likewise for sellers and bidders.
	HotAuctionRatio, HotSellersRatio, HotBiddersRatio int
	// NumActivePeople is the number of recent people chosen from as
	// bidders and sellers.
	NumActivePeople int
	// NumInFlightAuctions is the number of recent auctions bids go to.
	NumInFlightAuctions int
	// AvgPersonByteSize, AvgAuctionByteSize and AvgBidByteSize set the
	// length of the extra field.
	AvgPersonByteSize, AvgAuctionByteSize, AvgBidByteSize int
}

// DefaultBaseTime is the default timestamp of event 0:
// 2024-01-01T00:00:00Z.
const DefaultBaseTime = 1704067200000

// DefaultConfig returns the reference configuration (NexmarkConfiguration)
// for events events at 10,000 events per second of event time.
func DefaultConfig(events int64, seed uint64) Config {
	return Config{
		Events:              events,
		Seed:                seed,
		Rate:                10000,
		BaseTime:            DefaultBaseTime,
		PersonProportion:    1,
		AuctionProportion:   3,
		BidProportion:       46,
		HotAuctionRatio:     2,
		HotSellersRatio:     4,
		HotBiddersRatio:     4,
		NumActivePeople:     1000,
		NumInFlightAuctions: 100,
		AvgPersonByteSize:   200,
		AvgAuctionByteSize:  500,
		AvgBidByteSize:      100,
	}
}

// ErrInvalidConfig is matched by the error of a bad Config.
var ErrInvalidConfig = errors.New("nexmark: invalid config")

// Validate reports a configuration the generator cannot use.
func (c Config) Validate() error {
	switch {
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("%w: rate %v must be positive", ErrInvalidConfig, c.Rate)
	case c.PersonProportion < 1 || c.AuctionProportion < 1 || c.BidProportion < 1:
		return fmt.Errorf("%w: proportions %d:%d:%d must be positive", ErrInvalidConfig, c.PersonProportion, c.AuctionProportion, c.BidProportion)
	case c.HotAuctionRatio < 1 || c.HotSellersRatio < 1 || c.HotBiddersRatio < 1:
		return fmt.Errorf("%w: hot ratios must be positive", ErrInvalidConfig)
	case c.NumActivePeople < 1 || c.NumInFlightAuctions < 1:
		return fmt.Errorf("%w: active people and in-flight auctions must be positive", ErrInvalidConfig)
	case c.AvgPersonByteSize < 0 || c.AvgAuctionByteSize < 0 || c.AvgBidByteSize < 0:
		return fmt.Errorf("%w: average sizes must not be negative", ErrInvalidConfig)
	}
	return nil
}

func (c Config) total() int64 {
	return int64(c.PersonProportion + c.AuctionProportion + c.BidProportion)
}

// Timestamp returns the event time of event number n in milliseconds.
func (c Config) Timestamp(n int64) int64 {
	delayUs := 1e6 / c.Rate
	return c.BaseTime + int64(float64(n)*delayUs)/1000
}

// Type returns the type of event number n.
func (c Config) Type(n int64) EventType {
	rem := n % c.total()
	switch {
	case rem < int64(c.PersonProportion):
		return PersonEvent
	case rem < int64(c.PersonProportion+c.AuctionProportion):
		return AuctionEvent
	}
	return BidEvent
}

// lastPerson returns the base-0 id of the last person generated at or
// before event n.
func (c Config) lastPerson(n int64) int64 {
	epoch, off := n/c.total(), n%c.total()
	if off >= int64(c.PersonProportion) {
		off = int64(c.PersonProportion) - 1
	}
	return epoch*int64(c.PersonProportion) + off
}

// lastAuction returns the base-0 id of the last auction generated at or
// before event n (-1 before the first).
func (c Config) lastAuction(n int64) int64 {
	epoch, off := n/c.total(), n%c.total()
	switch {
	case off < int64(c.PersonProportion):
		epoch--
		off = int64(c.AuctionProportion) - 1
	case off >= int64(c.PersonProportion+c.AuctionProportion):
		off = int64(c.AuctionProportion) - 1
	default:
		off -= int64(c.PersonProportion)
	}
	return epoch*int64(c.AuctionProportion) + off
}

// Generator makes events from event numbers. It is not safe for concurrent
// use: every source subtask has its own.
type Generator struct {
	cfg      Config
	pcg      *rand.PCG
	r        *rand.Rand
	buf      []byte
	channels []string
	urls     []string
	hotURLs  []string
}

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(0, 0)
	g := &Generator{cfg: cfg, pcg: pcg, r: rand.New(pcg), buf: make([]byte, 0, 256)}
	// The channel table: numChannels channels with their URLs, drawn from
	// the seed, and the URLs of the hot channels.
	// Its strings are carved from one buffer: a few allocations instead
	// of about ten per channel, which a job of a million events would
	// count as 0.1 per event. A bid's Channel and URL are substrings of
	// it, so a bid (or row) kept after its generator is gone keeps the
	// whole buffer (about 820 KB) alive: one per generator, that is per
	// source subtask and run, never per event.
	g.pcg.Seed(cfg.Seed, math.MaxUint64)
	var t stringTable
	for range hotChannel {
		t.buf = g.appendBaseURL(t.buf)
		t.end()
	}
	var digits []byte
	for i := range numChannels {
		t.buf = strconv.AppendInt(append(t.buf, "channel-"...), int64(i), 10)
		t.end()
		t.buf = g.appendBaseURL(t.buf)
		if g.r.IntN(10) > 0 {
			// The hash of i's decimal digits reversed.
			digits = strconv.AppendInt(digits[:0], int64(i), 10)
			slices.Reverse(digits)
			t.buf = strconv.AppendInt(append(t.buf, "&channel_id="...), int64(math.Abs(float64(javaHash(string(digits))))), 10)
		}
		t.end()
	}
	strs := t.strings()
	g.hotURLs, strs = strs[:len(hotChannel)], strs[len(hotChannel):]
	g.channels = make([]string, numChannels)
	g.urls = make([]string, numChannels)
	for i := range numChannels {
		g.channels[i], g.urls[i] = strs[2*i], strs[2*i+1]
	}
	return g, nil
}

// stringTable builds strings in one buffer; strings cuts them out of one
// string of it.
type stringTable struct {
	buf  []byte
	ends []int
}

// end ends the string being built at the end of buf.
func (t *stringTable) end() { t.ends = append(t.ends, len(t.buf)) }

// strings returns the strings ended so far, in order.
func (t *stringTable) strings() []string {
	all := string(t.buf)
	out := make([]string, len(t.ends))
	start := 0
	for i, e := range t.ends {
		out[i], start = all[start:e], e
	}
	return out
}

// Config returns the generator's configuration.
func (g *Generator) Config() Config { return g.cfg }

// Event returns event number n. Its random choices come from a generator
// seeded with the configured seed and n.
func (g *Generator) Event(n int64) Event {
	g.pcg.Seed(g.cfg.Seed, uint64(n))
	ts := g.cfg.Timestamp(n)
	switch g.cfg.Type(n) {
	case PersonEvent:
		p := new(Person)
		g.person(p, n, ts)
		return Event{Type: PersonEvent, Person: p}
	case AuctionEvent:
		a := new(Auction)
		g.auction(a, n, ts)
		return Event{Type: AuctionEvent, Auction: a}
	}
	b := new(Bid)
	g.bid(b, n, ts)
	return Event{Type: BidEvent, Bid: b}
}

// eventRecords are the records eventInto writes events into.
type eventRecords struct {
	person  Person
	auction Auction
	bid     Bid
}

// eventInto returns event n as Event does, but its Person, Auction or Bid
// is written over the one in into, which the next call overwrites: the
// caller copies out what it keeps. An event whose type want does not hold
// comes back with its Type alone, its record not generated (the events
// of a generator depend only on their numbers, so skipping one changes
// no other).
func (g *Generator) eventInto(n int64, into *eventRecords, want *[3]bool) Event {
	typ := g.cfg.Type(n)
	if !want[typ] {
		return Event{Type: typ}
	}
	g.pcg.Seed(g.cfg.Seed, uint64(n))
	ts := g.cfg.Timestamp(n)
	switch typ {
	case PersonEvent:
		g.person(&into.person, n, ts)
		return Event{Type: PersonEvent, Person: &into.person}
	case AuctionEvent:
		g.auction(&into.auction, n, ts)
		return Event{Type: AuctionEvent, Auction: &into.auction}
	}
	g.bid(&into.bid, n, ts)
	return Event{Type: BidEvent, Bid: &into.bid}
}

// person writes person event n, at ts, over *p.
func (g *Generator) person(p *Person, n, ts int64) {
	*p = Person{ID: g.cfg.lastPerson(n) + FirstPersonID, DateTime: Time(ts)}
	r := g.r
	p.Name = firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
	p.EmailAddress = g.str(7) + "@" + g.str(5) + ".com"
	b := g.buf[:0]
	for i := range 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		v := r.IntN(10000)
		b = append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	g.buf = b
	p.CreditCard = string(b)
	p.City = usCities[r.IntN(len(usCities))]
	p.State = usStates[r.IntN(len(usStates))]
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = g.extra(size, g.cfg.AvgPersonByteSize)
}

// nextPerson returns a random base-0 person id among the active people
// plus a few not yet created.
func (g *Generator) nextPerson(n int64) int64 {
	num := g.cfg.lastPerson(n) + 1
	active := min(num, int64(g.cfg.NumActivePeople))
	return num - active + g.r.Int64N(active+personIDLead)
}

// nextAuction returns a random base-0 auction id among the in-flight
// auctions plus a few not yet created.
func (g *Generator) nextAuction(n int64) int64 {
	last := g.cfg.lastAuction(n)
	lo := max(last-int64(g.cfg.NumInFlightAuctions), 0)
	return lo + g.r.Int64N(last-lo+1+auctionIDLead)
}

// auction writes auction event n, at ts, over *a.
func (g *Generator) auction(a *Auction, n, ts int64) {
	c, r := &g.cfg, g.r
	*a = Auction{ID: c.lastAuction(n) + FirstAuctionID, DateTime: Time(ts)}
	if r.IntN(c.HotSellersRatio) > 0 {
		a.Seller = c.lastPerson(n) / hotSellerBatch * hotSellerBatch
	} else {
		a.Seller = g.nextPerson(n)
	}
	a.Seller += FirstPersonID
	a.Category = FirstCategoryID + int64(r.IntN(NumCategories))
	a.InitialBid = g.price()
	// Auctions last on average as long as it takes to generate
	// NumInFlightAuctions more auctions.
	ahead := int64(c.NumInFlightAuctions) * c.total() / int64(c.AuctionProportion)
	horizon := c.Timestamp(n+ahead) - ts
	a.Expires = Time(ts + 1 + r.Int64N(max(horizon*2, 1)))
	a.ItemName = g.str(20)
	a.Description = g.str(100)
	a.Reserve = a.InitialBid + g.price()
	a.Extra = g.extra(8+len(a.ItemName)+len(a.Description)+40, c.AvgAuctionByteSize)
}

// bid writes bid event n, at ts, over *b.
func (g *Generator) bid(b *Bid, n, ts int64) {
	c, r := &g.cfg, g.r
	*b = Bid{DateTime: Time(ts)}
	if r.IntN(c.HotAuctionRatio) > 0 {
		b.Auction = c.lastAuction(n) / hotAuctionRun * hotAuctionRun
	} else {
		b.Auction = g.nextAuction(n)
	}
	b.Auction += FirstAuctionID
	if r.IntN(c.HotBiddersRatio) > 0 {
		b.Bidder = c.lastPerson(n)/hotBidderBatch*hotBidderBatch + 1
	} else {
		b.Bidder = g.nextPerson(n)
	}
	b.Bidder += FirstPersonID
	b.Price = g.price()
	if r.IntN(hotChannelsRatio) > 0 {
		i := r.IntN(len(hotChannel))
		b.Channel, b.URL = hotChannel[i], g.hotURLs[i]
	} else {
		i := r.IntN(numChannels)
		b.Channel, b.URL = g.channels[i], g.urls[i]
	}
	b.Extra = g.extra(32, c.AvgBidByteSize)
}

// price returns a price between 1 and 100,000,000 (cents), log-uniform.
func (g *Generator) price() int64 {
	return int64(math.Round(math.Exp(g.r.Float64()*6*math.Ln10) * 100))
}

// str returns a random string of lower-case letters and inner spaces, of
// at most maxLen characters.
func (g *Generator) str(maxLen int) string {
	n := minStringLen + g.r.IntN(maxLen-minStringLen)
	b := g.buf[:0]
	for range n {
		if g.r.IntN(13) == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, byte('a'+g.r.IntN(26)))
		}
	}
	g.buf = b
	lo, hi := 0, len(b)
	for lo < hi && b[lo] == ' ' {
		lo++
	}
	for hi > lo && b[hi-1] == ' ' {
		hi--
	}
	return string(b[lo:hi])
}

// exact returns a random string of n lower-case letters. Each random
// 64-bit word, read as a fraction in [0, 1), gives up to 12 letters as its
// base-26 digits (one multiplication each).
func (g *Generator) exact(n int) string {
	b := g.buf[:0]
	var x uint64
	left := 0
	for range n {
		if left == 0 {
			x, left = g.r.Uint64(), 12
		}
		hi, lo := bits.Mul64(x, 26)
		b = append(b, byte('a'+hi))
		x = lo
		left--
	}
	g.buf = b
	return string(b)
}

// extra returns padding so that size plus its length is avg on average
// (uniform within ±20%).
func (g *Generator) extra(size, avg int) string {
	if size > avg {
		return ""
	}
	avg -= size
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += g.r.IntN(2 * delta)
	}
	return g.exact(n)
}

// appendBaseURL appends a random item URL to b.
func (g *Generator) appendBaseURL(b []byte) []byte {
	b = append(b, "https://www.nexmark.com/"...)
	for i := range 3 {
		if i > 0 {
			b = append(b, '/')
		}
		n := minStringLen + g.r.IntN(5-minStringLen)
		for range n {
			if g.r.IntN(13) == 0 {
				b = append(b, '_')
			} else {
				b = append(b, byte('a'+g.r.IntN(26)))
			}
		}
	}
	return append(b, "/item.htm?query=1"...)
}

// javaHash is Java's String.hashCode of an ASCII string.
func javaHash(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		h = 31*h + int32(s[i])
	}
	return h
}

// Generate returns events 0 to cfg.Events-1 in order, for batch
// computations and files.
func Generate(cfg Config) ([]Event, error) {
	if cfg.Events <= 0 {
		return nil, fmt.Errorf("%w: Generate needs a positive event count", ErrInvalidConfig)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]Event, cfg.Events)
	for n := range out {
		out[n] = g.Event(int64(n))
	}
	return out, nil
}
