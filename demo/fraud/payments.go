package fraud

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
)

// Payment is one card payment attempt.
type Payment struct {
	// ID is the payment's index in the generated sequence.
	ID uint64
	// Account is the paying account.
	Account uint32
	// Amount is in cents.
	Amount int64
	// Failed is true if the payment was declined.
	Failed bool
	// TS is the event time in milliseconds since the epoch.
	TS int64
	// Transfer is true for a transfer to another account (To) rather than
	// a card payment.
	Transfer bool
	// To is the receiving account of a transfer (0 for a card payment).
	To uint32
}

// GeneratorConfig configures the payment generator. The zero value is
// usable: every field has a default.
type GeneratorConfig struct {
	// Seed selects the sequence of payments.
	Seed int64
	// Accounts is the number of accounts (default 10,000).
	Accounts int
	// Events is the total number of payments; 0 means unbounded.
	Events int64
	// Rate limits emission to this many payments per second of processing
	// time, shared by the source's subtasks; 0 emits as fast as possible.
	Rate float64
	// Start is the event time of payment 0 in milliseconds (default
	// 2026-01-01T00:00:00Z).
	Start int64
	// EventRate is how many payments happen per second of event time
	// (default Rate if set, else 2,000).
	EventRate float64
	// FailureRate is the probability that an honest account's payment fails
	// (default 0.002).
	FailureRate float64
	// FraudFraction is the fraction of fraudulent accounts (default 0.005).
	FraudFraction float64
	// MaxDelay bounds how far a payment's timestamp lags the sequence's
	// event-time clock: the out-of-orderness (default 2s).
	MaxDelay time.Duration
}

// Fraudulent accounts fail often and sometimes spend far above their norm.
const (
	fraudFailureRate = 0.3
	fraudSpikeRate   = 0.03
)

// Honest accounts rarely transfer, always to one of a few regular payees;
// fraudulent ones transfer often, to any account, and a fifth of their
// transfers cash out: 2,500 to 10,000 units, above the mule rule's large
// transfer, so that spreading transfers followed by a cash-out (the
// mule-transfers pattern) shows up in short runs too.
const (
	honestTransferRate = 0.05
	fraudTransferRate  = 0.3
	fraudCashOutRate   = 0.2
	honestPayees       = 3
)

func (c *GeneratorConfig) fill() {
	if c.Accounts <= 0 {
		c.Accounts = 10_000
	}
	if c.Start == 0 {
		c.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	if c.EventRate <= 0 {
		c.EventRate = c.Rate
		if c.EventRate <= 0 {
			c.EventRate = 2000
		}
	}
	if c.FailureRate <= 0 {
		c.FailureRate = 0.002
	}
	if c.FraudFraction <= 0 {
		c.FraudFraction = 0.005
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 2 * time.Second
	}
}

// Generator produces payments; it is a weir.Source. Payment i depends only
// on the configuration and i.
type Generator struct {
	cfg     GeneratorConfig
	delay   int64
	emitted *atomic.Int64
}

// Validate reports a configuration the generator cannot run: a rate that
// is negative, NaN or infinite (NaN turned every timestamp into the
// minimum int64; an infinite rate never paced).
func (c GeneratorConfig) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"Rate", c.Rate}, {"EventRate", c.EventRate}, {"FailureRate", c.FailureRate}, {"FraudFraction", c.FraudFraction}} {
		if r.v < 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			return fmt.Errorf("fraud: generator %s %v: want a finite number, not negative", r.name, r.v)
		}
	}
	return nil
}

// NewGenerator returns a generator with cfg's defaults filled in. emitted,
// if not nil, counts the payments emitted so far (for status reports).
func NewGenerator(cfg GeneratorConfig, emitted *atomic.Int64) *Generator {
	cfg.fill()
	return &Generator{cfg: cfg, delay: cfg.MaxDelay.Milliseconds(), emitted: emitted}
}

