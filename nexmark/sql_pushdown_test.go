package nexmark_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
)

// TestSQLProjectionPushDown: the projection and filter queries read only
// the fields they use from the nexmark source, as flat columns, and no
// dateTime for the watermark (the source attaches the event time).
func TestSQLProjectionPushDown(t *testing.T) {
	want := map[string]string{
		"q0":  "TableSourceScan(table=[[default_catalog, default_database, datagen, project=[event_type, bid_auction, bid_bidder, bid_price, bid_dateTime, bid_extra]]]",
		"q2":  "TableSourceScan(table=[[default_catalog, default_database, datagen, project=[event_type, bid_auction, bid_price]]]",
		"q21": "project=[event_type, bid_auction, bid_bidder, bid_price, bid_channel, bid_url]]]",
	}
	for name, part := range want {
		script, err := nexmark.SQLScript(name, 100, 7, 10000)
		if err != nil {
			t.Fatal(err)
		}
		reg := connector.Default()
		reg.Register(nexmark.TableFactory{})
		sess := sql.NewSession(sql.SessionOptions{Connectors: reg})
		stmts, err := parser.Parse(script)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for _, st := range stmts {
			if ins, ok := st.(*ast.Insert); ok {
				st = &ast.Explain{Stmt: ins}
			}
			res, _, err := sess.Execute(st)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res != nil && res.Text != "" {
				plan = res.Text
			}
		}
		if !strings.Contains(plan, part) {
			t.Errorf("%s: the plan lacks %q:\n%s", name, part, plan)
		}
	}
}
