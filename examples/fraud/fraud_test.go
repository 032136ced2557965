package fraud

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// referenceAlerts computes the alerts with plain Go over the same payments:
// per account, in event-time order, without the engine.
func referenceAlerts(ps []Payment, failCount int, window, factor, minHistory int64) []Alert {
	byAcct := map[uint32][]Payment{}
	for _, p := range ps {
		byAcct[p.Account] = append(byAcct[p.Account], p)
	}
	var out []Alert
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

func sortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.Rule, b.Rule))
	})
}

func TestPipelineMatchesReference(t *testing.T) {
	gcfg := GeneratorConfig{Seed: 7, Accounts: 400, Events: 60_000, EventRate: 20, FraudFraction: 0.03, MaxDelay: 3 * time.Second}
	gen := NewGenerator(gcfg, nil)
	payments := make([]Payment, gcfg.Events)
	for i := range payments {
		payments[i] = gen.Payment(int64(i))
	}
	want := referenceAlerts(payments, 3, (10 * time.Minute).Milliseconds(), 10, 5)
	sortAlerts(want)
	rules := map[Rule]int{}
	for _, a := range want {
		rules[a.Rule]++
	}
	if rules[FailedBurst] == 0 || rules[AmountSpike] == 0 {
		t.Fatalf("generator produced no alerts of some rule: %v", rules)
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
