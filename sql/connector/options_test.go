package connector_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir/sql/connector"
)

// TestOptions checks option validation: "source T" and "sink T" create a
// table's source or sink from the registry and print its changelog mode
// and boundedness, or the error; pk=<column> declares a primary key. Expected messages follow Flink's
// FactoryUtil (FactoryUtilTest) where Flink has one.
func TestOptions(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.HasSuffix(path, "options") {
			runOptions(t, path)
		}
	})
}

func runOptions(t *testing.T, path string) {
	reg := connector.Default()
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		ctx, err := parseTable("T", d.Input)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		if d.HasArg("pk") {
			var pk string
			d.ScanArgs(t, "pk", &pk)
			ctx.PrimaryKey = append(ctx.PrimaryKey, ctx.Schema.Index(pk))
		}
		switch d.Cmd {
		case "source":
			src, err := reg.CreateSource(ctx)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return fmt.Sprintf("ok: %s bounded=%t\n", src.ChangelogMode(), src.Bounded())
		case "sink":
			s, err := reg.CreateSink(ctx)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			out := "ok"
			for _, q := range []connector.ChangelogMode{connector.InsertOnly, connector.Upsert, connector.All} {
				m, err := s.ChangelogMode(q)
				if err != nil {
					out += fmt.Sprintf("\n  query %s: error: %v", q, err)
				} else {
					out += fmt.Sprintf("\n  query %s: accepts %s", q, m)
				}
			}
			return out + "\n"
		}
		d.Fatalf(t, "unknown command %s", d.Cmd)
		return ""
	})
}
