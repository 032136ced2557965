// Package metrics publishes the runtime's counters to a Prometheus registry.
//
// Tasks keep plain counters on their own goroutine and hand them here at
// most once per report interval, so the per-record path never touches a
// Prometheus metric. Job is safe for use by many tasks at once.
package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir/internal/runtime"
)

// Job holds the metric vectors of one running job.
type Job struct {
	reg prometheus.Registerer

	recordsIn, recordsOut       *prometheus.CounterVec
	busy, idle, backpressured   *prometheus.GaugeVec
	watermark, queueFill        *prometheus.GaugeVec
	lateDropped                 *prometheus.CounterVec
	opWatermark                 *prometheus.GaugeVec
	asyncInFlight               *prometheus.GaugeVec
	asyncRetries, asyncTimeouts *prometheus.CounterVec
	checkpoints                 *prometheus.CounterVec
	lastDuration, lastSize      prometheus.Gauge
	restarts                    prometheus.Counter
	latency                     *prometheus.HistogramVec
	collectors                  []prometheus.Collector
	mu                          sync.Mutex
	tasks                       map[taskKey]*taskState
	ops                         []*opState
	user                        map[string]*userVec // by name, guarded by mu
}

type taskKey struct {
	vertex  string
	subtask int
}

type taskState struct {
	last     runtime.TaskMetrics
	lastTime int64
}

type opState struct {
	vertex, name, subtask     string
	m                         *runtime.OperatorMetrics
	lastLate                  int64
	lastRetries, lastTimeouts int64
}

// NewJob registers the job's metrics with reg.
func NewJob(reg prometheus.Registerer) (*Job, error) {
	task := []string{"vertex", "subtask"}
	op := []string{"vertex", "operator", "subtask"}
	j := &Job{reg: reg, tasks: map[taskKey]*taskState{}}
	j.recordsIn = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "task", Name: "records_in_total", Help: "Records received by the subtask's chain."}, task)
	j.recordsOut = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "task", Name: "records_out_total", Help: "Records sent by the subtask's chain to other subtasks."}, task)
	j.busy = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "task", Name: "busy_ms_per_second", Help: "Milliseconds per second the subtask spent processing."}, task)
	j.idle = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "task", Name: "idle_ms_per_second", Help: "Milliseconds per second the subtask waited for input."}, task)
	j.backpressured = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "task", Name: "backpressured_ms_per_second", Help: "Milliseconds per second the subtask was blocked on a full output."}, task)
	j.watermark = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "task", Name: "input_watermark_ms", Help: "The subtask's combined input watermark (ms since epoch)."}, task)
	j.queueFill = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "task", Name: "input_queue_fill_ratio", Help: "Mean fill of the subtask's input channels, 0 to 1."}, task)
	j.lateDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "operator", Name: "late_records_dropped_total", Help: "Records dropped for arriving behind the watermark."}, op)
	j.opWatermark = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "operator", Name: "current_watermark_ms", Help: "The operator's current input watermark."}, op)
	j.asyncInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "operator", Name: "async_in_flight", Help: "Records an async I/O operator requested and has not emitted yet."}, op)
	j.asyncRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "operator", Name: "async_retries_total", Help: "Calls of an async I/O function after a record's first (retries)."}, op)
	j.asyncTimeouts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "operator", Name: "async_timeouts_total", Help: "Records whose async I/O request timed out."}, op)
	j.checkpoints = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "job", Name: "checkpoints_total", Help: "Checkpoints and savepoints that ended, by kind (checkpoint, savepoint) and status (completed, failed)."}, []string{"kind", "status"})
	j.lastDuration = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "job", Name: "last_checkpoint_duration_seconds", Help: "Time from trigger to completion of the last completed checkpoint."})
	j.lastSize = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "job", Name: "last_checkpoint_size_bytes", Help: "Bytes the tasks stored for the last completed checkpoint."})
	j.restarts = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: "job", Name: "restarts_total", Help: "Restarts of the job after a failure."})
	j.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "weir", Name: "latency_ms",
		Help:    "Time latency markers took from a source to a sink, in milliseconds (with latency tracking on).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 17)}, []string{"source", "sink"})
	for _, kind := range []string{"checkpoint", "savepoint"} {
		for _, status := range []string{"completed", "failed"} {
			j.checkpoints.WithLabelValues(kind, status) // export zeros
		}
	}
	j.collectors = []prometheus.Collector{j.recordsIn, j.recordsOut, j.busy, j.idle, j.backpressured, j.watermark, j.queueFill, j.lateDropped, j.opWatermark, j.asyncInFlight, j.asyncRetries, j.asyncTimeouts,
		j.checkpoints, j.lastDuration, j.lastSize, j.restarts, j.latency}
	for i, c := range j.collectors {
		if err := reg.Register(c); err != nil {
			for _, r := range j.collectors[:i] {
				reg.Unregister(r)
			}
			return nil, err
		}
	}
	return j, nil
}

