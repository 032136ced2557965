package cep_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
)

type Payment struct {
	Account string
	Status  string
	Amount  int
}

const minute = int64(time.Minute / time.Millisecond)

// Three failed payments of one account within 10 minutes.
func Example_failedPayments() {
	env := weir.NewEnvironment(weir.Options{Parallelism: 1, AutoWatermarkInterval: -1})
	at := func(min int64, p Payment) weir.TimestampedValue[Payment] {
		return weir.TimestampedValue[Payment]{Value: p, TS: min * minute}
	}
	payments := weir.FromTimestamped(env, []weir.TimestampedValue[Payment]{
		at(0, Payment{"alice", "FAILED", 20}),
		at(1, Payment{"bob", "FAILED", 5}),
		at(2, Payment{"alice", "OK", 20}),
		at(4, Payment{"alice", "FAILED", 20}),
		at(7, Payment{"alice", "FAILED", 30}), // third failure at 7 min: alert
		at(8, Payment{"bob", "FAILED", 5}),
		at(12, Payment{"bob", "FAILED", 5}), // 11 minutes after bob's first: no alert
	}, weir.ForBoundedOutOfOrderness[Payment](time.Minute))

	failures := cep.Begin[Payment]("failed").
		Where(func(p Payment) bool { return p.Status == "FAILED" }).
		Times(3).
		Within(10 * time.Minute).
		Skip(cep.SkipPastLastEvent())
	byAccount := weir.KeyBy(payments, func(p Payment) string { return p.Account })
	alerts := cep.Select(cep.Pattern(byAccount, failures), func(account string, m map[string][]Payment) (string, error) {
		return fmt.Sprintf("%s: %d failed payments", account, len(m["failed"])), nil
	})
	out := weir.Collect(alerts)
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, a := range out.Values() {
		fmt.Println(a)
	}
	// Output:
	// alice: 3 failed payments
}

type Transfer struct {
	From, To string
	Amount   int
}

// Three or more transfers to different accounts within 5 minutes, then a
// large transfer: the iterative condition compares each transfer with the
// ones already accepted.
func Example_transfers() {
	env := weir.NewEnvironment(weir.Options{Parallelism: 1, AutoWatermarkInterval: -1})
	at := func(min int64, t Transfer) weir.TimestampedValue[Transfer] {
		return weir.TimestampedValue[Transfer]{Value: t, TS: min * minute}
	}
	transfers := weir.FromTimestamped(env, []weir.TimestampedValue[Transfer]{
		at(0, Transfer{"eve", "m1", 100}),
		at(1, Transfer{"eve", "m1", 100}), // same target again: not counted
		at(1, Transfer{"eve", "m2", 200}),
		at(2, Transfer{"eve", "m3", 300}),
		at(3, Transfer{"eve", "x", 50_000}), // large: alert
		at(3, Transfer{"joe", "a", 100}),
		at(4, Transfer{"joe", "b", 100}),
		at(10, Transfer{"joe", "c", 100}),
		at(10, Transfer{"joe", "y", 90_000}), // too late for a and b
	}, weir.ForBoundedOutOfOrderness[Transfer](time.Minute))

	mule := cep.Begin[Transfer]("spread").
		Where(func(t Transfer) bool { return t.Amount < 10_000 }).
		WhereCtx(func(t Transfer, ctx *cep.Context[Transfer]) bool {
			fresh := true
			ctx.Each("spread", func(prev Transfer) bool {
				fresh = prev.To != t.To
				return fresh
			})
			return fresh
		}).
		TimesOrMore(3).
		FollowedBy("large").
		Where(func(t Transfer) bool { return t.Amount >= 10_000 }).
		Within(5 * time.Minute).
		Skip(cep.SkipPastLastEvent())
	timeouts := weir.NewOutputTag[cep.TimedOut[string, Transfer]]("timeouts")
	ps := cep.Pattern(weir.KeyBy(transfers, func(t Transfer) string { return t.From }), mule).SideOutputTimeouts(timeouts)
	alerts := cep.Select(ps, func(from string, m map[string][]Transfer) (string, error) {
		var to []string
		for _, t := range m["spread"] {
			to = append(to, t.To)
		}
		return fmt.Sprintf("%s: %v then %d", from, to, m["large"][0].Amount), nil
	})
	out := weir.Collect(alerts)
	timedOut := weir.Collect(weir.SideOutput(alerts, timeouts))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, a := range out.Values() {
		fmt.Println(a)
	}
	var partial []string
	for _, t := range timedOut.Values() {
		var to []string
		for _, tr := range t.Events["spread"] {
			to = append(to, tr.To)
		}
		partial = append(partial, fmt.Sprintf("%s: %v timed out at minute %d", t.Key, to, t.At/minute))
	}
	slices.Sort(partial)
	for _, p := range partial {
		fmt.Println(p)
	}
	// Output:
	// eve: [m1 m2 m3] then 50000
	// joe: [a b] timed out at minute 8
	// joe: [b] timed out at minute 9
	// joe: [c] timed out at minute 15
}
