package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirstream/weir/internal/checkpoint"
)

// Stepwise is a job run on the caller's goroutine, for deterministic tests:
// every task runs the same task loop as in Run (runtime.Task.Step repeats
// its iterations until the task would block), and with checkpoints on, the
// same checkpoint driver handles the tasks' reports between rounds. Nothing
// happens by itself: checkpoints and savepoints are taken only when asked
// (Checkpoint, Savepoint), never by the interval, and no timeout expires
// them. A Stepwise is not safe for concurrent use.
type Stepwise struct {
	job *Job
	// d is the checkpoint driver; nil when checkpoints are off.
	d *checkpoint.Driver
	// cause is why the driver ended the job (a failure, or
	// ErrStoppedWithSavepoint).
	cause  error
	closed bool
	// failed: a task or the driver failed the job (not a stop).
	failed bool
}

// errNoCheckpointing is returned by Checkpoint and Savepoint of a job
// built without checkpoints.
var errNoCheckpointing = errors.New("weir: checkpointing is off")

// stepReportsCap is the capacity of a stepwise job's reports channel per
// task: reports are read only between rounds, and a task must never block
// sending one (the caller's goroutine would wait for itself).
const stepReportsCap = 64

// BuildStepwise builds the graph and opens every task for stepwise
// execution. Channels must be large enough never to block (o's
// ChannelCapacity). ctx must be the context the job is stepped under.
func (g *Graph) BuildStepwise(ctx context.Context, o Options) (*Stepwise, error) {
	o.fill()
	j, err := g.Build(ctx, o)
	if err != nil {
		return nil, err
	}
	s := &Stepwise{job: j}
	if o.Checkpoint != nil {
		// Build filled in runDir on its copy of o; the driver only needs
		// the storage, the restore and the limits.
		d, err := j.newDriver(ctx, &o, stepReportsCap*(len(j.tasks)+1), func(cause error) {
			if s.cause == nil {
				s.cause = cause
			}
		})
		if err != nil {
			j.removeState()
			return nil, err
		}
		s.d = d
	}
	if err := j.open(); err != nil {
		j.removeState()
		return nil, err
	}
	return s, nil
}

// open opens every task.
func (j *Job) open() error {
	for i, t := range j.tasks {
		if err := t.Open(); err != nil {
			for _, o := range j.tasks[:i] {
				_ = o.Close()
			}
			return err
		}
	}
	return nil
}

// Step gives every task one step, in topological order, then lets the
// checkpoint driver handle what the tasks reported (after the snapshots
// they started completed) and deliver its mail. It reports whether
// anything happened.
func (s *Stepwise) Step(ctx context.Context) (bool, error) {
	if s.closed {
		return false, errors.New("weir: stepwise job closed")
	}
	progress := false
	for _, t := range s.job.tasks {
		p, err := t.Step(ctx)
		if err != nil {
			s.failed = true
			return true, err
		}
		progress = progress || p
	}
	if s.d == nil {
		return progress, nil
	}
	for _, t := range s.job.tasks {
		t.WaitSnapshots()
	}
	if s.d.HandleReports(ctx) {
		progress = true
	}
	// Mail that a task's mailbox took is progress; mail for a task that
	// no longer reads it is not.
	if s.d.DeliverMail() {
		progress = true
	}
	if s.cause != nil {
		if !errors.Is(s.cause, ErrStoppedWithSavepoint) {
			s.failed = true
		}
		return true, s.cause
	}
	return progress, nil
}

// RunUntilQuiet steps until no task and no checkpoint message makes
// progress. An error (a task's, or the driver's that failed the job)
// ends the job.
func (s *Stepwise) RunUntilQuiet(ctx context.Context) error {
	for {
		progress, err := s.Step(ctx)
		if err != nil {
			return err
		}
		if !progress {
			return nil
		}
	}
}

