package server

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// insertJob submits INSERT INTO dst SELECT * FROM src in session sh and
// returns its job id, once the job runs.
func (ts *testServer) insertJob(sh string) string {
	ts.t.Helper()
	f := ts.runStatic(sh, "INSERT INTO dst SELECT id FROM src")
	if f.JobID == "" {
		ts.t.Fatalf("INSERT: no job id: %+v", f)
	}
	waitFor(ts.t, "the job running", func() bool { return ts.state(f.JobID) == "RUNNING" })
	return f.JobID
}

// failedStatement runs a statement that must fail and returns its error.
func (ts *testServer) failedStatement(sh, stmt string) string {
	ts.t.Helper()
	oh := ts.exec(sh, stmt)
	code, body := ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/result/0", nil)
	errs, _ := body["errors"].([]any)
	if code != 500 || len(errs) == 0 {
		ts.t.Fatalf("%s: %d %v, want an error", stmt, code, body)
	}
	return errs[0].(string)
}

// jobRows returns SHOW JOBS (or DESCRIBE JOB) rows as job id -> [name,
// status, start time], checking the columns.
func (ts *testServer) jobRows(sh, stmt string) map[string][]string {
	ts.t.Helper()
	f := ts.runStatic(sh, stmt)
	var names, types []string
	for _, c := range f.Results.Columns {
		names = append(names, c.Name)
		types = append(types, c.LogicalType["type"].(string))
	}
	if !slices.Equal(names, []string{"job id", "job name", "status", "start time"}) ||
		!slices.Equal(types, []string{"VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP_WITH_LOCAL_TIME_ZONE"}) || f.ResultKind != "SUCCESS_WITH_CONTENT" {
		ts.t.Fatalf("%s: columns %v %v, kind %s", stmt, names, types, f.ResultKind)
	}
	out := map[string][]string{}
	for _, d := range f.Results.Data {
		var fs []string
		for _, v := range d.Fields[1:] {
			s, _ := v.(string)
			fs = append(fs, s)
		}
		out[d.Fields[0].(string)] = fs
	}
	return out
}

