package metrics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// UserKind is the type of a user-defined metric.
type UserKind int

// The kinds of user-defined metrics.
const (
	UserCounter UserKind = iota
	UserGauge
	UserHistogram
)

func (k UserKind) String() string {
	return [...]string{"counter", "gauge", "histogram"}[k]
}

var validName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// UserLabels are the labels every user-defined metric carries, before the
// function's own.
var UserLabels = []string{"vertex", "operator", "subtask"}

// userVec is one user-defined metric name of a job: one kind, one label set.
type userVec struct {
	kind    UserKind
	labels  []string
	buckets []float64
	vec     prometheus.Collector
}

// ValidateUser checks a user-defined metric's name and label keys.
func ValidateUser(name string, keys []string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("metric name %q: want letters, digits and underscores, not starting with a digit", name)
	}
	for _, k := range keys {
		if !validName.MatchString(k) || slices.Contains(UserLabels, k) || k[0] == '_' {
			return fmt.Errorf("metric %q: label %q: want letters, digits and underscores, not %q and not starting with _", name, k, UserLabels)
		}
	}
	return nil
}

// User returns the metric "weir_user_<name>" of the operator instance
// (vertex, operator, subtask) with extra labels keys=values: a
// prometheus.Counter, Gauge or Observer (histogram) by kind. Every subtask
// and operator that asks for a name shares its vector; asking for a name
// with another kind, label keys or buckets is an error. buckets apply to
// histograms (nil: prometheus.DefBuckets).
func (j *Job) User(kind UserKind, name string, keys, values []string, buckets []float64, vertex, operator string, subtask int) (any, error) {
	if err := ValidateUser(name, keys); err != nil {
		return nil, err
	}
	labels := append(slices.Clone(UserLabels), keys...)
	if kind == UserHistogram && buckets == nil {
		buckets = prometheus.DefBuckets
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.user == nil {
		j.user = map[string]*userVec{}
	}
	v := j.user[name]
	if v == nil {
		full := "weir_user_" + name
		help := "User-defined " + kind.String() + " " + name + "."
		v = &userVec{kind: kind, labels: labels, buckets: buckets}
		switch kind {
		case UserCounter:
			v.vec = prometheus.NewCounterVec(prometheus.CounterOpts{Name: full, Help: help}, labels)
		case UserGauge:
			v.vec = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: full, Help: help}, labels)
		default:
			v.vec = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: full, Help: help, Buckets: buckets}, labels)
		}
		if err := j.reg.Register(v.vec); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("metric %q: the registry already has a metric of that name (another job's, or the application's)", full)
			}
			return nil, fmt.Errorf("metric %q: %w", full, err)
		}
		j.user[name] = v
		j.collectors = append(j.collectors, v.vec)
	}
	if v.kind != kind || !slices.Equal(v.labels, labels) || (kind == UserHistogram && !slices.Equal(v.buckets, buckets)) {
		return nil, fmt.Errorf("metric %q is already a %s with labels %q (and the same buckets): a function asked for a %s with labels %q",
			name, v.kind, v.labels[len(UserLabels):], kind, keys)
	}
	lv := append([]string{vertex, operator, strconv.Itoa(subtask)}, values...)
	switch vec := v.vec.(type) {
	case *prometheus.CounterVec:
		return vec.WithLabelValues(lv...), nil
	case *prometheus.GaugeVec:
		return vec.WithLabelValues(lv...), nil
	default:
		return v.vec.(*prometheus.HistogramVec).WithLabelValues(lv...), nil
	}
}