// Checkpoint takes a checkpoint through the barrier path: the coordinator
// triggers it, the sources emit barriers that every task aligns, the tasks
// snapshot and acknowledge, the driver writes it and tells every task it
// completed (sinks commit). It runs the job until quiet and returns the
// checkpoint's id and location, or an error if it did not complete then.
func (s *Stepwise) Checkpoint(ctx context.Context) (int64, string, error) {
	if s.d == nil {
		return 0, "", errNoCheckpointing
	}
	if err := s.RunUntilQuiet(ctx); err != nil {
		return 0, "", err
	}
	if s.ended() {
		return 0, "", errJobEnded
	}
	id, err := s.d.Trigger(ctx)
	if err != nil {
		return 0, "", err
	}
	if err := s.RunUntilQuiet(ctx); err != nil {
		return 0, "", err
	}
	if s.d.IsPending(id) {
		return 0, "", fmt.Errorf("weir: checkpoint %d did not complete although the job is quiet: a barrier did not reach every task", id)
	}
	if !s.d.IsCompleted(id) {
		return 0, "", fmt.Errorf("weir: checkpoint %d was aborted (the job's log says why)", id)
	}
	return id, s.d.Location(id), nil
}

// Savepoint takes a savepoint in a new directory under dir, through the
// driver as a SavepointRequest does, and returns its path. With stop, the
// job ends once every task handled its completion (sinks committed); the
// Stepwise is closed then.
func (s *Stepwise) Savepoint(ctx context.Context, dir string, stop, drain bool) (string, error) {
	if s.d == nil {
		return "", errNoCheckpointing
	}
	if err := s.RunUntilQuiet(ctx); err != nil {
		return "", err
	}
	if s.ended() {
		// As the job's own Savepoint does: a caller tells "the job
		// ended first" from a failure by checkpoint.ErrJobEnded.
		return "", fmt.Errorf("%w: %w", checkpoint.ErrJobEnded, errJobEnded)
	}
	reply := make(chan SavepointResult, 1)
	s.d.Savepoint(ctx, SavepointRequest{Dir: dir, Stop: stop, Drain: drain, Reply: reply})
	err := s.RunUntilQuiet(ctx)
	if stop && errors.Is(err, ErrStoppedWithSavepoint) {
		err = s.Close()
	}
	var res SavepointResult
	select {
	case res = <-reply:
	default:
		if err == nil {
			err = errors.New("weir: savepoint did not complete although the job is quiet (a checkpoint still pending?)")
		}
		return "", err
	}
	if res.Err != nil {
		if err != nil {
			// The failed savepoint failed the job too (a stop with drain).
			return "", fmt.Errorf("%w (%w)", err, res.Err)
		}
		return "", res.Err
	}
	return res.Path, err
}

// errJobEnded is returned by Checkpoint after the job ended, and wrapped
// with checkpoint.ErrJobEnded by Savepoint.
var errJobEnded = errors.New("weir: the job already ended (every task finished and the final checkpoint completed)")

// ended reports whether the job ended: every task finished its input and
// the final checkpoint completed.
func (s *Stepwise) ended() bool { return s.Done() && s.d.FinalDone() }

// Failed reports whether the job failed: a task's error, or the driver
// ended it (checkpoint failures beyond the tolerated, a failed stop with
// drain). A savepoint or checkpoint that failed without failing the job
// leaves it running, as under Run.
func (s *Stepwise) Failed() bool { return s.failed }

// Stopped reports whether a stop-with-savepoint ended the job.
func (s *Stepwise) Stopped() bool { return errors.Is(s.cause, ErrStoppedWithSavepoint) }

// Done reports whether every task finished its input.
func (s *Stepwise) Done() bool {
	for _, t := range s.job.tasks {
		if !t.Done() {
			return false
		}
	}
	return true
}

// Close closes every task and returns the first error. It may be called
// more than once.
func (s *Stepwise) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.d != nil {
		// Checkpoints that will never complete.
		s.d.Abandon()
	}
	return s.job.Close()
}
