package weir_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
)

// measured counts its records by parity (a labelled counter in a
// subgroup), keeps the last value in a gauge and observes every value in
// a histogram.
type measured struct {
	even, odd weir.Counter
	last      weir.Gauge
	values    weir.Histogram
	bad       string // if set, a metric name to ask for in Open (errors)
}

func (m *measured) Open(ctx *weir.KeyedRuntimeContext[int]) error {
	g := ctx.MetricGroup().AddGroup("parity")
	var err error
	if m.even, err = g.AddLabel("parity", "even").Counter("records_total"); err != nil {
		return err
	}
	if m.odd, err = g.AddLabel("parity", "odd").Counter("records_total"); err != nil {
		return err
	}
	if m.last, err = ctx.MetricGroup().Gauge("last_value"); err != nil {
		return err
	}
	if m.values, err = ctx.MetricGroup().Histogram("value", 10, 100, 1000); err != nil {
		return err
	}
	if m.bad != "" {
		_, err = ctx.MetricGroup().Counter(m.bad)
	}
	return err
}

func (m *measured) ProcessElement(ctx *weir.KeyedContext[int, int], v int) error {
	if v%2 == 0 {
		m.even.Inc()
	} else {
		m.odd.Inc()
	}
	m.last.Set(float64(v))
	m.values.Observe(float64(v))
	ctx.Collect(v)
	return nil
}

func metricFamilies(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// User-defined metrics from a keyed function at parallelism 2 are
// published with the operator's labels and the function's own, and add up
// to the records processed.
func TestUserMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{Parallelism: 2, Registry: keepRegistry{reg}})
	var in []int
	for i := range 1000 {
		in = append(in, i)
	}
	src := weir.FromSlice(env, in)
	weir.Collect(weir.ProcessKeyed[int, int, int](weir.KeyBy(src, func(v int) int { return v % 7 }), &measured{}).Name("measured"))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs := metricFamilies(t, reg)
	counts := map[string]float64{}
	subtasks := map[string]bool{}
	for _, m := range mfs["weir_user_parity_records_total"].GetMetric() {
		l := labelsOf(m)
		if l["operator"] != "measured" || l["vertex"] == "" {
			t.Errorf("labels %v: want the operator's name and vertex", l)
		}
		subtasks[l["subtask"]] = true
		counts[l["parity"]] += m.GetCounter().GetValue()
	}
	if counts["even"] != 500 || counts["odd"] != 500 || len(subtasks) != 2 {
		t.Fatalf("records by parity %v over subtasks %v, want 500 each over 2 subtasks", counts, subtasks)
	}
	var n uint64
	var sum float64
	for _, m := range mfs["weir_user_value"].GetMetric() {
		h := m.GetHistogram()
		n += h.GetSampleCount()
		sum += h.GetSampleSum()
		if len(h.GetBucket()) != 3 {
			t.Errorf("histogram has %d buckets, want 3", len(h.GetBucket()))
		}
	}
	if n != 1000 || sum != 999*1000/2 {
		t.Fatalf("histogram count %d, sum %v; want 1000 and %d", n, sum, 999*1000/2)
	}
	if len(mfs["weir_user_last_value"].GetMetric()) != 2 {
		t.Fatalf("gauge per subtask: got %d series, want 2", len(mfs["weir_user_last_value"].GetMetric()))
	}
}

// Metric names that are not valid, or that another function asked for
// with another kind, fail the job with an error naming them; without a
// Registry the metrics work unpublished.
func TestUserMetricErrors(t *testing.T) {
	for _, tc := range []struct{ bad, want string }{
		{"records-total", `metric name "records-total"`},
		{"last_value", `metric "last_value" is already a gauge`},
	} {
		env := weir.NewEnvironment(weir.Options{Registry: keepRegistry{prometheus.NewRegistry()}})
		src := weir.FromSlice(env, []int{1, 2, 3})
		weir.Collect(weir.ProcessKeyed[int, int, int](weir.KeyBy(src, func(v int) int { return v }), &measured{bad: tc.bad}))
		err := env.Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("asking for %q: %v, want an error containing %q", tc.bad, err, tc.want)
		}
	}
	env := weir.NewEnvironment(weir.Options{})
	out := weir.Collect(weir.ProcessKeyed[int, int, int](weir.KeyBy(weir.FromSlice(env, []int{1, 2, 3}), func(v int) int { return v }), &measured{}))
	if err := env.Execute(context.Background()); err != nil || len(out.Values()) != 3 {
		t.Fatalf("without a registry: %v, %d records", err, len(out.Values()))
	}
}

// A job that checkpoints and fails once publishes its checkpoint counts,
// the last checkpoint's duration and size, and its restart.
func TestJobCheckpointMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{Registry: keepRegistry{reg},
		Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()},
		Restart:     &weir.ExponentialDelayRestart{Initial: time.Millisecond, Max: time.Millisecond}})
	var failed atomic.Bool
	src := weir.FromSource(env, datagen.New(func(seq int64) int64 { return seq }, datagen.Options{Count: 400, RecordsPerSecond: 1000}),
		weir.NoWatermarks[int64](), "gen")
	checked := weir.TryMap(src, func(v int64) (int64, error) {
		if v == 300 && !failed.Swap(true) {
			return 0, errors.New("injected")
		}
		return v, nil
	})
	sums := weir.ProcessKeyed[int64, int64, int64](weir.KeyBy(checked, func(v int64) int64 { return v % 3 }),
		weir.KeyedProcessFunc[int64, int64, int64](func(ctx *weir.KeyedContext[int64, int64], v int64) error {
			ctx.Collect(v)
			return nil
		}))
	weir.Collect(sums)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs := metricFamilies(t, reg)
	if n := mfs["weir_job_restarts_total"].GetMetric()[0].GetCounter().GetValue(); n != 1 {
		t.Errorf("restarts %v, want 1", n)
	}
	byLabels := map[string]float64{}
	for _, m := range mfs["weir_job_checkpoints_total"].GetMetric() {
		l := labelsOf(m)
		byLabels[l["kind"]+" "+l["status"]] = m.GetCounter().GetValue()
	}
	if byLabels["checkpoint completed"] < 2 {
		t.Errorf("checkpoints %v: want at least 2 completed", byLabels)
	}
	if d := mfs["weir_job_last_checkpoint_duration_seconds"].GetMetric()[0].GetGauge().GetValue(); d <= 0 || d > 10 {
		t.Errorf("last checkpoint duration %v s", d)
	}
	if s := mfs["weir_job_last_checkpoint_size_bytes"].GetMetric()[0].GetGauge().GetValue(); s <= 0 {
		t.Errorf("last checkpoint size %v bytes, want > 0", s)
	}
}
