package server

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// vertexMetricNames maps Flink's subtask metric names to the engine's
// Prometheus metrics (labels vertex, subtask).
var vertexMetricNames = []struct{ flink, prom string }{
	{"numRecordsIn", "weir_task_records_in_total"},
	{"numRecordsOut", "weir_task_records_out_total"},
	{"busyTimeMsPerSecond", "weir_task_busy_ms_per_second"},
	{"idleTimeMsPerSecond", "weir_task_idle_ms_per_second"},
	{"backPressuredTimeMsPerSecond", "weir_task_backpressured_ms_per_second"},
	{"currentInputWatermark", "weir_task_input_watermark_ms"},
	{"inputQueueFillRatio", "weir_task_input_queue_fill_ratio"},
}

// subtaskMetrics holds one vertex's metric values by Flink name, then by
// subtask index.
type subtaskMetrics map[string]map[int]float64

// gatherVertex reads the metrics of the vertex named name from reg.
func gatherVertex(reg *prometheus.Registry, name string) subtaskMetrics {
	out := subtaskMetrics{}
	if reg == nil {
		return out
	}
	fams, err := reg.Gather()
	if err != nil {
		return out
	}
	byProm := map[string]string{}
	for _, m := range vertexMetricNames {
		byProm[m.prom] = m.flink
	}
	for _, f := range fams {
		flink, ok := byProm[f.GetName()]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			var vertex string
			sub := -1
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "vertex":
					vertex = l.GetValue()
				case "subtask":
					if n, err := strconv.Atoi(l.GetValue()); err == nil {
						sub = n
					}
				}
			}
			if vertex != name || sub < 0 {
				continue
			}
			if out[flink] == nil {
				out[flink] = map[int]float64{}
			}
			out[flink][sub] = metricValue(m)
		}
	}
	return out
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return math.NaN()
}

// aggregate is Flink's aggregated subtask metric.
type aggregate struct {
	ID  string  `json:"id"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	Avg float64 `json:"avg"`
	Sum float64 `json:"sum"`
}

func aggregateOf(id string, vals map[int]float64) aggregate {
	a := aggregate{ID: id, Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range vals {
		a.Min, a.Max, a.Sum = math.Min(a.Min, v), math.Max(a.Max, v), a.Sum+v
	}
	if len(vals) == 0 {
		return aggregate{ID: id}
	}
	a.Avg = a.Sum / float64(len(vals))
	return a
}
