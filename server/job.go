package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	icheckpoint "github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/sql"
)

// Why a job's current run is being ended (attempt.intent).
const (
	intentNone     = ""
	intentStop     = "stop"     // stop-with-savepoint on request: FINISHED
	intentRescale  = "rescale"  // stop-with-savepoint, then run again at a new parallelism
	intentShutdown = "shutdown" // stop-with-savepoint by a server shutdown: SUSPENDED
	intentCancel   = "cancel"   // canceled on request: CANCELED
)

// operation is an asynchronous savepoint, stop or rescale, polled by its
// request id.
type operation struct {
	Status   string // IN_PROGRESS or COMPLETED
	Location string
	Failure  string
}

// attempt is one run of a job's dataflow (the server starts a new one
// when it resumes the job or rescales it).
type attempt struct {
	client *weir.JobClient
	reg    *prometheus.Registry
	plan   weir.JobPlan
	// intent, newPar and stopDone are guarded by the job's mu.
	intent string
	newPar int
	// stopDone is closed when the stop-with-savepoint call returned.
	stopDone chan struct{}
	// recorded is closed once watch recorded the run's end.
	recorded chan struct{}
}

// hostedJob is one job of the server: its record, its current run and
// its history. Its fields under mu are read by REST handlers and written
// by the goroutines that watch runs and perform operations, all owned by
// the server's WaitGroup.
type hostedJob struct {
	s    *Server
	id   string
	dir  string
	hist *history
	mu   struct {
		sync.Mutex
		rec     Record
		run     *attempt // nil when no run is going on
		plan    weir.JobPlan
		metrics *prometheus.Registry // of the current or last run
		ops     map[string]*operation
		status  weir.JobStatus // of the last run, when it ended
		started time.Time
	}
}

func newHostedJob(s *Server, rec Record) *hostedJob {
	dir := s.reg.jobDir(rec.ID)
	j := &hostedJob{s: s, id: rec.ID, dir: dir, hist: newHistory(filepath.Join(dir, "checkpoints"))}
	j.mu.rec = rec
	j.mu.ops = map[string]*operation{}
	return j
}

func (j *hostedJob) checkpointDir() string { return filepath.Join(j.dir, "checkpoints") }

// builder adds a job's dataflow to an environment; opts are the
// environment options its definition asks for.
type builder struct {
	build func(env *weir.Environment) error
	opts  weir.Options
}

// prepare plans the job of rec without running it: a SQL script is parsed
// and planned (it must hold exactly one INSERT or statement set), a Go job
// is looked up. Errors are the submitter's (HTTP 400).
func (s *Server) prepare(rec *Record) (builder, error) {
	switch rec.Kind {
	case kindSQL:
		sess, err := s.newSQLSession(sql.SessionOptions{})
		if err != nil {
			return builder{}, err
		}
		_, jobs, err := sess.ExecuteScript(rec.SQL)
		if err != nil {
			return builder{}, fmt.Errorf("sql: %w", err)
		}
		switch {
		case len(jobs) == 0:
			return builder{}, errors.New("sql: the script runs no job: submit an INSERT INTO or a statement set (with the CREATE TABLE statements it needs)")
		case len(jobs) > 1:
			return builder{}, fmt.Errorf("sql: the script runs %d jobs: submit one INSERT INTO or one statement set (BEGIN STATEMENT SET; ... END;) per job", len(jobs))
		case jobs[0].IsQuery():
			return builder{}, errors.New("sql: a SELECT returns rows to a client and cannot run on the server: write them to a table with INSERT INTO (use 'weir sql' for interactive queries)")
		}
		sj := jobs[0]
		return builder{opts: sj.Options(), build: func(env *weir.Environment) error { return sj.Build(env, nil) }}, nil
	case kindGo:
		g, ok := s.opts.GoJobs[rec.GoJob]
		if !ok {
			return builder{}, fmt.Errorf("unknown Go job %q (have: %s)", rec.GoJob, s.goJobNames())
		}
		args := rec.Args
		return builder{build: func(env *weir.Environment) error { return g.Build(env, args) }}, nil
	}
	return builder{}, fmt.Errorf("unknown job kind %q", rec.Kind)
}