// Config returns the configuration with defaults filled in.
func (g *Generator) Config() GeneratorConfig { return g.cfg }

// splitmix64 is a fast, well-mixed hash of a 64-bit value.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func (g *Generator) accountHash(a uint32, salt uint64) uint64 {
	return splitmix64(uint64(g.cfg.Seed)*0x2545f4914f6cdd1d ^ uint64(a)<<8 ^ salt)
}

// Fraudulent reports whether account a belongs to a fraudster.
func (g *Generator) Fraudulent(a uint32) bool {
	return unit(g.accountHash(a, 0xf7)) < g.cfg.FraudFraction
}

// baseAmount is account a's typical payment: 5 to 200 units.
func (g *Generator) baseAmount(a uint32) int64 {
	return 500 + int64(g.accountHash(a, 0xba)%19_500)
}

// Payment returns payment i.
func (g *Generator) Payment(i int64) Payment {
	h := splitmix64(uint64(g.cfg.Seed) ^ uint64(i)*0x9e3779b97f4a7c15)
	acct := uint32(h % uint64(g.cfg.Accounts))
	h2 := splitmix64(h)
	h3 := splitmix64(h2)
	h4 := splitmix64(h3)
	base := g.baseAmount(acct)
	failRate, spikeRate := g.cfg.FailureRate, 0.0
	fraudulent := g.Fraudulent(acct)
	if fraudulent {
		failRate, spikeRate = fraudFailureRate, fraudSpikeRate
	}
	// Honest amounts stay within 0.5 to 1.5 times the account's base; a
	// spike is 15 to 50 times.
	amount := base/2 + int64(unit(h3)*float64(base))
	if unit(h4) < spikeRate {
		amount = base * (15 + int64(h4%36))
	}
	// The event-time offset saturates (a tiny EventRate would overflow
	// the conversion to int64).
	off := math.Floor(float64(i) * 1000 / g.cfg.EventRate)
	ts := g.cfg.Start + int64(min(off, math.MaxInt64/4))
	ts -= int64(h2 % uint64(g.delay+1))
	p := Payment{ID: uint64(i), Account: acct, Amount: amount, Failed: unit(h2>>1) < failRate, TS: ts}
	// Transfers draw on a fifth hash, so the fields above do not depend on
	// them.
	h5 := splitmix64(h4)
	if fraudulent {
		if unit(h5) < fraudTransferRate {
			h6 := splitmix64(h5)
			p.Transfer, p.To = true, uint32(h6%uint64(g.cfg.Accounts))
			if h7 := splitmix64(h6); unit(h7) < fraudCashOutRate {
				p.Amount = 250_000 + int64(h7%750_001)
			}
		}
	} else if unit(h5) < honestTransferRate {
		p.Transfer, p.To = true, uint32(g.accountHash(acct, 0x70+h5%honestPayees)%uint64(g.cfg.Accounts))
	}
	return p
}

// Watermarks returns the watermark strategy that matches the generator's
// out-of-orderness: no payment is ever late.
func (g *Generator) Watermarks() weir.WatermarkStrategy[Payment] {
	return weir.ForBoundedOutOfOrderness[Payment](g.cfg.MaxDelay).
		WithTimestamps(func(p Payment) int64 { return p.TS })
}

