package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// slowJob is a SQL job that runs until stopped: a slow generator into a
// blackhole.
const slowJob = `
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '200', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;
`

type testServer struct {
	t   *testing.T
	s   *Server
	url string
	tok string
}

func newTestServer(t *testing.T, o Options) *testServer {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = 50 * time.Millisecond
	}
	if o.MetricsInterval == 0 {
		o.MetricsInterval = 50 * time.Millisecond
	}
	if o.RateLimit == 0 {
		o.RateLimit = -1
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return &testServer{t: t, s: s, url: hs.URL, tok: o.Token}
}

// do sends a request with the server's token and returns the status and
// the decoded JSON body.
func (ts *testServer) do(method, path string, body any) (int, map[string]any) {
	ts.t.Helper()
	return ts.doAuth(method, path, body, ts.tok)
}

func (ts *testServer) doAuth(method, path string, body any, token string) (int, map[string]any) {
	ts.t.Helper()
	code, raw := ts.raw(method, path, body, token)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			ts.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return code, out
}

// wantError checks a Flink-style error answer.
func wantError(t *testing.T, what string, code int, body map[string]any, wantCode int, wantText string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: status %d, want %d (%v)", what, code, wantCode, body)
		return
	}
	errs, ok := body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Errorf("%s: no errors array in %v", what, body)
		return
	}
	if !strings.Contains(fmt.Sprint(errs[0]), wantText) {
		t.Errorf("%s: error %q does not contain %q", what, errs[0], wantText)
	}
}

// doList GETs a JSON array.
func (ts *testServer) doList(method, path string) (int, []map[string]any) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out) // an error answer is an object: out stays empty
	return resp.StatusCode, out
}

func (ts *testServer) submit(sql string, par int) string {
	ts.t.Helper()
	code, body := ts.do("POST", "/jobs", map[string]any{"sql": sql, "parallelism": par})
	if code != http.StatusAccepted {
		ts.t.Fatalf("submit: %d %v", code, body)
	}
	return body["jobid"].(string)
}

// waitFor polls cond until it holds or 30 s passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 30s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting for time
	}
}

func (ts *testServer) state(id string) string {
	_, body := ts.do("GET", "/jobs/"+id, nil)
	s, _ := body["state"].(string)
	return s
}

func (ts *testServer) completedCheckpoints(id string) float64 {
	_, body := ts.do("GET", "/jobs/"+id+"/checkpoints", nil)
	counts, _ := body["counts"].(map[string]any)
	n, _ := counts["completed"].(float64)
	return n
}

// awaitOp polls a savepoint/stop/rescale request until it completed.
func (ts *testServer) awaitOp(path string) map[string]any {
	ts.t.Helper()
	var op map[string]any
	waitFor(ts.t, "completed "+path, func() bool {
		code, body := ts.do("GET", path, nil)
		if code != http.StatusOK {
			ts.t.Fatalf("%s: %d %v", path, code, body)
		}
		st, _ := body["status"].(map[string]any)
		op, _ = body["operation"].(map[string]any)
		return st["id"] == "COMPLETED"
	})
	return op
}

func TestAuth(t *testing.T) {
	ts := newTestServer(t, Options{Token: "s3cret"})
	code, body := ts.doAuth("POST", "/jobs", map[string]any{"sql": slowJob}, "")
	wantError(t, "submit without token", code, body, http.StatusUnauthorized, "missing bearer token")
	code, body = ts.doAuth("POST", "/jobs", map[string]any{"sql": slowJob}, "wrong")
	wantError(t, "submit with a wrong token", code, body, http.StatusUnauthorized, "invalid bearer token")
	code, body = ts.doAuth("PATCH", "/jobs/abc", nil, "")
	wantError(t, "cancel without token", code, body, http.StatusUnauthorized, "missing bearer token")
	code, body = ts.doAuth("DELETE", "/jobs/abc", nil, "nope")
	wantError(t, "delete with a wrong token", code, body, http.StatusUnauthorized, "invalid bearer token")
	if code, body := ts.doAuth("GET", "/jobs", nil, ""); code != http.StatusOK {
		t.Errorf("GET on loopback without token: %d %v, want 200", code, body)
	}
	// With the token, the unknown job is the problem, not the caller.
	code, body = ts.do("PATCH", "/jobs/abc", nil)
	wantError(t, "cancel with token", code, body, http.StatusNotFound, "job abc not found")

	// Exposed (non-loopback): reads need the token too.
	exposed := newTestServer(t, Options{Token: "s3cret", TLS: true, Addr: "0.0.0.0:8081"})
	code, body = exposed.doAuth("GET", "/jobs", nil, "")
	wantError(t, "exposed GET without token", code, body, http.StatusUnauthorized, "missing bearer token")
	if code, body := exposed.do("GET", "/overview", nil); code != http.StatusOK {
		t.Errorf("exposed GET with token: %d %v", code, body)
	}
}

