package fraud

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// Rule names the rule an alert comes from.
type Rule uint8

// Rules.
const (
	// FailedBurst: FailCount failed payments within FailWindow.
	FailedBurst Rule = iota + 1
	// AmountSpike: a payment above SpikeFactor times the running average.
	AmountSpike
	// MinuteSpend: an account's successful payments in one event-time
	// minute add up to more than MinuteSpendLimit.
	MinuteSpend
	// MuleTransfers: SpreadCount or more transfers to different accounts
	// within SpreadWindow, then a transfer of at least LargeTransfer (a
	// CEP pattern, see Patterns).
	MuleTransfers
)

// String returns the rule's name.
func (r Rule) String() string {
	switch r {
	case FailedBurst:
		return "failed-burst"
	case AmountSpike:
		return "amount-spike"
	case MinuteSpend:
		return "minute-spend"
	case MuleTransfers:
		return "mule-transfers"
	}
	return fmt.Sprintf("rule(%d)", uint8(r))
}

// Alert is a suspicion raised for an account.
type Alert struct {
	Rule    Rule
	Account uint32
	// PaymentID and TS identify the payment that triggered the alert; for
	// MinuteSpend, PaymentID is 0 and TS is the start of the minute.
	PaymentID uint64
	TS        int64
	// Amount is the payment's amount (AmountSpike) or the minute's total
	// (MinuteSpend), in cents.
	Amount int64
	// Average is the account's average amount before the payment
	// (AmountSpike), in cents.
	Average int64
	// Failures is the number of failed payments in the window (FailedBurst).
	Failures int
}

// String formats the alert for people.
func (a Alert) String() string {
	t := time.UnixMilli(a.TS).UTC().Format("2006-01-02T15:04:05.000Z")
	switch a.Rule {
	case FailedBurst:
		return fmt.Sprintf("ALERT %s account=%d payment=%d time=%s failures=%d", a.Rule, a.Account, a.PaymentID, t, a.Failures)
	case AmountSpike:
		return fmt.Sprintf("ALERT %s account=%d payment=%d time=%s amount=%.2f average=%.2f",
			a.Rule, a.Account, a.PaymentID, t, float64(a.Amount)/100, float64(a.Average)/100)
	case MinuteSpend:
		return fmt.Sprintf("ALERT %s account=%d minute=%s spent=%.2f", a.Rule, a.Account, t, float64(a.Amount)/100)
	case MuleTransfers:
		return fmt.Sprintf("ALERT %s account=%d payment=%d time=%s transfer=%.2f", a.Rule, a.Account, a.PaymentID, t, float64(a.Amount)/100)
	}
	return fmt.Sprintf("ALERT %s account=%d payment=%d time=%s", a.Rule, a.Account, a.PaymentID, t)
}

// Rules configures the Detector. The zero value means the defaults.
type Rules struct {
	// FailCount failed payments within FailWindow raise FailedBurst
	// (defaults 3 and 10 minutes): the first and last of them are less than
	// FailWindow apart. The failures counted are then forgotten.
	FailCount  int
	FailWindow time.Duration
	// SpikeFactor: a payment above SpikeFactor times the average of the
	// account's earlier payments raises AmountSpike (default 10), once the
	// account has MinHistory earlier payments (default 5).
	SpikeFactor int64
	MinHistory  int64
	// MinuteSpendLimit: successful payments of one account adding up to
	// more than this in a tumbling event-time minute raise MinuteSpend
	// (cents, default 500,000: 5,000.00).
	MinuteSpendLimit int64
	// IdleTTL is how long (processing time) an account's running average
	// is kept after its last payment (default 1 hour).
	IdleTTL time.Duration
	// SpreadCount or more successful transfers below LargeTransfer, each
	// to a different account, then a successful transfer of at least
	// LargeTransfer, all within SpreadWindow, raise MuleTransfers
	// (defaults 3, 5 minutes and 200,000 cents: 2,000.00).
	SpreadCount   int
	SpreadWindow  time.Duration
	LargeTransfer int64
}

func (r *Rules) fill() {
	if r.FailCount <= 0 {
		r.FailCount = 3
	}
	if r.FailWindow <= 0 {
		r.FailWindow = 10 * time.Minute
	}
	if r.SpikeFactor <= 0 {
		r.SpikeFactor = 10
	}
	if r.MinHistory <= 0 {
		r.MinHistory = 5
	}
	if r.MinuteSpendLimit <= 0 {
		r.MinuteSpendLimit = 500_000
	}
	if r.IdleTTL <= 0 {
		r.IdleTTL = time.Hour
	}
	if r.SpreadCount <= 0 {
		r.SpreadCount = 3
	}
	if r.SpreadWindow <= 0 {
		r.SpreadWindow = 5 * time.Minute
	}
	if r.LargeTransfer <= 0 {
		r.LargeTransfer = 200_000
	}
}

