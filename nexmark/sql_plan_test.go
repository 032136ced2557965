package nexmark_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
)

// TestSQLPlans checks that the planner picks Flink's operators for the
// Nexmark queries: the join and ranking kinds Flink plans them with.
func TestSQLPlans(t *testing.T) {
	want := map[string][]string{
		"q3":  {"Join(joinType=[InnerJoin]", "changelogMode=[I]"},
		"q4":  {"Join(joinType=[InnerJoin], where=[AND(=(id, auction), >=(dateTime0, dateTime), <=(dateTime0, expires))], select=[id, dateTime, expires, category, auction, price, dateTime0]"},
		"q5":  {"WindowJoin(leftWindow=[HOP(win_start=[starttime], win_end=[endtime], size=[10 s], slide=[2 s])], rightWindow=[HOP(win_start=[starttime], win_end=[endtime], size=[10 s], slide=[2 s])], joinType=[InnerJoin], where=[>=(num, maxn)]", "GlobalWindowAggregate(window=[HOP(win_end=[$window_end], size=[10 s], slide=[2 s])], select=[MAX(max$0) AS EXPR$0, start('w$) AS window_start, end('w$) AS window_end])", "LocalWindowAggregate(window=[HOP(win_start=[starttime], win_end=[endtime], size=[10 s], slide=[2 s])], select=[MAX(num) AS max$0, slice_end('w$) AS $window_end])"},
		"q7":  {"Join(joinType=[InnerJoin], where=[AND(=(price, maxprice)"},
		"q8":  {"WindowJoin(leftWindow=[TUMBLE(win_start=[starttime], win_end=[endtime], size=[10 s])]", "where=[=(id, seller)]"},
		"q9":  {"Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=1], partitionBy=[id], orderBy=[price DESC, dateTime0 ASC]", "Join(joinType=[InnerJoin]"},
		"q12": {"WindowAggregate(groupBy=[bidder], window=[TUMBLE(time_col=[p_time], size=[10 s])]"},
		"q13": {"LookupJoin(table=[default_catalog.default_database.side_input], joinType=[InnerJoin], lookup=[key="},
		"q18": {"Deduplicate(keep=[LastRow], key=[bidder, auction], order=[ROWTIME]"},
		"q19": {"Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=10], partitionBy=[auction], orderBy=[price DESC]"},
		"q20": {"Join(joinType=[InnerJoin], where=[=(auction, id)]"},
	}
	for name, parts := range want {
		script, err := nexmark.SQLScriptIn(name, 100, 7, 10000, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sess, err := nexmark.SQLSession(sql.SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stmts, err := parser.Parse(script)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for _, st := range stmts {
			if ins, ok := st.(*ast.Insert); ok {
				st = &ast.Explain{Stmt: ins, Details: []string{"CHANGELOG_MODE"}}
			}
			res, _, err := sess.Execute(st)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res != nil && res.Text != "" {
				plan = res.Text
			}
		}
		for _, p := range parts {
			if !strings.Contains(plan, p) {
				t.Errorf("%s: the plan lacks %q:\n%s", name, p, plan)
			}
		}
	}
}