// CreateReader returns the reader of one source subtask. Payments are
// numbered; the generator's work is a set of arithmetic sequences of
// numbers (one per subtask on a fresh start: subtask s of p emits s, s+p,
// s+2p, ...). A reader stores where each of its sequences stands in
// checkpoints; after a restore the sequences of every old reader are dealt
// out to the new ones, so a job restores exactly at any parallelism (a
// reader left without a sequence ends at once).
func (g *Generator) CreateReader(ctx weir.SourceContext) (weir.SourceReader[Payment], error) {
	if ctx.Parallelism <= 0 || ctx.Subtask < 0 || ctx.Subtask >= ctx.Parallelism {
		return nil, fmt.Errorf("fraud: bad subtask %d of %d", ctx.Subtask, ctx.Parallelism)
	}
	if err := g.cfg.Validate(); err != nil {
		return nil, err
	}
	r := &reader{g: g, time: ctx.Time}
	if ctx.Restored == nil {
		r.seqs = []sequence{{next: int64(ctx.Subtask), step: int64(ctx.Parallelism)}}
	} else {
		var all []sequence
		for _, it := range ctx.Restored {
			next, n := binary.Varint(it)
			step, m := binary.Varint(it[max(n, 0):])
			if n <= 0 || m <= 0 || step <= 0 || next < 0 {
				return nil, fmt.Errorf("fraud: corrupt generator position %x", it)
			}
			all = append(all, sequence{next: next, step: step})
		}
		slices.SortFunc(all, func(a, b sequence) int { return cmp.Compare(a.next, b.next) })
		for i, sq := range all {
			if i%ctx.Parallelism == ctx.Subtask {
				r.seqs = append(r.seqs, sq)
			}
		}
	}
	if g.cfg.Rate > 0 {
		r.rate = g.cfg.Rate / float64(ctx.Parallelism)
		r.started = ctx.Time.Now()
	}
	return r, nil
}

// pollBatch bounds the records one Poll emits.
const pollBatch = 1024

// sequence is the numbers next, next+step, ... still to emit.
type sequence struct{ next, step int64 }

type reader struct {
	g       *Generator
	seqs    []sequence
	time    weir.ProcessingTimeService
	rate    float64 // per subtask, per second; 0 = unlimited
	started int64
	emitted int64
	waiting bool
}

// pick returns the index of the sequence with the lowest next number not
// past the limit (payments are in time order by number), or -1.
func (r *reader) pick(limit int64) int {
	best := -1
	for i, sq := range r.seqs {
		if limit > 0 && sq.next >= limit {
			continue
		}
		if best < 0 || sq.next < r.seqs[best].next {
			best = i
		}
	}
	return best
}

func (r *reader) Poll(_ context.Context, out *weir.SourceOutput[Payment]) (weir.PollStatus, error) {
	limit := r.g.cfg.Events
	if r.pick(limit) < 0 {
		return weir.EndOfInput, nil
	}
	n := int64(pollBatch)
	if r.rate > 0 {
		due := int64(float64(r.time.Now()-r.started)*r.rate/1000) - r.emitted
		if due <= 0 {
			if !r.waiting {
				r.waiting = true
				at := r.started + int64(math.Ceil(float64(r.emitted+1)*1000/r.rate))
				r.time.Schedule(at, func(int64) error { r.waiting = false; return nil })
			}
			return weir.NothingAvailable, nil
		}
		n = min(n, due)
	}
	k := int64(0)
	if len(r.seqs) == 1 {
		sq := &r.seqs[0]
		for ; k < n && (limit <= 0 || sq.next < limit); k++ {
			p := r.g.Payment(sq.next)
			out.CollectWithTimestamp(p, p.TS)
			sq.next += sq.step
		}
	} else {
		for ; k < n; k++ {
			i := r.pick(limit)
			if i < 0 {
				break
			}
			p := r.g.Payment(r.seqs[i].next)
			out.CollectWithTimestamp(p, p.TS)
			r.seqs[i].next += r.seqs[i].step
		}
	}
	r.emitted += k
	if r.g.emitted != nil {
		r.g.emitted.Add(k)
	}
	if r.pick(limit) < 0 {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

// SnapshotState stores every sequence of the reader: varint next, varint
// step.
func (r *reader) SnapshotState(int64) ([][]byte, error) {
	items := make([][]byte, 0, len(r.seqs))
	for _, sq := range r.seqs {
		items = append(items, binary.AppendVarint(binary.AppendVarint(nil, sq.next), sq.step))
	}
	return items, nil
}

func (r *reader) Close() error { return nil }