func TestRefusesExposedWithoutTokenAndTLS(t *testing.T) {
	for _, o := range []Options{
		{Addr: "0.0.0.0:8081"},
		{Addr: "192.0.2.1:8081", Token: "x"},
		{Addr: ":8081", TLS: true},
	} {
		o.Dir = t.TempDir()
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), "non-loopback") {
			t.Errorf("New(%+v) = %v, want a refusal naming the non-loopback address", o, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8081", "localhost:0", "[::1]:8081"} {
		if _, err := New(Options{Dir: t.TempDir(), Addr: addr}); err != nil {
			t.Errorf("New on loopback %s: %v", addr, err)
		}
	}
}

func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 2048})
	code, body := ts.do("POST", "/jobs", `{"sql": `)
	wantError(t, "truncated JSON", code, body, http.StatusBadRequest, "bad JSON")
	code, body = ts.do("POST", "/jobs", `{"sql": "x", "paralelism": 2}`)
	wantError(t, "unknown field", code, body, http.StatusBadRequest, `unknown field "paralelism"`)
	code, body = ts.do("POST", "/jobs", "")
	wantError(t, "empty body", code, body, http.StatusBadRequest, "empty")
	code, body = ts.do("POST", "/jobs", `{"sql": "x"} {}`)
	wantError(t, "trailing data", code, body, http.StatusBadRequest, "trailing")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": strings.Repeat("-- padding\n", 400) + slowJob})
	wantError(t, "oversized body", code, body, http.StatusRequestEntityTooLarge, "larger than 2048 bytes")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": "SELECT 1"})
	wantError(t, "a query", code, body, http.StatusBadRequest, "SELECT")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": slowJob + "INSERT INTO dst SELECT id FROM src;"})
	wantError(t, "two INSERTs", code, body, http.StatusBadRequest, "runs 2 jobs")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": "CREATE TABLE t (a INT) WITH ('connector' = 'blackhole');"})
	wantError(t, "DDL only", code, body, http.StatusBadRequest, "runs no job")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": "INSERT INTO nope SELECT 1;"})
	wantError(t, "unknown table", code, body, http.StatusBadRequest, "nope")
	code, body = ts.do("POST", "/jobs", map[string]any{"job": "sums"})
	wantError(t, "unknown Go job", code, body, http.StatusBadRequest, `unknown Go job "sums"`)
	code, body = ts.do("POST", "/jobs", map[string]any{"job": "x", "sql": slowJob})
	wantError(t, "both", code, body, http.StatusBadRequest, "exactly one")
	code, body = ts.do("POST", "/jobs", map[string]any{"sql": slowJob, "parallelism": 500})
	wantError(t, "parallelism", code, body, http.StatusBadRequest, "max parallelism")
	code, body = ts.do("PUT", "/jobs", nil)
	wantError(t, "PUT /jobs", code, body, http.StatusMethodNotAllowed, "not allowed")
	code, body = ts.do("GET", "/nothing/here", nil)
	wantError(t, "unknown path", code, body, http.StatusNotFound, "not found")
	// Nothing was recorded for the refused submissions.
	if code, body := ts.do("GET", "/jobs", nil); code != 200 || len(body["jobs"].([]any)) != 0 {
		t.Errorf("jobs after refusals: %d %v", code, body)
	}
}

func TestUnknownIDs(t *testing.T) {
	ts := newTestServer(t, Options{})
	id := ts.submit(slowJob, 1)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/jobs/feed", "job feed not found"},
		{"GET", "/jobs/feed/checkpoints", "job feed not found"},
		{"GET", "/jobs/feed/exceptions", "job feed not found"},
		{"GET", "/jobs/feed/plan", "job feed not found"},
		{"POST", "/jobs/feed/savepoints", "job feed not found"},
		{"POST", "/jobs/feed/stop", "job feed not found"},
		{"POST", "/jobs/feed/rescaling?parallelism=2", "job feed not found"},
		{"PATCH", "/jobs/feed", "job feed not found"},
		{"DELETE", "/jobs/feed", "job feed not found"},
		{"GET", "/jobs/" + id + "/savepoints/feed", "request feed not found"},
		{"GET", "/jobs/" + id + "/rescaling/feed", "request feed not found"},
		{"GET", "/jobs/" + id + "/vertices/99/watermarks", "vertex 99 not found"},
		{"GET", "/jobs/" + id + "/vertices/x/subtasks/metrics", "vertex x not found"},
	} {
		code, body := ts.do(c.method, c.path, nil)
		wantError(t, c.method+" "+c.path, code, body, http.StatusNotFound, c.want)
	}
}

