package fraud

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// referenceAlerts computes the alerts with plain Go over the same payments:
// per account, in event-time order, without the engine.
func referenceAlerts(ps []Payment, failCount int, window, factor, minHistory, minuteLimit int64) []Alert {
	byAcct := map[uint32][]Payment{}
	type minuteKey struct {
		acct  uint32
		start int64
	}
	spent := map[minuteKey]int64{}
	for _, p := range ps {
		byAcct[p.Account] = append(byAcct[p.Account], p)
		if !p.Failed {
			start := p.TS - p.TS%60_000
			spent[minuteKey{p.Account, start}] += p.Amount
		}
	}
	var out []Alert
	for k, s := range spent {
		if s > minuteLimit {
			out = append(out, Alert{Rule: MinuteSpend, Account: k.acct, TS: k.start, Amount: s})
		}
	}
	for acct, list := range byAcct {
		slices.SortFunc(list, func(a, b Payment) int { return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.ID, b.ID)) })
		var sum, n int64
		var fails []int64
		for _, p := range list {
			if n >= minHistory && p.Amount*n > factor*sum {
				out = append(out, Alert{Rule: AmountSpike, Account: acct, PaymentID: p.ID, TS: p.TS, Amount: p.Amount, Average: sum / n})
			}
			sum += p.Amount
			n++
			if !p.Failed {
				continue
			}
			var recent []int64
			for _, f := range fails {
				if p.TS-f < window {
					recent = append(recent, f)
				}
			}
			fails = append(recent, p.TS)
			if len(fails) >= failCount {
				out = append(out, Alert{Rule: FailedBurst, Account: acct, PaymentID: p.ID, TS: p.TS, Failures: len(fails)})
				fails = nil
			}
		}
	}
	return out
}

// referenceMule computes the MuleTransfers alerts by brute force: per
// account, in event-time order, a large transfer j raises an alert if some
// small transfer s after the previous alert's transfer and less than window
// before j starts a chain of at least count transfers to distinct accounts
// before j, where the chain takes every small transfer to an account it
// has not seen (skip till next match). Only successful transfers count.
func referenceMule(ps []Payment, count int, window, large int64) []Alert {
	byAcct := map[uint32][]Payment{}
	for _, p := range ps {
		if p.Transfer && !p.Failed {
			byAcct[p.Account] = append(byAcct[p.Account], p)
		}
	}
	var out []Alert
	for acct, list := range byAcct {
		slices.SortFunc(list, func(a, b Payment) int { return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.ID, b.ID)) })
		from := 0 // no match may start before this index (skip past last event)
		for j, l := range list {
			if l.Amount < large {
				continue
			}
			for s := from; s < j; s++ {
				if list[s].Amount >= large || l.TS-list[s].TS >= window {
					continue
				}
				seen := map[uint32]bool{list[s].To: true}
				for _, m := range list[s+1 : j] {
					if m.Amount < large {
						seen[m.To] = true
					}
				}
				if len(seen) >= count {
					out = append(out, Alert{Rule: MuleTransfers, Account: acct, PaymentID: l.ID, TS: l.TS, Amount: l.Amount})
					from = j + 1
					break
				}
			}
		}
	}
	return out
}

// sameInstantPairs counts pairs of failed payments, or of transfers, of one
// account with equal timestamps: CEP orders those by arrival, which a
// parallel source does not fix, so the reference tests need data without
// them.
func sameInstantPairs(ps []Payment) int {
	type k struct {
		acct     uint32
		ts       int64
		transfer bool
	}
	seen := map[k]bool{}
	n := 0
	for _, p := range ps {
		for _, key := range []k{{p.Account, p.TS, false}, {p.Account, p.TS, true}} {
			if (key.transfer && !p.Transfer) || (!key.transfer && !p.Failed) {
				continue
			}
			if seen[key] {
				n++
			}
			seen[key] = true
		}
	}
	return n
}

func sortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.TS, b.TS))
	})
}

