package sql_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
)

// TestSubplanReuse checks that Nexmark q5's job runs its source and its
// HOP aggregation once with sub-plan reuse (the default) and twice
// without (subplan_reuse.txt checks that the rows are the same); the
// cascaded window aggregation of its MaxBids side (MAX per window) is one
// more window aggregation operator in either case.
func TestSubplanReuse(t *testing.T) {
	for _, tc := range []struct {
		set           string
		sources, hops int
	}{
		{"", 1, 1 + 1},
		{"SET 'table.optimizer.reuse-source-enabled' = 'false';", 2, 2 + 1},
		{"SET 'table.optimizer.reuse-sub-plan-enabled' = 'false';", 2, 2 + 1},
	} {
		script, err := nexmark.SQLScript("q5", 1000, 0, 10_000_000)
		if err != nil {
			t.Fatal(err)
		}
		reg := connector.Default()
		reg.Register(nexmark.TableFactory{})
		sess := sql.NewSession(sql.SessionOptions{Connectors: reg})
		stmts, err := parser.Parse(tc.set + script)
		if err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		for _, st := range stmts {
			_, job, err := sess.Execute(st)
			if err != nil {
				t.Fatal(err)
			}
			if job != nil {
				if err := job.Build(env, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		plan := env.Explain()
		// The keyed window operators: WindowAggregate in one phase,
		// GlobalWindowAggregate in two (each LocalWindowAggregate is
		// chained to its source).
		n := 0
		for _, l := range strings.Split(plan, "\n") {
			if strings.HasPrefix(l, "WindowAggregate") || strings.HasPrefix(l, "GlobalWindowAggregate") {
				n++
			}
		}
		if n != tc.hops {
			t.Errorf("%q: %d WindowAggregate operators, want %d:\n%s", tc.set, n, tc.hops, plan)
		}
		if n := strings.Count(plan, "Source: "); n != tc.sources {
			t.Errorf("%q: %d sources, want %d:\n%s", tc.set, n, tc.sources, plan)
		}
	}
}