func TestSavepointPathConfinement(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{SavepointRoots: []string{root}})
	id := ts.submit(slowJob, 1)
	waitFor(t, "a checkpoint", func() bool { return ts.completedCheckpoints(id) > 0 })
	for _, target := range []string{
		root + "/../" + filepath.Base(outside),
		root + "/a/../../etc",
		"/etc",
		outside,
		"relative/dir",
		filepath.Join(root, "escape", "sp"),
		"s3://bucket/x",
		"file://" + outside,
		"file://otherhost" + filepath.Join(root, "mine"),
	} {
		code, body := ts.do("POST", "/jobs/"+id+"/savepoints", map[string]any{"target-directory": target})
		wantError(t, "savepoint into "+target, code, body, http.StatusBadRequest, "target-directory")
		code, body = ts.do("POST", "/jobs/"+id+"/stop", map[string]any{"targetDirectory": target})
		wantError(t, "stop into "+target, code, body, http.StatusBadRequest, "target-directory")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("something was written outside the roots: %v", ents)
	}
	// Inside the root it works, written as Flink writes it too (a file URI).
	code, body := ts.do("POST", "/jobs/"+id+"/savepoints", map[string]any{"target-directory": "file://" + filepath.Join(root, "mine")})
	if code != http.StatusAccepted {
		t.Fatalf("savepoint inside the root: %d %v", code, body)
	}
	op := ts.awaitOp("/jobs/" + id + "/savepoints/" + body["request-id"].(string))
	loc, _ := op["location"].(string)
	if !strings.HasPrefix(loc, filepath.Join(root, "mine")+string(filepath.Separator)) {
		t.Errorf("savepoint location %q (operation %v), want under %s", loc, op, filepath.Join(root, "mine"))
	}
	if _, err := os.Stat(filepath.Join(loc, "_metadata")); err != nil {
		t.Errorf("savepoint has no metadata: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	ts := newTestServer(t, Options{RateLimit: 0.5}) // burst 1
	if code, _ := ts.do("GET", "/overview", nil); code != http.StatusOK {
		t.Fatalf("first request: %d", code)
	}
	req, _ := http.NewRequest("GET", ts.url+"/overview", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second request: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestRateLimiterBuckets(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(2, 4, func() time.Time { return now })
	for i := range 4 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Errorf("fifth request: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another client is limited by a's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a token did not come back after 500ms at 2/s")
	}
}

// TestLifecycle drives a job through the API: status with vertices and
// metrics, checkpoint history, a savepoint, a rescale, a conflict, a
// stop; then a canceled job, and a server restart that resumes a job.
func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, Options{Dir: dir})
	id := ts.submit(slowJob, 2)
	waitFor(t, "checkpoints", func() bool { return ts.completedCheckpoints(id) >= 2 })
	_, job := ts.do("GET", "/jobs/"+id, nil)
	if job["state"] != "RUNNING" || job["parallelism"].(float64) != 2 {
		t.Errorf("job: %v", job)
	}
	for _, v := range job["vertices"].([]any) {
		if p := v.(map[string]any)["parallelism"].(float64); p != 2 {
			t.Errorf("vertex %v: parallelism %v, want 2", v, p)
		}
	}
	code, chk := ts.do("GET", "/jobs/"+id+"/checkpoints", nil)
	hist, _ := chk["history"].([]any)
	if code != 200 || len(hist) == 0 {
		t.Fatalf("checkpoints: %d %v", code, chk)
	}
	h0 := hist[0].(map[string]any)
	if h0["status"] != "COMPLETED" || h0["state_size"].(float64) <= 0 || h0["end_to_end_duration"] == nil {
		t.Errorf("latest checkpoint: %v", h0)
	}
	code, _ = ts.do("GET", "/jobs/"+id+"/vertices/0/subtasks/metrics?get=numRecordsOut", nil)
	if code != 200 {
		t.Errorf("subtask metrics: %d", code)
	}

	// A savepoint into the default directory.
	code, body := ts.do("POST", "/jobs/"+id+"/savepoints", nil)
	if code != http.StatusAccepted {
		t.Fatalf("savepoint: %d %v", code, body)
	}
	op := ts.awaitOp("/jobs/" + id + "/savepoints/" + body["request-id"].(string))
	if loc, _ := op["location"].(string); !strings.HasPrefix(loc, filepath.Join(dir, "savepoints", id)) {
		t.Errorf("savepoint: %v", op)
	}

	// Rescale to 3, then a second rescale while... the first is done.
	code, body = ts.do("POST", "/jobs/"+id+"/rescaling?parallelism=3", nil)
	if code != http.StatusAccepted {
		t.Fatalf("rescale: %d %v", code, body)
	}
	ts.awaitOp("/jobs/" + id + "/rescaling/" + body["request-id"].(string))
	waitFor(t, "running at parallelism 3", func() bool {
		_, job := ts.do("GET", "/jobs/"+id, nil)
		vs, _ := job["vertices"].([]any)
		return job["state"] == "RUNNING" && len(vs) > 0 && vs[0].(map[string]any)["parallelism"].(float64) == 3
	})
	code, body = ts.do("POST", "/jobs/"+id+"/rescaling?parallelism=0", nil)
	wantError(t, "rescale to 0", code, body, http.StatusBadRequest, "between 1")

	// Stop with a savepoint: FINISHED; then stop again: 409.
	code, body = ts.do("POST", "/jobs/"+id+"/stop", map[string]any{})
	if code != http.StatusAccepted {
		t.Fatalf("stop: %d %v", code, body)
	}
	op = ts.awaitOp("/jobs/" + id + "/savepoints/" + body["request-id"].(string))
	if op["location"] == nil {
		t.Errorf("stop: %v", op)
	}
	waitFor(t, "FINISHED", func() bool { return ts.state(id) == "FINISHED" })
	code, body = ts.do("POST", "/jobs/"+id+"/stop", nil)
	wantError(t, "stop a finished job", code, body, http.StatusConflict, "not running")
	code, body = ts.do("PATCH", "/jobs/"+id+"?mode=cancel", nil)
	wantError(t, "cancel a finished job", code, body, http.StatusConflict, "not running")

	// Cancel another job.
	id2 := ts.submit(slowJob, 1)
	if code, body := ts.do("DELETE", "/jobs/"+id2, nil); code != http.StatusAccepted {
		t.Fatalf("cancel: %d %v", code, body)
	}
	waitFor(t, "CANCELED", func() bool { return ts.state(id2) == stateCanceled })

	// A third job survives a server restart (canceled by Close: resumed).
	id3 := ts.submit(slowJob, 1)
	waitFor(t, "a checkpoint", func() bool { return ts.completedCheckpoints(id3) > 0 })
	ts.s.Close()
	ts2 := newTestServer(t, Options{Dir: dir})
	waitFor(t, "the job resumed", func() bool { return ts2.state(id3) == "RUNNING" })
	_, chk = ts2.do("GET", "/jobs/"+id3+"/checkpoints", nil)
	if r := chk["latest"].(map[string]any)["restored"]; r == nil {
		t.Errorf("resumed job restored nothing: %v", chk)
	}
	for want, jid := range map[string]string{"FINISHED": id, "CANCELED": id2} {
		if got := ts2.state(jid); got != want {
			t.Errorf("job %s after restart: %s, want %s", jid, got, want)
		}
	}
	// The finished job still shows its vertices, at its last parallelism.
	_, job = ts2.do("GET", "/jobs/"+id, nil)
	if vs, _ := job["vertices"].([]any); len(vs) == 0 || vs[0].(map[string]any)["parallelism"].(float64) != 3 {
		t.Errorf("finished job after restart: %v", job)
	}
	// Graceful shutdown: SUSPENDED with a savepoint in the record.
	if err := ts2.s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := registry{dir: dir}.load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ID == id3 && (r.State != stateSuspended || r.Savepoint == "") {
			t.Errorf("after shutdown: %+v, want SUSPENDED with a savepoint", r)
		}
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		p, ok := doc.Paths[rt.path]
		if !ok || p[strings.ToLower(rt.method)] == nil {
			t.Errorf("route %s %s is not in openapi.json", rt.method, rt.path)
		}
		seen[strings.ToLower(rt.method)+" "+rt.path] = true
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+path] {
				t.Errorf("openapi.json has %s %s, which no route serves", m, path)
			}
		}
	}
	docs, err := os.ReadFile("../docs/rest-api.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, openAPI) {
		t.Error("docs/rest-api.json differs from server/openapi.json: copy it over")
	}
	ts := newTestServer(t, Options{})
	code, body := ts.do("GET", "/openapi.json", nil)
	if code != 200 || body["openapi"] == nil {
		t.Errorf("GET /openapi.json: %d", code)
	}
}

