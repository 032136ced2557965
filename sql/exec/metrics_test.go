package exec

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// keepRegistry keeps the job's collectors registered after it ended, so
// the test can read them.
type keepRegistry struct{ *prometheus.Registry }

func (keepRegistry) Unregister(prometheus.Collector) bool { return true }

// TestWindowLateRecordsMetric checks that rows of fired windows are
// counted in the operator's late_records_dropped_total metric.
func TestWindowLateRecordsMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Registry: keepRegistry{reg}})
	r := func(ts int64) weir.TimestampedValue[row.Row] {
		return weir.TimestampedValue[row.Row]{Value: row.Of(row.Timestamp(ts, 0), row.Str("k")), TS: ts}
	}
	in := []weir.TimestampedValue[row.Row]{r(1), r(20), r(5), r(9), r(25)} // 5 and 9: [0, 10) fired
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[row.Row](0))
	out, err := WindowAggregate(src, WindowAggSpec{InputTypes: []row.Type{row.TimestampType(3), row.String()},
		TimeCol: 0, Window: Tumble(10 * time.Millisecond), GroupKeys: []int{1},
		Aggs: []AggCall{{Func: CountStar, Filter: NoFilter}}})
	if err != nil {
		t.Fatal(err)
	}
	got := weir.Collect(out)
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Values()); n != 2 {
		t.Fatalf("%d window results, want 2", n)
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
