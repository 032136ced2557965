package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
)

// localJobs runs the job statements of 'weir sql' (SHOW JOBS, DESCRIBE
// JOB, STOP JOB). The client is its own cluster, living as long as the
// session: it runs each INSERT, statement set and query in process until
// the job ends (as Flink's client with table.dml-sync = 'true'), so when a
// statement is read no job is running. SHOW JOBS lists the jobs the
// session ran with the state they ended in, as Flink's session cluster
// keeps listing finished jobs; STOP JOB of one is refused, as Flink
// refuses to stop a job in a terminal state.
type localJobs struct {
	mu struct {
		sync.Mutex
		jobs []*localJob
	}
}

// localJob is one job of the session; client is set once it started.
type localJob struct {
	info   sql.JobInfo
	client *weir.JobClient
}

// add records a job about to start and returns it.
func (m *localJobs) add(name string) *localJob {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	j := &localJob{info: sql.JobInfo{ID: hex.EncodeToString(b[:]), Name: name, Status: "INITIALIZING"}}
	m.mu.Lock()
	m.mu.jobs = append(m.mu.jobs, j)
	m.mu.Unlock()
	return j
}

// started notes that j's engine runs.
func (m *localJobs) started(j *localJob, c *weir.JobClient) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j.client = c
	j.info.Started = time.Now()
}

// ended records j's final state, the engine's; a job that never started
// (its dataflow did not build) is forgotten, as Flink does not list a
// job whose submission failed.
func (m *localJobs) ended(j *localJob) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j.client == nil {
		if i := slices.Index(m.mu.jobs, j); i >= 0 {
			m.mu.jobs = slices.Delete(m.mu.jobs, i, i+1)
		}
		return
	}
	j.info.Status = string(j.client.Status().State)
}

// statusLocked is j's state now.
func (j *localJob) statusLocked() string {
	if j.client != nil && j.info.Status == "INITIALIZING" {
		return string(j.client.Status().State)
	}
	return j.info.Status
}

// Jobs lists the session's jobs, oldest first.
func (m *localJobs) Jobs(context.Context) ([]sql.JobInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]sql.JobInfo, 0, len(m.mu.jobs))
	for _, j := range m.mu.jobs {
		info := j.info
		info.Status = j.statusLocked()
		out = append(out, info)
	}
	return out, nil
}

// StopJob refuses: every job of the session has ended when a statement is
// read.
func (m *localJobs) StopJob(_ context.Context, req sql.StopRequest) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range m.mu.jobs {
		if j.info.ID == req.JobID {
			return "", fmt.Errorf("job %s is not running (%s): 'weir sql' runs each INSERT and query until it ends (as table.dml-sync = 'true'); stop a running job with Ctrl-C (with a savepoint when --savepoint-dir is set), or submit it to 'weir server' and stop it there", j.info.ID, j.statusLocked())
		}
	}
	return "", fmt.Errorf("%w (%s): SHOW JOBS lists the jobs of this 'weir sql' session; jobs of 'weir server' are stopped in its SQL gateway or REST API", sql.ErrJobNotFound, req.JobID)
}