// startLocked starts a run of the job from its latest checkpoint or
// savepoint (a fresh start when there is none) and a goroutine that
// watches it. The caller holds j.mu.
func (j *hostedJob) startLocked(b builder) error {
	rec := &j.mu.rec
	reg := prometheus.NewRegistry()
	logger := slog.New(observer{h: j.hist, next: j.s.log.Handler()})
	interval := j.s.opts.CheckpointInterval
	if b.opts.Checkpoints.Interval > 0 {
		interval = b.opts.Checkpoints.Interval
	}
	o := weir.Options{
		Parallelism:             rec.Parallelism,
		Logger:                  logger,
		JobName:                 j.id,
		JobID:                   j.id,
		OnCheckpoint:            j.hist.checkpoint,
		TracerProvider:          j.s.opts.TracerProvider,
		LatencyTrackingInterval: j.s.opts.LatencyTrackingInterval,
		Registry:                reg,
		MetricsInterval:         j.s.opts.MetricsInterval,
		Restore:                 "latest",
		Restart:                 j.s.opts.Restart(),
		StateBackend:            b.opts.StateBackend,
		Pebble:                  j.s.opts.Pebble,
		StateDir:                filepath.Join(j.dir, "state"),
		Checkpoints: weir.CheckpointOptions{
			Interval: interval,
			Dir:      j.checkpointDir(),
			Retained: max(2, b.opts.Checkpoints.Retained),
			// A SQL job's execution.checkpointing.* keys.
			Timeout:           b.opts.Checkpoints.Timeout,
			MinPause:          b.opts.Checkpoints.MinPause,
			TolerableFailures: b.opts.Checkpoints.TolerableFailures,
			AtLeastOnce:       b.opts.Checkpoints.AtLeastOnce,
		},
	}
	if b.opts.Restart != nil {
		// restart-strategy.type of a SQL job.
		o.Restart = b.opts.Restart
		o.RepeatedFailureLimit = b.opts.RepeatedFailureLimit
	}
	if b.opts.Restore != "" {
		// execution.state-recovery.path: the job's first run starts from
		// that savepoint (under a savepoint root, as a REST
		// target-directory); once the job has a checkpoint of its own, its
		// runs start from that.
		store := &icheckpoint.Storage{Dir: j.checkpointDir()}
		if _, err := store.Find(context.Background(), false); errors.Is(err, icheckpoint.ErrNoCheckpoint) {
			path, err := j.s.savepointTarget(j.id, b.opts.Restore)
			if err != nil {
				return fmt.Errorf("execution.state-recovery.path: %w", err)
			}
			o.Restore, o.AllowNonRestoredState = path, b.opts.AllowNonRestoredState
		}
	}
	env := weir.NewEnvironment(o)
	if err := b.build(env); err != nil {
		return err
	}
	// The plan first: the running job's goroutine owns the graph.
	plan := env.Plan()
	client, err := env.Start(context.Background())
	if err != nil {
		return err
	}
	a := &attempt{client: client, reg: reg, plan: plan, recorded: make(chan struct{})}
	j.mu.run = a
	j.mu.plan = a.plan
	j.mu.metrics = reg
	j.mu.started = time.Now()
	j.s.wg.Add(1)
	go func() {
		defer j.s.wg.Done()
		j.watch(a)
	}()
	return nil
}

