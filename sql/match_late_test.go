package sql

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
)

// keepRegistry keeps the job's collectors registered after it ended, so
// the test can read them.
type keepRegistry struct{ *prometheus.Registry }

func (keepRegistry) Unregister(prometheus.Collector) bool { return true }

// TestMatchLateRowsMetric checks that MATCH_RECOGNIZE drops rows at or
// behind the watermark and counts them in the operator's
// late_records_dropped_total metric, as Flink's CepOperator counts
// numLateRecordsDropped.
func TestMatchLateRowsMetric(t *testing.T) {
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse(`CREATE TABLE T (id BIGINT, ts TIMESTAMP(3), v STRING, WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
SELECT * FROM T MATCH_RECOGNIZE (ORDER BY ts MEASURES A.id AS a, B.id AS b PATTERN (A B) DEFINE A AS v = 'a', B AS v = 'b');`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.Execute(stmts[0]); err != nil {
		t.Fatal(err)
	}
	j, err := sess.plan(stmts[1])
	if err != nil {
		t.Fatal(err)
	}
	m := j.query.(*plan.MatchRecognize)
	tr := &translator{cfg: j.cfg, loc: time.UTC, uids: map[string]int{}}
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Registry: keepRegistry{reg}})
	r := func(id, ts int64, v string) weir.TimestampedValue[row.Row] {
		return weir.TimestampedValue[row.Row]{Value: row.Of(row.Int(id), row.Timestamp(ts, 0), row.Str(v)), TS: ts}
	}
	// With no out-of-orderness the watermark follows the largest
	// timestamp less 1 ms: after x at 20 it is 19, so b at 15 and b at 19
	// are late. Were they matched, a at 10 then b at 15 would be a match.
	in := []weir.TimestampedValue[row.Row]{r(1, 10, "a"), r(5, 20, "x"), r(2, 15, "b"), r(3, 19, "b"), r(4, 30, "b")}
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[row.Row](0))
	out, err := exec.MatchRecognize(src, tr.matchSpec(m))
	if err != nil {
		t.Fatal(err)
	}
	got := weir.Collect(out)
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := got.Values(); len(v) != 0 {
		t.Fatalf("matches %v, want none: a at 10 is followed by x at 20 once the late rows are dropped", v)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	late := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "weir_operator_late_records_dropped_total" {
			for _, m := range mf.GetMetric() {
				late += m.GetCounter().GetValue()
			}
		}
	}
	if late != 2 {
		t.Fatalf("late records dropped = %v, want 2", late)
	}
}
