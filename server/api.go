package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/server/ui"
)

// route is one endpoint of the REST API; routes lists them all, and the
// OpenAPI document must describe every one (a test checks).
type route struct {
	method, path string
	handle       func(s *Server, w http.ResponseWriter, r *http.Request)
}

var routes = []route{
	{"GET", "/overview", (*Server).getOverview},
	{"GET", "/openapi.json", (*Server).getOpenAPI},
	{"GET", "/metrics", (*Server).getMetrics},
	{"GET", "/jobs", (*Server).getJobs},
	{"POST", "/jobs", (*Server).postJobs},
	{"GET", "/jobs/overview", (*Server).getJobsOverview},
	{"GET", "/jobs/{jobid}", (*Server).getJob},
	{"PATCH", "/jobs/{jobid}", (*Server).cancelJob},
	{"DELETE", "/jobs/{jobid}", (*Server).cancelJob},
	{"GET", "/jobs/{jobid}/plan", (*Server).getPlan},
	{"GET", "/jobs/{jobid}/vertices/{vertexid}", (*Server).getVertex},
	{"GET", "/jobs/{jobid}/vertices/{vertexid}/backpressure", (*Server).getBackPressure},
	{"GET", "/jobs/{jobid}/vertices/{vertexid}/subtasks/metrics", (*Server).getSubtaskMetrics},
	{"GET", "/jobs/{jobid}/vertices/{vertexid}/watermarks", (*Server).getWatermarks},
	{"GET", "/jobs/{jobid}/checkpoints", (*Server).getCheckpoints},
	{"GET", "/jobs/{jobid}/exceptions", (*Server).getExceptions},
	{"POST", "/jobs/{jobid}/savepoints", (*Server).postSavepoint},
	{"GET", "/jobs/{jobid}/savepoints/{triggerid}", (*Server).getOperation},
	{"POST", "/jobs/{jobid}/stop", (*Server).postStop},
	{"POST", "/jobs/{jobid}/rescaling", (*Server).postRescale},
	{"GET", "/jobs/{jobid}/rescaling/{triggerid}", (*Server).getOperation},
	// The SQL Gateway API (gateway_api.go), also under /v2.
	{"GET", "/api_versions", (*Server).getAPIVersions},
	{"GET", "/info", (*Server).getInfo},
	{"POST", "/sessions", (*Server).postSession},
	{"GET", "/sessions/{sessionHandle}", (*Server).getSession},
	{"DELETE", "/sessions/{sessionHandle}", (*Server).deleteSession},
	{"POST", "/sessions/{sessionHandle}/heartbeat", (*Server).postHeartbeat},
	{"POST", "/sessions/{sessionHandle}/configure-session", (*Server).postConfigureSession},
	{"POST", "/sessions/{sessionHandle}/statements", (*Server).postStatement},
	{"GET", "/sessions/{sessionHandle}/operations/{operationHandle}/status", (*Server).getOperationStatus},
	{"POST", "/sessions/{sessionHandle}/operations/{operationHandle}/cancel", (*Server).cancelOperation},
	{"DELETE", "/sessions/{sessionHandle}/operations/{operationHandle}/close", (*Server).closeOperation},
	{"GET", "/sessions/{sessionHandle}/operations/{operationHandle}/result/{token}", (*Server).getResult},
}

