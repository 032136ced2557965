package sql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// fakeJobs is a JobManager over a fixed list; StopJob records its requests.
type fakeJobs struct {
	jobs  []sql.JobInfo
	stops []sql.StopRequest
}

func (f *fakeJobs) Jobs(context.Context) ([]sql.JobInfo, error) { return f.jobs, nil }

func (f *fakeJobs) StopJob(_ context.Context, req sql.StopRequest) (string, error) {
	f.stops = append(f.stops, req)
	for _, j := range f.jobs {
		if j.ID == req.JobID {
			if !req.Savepoint {
				return "", nil
			}
			return req.SavepointDir + "/savepoint-" + j.ID[:6], nil
		}
	}
	return "", fmt.Errorf("%w (%s)", sql.ErrJobNotFound, req.JobID)
}

func execOne(t *testing.T, sess *sql.Session, text string) (*sql.Result, error) {
	t.Helper()
	st, err := parser.ParseOne(text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	res, job, err := sess.Execute(st)
	if job != nil {
		t.Fatalf("%s planned a job", text)
	}
	return res, err
}

func TestJobStatements(t *testing.T) {
	started := time.Date(2026, 12, 6, 9, 30, 0, 123e6, time.UTC)
	f := &fakeJobs{jobs: []sql.JobInfo{
		{ID: "228d70913eab60dda85c5e7f78b5782c", Name: "insert-into_default_catalog.default_database.s", Status: "RUNNING", Started: started},
		{ID: "0123456789abcdef0123456789abcdef", Name: "collect", Status: "FINISHED", Started: started.Add(time.Minute)},
	}}
	sess := sql.NewSession(sql.SessionOptions{})

	// Without a JobManager (a job's script on the server): refused.
	if _, err := execOne(t, sess, "SHOW JOBS"); err == nil || !strings.Contains(err.Error(), "manages the jobs of a cluster") {
		t.Fatalf("SHOW JOBS without a job manager: %v", err)
	}
	sess.SetJobManager(f)

	res, err := execOne(t, sess, "SHOW JOBS")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Schema.Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "job id,job name,status,start time" {
		t.Errorf("SHOW JOBS columns %s", got)
	}
	if len(res.Rows) != len(f.jobs) {
		t.Fatalf("SHOW JOBS: %d rows, want %d", len(res.Rows), len(f.jobs))
	}
	for i, j := range f.jobs {
		r := res.Rows[i]
		if r.Fields[0].Str() != j.ID || r.Fields[1].Str() != j.Name || r.Fields[2].Str() != j.Status {
			t.Errorf("row %d = %v, want %+v", i, row.FormatRow(r, res.Schema.Types()), j)
		}
		if ms := r.Fields[3].Millis(); ms != j.Started.UnixMilli() {
			t.Errorf("row %d start time %d, want %d", i, ms, j.Started.UnixMilli())
		}
	}

	res, err = execOne(t, sess, "DESC JOB '"+f.jobs[1].ID+"'")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].Fields[0].Str() != f.jobs[1].ID || res.Rows[0].Fields[2].Str() != "FINISHED" {
		t.Errorf("DESCRIBE JOB rows %v", res.Rows)
	}
	unknown := "ffffffffffffffffffffffffffffffff"
	if _, err := execOne(t, sess, "DESCRIBE JOB '"+unknown+"'"); err == nil || !strings.Contains(err.Error(), "Described job "+unknown+" does not exist in the cluster") {
		t.Errorf("DESCRIBE JOB of an unknown id: %v", err)
	}
	if _, err := execOne(t, sess, "DESCRIBE JOB 'nope'"); err == nil || !strings.Contains(err.Error(), `Cannot parse JobID from "nope"`) {
		t.Errorf("DESCRIBE JOB of a malformed id: %v", err)
	}

	// STOP JOB: cancel (OK), with a savepoint into the session's directory.
	res, err = execOne(t, sess, "STOP JOB '"+f.jobs[0].ID+"'")
	if err != nil || res.Message == "" || len(res.Rows) != 0 {
		t.Fatalf("STOP JOB: %+v, %v", res, err)
	}
	if _, err := execOne(t, sess, "SET 'state.savepoints.dir' = '/sp'"); err != nil {
		t.Fatal(err)
	}
	res, err = execOne(t, sess, "STOP JOB '"+f.jobs[0].ID+"' WITH SAVEPOINT WITH DRAIN")
	if err != nil {
		t.Fatal(err)
	}
	want := "/sp/savepoint-" + f.jobs[0].ID[:6]
	if len(res.Rows) != 1 || res.Schema.Columns[0].Name != "savepoint path" || res.Rows[0].Fields[0].Str() != want {
		t.Errorf("STOP JOB WITH SAVEPOINT: %+v, want path %s", res, want)
	}
	if got := f.stops[1]; !got.Savepoint || !got.Drain || got.SavepointDir != "/sp" || f.stops[0].Savepoint {
		t.Errorf("stop requests %+v", f.stops)
	}
	// The newer key wins over state.savepoints.dir.
	if _, err := execOne(t, sess, "SET 'execution.checkpointing.savepoint-dir' = '/sp2'"); err != nil {
		t.Fatal(err)
	}
	if _, err := execOne(t, sess, "STOP JOB '"+f.jobs[0].ID+"' WITH SAVEPOINT"); err != nil {
		t.Fatal(err)
	}
	if got := f.stops[2].SavepointDir; got != "/sp2" {
		t.Errorf("savepoint dir %q, want /sp2", got)
	}
	_, err = execOne(t, sess, "STOP JOB '"+unknown+"' WITH SAVEPOINT")
	if !errors.Is(err, sql.ErrJobNotFound) || !strings.Contains(err.Error(), "Could not stop job "+unknown+" with savepoint") {
		t.Errorf("STOP JOB of an unknown id: %v", err)
	}
}