func TestRegistryAtomicAndStrict(t *testing.T) {
	dir := t.TempDir()
	g := registry{dir: dir}
	r := &Record{ID: "abc", Name: "n", Kind: kindSQL, SQL: "x", Parallelism: 1, State: stateRunning, Created: time.Now()}
	if err := g.write(r); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves a temporary file: ignored.
	if err := os.WriteFile(filepath.Join(dir, "jobs", "abc", ".job-123.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A job directory without a record (crash before the first write).
	if err := os.MkdirAll(filepath.Join(dir, "jobs", "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	recs, err := g.load()
	if err != nil || len(recs) != 1 || recs[0].ID != "abc" || recs[0].Version != registryVersion {
		t.Fatalf("load: %v %+v", err, recs)
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs", "abc", "job.json"), []byte(`{"version": 9, "id": "abc", "kind": "sql"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := g.load(); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("load of a future version: %v", err)
	}
}

// TestVertexMetrics reads records and watermarks of a two-vertex job
// (source → hash exchange → window aggregate).
//
// The rowtime is a physical column: a computed one (ts AS
// TO_TIMESTAMP_LTZ(...)) at parallelism 2 trips the race detector in the
// SQL translator, whose watermark timestamp evaluator (one for all
// subtasks) has a scratch buffer (sql/expr strictN); reported, not fixed
// here.
func TestVertexMetrics(t *testing.T) {
	ts := newTestServer(t, Options{})
	id := ts.submit(`
CREATE TABLE src (id BIGINT, ts TIMESTAMP_LTZ(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'datagen', 'rows-per-second' = '500', 'fields.ts.max-past' = '10 s');
CREATE TABLE dst (k BIGINT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT MOD(id, 3), COUNT(*) FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY MOD(id, 3), window_start, window_end;
`, 2)
	var vs []any
	waitFor(t, "records into the window vertex and its watermark", func() bool {
		_, job := ts.do("GET", "/jobs/"+id, nil)
		vs, _ = job["vertices"].([]any)
		if len(vs) != 2 {
			return false
		}
		m := vs[1].(map[string]any)["metrics"].(map[string]any)
		wm, _ := m["current-input-watermark"].(float64)
		code, wms := ts.doList("GET", "/jobs/"+id+"/vertices/1/watermarks")
		return m["read-records"].(float64) > 0 && wm > 0 && code == http.StatusOK && len(wms) == 2
	})
	if out := vs[0].(map[string]any)["metrics"].(map[string]any)["write-records"].(float64); out <= 0 {
		t.Errorf("source vertex wrote %v records", out)
	}
	req, _ := http.NewRequest("GET", ts.url+"/jobs/"+id+"/vertices/1/watermarks", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var wms []map[string]string
	json.NewDecoder(resp.Body).Decode(&wms)
	resp.Body.Close()
	if len(wms) != 2 || wms[0]["id"] != "0.currentInputWatermark" || wms[1]["id"] != "1.currentInputWatermark" {
		t.Errorf("watermarks: %v", wms)
	}
	resp, err = http.Get(ts.url + "/jobs/" + id + "/vertices/1/subtasks/metrics?get=numRecordsIn")
	if err != nil {
		t.Fatal(err)
	}
	var aggs []aggregate
	json.NewDecoder(resp.Body).Decode(&aggs)
	resp.Body.Close()
	if len(aggs) != 1 || aggs[0].ID != "numRecordsIn" || aggs[0].Sum <= 0 || aggs[0].Min > aggs[0].Max {
		t.Errorf("subtask metrics: %+v", aggs)
	}
	code, body := ts.do("GET", "/jobs/"+id+"/vertices/1/subtasks/metrics?get=nope", nil)
	wantError(t, "unknown metric", code, body, http.StatusBadRequest, `unknown metric "nope"`)

	// GET /metrics: the job's Prometheus metrics with its id and name.
	resp, err = http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`weir_task_records_in_total{job_id="` + id + `",job_name=`,
		`weir_job_checkpoints_total{job_id="` + id + `"`,
		"# TYPE weir_task_busy_ms_per_second gauge",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("GET /metrics lacks %q:\n%.2000s", want, text)
		}
	}
}
