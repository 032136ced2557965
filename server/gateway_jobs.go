package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir/sql"
)

// gatewayJobs runs the job statements of the SQL Gateway's sessions (SHOW
// JOBS, DESCRIBE JOB, STOP JOB) on the server's registry: the durable jobs
// the sessions' INSERTs and POST /jobs submitted. STOP JOB takes the path
// of the REST API's stop and cancel (stopRun, cancelRun) and returns once
// the job's end is recorded, so that SHOW JOBS then shows it FINISHED or
// CANCELED, as Flink's client gets the savepoint path once the job ended.
type gatewayJobs struct {
	s *Server
	// session ends when the session closes (or the server shuts down):
	// STOP JOB then stops waiting, as the statement holds the session.
	session context.Context
}

// Jobs lists the registry's jobs, oldest first, in the states GET /jobs
// shows.
func (m gatewayJobs) Jobs(context.Context) ([]sql.JobInfo, error) {
	var out []sql.JobInfo
	for _, j := range m.s.jobs() {
		sum := j.summary()
		info := sql.JobInfo{ID: sum.ID, Name: sum.Name, Status: sum.State}
		if sum.StartTime >= 0 {
			info.Started = time.UnixMilli(sum.StartTime)
		}
		out = append(out, info)
	}
	return out, nil
}

// StopJob stops the job with a savepoint (into req.SavepointDir, which
// must lie under a savepoint root as a REST target-directory; empty: the
// job's default directory) or cancels it, and waits for its end, bounded
// by Options.SavepointTimeout.
func (m gatewayJobs) StopJob(ctx context.Context, req sql.StopRequest) (string, error) {
	j := m.s.job(req.JobID)
	if j == nil {
		return "", fmt.Errorf("%w (%s)", sql.ErrJobNotFound, req.JobID)
	}
	// The wait ends with the statement's context, the session's, or
	// the savepoint timeout; the stop itself goes on.
	ctx, cancel := context.WithTimeout(ctx, m.s.opts.SavepointTimeout)
	defer cancel()
	if m.session != nil {
		var end context.CancelCauseFunc
		ctx, end = context.WithCancelCause(ctx)
		defer end(nil)
		stop := context.AfterFunc(m.session, func() { end(context.Cause(m.session)) })
		defer stop()
	}
	if !req.Savepoint {
		a, err := j.cancelRun()
		if err != nil {
			return "", unprefix(err)
		}
		if a != nil {
			if err := waitEnd(ctx, a.recorded, "the job's cancellation"); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	dir, err := m.s.savepointTarget(j.id, req.SavepointDir)
	if err != nil {
		return "", fmt.Errorf("the savepoint directory (execution.checkpointing.savepoint-dir or state.savepoints.dir): %w", err)
	}
	opID, a, err := j.stopRun(dir, intentStop, 0, req.Drain)
	if err != nil {
		return "", unprefix(err)
	}
	if err := waitEnd(ctx, a.stopDone, "the savepoint"); err != nil {
		return "", err
	}
	op, _ := j.operation(opID)
	if op.Failure != "" {
		return "", errors.New(op.Failure)
	}
	if err := waitEnd(ctx, a.recorded, "the job's end after its savepoint "+op.Location); err != nil {
		return "", err
	}
	return op.Location, nil
}

// waitEnd waits until done is closed or ctx ends.
func waitEnd(ctx context.Context, done <-chan struct{}, what string) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s (the job goes on being stopped: see GET /jobs/{jobid}): %w", what, context.Cause(ctx))
	}
}

// unprefix drops the HTTP classification (errConflict's "conflict: ")
// from an error shown to a SQL client.
func unprefix(err error) error {
	if errors.Is(err, errConflict) {
		return errors.New(strings.TrimPrefix(err.Error(), errConflict.Error()+": "))
	}
	return err
}