// watch waits for run a to end and records the outcome: the job's next
// desired state, a new run after a rescale.
func (j *hostedJob) watch(a *attempt) {
	defer close(a.recorded) // after j.mu is released below
	<-a.client.Done()
	err := a.client.Wait()
	j.mu.Lock()
	stopDone := a.stopDone
	j.mu.Unlock()
	if stopDone != nil {
		// The savepoint's answer comes before the end, or the call gives
		// up when it sees the end: either way it returns.
		<-stopDone
	}
	st := a.client.Status()
	if err != nil && !errors.Is(err, context.Canceled) {
		j.hist.noteException(time.Now(), err.Error())
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	j.mu.run = nil
	j.mu.status = st
	rec := &j.mu.rec
	closing := j.s.isClosing()
	switch {
	case err == nil && a.intent == intentRescale:
		rec.Parallelism = a.newPar
		rec.State = stateRunning
		if closing {
			break // resumed at the new parallelism by the next server
		}
		b, perr := j.s.prepare(rec)
		if perr == nil {
			perr = j.startLocked(b)
		}
		if perr != nil {
			rec.State, rec.Failure = stateFailed, "rescale: "+perr.Error()
		}
	case err == nil && a.intent == intentShutdown:
		rec.State = stateSuspended
	case err == nil:
		rec.State = stateFinished
	case a.intent == intentCancel:
		rec.State = stateCanceled
	case closing && errors.Is(err, context.Canceled):
		// Canceled by a server that could not stop it with a savepoint:
		// the next server resumes it from its latest checkpoint.
		rec.State = stateRunning
	default:
		rec.State, rec.Failure = stateFailed, err.Error()
	}
	if werr := j.s.reg.write(rec); werr != nil {
		j.s.log.Error("server: recording the job's end", "job", j.id, "err", werr)
	}
}

// ended reports whether the engine's run has ended (watch may not have
// recorded it yet).
func (a *attempt) ended() bool {
	select {
	case <-a.client.Done():
		return true
	default:
		return false
	}
}

// stateLocked is the job's state as the REST API shows it: the running
// engine's (RUNNING, RESTARTING), or the record's.
func (j *hostedJob) stateLocked() string {
	if a := j.mu.run; a != nil {
		if a.intent == intentCancel {
			return "CANCELLING"
		}
		// The engine's end is shown once watch has recorded it (with the
		// failure and the exception), so a client that sees FAILED also
		// sees why, and an operation refused as "not running" agrees.
		switch s := a.client.Status().State; s {
		case weir.JobFailed:
			return "FAILING"
		case weir.JobCanceled:
			return "CANCELLING"
		case weir.JobFinished:
			return string(weir.JobRunning)
		default:
			return string(s)
		}
	}
	if j.mu.rec.State == stateRunning {
		return "INITIALIZING"
	}
	return j.mu.rec.State
}

// errConflict marks an operation the job's state does not allow (HTTP 409).
var errConflict = errors.New("conflict")

// stopWithSavepoint stops the job with a savepoint into dir for intent
// (stop, rescale to newPar, or shutdown) and returns the operation's id.
// With drain the sources end event time first (weir.JobClient.StopWithDrain).
func (j *hostedJob) stopWithSavepoint(dir, intent string, newPar int, drain bool) (string, error) {
	opID, _, err := j.stopRun(dir, intent, newPar, drain)
	return opID, err
}

// stopRun is stopWithSavepoint, also returning the run it stops.
func (j *hostedJob) stopRun(dir, intent string, newPar int, drain bool) (string, *attempt, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := j.mu.run
	if a == nil || a.ended() {
		return "", nil, fmt.Errorf("%w: job %s is not running (%s)", errConflict, j.id, j.stateLocked())
	}
	if intent != intentShutdown && j.s.isClosing() {
		return "", nil, fmt.Errorf("%w: the server is shutting down", errConflict)
	}
	if a.intent != intentNone {
		return "", nil, fmt.Errorf("%w: job %s is already being stopped (%s)", errConflict, j.id, a.intent)
	}
	a.intent, a.newPar = intent, newPar
	a.stopDone = make(chan struct{})
	opID := newID()
	op := &operation{Status: "IN_PROGRESS"}
	j.mu.ops[opID] = op
	j.s.wg.Add(1)
	go func() {
		defer j.s.wg.Done()
		defer close(a.stopDone)
		ctx, cancel := context.WithTimeout(context.Background(), j.s.opts.SavepointTimeout)
		defer cancel()
		stop := a.client.StopWithSavepoint
		if drain {
			stop = a.client.StopWithDrain
		}
		path, err := stop(ctx, dir)
		j.mu.Lock()
		defer j.mu.Unlock()
		op.Status = "COMPLETED"
		if err != nil {
			op.Failure = err.Error()
			if a.intent == intent {
				// The job goes on (as in Flink, a failed stop leaves the
				// job running).
				a.intent = intentNone
			}
			return
		}
		op.Location = path
		j.mu.rec.Savepoint = path
	}()
	return opID, a, nil
}

// savepoint triggers a savepoint into dir and returns the operation's id.
func (j *hostedJob) savepoint(dir string) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := j.mu.run
	if a == nil || a.ended() {
		return "", fmt.Errorf("%w: job %s is not running (%s)", errConflict, j.id, j.stateLocked())
	}
	if j.s.isClosing() {
		return "", fmt.Errorf("%w: the server is shutting down", errConflict)
	}
	opID := newID()
	op := &operation{Status: "IN_PROGRESS"}
	j.mu.ops[opID] = op
	j.s.wg.Add(1)
	go func() {
		defer j.s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), j.s.opts.SavepointTimeout)
		defer cancel()
		path, err := a.client.TriggerSavepoint(ctx, dir)
		j.mu.Lock()
		defer j.mu.Unlock()
		op.Status = "COMPLETED"
		if err != nil {
			op.Failure = err.Error()
			return
		}
		op.Location = path
	}()
	return opID, nil
}

// cancel cancels the job's run.
func (j *hostedJob) cancel() error {
	_, err := j.cancelRun()
	return err
}

// cancelRun is cancel, also returning the run it cancels (nil when the
// job was canceled before).
func (j *hostedJob) cancelRun() (*attempt, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := j.mu.run
	if a == nil || a.ended() {
		if j.mu.rec.State == stateCanceled {
			return nil, nil // idempotent, as Flink's cancel of a canceled job
		}
		return nil, fmt.Errorf("%w: job %s is not running (%s)", errConflict, j.id, j.stateLocked())
	}
	a.intent = intentCancel
	a.client.Cancel()
	return a, nil
}

// operation returns the operation opID.
func (j *hostedJob) operation(opID string) (operation, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	op, ok := j.mu.ops[opID]
	if !ok {
		return operation{}, false
	}
	return *op, true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
