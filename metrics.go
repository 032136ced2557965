package weir

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/metrics"
	"github.com/weirstream/weir/internal/runtime"
)

type jobMetrics struct{ j *metrics.Job }

func newJobMetrics(reg prometheus.Registerer) (*jobMetrics, error) {
	j, err := metrics.NewJob(reg)
	if err != nil {
		return nil, err
	}
	return &jobMetrics{j}, nil
}

func (m *jobMetrics) unregister() { m.j.Unregister() }

func (m *jobMetrics) checkpoint(e checkpoint.Event) {
	m.j.Checkpoint(e.Savepoint, e.Completed, e.Duration.Seconds(), e.Size)
}

func (m *jobMetrics) report(t *graph.TaskInfo, tm *runtime.TaskMetrics) {
	m.j.Report(t.Vertex, t.Subtask, tm, time.Now().UnixNano())
}

func (m *jobMetrics) operator(t *graph.TaskInfo, ctx *runtime.OperatorContext) {
	m.j.Operator(t.Vertex, t.Subtask, ctx.Name, ctx.Metrics)
	ctx.UserMetrics = func(kind int, name string, keys, values []string, buckets []float64) (any, error) {
		return m.j.User(metrics.UserKind(kind), name, keys, values, buckets, t.Vertex, ctx.Name, t.Subtask)
	}
}

// latencyOptions turns latency markers on, as Options.LatencyTrackingInterval
// says, recording them in m's histogram and as spans of tr.
func (e *Environment) latencyOptions(o *graph.Options, m *jobMetrics, tr *jobTracer) {
	if e.opts.LatencyTrackingInterval <= 0 || (m == nil && tr == nil) {
		return
	}
	o.LatencyInterval = e.opts.LatencyTrackingInterval
	o.OnLatency = func(t *graph.TaskInfo, sinks []string, mk *runtime.LatencyMarker, now int64) {
		ms := float64(now-mk.Emitted) / 1e6
		for _, sink := range sinks {
			if m != nil {
				m.j.Latency(mk.Source, sink, ms)
			}
			tr.latency(mk.Source, sink, t.Subtask, time.Unix(0, mk.Emitted), time.Unix(0, now))
		}
	}
}
