package fraud

import (
	"context"
	"sync/atomic"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
)

// FailedBurstPattern is the FailedBurst rule as a CEP pattern: FailCount
// failed payments within FailWindow (first to last less than FailWindow
// apart). Skipping past the match's last event forgets the failures that
// raised an alert.
func FailedBurstPattern(r Rules) *cep.Seq[Payment] {
	r.fill()
	return cep.Begin[Payment]("failed").
		Where(func(p Payment) bool { return p.Failed }).
		Times(r.FailCount).
		Within(r.FailWindow).
		Skip(cep.SkipPastLastEvent())
}

// MulePattern is the MuleTransfers rule as a CEP pattern: SpreadCount or
// more successful transfers below LargeTransfer, each to an account no
// earlier transfer of the match went to (an iterative condition), followed
// by a successful transfer of at least LargeTransfer, all within
// SpreadWindow.
func MulePattern(r Rules) *cep.Seq[Payment] {
	r.fill()
	large := r.LargeTransfer
	return cep.Begin[Payment]("spread").
		Where(func(p Payment) bool { return p.Transfer && !p.Failed && p.Amount < large }).
		WhereCtx(func(p Payment, ctx *cep.Context[Payment]) bool {
			fresh := true
			ctx.Each("spread", func(prev Payment) bool {
				fresh = prev.To != p.To
				return fresh
			})
			return fresh
		}).
		TimesOrMore(r.SpreadCount).
		FollowedBy("large").
		Where(func(p Payment) bool { return p.Transfer && !p.Failed && p.Amount >= large }).
		Within(r.SpreadWindow).
		Skip(cep.SkipPastLastEvent())
}

// Patterns adds the CEP rules to payments: FailedBurst over the failed
// payments and MuleTransfers over the transfers, each keyed by account and
// matched in event time. Partial matches that time out (Within) go to a
// side output; timedOut, if not nil, counts them.
func Patterns(payments weir.Stream[Payment], r Rules, timedOut *atomic.Int64) weir.Stream[Alert] {
	r.fill()
	account := func(p Payment) uint32 { return p.Account }

	failedTimeouts := weir.NewOutputTag[cep.TimedOut[uint32, Payment]]("failed-burst-timeouts")
	failed := payments.Filter(func(p Payment) bool { return p.Failed }).Name("failed-payments")
	bursts := cep.Select(
		cep.Pattern(weir.KeyBy(failed, account), FailedBurstPattern(r)).SideOutputTimeouts(failedTimeouts),
		func(acct uint32, m map[string][]Payment) (Alert, error) {
			fs := m["failed"]
			last := fs[len(fs)-1]
			return Alert{Rule: FailedBurst, Account: acct, PaymentID: last.ID, TS: last.TS, Failures: len(fs)}, nil
		}).Name("cep-failed-burst").UID("cep-failed-burst")

	muleTimeouts := weir.NewOutputTag[cep.TimedOut[uint32, Payment]]("mule-transfers-timeouts")
	transfers := payments.Filter(func(p Payment) bool { return p.Transfer }).Name("transfers")
	mules := cep.Select(
		cep.Pattern(weir.KeyBy(transfers, account), MulePattern(r)).SideOutputTimeouts(muleTimeouts),
		func(acct uint32, m map[string][]Payment) (Alert, error) {
			l := m["large"][0]
			return Alert{Rule: MuleTransfers, Account: acct, PaymentID: l.ID, TS: l.TS, Amount: l.Amount}, nil
		}).Name("cep-mule-transfers").UID("cep-mule-transfers")

	timeouts := weir.Union(weir.SideOutput(bursts, failedTimeouts), weir.SideOutput(mules, muleTimeouts))
	timeouts.SinkTo(weir.SinkFunc[cep.TimedOut[uint32, Payment]](func(context.Context, cep.TimedOut[uint32, Payment], int64) error {
		if timedOut != nil {
			timedOut.Add(1)
		}
		return nil
	})).Name("cep-timeouts").UID("cep-timeouts")
	return weir.Union(bursts, mules)
}