func TestPipelineMatchesReference(t *testing.T) {
	t.Run("default-rates", func(t *testing.T) {
		testMatchesReference(t, GeneratorConfig{Seed: 7, Accounts: 400, Events: 60_000, EventRate: 20, FraudFraction: 0.03, MaxDelay: 3 * time.Second},
			FailedBurst, AmountSpike, MinuteSpend, MuleTransfers)
	})
	// Frequent failures of honest accounts put many bursts near the edge of
	// the 10-minute window.
	t.Run("many-failures", func(t *testing.T) {
		testMatchesReference(t, GeneratorConfig{Seed: 11, Accounts: 300, Events: 40_000, EventRate: 10, FailureRate: 0.05, FraudFraction: 0.03, MaxDelay: time.Second},
			FailedBurst, AmountSpike, MinuteSpend)
	})
	// Many fraudulent accounts: many transfers to distinct accounts, many
	// large ones, partial matches cut off by Within.
	t.Run("many-transfers", func(t *testing.T) {
		testMatchesReference(t, GeneratorConfig{Seed: 5, Accounts: 300, Events: 40_000, EventRate: 30, FraudFraction: 0.25, MaxDelay: 2 * time.Second},
			FailedBurst, AmountSpike, MuleTransfers)
	})
}

// testMatchesReference runs the pipeline on gcfg's payments and compares
// its alerts with the references; the data must raise alerts of each rule
// in need.
func testMatchesReference(t *testing.T, gcfg GeneratorConfig, need ...Rule) {
	gen := NewGenerator(gcfg, nil)
	payments := make([]Payment, gcfg.Events)
	for i := range payments {
		payments[i] = gen.Payment(int64(i))
	}
	if n := sameInstantPairs(payments); n > 0 {
		t.Fatalf("%d same-account failures or transfers at the same instant: choose another seed", n)
	}
	want := referenceAlerts(payments, 3, (10 * time.Minute).Milliseconds(), 10, 5, 500_000)
	want = append(want, referenceMule(payments, 3, (5*time.Minute).Milliseconds(), 200_000)...)
	sortAlerts(want)
	rules := map[Rule]int{}
	for _, a := range want {
		rules[a.Rule]++
	}
	for _, r := range need {
		if rules[r] == 0 {
			t.Fatalf("generator produced no %s alerts: %v", r, rules)
		}
	}
	t.Logf("reference: %d alerts %v", len(want), rules)

	for _, tc := range []struct {
		name string
		opts weir.Options
	}{
		{"p1", weir.Options{Parallelism: 1}},
		{"p2", weir.Options{Parallelism: 2}},
		{"p3-unchained", weir.Options{Parallelism: 3, DisableChaining: true, AutoWatermarkInterval: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(tc.opts)
			stats := NewStats()
			got := weir.Collect(Build(env, Config{Generator: gcfg}, stats))
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := stats.Payments.Load(); n != gcfg.Events {
				t.Fatalf("source emitted %d payments, want %d", n, gcfg.Events)
			}
			if stats.TimedOut.Load() == 0 {
				t.Error("no CEP partial match timed out")
			}
			alerts := got.Values()
			sortAlerts(alerts)
			if len(alerts) != len(want) {
				t.Fatalf("%d alerts, want %d", len(alerts), len(want))
			}
			for i := range want {
				if alerts[i] != want[i] {
					t.Fatalf("alert %d: got %+v, want %+v", i, alerts[i], want[i])
				}
			}
		})
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a := NewGenerator(GeneratorConfig{Seed: 1}, nil)
	b := NewGenerator(GeneratorConfig{Seed: 1}, nil)
	c := NewGenerator(GeneratorConfig{Seed: 2}, nil)
	same, fraud := 0, 0
	for i := int64(0); i < 10_000; i++ {
		pa, pb, pc := a.Payment(i), b.Payment(i), c.Payment(i)
		if pa != pb {
			t.Fatalf("payment %d differs for the same seed: %+v vs %+v", i, pa, pb)
		}
		if pa == pc {
			same++
		}
		if a.Fraudulent(pa.Account) {
			fraud++
		}
		if lag := a.Config().Start + i*1000/2000 - pa.TS; lag < 0 || lag > a.Config().MaxDelay.Milliseconds()+1 {
			t.Fatalf("payment %d lags its clock by %dms", i, lag)
		}
	}
	if same > 10 {
		t.Errorf("%d payments equal across seeds", same)
	}
	if fraud == 0 {
		t.Error("no payments from fraudulent accounts")
	}
}

func TestRunBoundedAndCanceled(t *testing.T) {
	cfg := Config{Generator: GeneratorConfig{Seed: 3, Events: 20_000}}
	sum, err := Run(context.Background(), cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Payments != 20_000 {
		t.Fatalf("bounded run emitted %d payments", sum.Payments)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Config{Generator: GeneratorConfig{Seed: 3}}, RunOptions{}); err != nil {
		t.Fatalf("canceled run: %v", err)
	}
}

// TestDetectorRules checks the rules' edges on hand-made payments, arriving
// out of order.
func TestDetectorRules(t *testing.T) {
	const minute = 60_000
	fail := func(id uint64, ts int64) Payment {
		return Payment{ID: id, Account: 1, Amount: 1000, Failed: true, TS: ts}
	}
	pay := func(id uint64, amount, ts int64) Payment { return Payment{ID: id, Account: 2, Amount: amount, TS: ts} }
	type want struct {
		rule Rule
		id   uint64
	}
	for _, tc := range []struct {
		name     string
		payments []Payment
		want     []want
	}{
		{"three failures within 10 minutes", []Payment{fail(1, 0), fail(2, 5*minute), fail(3, 10*minute-1)}, []want{{FailedBurst, 3}}},
		{"third failure exactly 10 minutes after the first", []Payment{fail(1, 0), fail(2, 5*minute), fail(3, 10*minute)}, nil},
		{"out of order", []Payment{fail(3, 9*minute), fail(1, 0), fail(2, 1*minute)}, []want{{FailedBurst, 3}}},
		{"burst forgets its failures", []Payment{fail(1, 0), fail(2, 1), fail(3, 2), fail(4, 3), fail(5, 4)}, []want{{FailedBurst, 3}}},
		{"spike above 10x the average", []Payment{pay(1, 100, 0), pay(2, 100, 1), pay(3, 100, 2), pay(4, 100, 3), pay(5, 100, 4), pay(6, 1001, 5)}, []want{{AmountSpike, 6}}},
		{"exactly 10x is no spike", []Payment{pay(1, 100, 0), pay(2, 100, 1), pay(3, 100, 2), pay(4, 100, 3), pay(5, 100, 4), pay(6, 1000, 5)}, nil},
		{"no spike without history", []Payment{pay(1, 100, 0), pay(2, 100, 1), pay(3, 100, 2), pay(4, 100, 3), pay(5, 5000, 4)}, nil},
		{"minute spend over the limit", []Payment{pay(1, 300_000, minute+1), pay(2, 200_001, 2*minute-1), pay(3, 400_000, 2*minute)}, []want{{MinuteSpend, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
			var in []weir.TimestampedValue[Payment]
			for _, p := range tc.payments {
				in = append(in, weir.TimestampedValue[Payment]{Value: p, TS: p.TS})
			}
			src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[Payment](10*time.Minute))
			byAccount := weir.KeyBy(src, func(p Payment) uint32 { return p.Account })
			got := weir.Collect(weir.Union(
				weir.ProcessKeyed[uint32, Payment, Alert](byAccount, NewDetector(Rules{}, nil)),
				minuteSpend(byAccount, 500_000)))
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			alerts := got.Values()
			sortAlerts(alerts)
			if len(alerts) != len(tc.want) {
				t.Fatalf("got alerts %v, want %v", alerts, tc.want)
			}
			for i, w := range tc.want {
				if alerts[i].Rule != w.rule || alerts[i].PaymentID != w.id {
					t.Fatalf("alert %d: got %v, want %v", i, alerts[i], w)
				}
			}
		})
	}
}

// TestPatternRules checks the CEP rules' edges on hand-made payments,
// arriving out of order.
func TestPatternRules(t *testing.T) {
	const minute = 60_000
	fail := func(id uint64, ts int64) Payment {
		return Payment{ID: id, Account: 1, Amount: 1000, Failed: true, TS: ts}
	}
	tr := func(id uint64, to uint32, amount, ts int64) Payment {
		return Payment{ID: id, Account: 2, Amount: amount, TS: ts, Transfer: true, To: to}
	}
	failedTr := func(id uint64, to uint32, ts int64) Payment {
		p := tr(id, to, 100, ts)
		p.Failed = true
		return p
	}
	const big = 200_000
	type want struct {
		rule Rule
		id   uint64
	}
	for _, tc := range []struct {
		name     string
		payments []Payment
		want     []want
	}{
		{"three failures within 10 minutes", []Payment{fail(1, 0), fail(2, 5*minute), fail(3, 10*minute-1)}, []want{{FailedBurst, 3}}},
		{"third failure exactly 10 minutes after the first", []Payment{fail(1, 0), fail(2, 5*minute), fail(3, 10*minute)}, nil},
		{"failures out of order", []Payment{fail(3, 9*minute), fail(1, 0), fail(2, 1*minute)}, []want{{FailedBurst, 3}}},
		{"a burst forgets its failures", []Payment{fail(1, 0), fail(2, 1), fail(3, 2), fail(4, 3), fail(5, 4), fail(6, 5)}, []want{{FailedBurst, 3}, {FailedBurst, 6}}},
		{"three targets then a large transfer", []Payment{tr(1, 10, 100, 0), tr(2, 11, 100, minute), tr(3, 12, 100, 2*minute), tr(4, 13, big, 3*minute)}, []want{{MuleTransfers, 4}}},
		{"a repeated target does not count", []Payment{tr(1, 10, 100, 0), tr(2, 10, 100, minute), tr(3, 11, 100, 2*minute), tr(4, 13, big, 3*minute)}, nil},
		{"large transfer exactly 5 minutes after the first", []Payment{tr(1, 10, 100, 0), tr(2, 11, 100, minute), tr(3, 12, 100, 2*minute), tr(4, 13, big, 5*minute)}, nil},
		{"large transfer just within 5 minutes", []Payment{tr(1, 10, 100, 0), tr(2, 11, 100, minute), tr(3, 12, 100, 2*minute), tr(4, 13, big, 5*minute-1)}, []want{{MuleTransfers, 4}}},
		{"failed transfers do not count", []Payment{tr(1, 10, 100, 0), tr(2, 11, 100, minute), failedTr(3, 12, 2*minute), tr(4, 13, big, 3*minute)}, nil},
		{"card payments in between are skipped", []Payment{tr(1, 10, 100, 0), {ID: 2, Account: 2, Amount: 50, TS: 1}, tr(3, 11, 100, 2), tr(4, 12, 100, 3), tr(5, 13, big, 4)}, []want{{MuleTransfers, 5}}},
		{"later transfers start a new chain", []Payment{tr(1, 10, 100, 0), tr(2, 10, 100, 6*minute), tr(3, 11, 100, 7*minute), tr(4, 12, 100, 8*minute), tr(5, 13, big, 9*minute)}, []want{{MuleTransfers, 5}}},
		{"one alert per chain", []Payment{tr(5, 13, big, 4), tr(4, 12, 100, 3), tr(1, 10, 100, 0), tr(2, 11, 100, 1), tr(3, 14, 100, 2), tr(6, 15, big, 5)}, []want{{MuleTransfers, 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
			var in []weir.TimestampedValue[Payment]
			for _, p := range tc.payments {
				in = append(in, weir.TimestampedValue[Payment]{Value: p, TS: p.TS})
			}
			src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[Payment](10*time.Minute))
			got := weir.Collect(Patterns(src, Rules{}, nil))
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			alerts := got.Values()
			sortAlerts(alerts)
			if len(alerts) != len(tc.want) {
				t.Fatalf("got alerts %v, want %v", alerts, tc.want)
			}
			for i, w := range tc.want {
				if alerts[i].Rule != w.rule || alerts[i].PaymentID != w.id {
					t.Fatalf("alert %d: got %v, want %v", i, alerts[i], w)
				}
			}
		})
	}
}

// TestPatternAgreesWithDetector runs the hand-written FailedBurst rule of
// the Detector and its CEP pattern side by side on generated payments.
func TestPatternAgreesWithDetector(t *testing.T) {
	gcfg := GeneratorConfig{Seed: 11, Accounts: 300, Events: 40_000, EventRate: 10, FailureRate: 0.05, FraudFraction: 0.03, MaxDelay: time.Second}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	gen := NewGenerator(gcfg, nil)
	payments := weir.FromSource(env, gen, gen.Watermarks(), "payments")
	byAccount := weir.KeyBy(payments, func(p Payment) uint32 { return p.Account })
	hand := weir.Collect(weir.ProcessKeyed[uint32, Payment, Alert](byAccount, NewDetector(Rules{}, nil)))
	timedOut := &atomic.Int64{}
	withCEP := weir.Collect(Patterns(payments, Rules{}, timedOut))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	pick := func(as []Alert) []Alert {
		as = slices.DeleteFunc(as, func(a Alert) bool { return a.Rule != FailedBurst })
		sortAlerts(as)
		return as
	}
	h, c := pick(hand.Values()), pick(withCEP.Values())
	if len(h) == 0 || !slices.Equal(h, c) {
		t.Fatalf("detector: %d FailedBurst alerts, CEP: %d; equal: %v", len(h), len(c), slices.Equal(h, c))
	}
	if timedOut.Load() == 0 {
		t.Error("no partial match timed out")
	}
}
