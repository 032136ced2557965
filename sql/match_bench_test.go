package sql

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/fraud"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
)

// benchPayments are the payments of the MATCH_RECOGNIZE benchmarks: the
// fraud demo's generator, many fraudulent accounts so that both rules
// have partial matches to keep.
func benchPayments(n int64) []fraud.Payment {
	gen := fraud.NewGenerator(fraud.GeneratorConfig{Seed: 3, Accounts: 2000, Events: n, EventRate: 200,
		FailureRate: 0.05, FraudFraction: 0.1, MaxDelay: time.Second}, nil)
	out := make([]fraud.Payment, n)
	for i := range out {
		out[i] = gen.Payment(int64(i))
	}
	return out
}

// matchJob builds the two fraud rules written in MATCH_RECOGNIZE over
// rows from memory: each query's filter (a Calc) then its Match operator,
// as the planner translates them, without the file source.
func matchJob(b *testing.B, env *weir.Environment, rows []weir.TimestampedValue[row.Row]) *weir.Collected[row.Row] {
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse(fraud.PaymentsTableSQL("/nonexistent", time.Second) + ";" + fraud.FailedBurstSQL(fraud.Rules{}) + ";" + fraud.MuleSQL(fraud.Rules{}) + ";")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := sess.Execute(stmts[0]); err != nil {
		b.Fatal(err)
	}
	src := weir.FromTimestamped(env, rows, weir.ForBoundedOutOfOrderness[row.Row](time.Second)).SetParallelism(1)
	var outs []weir.Stream[row.Row]
	for _, st := range stmts[1:] {
		j, err := sess.plan(st)
		if err != nil {
			b.Fatal(err)
		}
		var m *plan.MatchRecognize
		for r := j.query; m == nil; r = r.Inputs()[0] {
			m, _ = r.(*plan.MatchRecognize)
		}
		calc := m.In.(*plan.Calc)
		tr := &translator{env: env, cfg: j.cfg, loc: time.UTC, uids: map[string]int{}}
		in, err := tr.calc(src, calc.Projects, calc.Cond, "Calc", "")
		if err != nil {
			b.Fatal(err)
		}
		out, err := exec.MatchRecognize(in, tr.matchSpec(m))
		if err != nil {
			b.Fatal(err)
		}
		outs = append(outs, out)
	}
	return weir.Collect(weir.Union(outs[0], outs[1:]...))
}

func paymentRow(p fraud.Payment) row.Row {
	return row.Row{Fields: []row.Value{row.Int(int64(p.ID)), row.Int(int64(p.Account)), row.Int(p.Amount), row.Bool(p.Failed),
		row.Timestamp(p.TS, 0), row.Bool(p.Transfer), row.Int(int64(p.To))}}
}

// BenchmarkFraudRules runs the fraud demo's two CEP rules on the same
// payments as DataStream CEP patterns (cep) and as MATCH_RECOGNIZE
// (match_recognize), at parallelism 1, and reports events per second.
func BenchmarkFraudRules(b *testing.B) {
	const n = 100_000
	ps := benchPayments(n)
	b.Run("cep", func(b *testing.B) {
		in := make([]weir.TimestampedValue[fraud.Payment], len(ps))
		for i, p := range ps {
			in[i] = weir.TimestampedValue[fraud.Payment]{Value: p, TS: p.TS}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[fraud.Payment](time.Second))
			out := weir.Collect(fraud.Patterns(src, fraud.Rules{}, nil))
			if err := env.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
			if len(out.Values()) == 0 {
				b.Fatal("no alerts")
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("match_recognize", func(b *testing.B) {
		rows := make([]weir.TimestampedValue[row.Row], len(ps))
		for i, p := range ps {
			rows[i] = weir.TimestampedValue[row.Row]{Value: paymentRow(p), TS: p.TS}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			out := matchJob(b, env, rows)
			if err := env.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
			if len(out.Values()) == 0 {
				b.Fatal("no alerts")
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
