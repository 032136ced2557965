package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/sums"
)

// testGoJobs are Go jobs for the tests: the running-sum job of
// demo/sums, and one that fails on its third record.
func testGoJobs() map[string]GoJob {
	return map[string]GoJob{
		"sums": {Build: func(env *weir.Environment, args map[string]string) error {
			c := sums.Config{Input: args["input"], Output: args["output"]}
			if c.Input == "" || c.Output == "" {
				return errors.New("sums: arguments input and output must be set")
			}
			sums.Build(env, c)
			return nil
		}},
		"fails": {Build: func(env *weir.Environment, _ map[string]string) error {
			s := weir.FromSlice(env, []int{1, 2, 3, 4})
			weir.TryMap(s, func(v int) (int, error) {
				if v == 3 {
					return 0, fmt.Errorf("record %d is poison", v)
				}
				return v, nil
			}).Name("poison").UID("poison").SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
			return nil
		}},
	}
}

// TestGoJob runs the exactly-once running-sum job by name and checks its
// committed output with demo/sums' own checker.
func TestGoJob(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := sums.Generate(in, 3, 20, 500); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{GoJobs: testGoJobs()})
	code, body := ts.do("POST", "/jobs", map[string]any{"job": "sums", "args": map[string]string{"input": in}})
	wantError(t, "sums without output", code, body, http.StatusBadRequest, "input and output must be set")
	code, body = ts.do("POST", "/jobs", map[string]any{"job": "sums", "parallelism": 3, "args": map[string]string{"input": in, "output": out}})
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, body)
	}
	id := body["jobid"].(string)
	waitFor(t, "FINISHED", func() bool { return ts.state(id) == stateFinished })
	if err := sums.Check(in, out); err != nil {
		t.Error(err)
	}
	_, job := ts.do("GET", "/jobs/"+id, nil)
	if job["name"] != "sums" || job["parallelism"].(float64) != 3 {
		t.Errorf("job: %v", job)
	}
}

// TestFailedJob shows a failing job's exceptions and its FAILED state.
func TestFailedJob(t *testing.T) {
	ts := newTestServer(t, Options{GoJobs: testGoJobs(), Restart: func() weir.RestartStrategy { return weir.NoRestart{} }})
	code, body := ts.do("POST", "/jobs", map[string]any{"job": "fails"})
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, body)
	}
	id := body["jobid"].(string)
	waitFor(t, "FAILED", func() bool { return ts.state(id) == stateFailed })
	_, exc := ts.do("GET", "/jobs/"+id+"/exceptions", nil)
	if root, _ := exc["root-exception"].(string); !strings.Contains(root, "record 3 is poison") {
		t.Errorf("exceptions: %v", exc)
	}
	_, job := ts.do("GET", "/jobs/"+id, nil)
	if f, _ := job["failure"].(string); !strings.Contains(f, "record 3 is poison") {
		t.Errorf("job: %v", job)
	}
	code, body = ts.do("POST", "/jobs/"+id+"/savepoints", nil)
	wantError(t, "savepoint of a failed job", code, body, http.StatusConflict, "not running")
	_, ov := ts.do("GET", "/overview", nil)
	if ov["jobs-failed"].(float64) != 1 {
		t.Errorf("overview: %v", ov)
	}
}

// TestResumeFailureKeepsRecord: a job that cannot resume is shown FAILED
// with the reason, and its record still asks for it (the next server
// tries again).
func TestResumeFailureKeepsRecord(t *testing.T) {
	dir := t.TempDir()
	g := registry{dir: dir}
	rec := &Record{ID: "0123456789abcdef0123456789abcdef", Name: "gone", Kind: kindGo, GoJob: "removed", Parallelism: 1, State: stateRunning}
	if err := g.write(rec); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{Dir: dir, GoJobs: testGoJobs()})
	_, job := ts.do("GET", "/jobs/"+rec.ID, nil)
	if job["state"] != stateFailed || !strings.Contains(job["failure"].(string), `resume: unknown Go job "removed"`) {
		t.Errorf("job: %v", job)
	}
	recs, err := g.load()
	if err != nil || len(recs) != 1 || recs[0].State != stateRunning {
		t.Errorf("record after a failed resume: %v %+v", err, recs)
	}
}
