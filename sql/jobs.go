package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
)

// The job statements (SHOW JOBS, DESCRIBE JOB, STOP JOB) act on the jobs
// of the cluster a session submits to, as in Flink's SQL client and
// gateway; the session hands them to its JobManager (SetJobManager). A
// session without one (a job script planned by the server) refuses them.

// JobInfo is a job as SHOW JOBS and DESCRIBE JOB list it.
type JobInfo struct {
	// ID is the job id: 32 hex digits, as Flink's JobID.
	ID string
	// Name is the job's name (pipeline.name, or insert-into_<sinks>).
	Name string
	// Status is Flink's JobStatus name: INITIALIZING, RUNNING, CANCELLING,
	// FINISHED, CANCELED, FAILED, ...
	Status string
	// Started is when the job started (zero: not yet).
	Started time.Time
}

// StopRequest is a STOP JOB statement for a JobManager.
type StopRequest struct {
	JobID string
	// Savepoint stops the job with a savepoint (WITH SAVEPOINT) into
	// SavepointDir; without it the job is canceled.
	Savepoint bool
	// Drain ends the sources' event time before the savepoint (WITH
	// DRAIN).
	Drain bool
	// SavepointDir is the session's execution.checkpointing.savepoint-dir
	// (or its older key state.savepoints.dir); empty: the cluster's
	// default.
	SavepointDir string
}

// JobManager lists and stops the jobs of a cluster for the job
// statements. Its methods are called by the goroutine executing the
// statement and may block until the job has stopped.
type JobManager interface {
	// Jobs returns the cluster's jobs, oldest first.
	Jobs(ctx context.Context) ([]JobInfo, error)
	// StopJob stops (with a savepoint) or cancels the job and returns
	// the savepoint's path (empty when canceled). An unknown id is an
	// error wrapping ErrJobNotFound.
	StopJob(ctx context.Context, req StopRequest) (string, error)
}

// ErrJobNotFound is what a JobManager's StopJob wraps for an unknown job
// id.
var ErrJobNotFound = errors.New("could not find job")

// SetJobManager makes m run the session's job statements (nil: they are
// refused).
func (s *Session) SetJobManager(m JobManager) { s.jobs = m }

// jobColumns are the columns of SHOW JOBS and DESCRIBE JOB (Flink's
// OperationExecutor.callShowJobsOperation).
var jobColumns = row.NewSchema(
	row.Col("job id", row.String()),
	row.Col("job name", row.String()),
	row.Col("status", row.String()),
	row.Col("start time", row.TimestampLTZType(3)),
)

// JobColumns returns the schema of SHOW JOBS and DESCRIBE JOB.
func JobColumns() row.Schema { return jobColumns }

// JobRow returns a job as a row of SHOW JOBS.
func JobRow(j JobInfo) row.Row {
	start := row.Null()
	if !j.Started.IsZero() {
		start = row.Timestamp(j.Started.UnixMilli(), 0)
	}
	return row.Of(row.Str(j.ID), row.Str(j.Name), row.Str(j.Status), start)
}

// CheckJobID checks that id is a job id as Flink's JobID.fromHexString
// takes it: 32 hex digits.
func CheckJobID(id string) error {
	ok := len(id) == 32
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	if !ok {
		return fmt.Errorf("sql: Cannot parse JobID from %q. The expected format is [0-9a-fA-F]{32}, e.g. fd72014d4c864993a2e5a9287b4a9c5d", id)
	}
	return nil
}

// jobStatement runs SHOW JOBS, DESCRIBE JOB or STOP JOB through the
// session's JobManager.
func (s *Session) jobStatement(st ast.Statement) (*Result, *Job, error) {
	if s.jobs == nil {
		return nil, nil, fmt.Errorf("sql: %s manages the jobs of a cluster: run it in 'weir sql' or in the SQL gateway of 'weir server', not in a job's script", st)
	}
	ctx := context.Background()
	switch n := st.(type) {
	case *ast.ShowJobs:
		jobs, err := s.jobs.Jobs(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("sql: Failed to list jobs in the cluster: %w", err)
		}
		res := &Result{Schema: jobColumns, Rows: make([]row.Row, 0, len(jobs))}
		for _, j := range jobs {
			res.Rows = append(res.Rows, JobRow(j))
		}
		return res, nil, nil
	case *ast.DescribeJob:
		if err := CheckJobID(n.JobID); err != nil {
			return nil, nil, err
		}
		jobs, err := s.jobs.Jobs(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("sql: Failed to get job %s in the cluster: %w", n.JobID, err)
		}
		for _, j := range jobs {
			if j.ID == n.JobID {
				return &Result{Schema: jobColumns, Rows: []row.Row{JobRow(j)}}, nil, nil
			}
		}
		return nil, nil, fmt.Errorf("sql: Described job %s does not exist in the cluster", n.JobID)
	case *ast.StopJob:
		if err := CheckJobID(n.JobID); err != nil {
			return nil, nil, err
		}
		req := StopRequest{JobID: n.JobID, Savepoint: n.WithSavepoint, Drain: n.WithDrain}
		req.SavepointDir = s.cfg.Get("execution.checkpointing.savepoint-dir")
		if req.SavepointDir == "" {
			req.SavepointDir = s.cfg.Get("state.savepoints.dir")
		}
		path, err := s.jobs.StopJob(ctx, req)
		if err != nil {
			how := ""
			if n.WithSavepoint {
				how = " with savepoint"
			}
			return nil, nil, fmt.Errorf("sql: Could not stop job %s%s: %w", n.JobID, how, err)
		}
		if !n.WithSavepoint {
			return ok(), nil, nil
		}
		return &Result{Schema: row.NewSchema(row.Col("savepoint path", row.String())),
			Rows: []row.Row{row.Of(row.Str(path))}}, nil, nil
	}
	return nil, nil, fmt.Errorf("sql: %T is not a job statement", st)
}