// Unregister removes the job's metrics from the registry.
func (j *Job) Unregister() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range j.collectors {
		j.reg.Unregister(c)
	}
}

// Operator adds an operator instance whose counters are published with its
// task's reports.
func (j *Job) Operator(vertex string, subtask int, name string, m *runtime.OperatorMetrics) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o := &opState{vertex: vertex, name: name, subtask: strconv.Itoa(subtask), m: m}
	for i, p := range j.ops {
		if p.vertex == o.vertex && p.name == o.name && p.subtask == o.subtask {
			j.ops[i] = o // the operator of a restarted attempt: its counters start from zero
			return
		}
	}
	j.ops = append(j.ops, o)
}

// Report publishes a task's cumulative counters; nowNanos is the time of the
// report.
func (j *Job) Report(vertex string, subtask int, m *runtime.TaskMetrics, nowNanos int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	k := taskKey{vertex, subtask}
	st := j.tasks[k]
	if st == nil || st.last.Started != m.Started {
		// A new task, or the task of a restarted attempt, whose counters
		// start from zero again.
		st = &taskState{lastTime: m.Started}
		st.last.Started = m.Started
		j.tasks[k] = st
	}
	sub := strconv.Itoa(subtask)
	j.recordsIn.WithLabelValues(vertex, sub).Add(float64(m.RecordsIn - st.last.RecordsIn))
	j.recordsOut.WithLabelValues(vertex, sub).Add(float64(m.RecordsOut - st.last.RecordsOut))
	if dt := nowNanos - st.lastTime; dt > 0 {
		idle := float64(m.IdleNanos-st.last.IdleNanos) / float64(dt) * 1000
		bp := float64(m.BackpressureNano-st.last.BackpressureNano) / float64(dt) * 1000
		busy := 1000 - idle - bp
		if busy < 0 {
			busy = 0
		}
		j.idle.WithLabelValues(vertex, sub).Set(idle)
		j.backpressured.WithLabelValues(vertex, sub).Set(bp)
		j.busy.WithLabelValues(vertex, sub).Set(busy)
	}
	if m.Watermark != runtime.MinWatermark {
		j.watermark.WithLabelValues(vertex, sub).Set(float64(m.Watermark))
	}
	j.queueFill.WithLabelValues(vertex, sub).Set(m.QueueFill)
	st.last, st.lastTime = *m, nowNanos
	for _, o := range j.ops {
		if o.vertex != vertex || o.subtask != sub {
			continue
		}
		late := atomic.LoadInt64(&o.m.LateRecordsDropped)
		j.lateDropped.WithLabelValues(vertex, o.name, sub).Add(float64(late - o.lastLate))
		o.lastLate = late
		if wm := atomic.LoadInt64(&o.m.CurrentWatermark); wm != runtime.MinWatermark {
			j.opWatermark.WithLabelValues(vertex, o.name, sub).Set(float64(wm))
		}
		if o.m.Async {
			j.asyncInFlight.WithLabelValues(vertex, o.name, sub).Set(float64(atomic.LoadInt64(&o.m.AsyncInFlight)))
			r, t := atomic.LoadInt64(&o.m.AsyncRetries), atomic.LoadInt64(&o.m.AsyncTimeouts)
			j.asyncRetries.WithLabelValues(vertex, o.name, sub).Add(float64(r - o.lastRetries))
			j.asyncTimeouts.WithLabelValues(vertex, o.name, sub).Add(float64(t - o.lastTimeouts))
			o.lastRetries, o.lastTimeouts = r, t
		}
	}
}

// Checkpoint publishes a checkpoint or savepoint that ended.
func (j *Job) Checkpoint(savepoint, completed bool, durationSeconds float64, size int64) {
	kind, status := "checkpoint", "failed"
	if savepoint {
		kind = "savepoint"
	}
	if completed {
		status = "completed"
		if !savepoint {
			if durationSeconds > 0 { // 0: not triggered (the final checkpoint of a bounded job)
				j.lastDuration.Set(durationSeconds)
			}
			j.lastSize.Set(float64(size))
		}
	}
	j.checkpoints.WithLabelValues(kind, status).Inc()
}

// Restart counts a restart of the job.
func (j *Job) Restart() { j.restarts.Inc() }

// Latency records the time a latency marker took from source to sink.
func (j *Job) Latency(source, sink string, ms float64) {
	j.latency.WithLabelValues(source, sink).Observe(ms)
}