func TestSQLGatewayJobStatements(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	sh := ts.openSession(map[string]string{"execution.checkpointing.interval": "100ms"})
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000', 'rows-per-second' = '100')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole')`)
	// No job yet: the result is empty (its first page is the end).
	oh := ts.exec(sh, "SHOW JOBS")
	if code, f, b := ts.fetch(sh, oh, 0); code != 200 || len(f.Results.Data) != 0 || len(f.Results.Columns) != 4 {
		t.Errorf("SHOW JOBS before any job: %d %s", code, b)
	}

	id := ts.insertJob(sh)
	jobs := ts.jobRows(sh, "SHOW JOBS")
	_, rest := ts.do("GET", "/jobs/"+id, nil)
	got, ok := jobs[id]
	if len(jobs) != 1 || !ok || got[0] != rest["name"] || got[1] != "RUNNING" {
		t.Fatalf("SHOW JOBS: %v, want job %s (%v) RUNNING", jobs, id, rest["name"])
	}
	// The start time is the REST API's start-time.
	start, err := time.Parse(time.RFC3339Nano, strings.Replace(got[2], " ", "T", 1))
	if err != nil {
		t.Fatalf("start time %q: %v", got[2], err)
	}
	if want := int64(rest["start-time"].(float64)); start.UnixMilli() != want {
		t.Errorf("start time %s (%d ms), want %d ms", got[2], start.UnixMilli(), want)
	}
	if d := ts.jobRows(sh, "DESCRIBE JOB '"+id+"'"); len(d) != 1 || d[id] == nil || d[id][1] != "RUNNING" {
		t.Errorf("DESCRIBE JOB: %v", d)
	}

	// STOP JOB WITH SAVEPOINT: the savepoint's path, once the job ended
	// FINISHED (Flink's state after a stop-with-savepoint).
	f := ts.runStatic(sh, "STOP JOB '"+id+"' WITH SAVEPOINT")
	if len(f.Results.Columns) != 1 || f.Results.Columns[0].Name != "savepoint path" || len(f.Results.Data) != 1 {
		t.Fatalf("STOP JOB WITH SAVEPOINT: %+v", f)
	}
	path := f.Results.Data[0].Fields[0].(string)
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Errorf("savepoint %s: %v", path, err)
	}
	if !strings.HasPrefix(path, ts.s.defaultSavepointDir(id)+string(filepath.Separator)) {
		t.Errorf("savepoint %s is not in the job's default directory %s", path, ts.s.defaultSavepointDir(id))
	}
	if rec := ts.s.job(id).record(); rec.Savepoint != path || rec.State != stateFinished {
		t.Errorf("record after STOP JOB: state %s savepoint %s", rec.State, rec.Savepoint)
	}
	if jobs := ts.jobRows(sh, "SHOW JOBS"); jobs[id][1] != "FINISHED" {
		t.Errorf("SHOW JOBS after STOP JOB WITH SAVEPOINT: %v", jobs)
	}
	if msg := ts.failedStatement(sh, "STOP JOB '"+id+"' WITH SAVEPOINT"); !strings.Contains(msg, "Could not stop job "+id+" with savepoint: job "+id+" is not running (FINISHED)") {
		t.Errorf("STOP JOB of a finished job: %s", msg)
	}

	// STOP JOB without a savepoint cancels: OK, and the job is CANCELED.
	id2 := ts.insertJob(sh)
	f = ts.runStatic(sh, "STOP JOB '"+id2+"'")
	if f.ResultKind != "SUCCESS" || len(f.Results.Data) != 1 || f.Results.Data[0].Fields[0] != "OK" {
		t.Errorf("STOP JOB: %+v", f)
	}
	if st := ts.state(id2); st != "CANCELED" {
		t.Errorf("job after STOP JOB: %s, want CANCELED", st)
	}

	// The session's savepoint directory, if set, must lie under a
	// savepoint root, as a REST target-directory; WITH DRAIN.
	id3 := ts.insertJob(sh)
	ts.runStatic(sh, "SET 'state.savepoints.dir' = '"+t.TempDir()+"'")
	if msg := ts.failedStatement(sh, "STOP JOB '"+id3+"' WITH SAVEPOINT"); !strings.Contains(msg, "state.savepoints.dir") || !strings.Contains(msg, "savepoint root") {
		t.Errorf("STOP JOB into a directory outside the roots: %s", msg)
	}
	dir := filepath.Join(ts.s.opts.SavepointRoots[0], "by-sql")
	ts.runStatic(sh, "SET 'execution.checkpointing.savepoint-dir' = '"+dir+"'")
	f = ts.runStatic(sh, "STOP JOB '"+id3+"' WITH SAVEPOINT WITH DRAIN")
	path = f.Results.Data[0].Fields[0].(string)
	if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
		t.Errorf("savepoint %s is not in %s", path, dir)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
	if st := ts.state(id3); st != "FINISHED" {
		t.Errorf("job after STOP JOB WITH DRAIN: %s", st)
	}
	jobs = ts.jobRows(sh, "SHOW JOBS")
	if len(jobs) != 3 || jobs[id][1] != "FINISHED" || jobs[id2][1] != "CANCELED" || jobs[id3][1] != "FINISHED" {
		t.Errorf("SHOW JOBS at the end: %v", jobs)
	}

	// Unknown and malformed ids.
	unknown := strings.Repeat("0", 32)
	if msg := ts.failedStatement(sh, "STOP JOB '"+unknown+"' WITH SAVEPOINT"); !strings.Contains(msg, "Could not stop job "+unknown+" with savepoint: could not find job") {
		t.Errorf("STOP JOB of an unknown job: %s", msg)
	}
	if msg := ts.failedStatement(sh, "STOP JOB '"+unknown+"'"); !strings.Contains(msg, "Could not stop job "+unknown+": could not find job") {
		t.Errorf("STOP JOB (cancel) of an unknown job: %s", msg)
	}
	if msg := ts.failedStatement(sh, "DESCRIBE JOB '"+unknown+"'"); !strings.Contains(msg, "Described job "+unknown+" does not exist in the cluster") {
		t.Errorf("DESCRIBE JOB of an unknown job: %s", msg)
	}
	if msg := ts.failedStatement(sh, "STOP JOB 'x'"); !strings.Contains(msg, "Cannot parse JobID") {
		t.Errorf("STOP JOB of a malformed id: %s", msg)
	}
	// A job's script may not hold job statements.
	code, body := ts.do("POST", "/jobs", map[string]any{"sql": "SHOW JOBS;"})
	wantError(t, "SHOW JOBS in a submitted script", code, body, 400, "manages the jobs of a cluster")
}
