package weir

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir/internal/metrics"
)

// Counter is a user-defined metric that only goes up (Flink's Counter).
type Counter interface {
	Inc()
	// Add adds a non-negative value.
	Add(float64)
}

// Gauge is a user-defined metric that is set to a value (Flink's Gauge,
// set rather than polled).
type Gauge interface {
	Set(float64)
	Inc()
	Dec()
	Add(float64)
	Sub(float64)
}

// Histogram is a user-defined metric that counts observations into
// buckets (Flink's Histogram; published as a Prometheus histogram).
type Histogram interface {
	Observe(float64)
}

// MetricGroup creates user-defined metrics for a function, as Flink's
// getRuntimeContext().getMetricGroup(). Each is published through the
// job's Options.Registry as weir_user_<groups>_<name> with the labels
// vertex, operator and subtask, plus the labels of AddLabel; without a
// Registry the metrics count but are not published. Create metrics in
// Open and keep them: creating one is a map lookup under a lock, updating
// it an atomic operation. Every subtask (and every operator of the job)
// asking for a name shares one Prometheus metric, so a name must keep its
// kind, labels and buckets throughout the job; asking otherwise is an
// error. A MetricGroup is a value: AddGroup and AddLabel return new ones.
type MetricGroup struct {
	create       func(kind int, name string, keys, values []string, buckets []float64) (any, error)
	prefix       string
	keys, values []string
}

// MetricGroup returns the operator instance's metric group.
func (r *RuntimeContext) MetricGroup() MetricGroup {
	return MetricGroup{create: r.op.UserMetrics}
}

// AddGroup returns a subgroup whose metric names start with name and an
// underscore (Flink's addGroup(name)).
func (g MetricGroup) AddGroup(name string) MetricGroup {
	g.prefix += name + "_"
	return g
}

// AddLabel returns a subgroup whose metrics carry the label key=value
// (Flink's addGroup(key, value), which its Prometheus reporter turns into
// a label).
func (g MetricGroup) AddLabel(key, value string) MetricGroup {
	g.keys = append(slices.Clip(g.keys), key)
	g.values = append(slices.Clip(g.values), value)
	return g
}

func (g MetricGroup) metric(kind metrics.UserKind, name string, buckets []float64) (any, error) {
	full := g.prefix + name
	if err := metrics.ValidateUser(full, g.keys); err != nil {
		return nil, fmt.Errorf("weir: %w", err)
	}
	if g.create == nil {
		// Not published: a free-standing metric that still counts.
		switch kind {
		case metrics.UserCounter:
			return prometheus.NewCounter(prometheus.CounterOpts{Name: full}), nil
		case metrics.UserGauge:
			return prometheus.NewGauge(prometheus.GaugeOpts{Name: full}), nil
		default:
			return prometheus.NewHistogram(prometheus.HistogramOpts{Name: full, Buckets: buckets}), nil
		}
	}
	m, err := g.create(int(kind), full, g.keys, g.values, buckets)
	if err != nil {
		return nil, fmt.Errorf("weir: %w", err)
	}
	return m, nil
}

// Counter returns the counter name of the group.
func (g MetricGroup) Counter(name string) (Counter, error) {
	m, err := g.metric(metrics.UserCounter, name, nil)
	if err != nil {
		return nil, err
	}
	return m.(Counter), nil
}

// Gauge returns the gauge name of the group.
func (g MetricGroup) Gauge(name string) (Gauge, error) {
	m, err := g.metric(metrics.UserGauge, name, nil)
	if err != nil {
		return nil, err
	}
	return m.(Gauge), nil
}

// Histogram returns the histogram name of the group with the given bucket
// upper bounds (none: Prometheus's default buckets, 5 ms to 10 s).
func (g MetricGroup) Histogram(name string, buckets ...float64) (Histogram, error) {
	if len(buckets) == 0 {
		buckets = nil
	}
	m, err := g.metric(metrics.UserHistogram, name, buckets)
	if err != nil {
		return nil, err
	}
	return m.(Histogram), nil
}