// average is an account's running sum and count of payment amounts.
type average struct {
	Sum, N int64
}

// Detector is the keyed process function of the pipeline, keyed by account.
// It buffers payments until the watermark passes them and evaluates them in
// event-time order, (TS, ID) breaking ties.
type Detector struct {
	Rules Rules
	// Watermark, if not nil, receives the operator's current watermark.
	Watermark *atomic.Int64
	// NoFailedBurst leaves the FailedBurst rule to the CEP pattern of
	// Patterns (as Build does); the detector then only raises AmountSpike.
	NoFailedBurst bool

	window   int64
	pending  state.List[Payment]
	failures state.List[int64]
	avg      state.Value[average]
}

// NewDetector returns a detector with the rules' defaults filled in.
func NewDetector(r Rules, watermark *atomic.Int64) *Detector {
	r.fill()
	return &Detector{Rules: r, Watermark: watermark}
}

// Open registers the detector's state.
func (d *Detector) Open(ctx *weir.KeyedRuntimeContext[uint32]) error {
	d.Rules.fill()
	d.window = d.Rules.FailWindow.Milliseconds()
	d.pending = state.GetList[uint32, Payment](ctx.State(), state.Descriptor{Name: "pending"})
	d.failures = state.GetList[uint32, int64](ctx.State(), state.Descriptor{Name: "failures"})
	d.avg = state.GetValue[uint32, average](ctx.State(), state.Descriptor{
		Name: "average",
		TTL:  state.TTL{TTL: d.Rules.IdleTTL, Update: state.OnCreateAndWrite, Visibility: state.NeverReturnExpired},
	})
	return nil
}

// ProcessElement buffers p until the watermark reaches its timestamp.
func (d *Detector) ProcessElement(ctx *weir.KeyedContext[uint32, Alert], p Payment) error {
	if d.Watermark != nil {
		d.Watermark.Store(ctx.CurrentWatermark())
	}
	d.pending.Add(p)
	ctx.RegisterEventTimeTimer(p.TS)
	return nil
}

// OnTimer evaluates the buffered payments up to ts in event-time order and
// forgets failures that can no longer be part of a burst.
func (d *Detector) OnTimer(ctx *weir.KeyedContext[uint32, Alert], ts int64) error {
	if d.Watermark != nil {
		d.Watermark.Store(ctx.CurrentWatermark())
	}
	// Get returns a copy: sort it and split it in place.
	all := d.pending.Get()
	slices.SortFunc(all, func(a, b Payment) int {
		return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.ID, b.ID))
	})
	due, _ := slices.BinarySearchFunc(all, ts+1, func(p Payment, t int64) int { return cmp.Compare(p.TS, t) })
	if due > 0 {
		for _, p := range all[:due] {
			d.evaluate(ctx, p)
		}
		if due == len(all) {
			d.pending.Clear()
		} else {
			d.pending.Update(all[due:])
		}
	}
	// A failure at f cannot join a burst with payments after ts once
	// ts-f >= window.
	fs := d.failures.Get()
	kept := slices.DeleteFunc(fs, func(f int64) bool { return ts-f >= d.window })
	if len(kept) != len(fs) {
		d.failures.Update(kept)
	}
	if len(kept) > 0 {
		ctx.RegisterEventTimeTimer(kept[0] + d.window)
	}
	return nil
}

func (d *Detector) evaluate(ctx *weir.KeyedContext[uint32, Alert], p Payment) {
	a, _ := d.avg.Value()
	if a.N >= d.Rules.MinHistory && p.Amount*a.N > d.Rules.SpikeFactor*a.Sum {
		ctx.CollectWithTimestamp(Alert{Rule: AmountSpike, Account: p.Account, PaymentID: p.ID, TS: p.TS, Amount: p.Amount, Average: a.Sum / a.N}, p.TS)
	}
	d.avg.Update(average{Sum: a.Sum + p.Amount, N: a.N + 1})
	if !p.Failed || d.NoFailedBurst {
		return
	}
	fs := d.failures.Get()
	fs = slices.DeleteFunc(fs, func(f int64) bool { return p.TS-f >= d.window })
	fs = append(fs, p.TS)
	if len(fs) >= d.Rules.FailCount {
		ctx.CollectWithTimestamp(Alert{Rule: FailedBurst, Account: p.Account, PaymentID: p.ID, TS: p.TS, Failures: len(fs)}, p.TS)
		fs = nil
	}
	d.failures.Update(fs)
}
