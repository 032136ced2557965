package nexmark_test

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// BenchmarkSQLQueries runs each SQL query's job over b.N generated events
// (one op is one event), generator included, as `weir bench nexmark
// --sql` does; use -run '^$' -bench 'SQLQueries/q17' -benchtime=1000000x
// -cpuprofile to see where a query spends its time.
func BenchmarkSQLQueries(b *testing.B) {
	for _, name := range nexmark.SQLQueries() {
		b.Run(name, func(b *testing.B) {
			script, err := nexmark.SQLScriptIn(name, int64(b.N), 0, 10_000_000, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			sess, err := nexmark.SQLSession(sql.SessionOptions{})
			if err != nil {
				b.Fatal(err)
			}
			stmts, err := parser.Parse(script)
			if err != nil {
				b.Fatal(err)
			}
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			for _, st := range stmts {
				_, job, err := sess.Execute(st)
				if err != nil {
					b.Fatal(err)
				}
				if job != nil {
					if err := job.Build(env, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := env.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
