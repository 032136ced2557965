package fraud

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// sqlPayments generates payments for the SQL same-answer tests: the
// generator's, without a payment of an account at the same millisecond as
// an earlier one of that account (rows with equal timestamps are matched
// in arrival order, which a parallel exchange may change).
func sqlPayments(cfg GeneratorConfig) []Payment {
	gen := NewGenerator(cfg, nil)
	type at struct {
		acct uint32
		ts   int64
	}
	seen := map[at]bool{}
	var out []Payment
	for i := range gen.Config().Events {
		p := gen.Payment(i)
		if seen[at{p.Account, p.TS}] {
			continue
		}
		seen[at{p.Account, p.TS}] = true
		out = append(out, p)
	}
	return out
}

func writePaymentsCSV(t testing.TB, ps []Payment) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%d,%d,%d,%t,%s,%t,%d\n", p.ID, p.Account, p.Amount, p.Failed,
			time.UnixMilli(p.TS).UTC().Format("2006-01-02 15:04:05.000"), p.Transfer, p.To)
	}
	path := filepath.Join(t.TempDir(), "payments.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSQLAlerts runs the two MATCH_RECOGNIZE rules over the payments in
// path and returns their alerts.
func runSQLAlerts(t testing.TB, path string, maxDelay time.Duration, par int) []Alert {
	var mu sync.Mutex
	var alerts []Alert
	for _, q := range []struct {
		rule Rule
		sql  string
	}{{FailedBurst, FailedBurstSQL(Rules{})}, {MuleTransfers, MuleSQL(Rules{})}} {
		sess := sql.NewSession(sql.SessionOptions{})
		stmts, err := parser.Parse(PaymentsTableSQL(path, maxDelay) + ";\n" + q.sql + ";")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sess.Execute(stmts[0]); err != nil {
			t.Fatal(err)
		}
		_, job, err := sess.Execute(stmts[1])
		if err != nil {
			t.Fatal(err)
		}
		opts := job.Options()
		opts.Parallelism = par
		opts.AutoWatermarkInterval = time.Millisecond
		env := weir.NewEnvironment(opts)
		rule := q.rule
		err = job.Build(env, func(r row.Row) error {
			a := Alert{Rule: rule, Account: uint32(r.Fields[0].Int()), PaymentID: uint64(r.Fields[1].Int()), TS: r.Fields[2].Millis()}
			if rule == FailedBurst {
				a.Failures = int(r.Fields[3].Int())
			} else {
				a.Amount = r.Fields[3].Int()
			}
			mu.Lock()
			alerts = append(alerts, a)
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err = env.Execute(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	return alerts
}

// runCEPAlerts runs the CEP DataStream rules (Patterns) over ps.
func runCEPAlerts(t testing.TB, ps []Payment, maxDelay time.Duration, par int) []Alert {
	env := weir.NewEnvironment(weir.Options{Parallelism: par, AutoWatermarkInterval: time.Millisecond})
	in := make([]weir.TimestampedValue[Payment], len(ps))
	for i, p := range ps {
		in[i] = weir.TimestampedValue[Payment]{Value: p, TS: p.TS}
	}
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[Payment](maxDelay)).SetParallelism(1)
	got := weir.Collect(Patterns(src, Rules{}, nil))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got.Values()
}

// TestSQLPatternsMatchCEP checks that the MATCH_RECOGNIZE rules raise
// exactly the alerts of the CEP DataStream rules on the same generated
// payments, at parallelism 1 and 4.
func TestSQLPatternsMatchCEP(t *testing.T) {
	cfg := GeneratorConfig{Seed: 7, Accounts: 200, Events: 30_000, EventRate: 20, FailureRate: 0.05, FraudFraction: 0.1, MaxDelay: time.Second}
	ps := sqlPayments(cfg)
	path := writePaymentsCSV(t, ps)
	want := runCEPAlerts(t, ps, cfg.MaxDelay, 1)
	sortAlerts(want)
	count := map[Rule]int{}
	for _, a := range want {
		count[a.Rule]++
	}
	if count[FailedBurst] == 0 || count[MuleTransfers] == 0 {
		t.Fatalf("the CEP rules raised %d FailedBurst and %d MuleTransfers alerts: the input tests nothing", count[FailedBurst], count[MuleTransfers])
	}
	for _, par := range []int{1, 4} {
		t.Run(fmt.Sprintf("p%d", par), func(t *testing.T) {
			if par > 1 {
				cep := runCEPAlerts(t, ps, cfg.MaxDelay, par)
				sortAlerts(cep)
				if !slices.Equal(cep, want) {
					t.Fatalf("CEP at parallelism %d: %d alerts, at 1: %d", par, len(cep), len(want))
				}
			}
			got := runSQLAlerts(t, path, cfg.MaxDelay, par)
			sortAlerts(got)
			if !slices.Equal(got, want) {
				for i := 0; i < max(len(got), len(want)); i++ {
					var g, w Alert
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if g != w {
						t.Errorf("first difference at %d: SQL %v, CEP %v", i, g, w)
						break
					}
				}
				t.Fatalf("SQL: %d alerts, CEP: %d (FailedBurst %d, MuleTransfers %d)", len(got), len(want), count[FailedBurst], count[MuleTransfers])
			}
			t.Logf("%d alerts (FailedBurst %d, MuleTransfers %d)", len(got), count[FailedBurst], count[MuleTransfers])
		})
	}
}
