package weir

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirstream/weir/internal/graph"
)

// Stepper runs a job deterministically on the caller's goroutine: every
// call does all the work that is possible at that moment and returns, and
// processing time moves only when the caller sets it. Each task runs the
// same task loop as under Execute (records, watermarks, barriers, timers
// and checkpoint mail take one code path), one non-blocking iteration at a
// time. It is the engine of the weirtest harness; jobs that read from real
// systems should use Execute.
//
// With checkpointing on (Options.Checkpoints with an Interval and a Dir,
// as for Execute), Checkpoint, TriggerSavepoint and StopWithSavepoint take
// checkpoints and savepoints through the real barrier path; they are taken
// only when asked, never by the interval. Options.Restore starts the job
// from a checkpoint or savepoint, as for Execute.
type Stepper struct {
	job *graph.Stepwise
	ctx context.Context
	now int64
	// checkpoints tells whether checkpointing is on.
	checkpoints bool
	done        bool
}

// stepChannelCapacity keeps the single goroutine from ever blocking on a
// full exchange: a stepped job holds at most this many batches in flight
// per channel between two steps.
const stepChannelCapacity = 4096

// Stepwise builds the job for stepwise execution, with processing time
// starting at start (milliseconds). It replaces Options.Clock.
func (e *Environment) Stepwise(ctx context.Context, start int64) (*Stepper, error) {
	if e.executed {
		return nil, ErrAlreadyExecuted
	}
	e.executed = true
	switch e.opts.StateBackend {
	case "", StateHeap, StatePebble:
	default:
		return nil, fmt.Errorf("weir: unknown state backend %q (want %q or %q)", e.opts.StateBackend, StateHeap, StatePebble)
	}
	s := &Stepper{ctx: ctx, now: start}
	o := e.graphOptions()
	o.Clock = clockFunc(func() int64 { return s.now })
	o.ChannelCapacity = stepChannelCapacity
	if err := e.checkpointOptions(&o); err != nil {
		return nil, err
	}
	s.checkpoints = o.Checkpoint != nil
	j, err := e.g.BuildStepwise(ctx, o)
	if err != nil {
		return nil, err
	}
	s.job = j
	return s, s.Run()
}

// ErrStepperClosed is returned after Close, a failure of the job or a
// stop-with-savepoint. A checkpoint or savepoint that fails without
// failing the job (a savepoint into a full disk, a checkpoint failure
// within Options.Checkpoints.TolerableFailures) leaves the stepper open.
var ErrStepperClosed = errors.New("weir: stepper closed")

// Run steps every task until none can make progress.
func (s *Stepper) Run() error {
	if s.done {
		return ErrStepperClosed
	}
	return s.fail(s.job.RunUntilQuiet(s.ctx))
}

// fail ends the job after err (if any).
func (s *Stepper) fail(err error) error {
	if err != nil {
		s.done = true
		_ = s.job.Close()
	}
	return err
}

// failIfEnded returns err, the failure of a checkpoint or savepoint, and
// closes the stepper if the job failed with it (a failure beyond the
// tolerated checkpoint failures, a failed stop with drain, a task's
// error). A checkpoint or savepoint that failed alone leaves the job
// running, as for a running job (JobClient) and in Flink: a failed
// savepoint, or a failed stop-with-savepoint without drain, is an error
// for its caller only.
func (s *Stepper) failIfEnded(err error) error {
	if err != nil && (s.job.Failed() || s.job.Stopped()) {
		return s.fail(err)
	}
	return err
}

// ProcessingTime returns the current processing time.
func (s *Stepper) ProcessingTime() int64 { return s.now }

// SetProcessingTime moves processing time to ms, fires due processing-time
// timers and runs until quiet. Time never goes back.
func (s *Stepper) SetProcessingTime(ms int64) error {
	if ms < s.now {
		return fmt.Errorf("weir: processing time cannot go back from %d to %d", s.now, ms)
	}
	s.now = ms
	return s.Run()
}

// Checkpoint runs the job until quiet, then takes a checkpoint through the
// barrier path (the coordinator triggers it, the sources emit barriers,
// every task aligns them and snapshots its operators, the checkpoint is
// written to Options.Checkpoints.Dir and every task is told it completed,
// so that sinks commit) and returns its id and directory, which
// Options.Restore accepts. It fails if the checkpoint did not complete.
func (s *Stepper) Checkpoint() (id int64, path string, err error) {
	if s.done {
		return 0, "", ErrStepperClosed
	}
	if !s.checkpoints {
		return 0, "", ErrNoCheckpointing
	}
	id, path, err = s.job.Checkpoint(s.ctx)
	return id, path, s.failIfEnded(err)
}

// TriggerSavepoint takes a savepoint into a new subdirectory of dir, as
// JobClient.TriggerSavepoint does, and returns its path.
func (s *Stepper) TriggerSavepoint(dir string) (string, error) {
	return s.savepoint(dir, false, false)
}

// StopWithSavepoint takes a savepoint into a new subdirectory of dir and
// stops the job once every sink committed up to it, as
// JobClient.StopWithSavepoint does; the stepper is closed then.
func (s *Stepper) StopWithSavepoint(dir string) (string, error) {
	return s.savepoint(dir, true, false)
}

// StopWithDrain ends event time (every source emits the final watermark),
// then stops with a savepoint, as JobClient.StopWithDrain does; the
// stepper is closed then.
func (s *Stepper) StopWithDrain(dir string) (string, error) {
	return s.savepoint(dir, true, true)
}

func (s *Stepper) savepoint(dir string, stop, drain bool) (string, error) {
	if s.done {
		return "", ErrStepperClosed
	}
	if !s.checkpoints {
		return "", ErrNoCheckpointing
	}
	path, err := s.job.Savepoint(s.ctx, dir, stop, drain)
	if err != nil {
		return "", s.failIfEnded(err)
	}
	if s.job.Stopped() {
		s.done = true
	}
	return path, nil
}

// Finished reports whether every task has ended (all sources ended and
// everything was processed).
func (s *Stepper) Finished() bool { return s.job.Done() }

// Close closes every operator.
func (s *Stepper) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	return s.job.Close()
}