// Handler returns the REST API: rate limit, then authorization, then the
// body size limit, then the route. Errors are Flink's {"errors": [...]}.
// The web UI's static files ("/", "/assets/…"; package ui) need no token.
func (s *Server) Handler() http.Handler {
	static := ui.Handler()
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := rt.handle
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
		if gatewayPath(rt.path) {
			mux.HandleFunc(rt.method+" /v2"+rt.path, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.limiter != nil {
			if ok, wait := s.limiter.allow(clientAddr(r)); !ok {
				w.Header().Set("Retry-After", retryAfter(wait))
				writeError(w, http.StatusTooManyRequests, "too many requests from this client; retry later")
				return
			}
		}
		if ui.Serves(r) {
			static.ServeHTTP(w, r)
			return
		}
		if code, err := s.authorize(r); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="weir"`)
			writeError(w, code, err.Error())
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		if _, pattern := mux.Handler(r); pattern == "" {
			notRouted(mux, w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// notRouted answers a request no route takes: 405 with the allowed
// methods when the path exists, else 404 (as JSON errors, not the mux's
// text).
func notRouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE", "PUT"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: %s", r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

func writeError(w http.ResponseWriter, code int, msgs ...string) {
	writeJSON(w, code, map[string][]string{"errors": msgs})
}

// decode reads the JSON body into v: 413 when it is too large, 400 when
// it is not the JSON v expects.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		if _, rerr := io.Copy(io.Discard, r.Body); rerr != nil {
			err = rerr
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit))
		return false
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "request body is empty: a JSON object is expected")
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad JSON in the request body: "+err.Error())
		return false
	}
	return true
}

// decodeOptional is decode for bodies that may be empty.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit))
		return false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return false
	}
	if strings.TrimSpace(string(b)) == "" {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON in the request body: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON in the request body: trailing data after the JSON object")
		return false
	}
	return true
}

// lookup returns the job of the path's {jobid}, or writes 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *hostedJob {
	id := r.PathValue("jobid")
	j := s.job(id)
	if j == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %s not found", id))
	}
	return j
}

// writeOpError maps an operation's error to its HTTP status.
func writeOpError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, errBadRequest):
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

// jobSummary is what /jobs/overview shows of a job.
type jobSummary struct {
	ID          string `json:"jid"`
	Name        string `json:"name"`
	State       string `json:"state"`
	Kind        string `json:"job-kind"`
	Parallelism int    `json:"parallelism"`
	StartTime   int64  `json:"start-time"`
	EndTime     int64  `json:"end-time"`
	Duration    int64  `json:"duration"`
	LastMod     int64  `json:"last-modification"`
	Attempts    int    `json:"attempts"`
	Savepoint   string `json:"last-savepoint,omitempty"`
	Failure     string `json:"failure,omitempty"`
}

func (j *hostedJob) summary() jobSummary {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec := j.mu.rec
	st := j.mu.status
	if a := j.mu.run; a != nil {
		st = a.client.Status()
	}
	sum := jobSummary{ID: rec.ID, Name: rec.Name, State: j.stateLocked(), Kind: rec.Kind, Parallelism: rec.Parallelism,
		StartTime: millis(j.mu.started), EndTime: millis(st.Ended), LastMod: millis(rec.Updated), Attempts: st.Attempts,
		Savepoint: rec.Savepoint, Failure: rec.Failure}
	if j.mu.run != nil {
		sum.EndTime = -1
	}
	switch {
	case j.mu.started.IsZero():
		sum.Duration = -1
	case sum.EndTime > 0:
		sum.Duration = sum.EndTime - sum.StartTime
	default:
		sum.Duration = time.Since(j.mu.started).Milliseconds()
	}
	return sum
}

func (s *Server) getOverview(w http.ResponseWriter, _ *http.Request) {
	counts := map[string]int{}
	for _, j := range s.jobs() {
		counts[j.summary().State]++
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"jobs-running":   counts["RUNNING"] + counts["RESTARTING"] + counts["INITIALIZING"] + counts["CANCELLING"],
		"jobs-finished":  counts[stateFinished],
		"jobs-cancelled": counts[stateCanceled],
		"jobs-failed":    counts[stateFailed],
		"jobs-suspended": counts[stateSuspended],
		"weir-version":   s.opts.Version,
	})
}

func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

func (s *Server) getJobs(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	jobs := []entry{}
	for _, j := range s.jobs() {
		sum := j.summary()
		jobs = append(jobs, entry{sum.ID, sum.State})
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (s *Server) getJobsOverview(w http.ResponseWriter, _ *http.Request) {
	jobs := []jobSummary{}
	for _, j := range s.jobs() {
		jobs = append(jobs, j.summary())
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

// submitRequest is the body of POST /jobs.
type submitRequest struct {
	// SQL is a script: DDL and SET statements, then one INSERT INTO or
	// one statement set.
	SQL string `json:"sql,omitempty"`
	// Job names a registered Go job; Args are its arguments.
	Job  string            `json:"job,omitempty"`
	Args map[string]string `json:"args,omitempty"`
	// Name is shown in listings (default: the Go job's name, or "sql").
	Name        string `json:"name,omitempty"`
	Parallelism int    `json:"parallelism,omitempty"`
}

func (s *Server) postJobs(w http.ResponseWriter, r *http.Request) {
	var req submitRequest
	if !decode(w, r, &req) {
		return
	}
	rec := Record{Name: req.Name, Parallelism: req.Parallelism}
	switch {
	case req.Parallelism < 0:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parallelism must be positive, not %d", req.Parallelism))
		return
	case req.Parallelism > 128:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parallelism %d is above the max parallelism 128", req.Parallelism))
		return
	case (req.SQL == "") == (req.Job == ""):
		writeError(w, http.StatusBadRequest, `give exactly one of "sql" (a SQL script) and "job" (a registered Go job)`)
		return
	case req.SQL != "":
		if len(req.Args) > 0 {
			writeError(w, http.StatusBadRequest, `"args" applies to Go jobs ("job"), not to "sql"`)
			return
		}
		rec.Kind, rec.SQL = kindSQL, req.SQL
		if rec.Name == "" {
			rec.Name = "sql"
		}
	default:
		rec.Kind, rec.GoJob, rec.Args = kindGo, req.Job, req.Args
		if rec.Name == "" {
			rec.Name = req.Job
		}
	}
	id, err := s.submit(rec)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"jobid": id})
}

// vertexJSON is a vertex of GET /jobs/{jobid}.
type vertexJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Parallelism int            `json:"parallelism"`
	Status      string         `json:"status"`
	Metrics     map[string]any `json:"metrics"`
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	sum := j.summary()
	j.mu.Lock()
	plan, reg := j.mu.plan, j.mu.metrics
	running := j.mu.run != nil
	j.mu.Unlock()
	vertices := []vertexJSON{}
	for _, v := range plan.Vertices {
		m := gatherVertex(reg, v.Name)
		metrics := map[string]any{
			"read-records":  int64(aggregateOf("", m["numRecordsIn"]).Sum),
			"write-records": int64(aggregateOf("", m["numRecordsOut"]).Sum),
		}
		if wm := m["currentInputWatermark"]; len(wm) > 0 {
			metrics["current-input-watermark"] = int64(aggregateOf("", wm).Min)
		}
		// Weir runs a job's vertices together: a vertex is in the job's state.
		vertices = append(vertices, vertexJSON{ID: strconv.Itoa(v.ID), Name: v.Name, Parallelism: v.Parallelism, Status: sum.State, Metrics: metrics})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"jid": sum.ID, "name": sum.Name, "state": sum.State, "isStoppable": running, "job-type": "STREAMING",
		"start-time": sum.StartTime, "end-time": sum.EndTime, "duration": sum.Duration, "now": time.Now().UnixMilli(),
		"parallelism": sum.Parallelism, "attempts": sum.Attempts, "last-savepoint": sum.Savepoint, "failure": sum.Failure,
		"vertices": vertices,
	})
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	j.mu.Lock()
	plan := j.mu.plan
	j.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"plan": plan})
}

// vertex returns the metrics of the path's {vertexid}, or writes 404.
func (s *Server) vertex(w http.ResponseWriter, r *http.Request) (subtaskMetrics, int, bool) {
	j := s.lookup(w, r)
	if j == nil {
		return nil, 0, false
	}
	vid := r.PathValue("vertexid")
	j.mu.Lock()
	plan, reg := j.mu.plan, j.mu.metrics
	j.mu.Unlock()
	for _, v := range plan.Vertices {
		if strconv.Itoa(v.ID) == vid {
			return gatherVertex(reg, v.Name), v.Parallelism, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("vertex %s not found in job %s", vid, j.id))
	return nil, 0, false
}

func (s *Server) getSubtaskMetrics(w http.ResponseWriter, r *http.Request) {
	m, _, ok := s.vertex(w, r)
	if !ok {
		return
	}
	get := r.URL.Query().Get("get")
	if get == "" {
		ids := []map[string]string{}
		for _, n := range vertexMetricNames {
			ids = append(ids, map[string]string{"id": n.flink})
		}
		writeJSON(w, http.StatusOK, ids)
		return
	}
	out := []aggregate{}
	for _, name := range strings.Split(get, ",") {
		known := slices.ContainsFunc(vertexMetricNames, func(n struct{ flink, prom string }) bool { return n.flink == name })
		if !known {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown metric %q", name))
			return
		}
		out = append(out, aggregateOf(name, m[name]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getWatermarks(w http.ResponseWriter, r *http.Request) {
	m, _, ok := s.vertex(w, r)
	if !ok {
		return
	}
	out := []map[string]string{}
	subs := make([]int, 0, len(m["currentInputWatermark"]))
	for sub := range m["currentInputWatermark"] {
		subs = append(subs, sub)
	}
	slices.Sort(subs)
	for _, sub := range subs {
		out = append(out, map[string]string{"id": fmt.Sprintf("%d.currentInputWatermark", sub),
			"value": strconv.FormatInt(int64(m["currentInputWatermark"][sub]), 10)})
	}
	writeJSON(w, http.StatusOK, out)
}

func checkpointJSON(e checkpointEntry) map[string]any {
	kind := "CHECKPOINT"
	if e.Savepoint {
		kind = "SAVEPOINT"
	}
	c := map[string]any{
		"id": e.ID, "status": e.Status, "is_savepoint": e.Savepoint, "checkpoint_type": kind,
		"trigger_timestamp": millis(e.Triggered), "latest_ack_timestamp": millis(e.Ended),
		"state_size": e.Size, "checkpointed_size": e.Checkpointed, "external_path": e.Path,
		// Alignment blocks the channels that delivered their barrier
		// (backpressure) instead of buffering them: nothing is buffered,
		// processed or persisted during alignment.
		"alignment_buffered": 0, "processed_data": 0, "persisted_data": 0,
		"alignment_duration":        e.Alignment.Milliseconds(),
		"num_subtasks":              e.Subtasks,
		"num_acknowledged_subtasks": e.Acked,
	}
	if e.Status == "COMPLETED" {
		c["@class"] = "completed"
	} else {
		c["@class"] = "failed"
		c["failure_message"] = e.Failure
		c["failure_timestamp"] = millis(e.Ended)
	}
	if !e.Triggered.IsZero() && !e.Ended.IsZero() {
		c["end_to_end_duration"] = e.Ended.Sub(e.Triggered).Milliseconds()
	} else {
		c["end_to_end_duration"] = nil
	}
	tasks := map[string]any{}
	for _, v := range e.Vertices {
		t := map[string]any{"id": e.ID, "status": e.Status, "latest_ack_timestamp": millis(v.LatestAck),
			"state_size": v.Size, "checkpointed_size": v.Checkpointed, "alignment_buffered": 0,
			"alignment_duration": v.Alignment.Milliseconds(), "num_acknowledged_subtasks": v.Acked}
		if !e.Triggered.IsZero() && !v.LatestAck.IsZero() {
			t["end_to_end_duration"] = v.LatestAck.Sub(e.Triggered).Milliseconds()
		}
		tasks[v.Name] = t
	}
	c["tasks"] = tasks
	return c
}

// checkpointSummary is Flink's summary of completed checkpoints: min,
// max and average of each statistic.
func checkpointSummary(entries []checkpointEntry) map[string]any {
	stat := func(get func(e checkpointEntry) (int64, bool)) map[string]any {
		var n, sum, lo, hi int64
		for _, e := range entries {
			v, ok := get(e)
			if e.Status != "COMPLETED" || !ok {
				continue
			}
			if n == 0 || v < lo {
				lo = v
			}
			if n == 0 || v > hi {
				hi = v
			}
			n++
			sum += v
		}
		if n == 0 {
			return map[string]any{"min": 0, "max": 0, "avg": 0}
		}
		return map[string]any{"min": lo, "max": hi, "avg": sum / n}
	}
	return map[string]any{
		"state_size":         stat(func(e checkpointEntry) (int64, bool) { return e.Size, true }),
		"checkpointed_size":  stat(func(e checkpointEntry) (int64, bool) { return e.Checkpointed, true }),
		"alignment_buffered": stat(func(checkpointEntry) (int64, bool) { return 0, true }),
		"alignment_duration": stat(func(e checkpointEntry) (int64, bool) { return e.Alignment.Milliseconds(), true }),
		"end_to_end_duration": stat(func(e checkpointEntry) (int64, bool) {
			return e.Ended.Sub(e.Triggered).Milliseconds(), !e.Triggered.IsZero()
		}),
	}
}

func (s *Server) getCheckpoints(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	entries, completed, failed, restored, _ := j.hist.snapshot()
	history := []map[string]any{}
	var latestCompleted, latestSavepoint, latestFailed map[string]any
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		c := checkpointJSON(e)
		history = append(history, c)
		switch {
		case e.Status != "COMPLETED":
			if latestFailed == nil {
				latestFailed = c
			}
		case e.Savepoint:
			if latestSavepoint == nil {
				latestSavepoint = c
			}
		default:
			if latestCompleted == nil {
				latestCompleted = c
			}
		}
	}
	var rest map[string]any
	if restored != nil {
		rest = map[string]any{"id": restored.ID, "restore_timestamp": millis(restored.Ended), "external_path": restored.Path}
	}
	nRestored := 0
	if restored != nil {
		nRestored = 1
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"counts":  map[string]int{"restored": nRestored, "total": completed + failed, "in_progress": 0, "completed": completed, "failed": failed},
		"latest":  map[string]any{"completed": latestCompleted, "savepoint": latestSavepoint, "failed": latestFailed, "restored": rest},
		"summary": checkpointSummary(entries),
		"history": history,
	})
}

func (s *Server) getExceptions(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	_, _, _, _, exc := j.hist.snapshot()
	entries := []map[string]any{}
	for i := len(exc) - 1; i >= 0; i-- {
		entries = append(entries, map[string]any{"exceptionName": "error", "stacktrace": exc[i].Message, "timestamp": exc[i].Time.UnixMilli()})
	}
	out := map[string]any{"exceptionHistory": map[string]any{"entries": entries, "truncated": len(exc) >= historySize}}
	if len(exc) > 0 {
		out["root-exception"] = exc[len(exc)-1].Message
		out["timestamp"] = exc[len(exc)-1].Time.UnixMilli()
	}
	writeJSON(w, http.StatusOK, out)
}

// savepointRequest is the body of POST /jobs/{jobid}/savepoints.
type savepointRequest struct {
	TargetDirectory string `json:"target-directory,omitempty"`
	CancelJob       bool   `json:"cancel-job,omitempty"`
}

func (s *Server) postSavepoint(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	var req savepointRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	dir, err := s.savepointTarget(j.id, req.TargetDirectory)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var id string
	if req.CancelJob {
		// Flink's cancel-job savepoint: the job ends after it (here as a
		// stop-with-savepoint, which also commits the sinks).
		id, err = j.stopWithSavepoint(dir, intentStop, 0, false)
	} else {
		id, err = j.savepoint(dir)
	}
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"request-id": id})
}

// stopRequest is the body of POST /jobs/{jobid}/stop.
type stopRequest struct {
	TargetDirectory string `json:"targetDirectory,omitempty"`
	Drain           bool   `json:"drain,omitempty"`
}

func (s *Server) postStop(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	var req stopRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	dir, err := s.savepointTarget(j.id, req.TargetDirectory)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := j.stopWithSavepoint(dir, intentStop, 0, req.Drain)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"request-id": id})
}

func (s *Server) postRescale(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	var body struct {
		Parallelism int `json:"parallelism,omitempty"`
	}
	if !decodeOptional(w, r, &body) {
		return
	}
	par := body.Parallelism
	if q := r.URL.Query().Get("parallelism"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parallelism %q is not a number", q))
			return
		}
		par = n
	}
	if par < 1 || par > 128 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parallelism must be between 1 and the max parallelism 128, not %d", par))
		return
	}
	id, err := j.stopWithSavepoint(s.defaultSavepointDir(j.id), intentRescale, par, false)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"request-id": id})
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	tid := r.PathValue("triggerid")
	op, ok := j.operation(tid)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("request %s not found for job %s", tid, j.id))
		return
	}
	out := map[string]any{"status": map[string]string{"id": op.Status}}
	switch {
	case op.Status != "COMPLETED":
	case op.Failure != "":
		out["operation"] = map[string]any{"failure-cause": map[string]string{"class": "error", "stack-trace": op.Failure}}
	default:
		out["operation"] = map[string]any{"location": op.Location}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	if r.Method == http.MethodPatch {
		if mode := r.URL.Query().Get("mode"); mode != "" && mode != "cancel" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("mode %q is not supported (only cancel; stop with POST /jobs/{jobid}/stop)", mode))
			return
		}
	}
	if err := j.cancel(); err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{})
}
