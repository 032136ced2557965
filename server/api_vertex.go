package server

import (
	"net/http"
	"strconv"
	"time"
)

// Flink's back pressure levels by the share of time a subtask was back
// pressured: OK up to 10%, LOW up to 50%, HIGH above (docs: "Monitoring
// Back Pressure").
const (
	lowBackPressure  = 0.10
	highBackPressure = 0.50
)

// backPressureLevel names a back pressured ratio (0..1) as Flink does.
func backPressureLevel(ratio float64) string {
	switch {
	case ratio > highBackPressure:
		return "high"
	case ratio > lowBackPressure:
		return "low"
	}
	return "ok"
}

// ratioOf turns a time-per-second metric (ms/s) into a ratio in 0..1.
func ratioOf(msPerSecond float64) float64 {
	return min(max(msPerSecond/1000, 0), 1)
}

// subtaskBackPressure is one subtask of GET .../backpressure.
type subtaskBackPressure struct {
	Subtask   int     `json:"subtask"`
	Attempt   int     `json:"attempt-number"`
	Level     string  `json:"backpressureLevel"`
	Ratio     float64 `json:"ratio"`
	IdleRatio float64 `json:"idleRatio"`
	BusyRatio float64 `json:"busyRatio"`
}

// getBackPressure answers GET /jobs/{jobid}/vertices/{vertexid}/backpressure
// in Flink's shape (JobVertexBackPressureInfo). Flink derives the ratios
// from the tasks' busy, idle and back pressured time per second, as Weir's
// metrics do; the vertex's level is its worst subtask's.
func (s *Server) getBackPressure(w http.ResponseWriter, r *http.Request) {
	m, par, ok := s.vertex(w, r)
	if !ok {
		return
	}
	subtasks := make([]subtaskBackPressure, 0, par)
	worst := 0.0
	for sub := range par {
		bp, seen := m["backPressuredTimeMsPerSecond"][sub]
		if !seen {
			continue // the subtask has not reported yet (or the job is not running)
		}
		st := subtaskBackPressure{Subtask: sub, Ratio: ratioOf(bp),
			IdleRatio: ratioOf(m["idleTimeMsPerSecond"][sub]), BusyRatio: ratioOf(m["busyTimeMsPerSecond"][sub])}
		st.Level = backPressureLevel(st.Ratio)
		worst = max(worst, st.Ratio)
		subtasks = append(subtasks, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":            "ok",
		"backpressureLevel": backPressureLevel(worst),
		"end-timestamp":     time.Now().UnixMilli(),
		"subtasks":          subtasks,
	})
}

// getVertex answers GET /jobs/{jobid}/vertices/{vertexid}: the vertex and
// its subtasks with their record counts and current watermark, in the shape
// of Flink's JobVertexDetailsInfo.
func (s *Server) getVertex(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	m, par, ok := s.vertex(w, r)
	if !ok {
		return
	}
	sum := j.summary()
	j.mu.Lock()
	plan := j.mu.plan
	j.mu.Unlock()
	vid := r.PathValue("vertexid")
	name := ""
	for _, v := range plan.Vertices {
		if strconv.Itoa(v.ID) == vid {
			name = v.Name
		}
	}
	subtasks := make([]map[string]any, 0, par)
	for sub := range par {
		metrics := map[string]any{
			"read-records":  int64(m["numRecordsIn"][sub]),
			"write-records": int64(m["numRecordsOut"][sub]),
		}
		if wm, ok := m["currentInputWatermark"][sub]; ok {
			metrics["current-input-watermark"] = int64(wm)
		}
		if bp, ok := m["backPressuredTimeMsPerSecond"][sub]; ok {
			metrics["backpressure-ratio"] = ratioOf(bp)
			metrics["busy-ratio"] = ratioOf(m["busyTimeMsPerSecond"][sub])
		}
		subtasks = append(subtasks, map[string]any{
			"subtask": sub, "status": sum.State, "attempt": max(sum.Attempts-1, 0),
			"start-time": sum.StartTime, "end-time": sum.EndTime, "duration": sum.Duration,
			"metrics": metrics,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": vid, "name": name, "parallelism": par, "now": time.Now().UnixMilli(),
		"subtasks": subtasks,
	})
}
