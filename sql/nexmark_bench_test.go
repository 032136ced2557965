package sql_test

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// benchQueries are the Nexmark queries BenchmarkNexmarkSQL runs.
var benchQueries = []string{"q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q9", "q10", "q11", "q12", "q13", "q14", "q15", "q16", "q17", "q18", "q19", "q20", "q21", "q22"}

// BenchmarkNexmarkSQL runs Nexmark queries' Flink SQL jobs (nexmark/sql,
// blackhole sinks) over b.N generated events at parallelism 1, one op per
// event, generator included (2 allocations per event of its own, see
// nexmark's BenchmarkGenerator); the "ds" runs are the DataStream
// versions over the same events. Use -benchtime=300000x and -cpuprofile
// to see where a query spends its time.
func BenchmarkNexmarkSQL(b *testing.B) {
	for _, name := range benchQueries {
		b.Run(name+"/sql", func(b *testing.B) {
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			buildNexmarkSQL(b, env, name, int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			if err := env.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(name+"/ds", func(b *testing.B) {
			q, ok := nexmark.Lookup(name)
			if !ok {
				b.Skip("no DataStream version")
			}
			cfg := nexmark.DefaultConfig(int64(b.N), 0)
			cfg.Rate = 10_000_000
			b.ReportAllocs()
			if _, err := nexmark.Bench(context.Background(), q, cfg, weir.Options{Parallelism: 1}, nil); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// buildNexmarkSQL adds the SQL job of a Nexmark query over events events
// to env.
func buildNexmarkSQL(tb testing.TB, env *weir.Environment, name string, events int64) {
	tb.Helper()
	script, err := nexmark.SQLScriptIn(name, events, 0, 10_000_000, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := nexmark.SQLSession(sql.SessionOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	stmts, err := parser.Parse(script)
	if err != nil {
		tb.Fatal(err)
	}
	for _, st := range stmts {
		_, job, err := sess.Execute(st)
		if err != nil {
			tb.Fatal(err)
		}
		if job != nil {
			if err := job.Build(env, nil); err != nil {
				tb.Fatal(err)
			}
		}
	}
}
