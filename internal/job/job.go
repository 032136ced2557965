// Package job runs a built job graph: its one goroutine, restarts after a
// failure (from the latest completed checkpoint, under a restart strategy,
// with a guard against a failure that repeats forever), savepoint requests
// from the outside, and the job's status.
//
// The public weir.Environment builds a graph and hands it here with the
// options it resolved; weir.JobClient is a thin face over Job. A Job owns
// exactly one goroutine, started by Start and ended before Done closes.
// Every method of Job may be called from any goroutine.
package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/runtime"
)

// RestartStrategy decides whether a failed job restarts and after what
// delay (weir.RestartStrategy satisfies it). It is called from the job's
// goroutine only.
type RestartStrategy interface {
	Restart(now time.Time) (bool, time.Duration)
}

// Config is what a job runs with.
type Config struct {
	// Graph is the job's dataflow; Options say how to run it (Restore is
	// the position the first attempt starts from, nil for a fresh start).
	Graph   *graph.Graph
	Options graph.Options
	// Restart decides about restarts; nil never restarts.
	Restart RestartStrategy
	// RepeatedFailureLimit ends the job when it failed this many times in a
	// row with the same error after restoring the same position (0 means
	// DefaultRepeatedFailureLimit, negative means no limit).
	RepeatedFailureLimit int
	// AllowCheckpointFallback lets a restart restore an older checkpoint
	// when newer completed ones cannot be read (see checkpoint.Storage.Find).
	AllowCheckpointFallback bool
	// AllowNonRestoredState is passed on to every restore a restart makes.
	AllowNonRestoredState bool
	// Logger is never nil.
	Logger *slog.Logger
	// OnEnd, if set, runs on the job's goroutine after the last attempt,
	// before Done closes (to unregister metrics, say), with the job's
	// error (nil: finished).
	OnEnd func(err error)
	// OnRestart, if set, runs on the job's goroutine each time a failed
	// attempt is restarted, with the attempt that failed and its error.
	OnRestart func(attempt int, err error)
}

// DefaultRepeatedFailureLimit is the RepeatedFailureLimit of a zero Config.
const DefaultRepeatedFailureLimit = 5

// State is where a job is in its life, as Flink's JobStatus.
type State uint8

// Job states.
const (
	// Running: an attempt is running.
	Running State = iota + 1
	// Restarting: an attempt failed and the next waits for its delay or
	// looks for the checkpoint to restore.
	Restarting
	// Finished: every source ended and every record was processed, or the
	// job stopped with a savepoint.
	Finished
	// Failed: the job ended with an error it is not restarted after.
	Failed
	// Canceled: the job was canceled.
	Canceled
)

func (s State) String() string {
	switch s {
	case Running:
		return "RUNNING"
	case Restarting:
		return "RESTARTING"
	case Finished:
		return "FINISHED"
	case Failed:
		return "FAILED"
	case Canceled:
		return "CANCELED"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Status is a job's state and history of failures.
type Status struct {
	State State
	// Attempt counts the attempts started (1 for a job that never
	// restarted).
	Attempt int
	// LastFailure is the error of the last failed attempt, nil if none.
	LastFailure error
	// Started is when the job started; Ended when it ended (zero while it
	// runs).
	Started, Ended time.Time
}

// Job is a running job.
type Job struct {
	done       chan struct{}
	cancel     context.CancelFunc
	savepoints chan graph.SavepointRequest
	logger     *slog.Logger

	mu struct {
		sync.Mutex
		status Status
		err    error
	}
}

// Start runs cfg's job on a goroutine of its own and returns at once. The
// job ends when its attempts end as Config says, or when ctx is canceled.
func Start(ctx context.Context, cfg Config) *Job {
	ctx, cancel := context.WithCancel(ctx)
	j := &Job{done: make(chan struct{}), cancel: cancel, logger: cfg.Logger}
	if cfg.Options.Checkpoint != nil {
		j.savepoints = make(chan graph.SavepointRequest)
		cfg.Options.Savepoints = j.savepoints
	}
	j.mu.status = Status{State: Running, Started: time.Now()}
	go func() {
		defer close(j.done)
		defer cancel()
		var err error
		if cfg.OnEnd != nil {
			defer func() { cfg.OnEnd(err) }()
		}
		err = j.run(ctx, cfg)
		j.end(ctx, err)
		if err != nil {
			cfg.Logger.Error("weir: job ended", "err", err)
		} else {
			cfg.Logger.Info("weir: job finished")
		}
	}()
	return j
}

// Wait blocks until the job ended and returns its error: nil when it
// finished, the context's error when it was canceled, or the error it
// failed with.
func (j *Job) Wait() error {
	<-j.done
	return j.err()
}

// Done is closed when the job ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Cancel stops the job without a savepoint.
func (j *Job) Cancel() { j.cancel() }

// Status returns the job's current status.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mu.status
}

func (j *Job) err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mu.err
}

// ErrNoCheckpointing is returned by Savepoint on a job without
// checkpointing (savepoints use the same barriers).
var ErrNoCheckpointing = errors.New("weir: savepoints need checkpointing (Options.Checkpoints.Interval)")

// Savepoint takes a savepoint into a new subdirectory of dir and returns
// its path; with stop, the job stops once the savepoint completed and
// every sink committed up to it; with drain too, the sources end event
// time first (see checkpoint.SavepointRequest).
func (j *Job) Savepoint(ctx context.Context, dir string, stop, drain bool) (string, error) {
	if j.savepoints == nil {
		return "", ErrNoCheckpointing
	}
	req := graph.SavepointRequest{Dir: dir, Stop: stop, Drain: drain, Reply: make(chan graph.SavepointResult, 1)}
	select {
	case j.savepoints <- req:
	case <-j.done:
		return "", j.endedError()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-req.Reply:
		if r.Err == nil {
			j.logger.Info("weir: savepoint complete", "path", r.Path, "stop", stop, "drain", drain)
		}
		return r.Path, r.Err
	case <-j.done:
		return "", j.endedError()
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// endedError is the error of a savepoint the job ended before: it matches
// checkpoint.ErrJobEnded (weir.ErrSavepointJobEnded), which callers such as
// weir run rely on to tell "the input ended first" from a failed savepoint,
// and names the job's own error when it failed.
func (j *Job) endedError() error {
	if err := j.err(); err != nil {
		return fmt.Errorf("%w: the job failed: %v", checkpoint.ErrJobEnded, err)
	}
	return checkpoint.ErrJobEnded
}

func (j *Job) setState(s State, failure error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.mu.status.State = s
	if failure != nil {
		j.mu.status.LastFailure = failure
	}
	if s == Running {
		j.mu.status.Attempt++
	}
}

// end records how the job ended.
func (j *Job) end(ctx context.Context, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.mu.err = err
	j.mu.status.Ended = time.Now()
	switch {
	case err == nil:
		j.mu.status.State = Finished
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		j.mu.status.State = Canceled
	default:
		j.mu.status.State = Failed
		j.mu.status.LastFailure = err
	}
}

// run runs the job and, after a failure the restart strategy accepts, runs
// it again from the latest completed checkpoint.
func (j *Job) run(ctx context.Context, cfg Config) error {
	o := cfg.Options
	strategy := cfg.Restart
	if strategy == nil {
		strategy = noRestart{}
	}
	// A restart falls back to initial only when the storage holds no
	// checkpoint: then the first attempt failed before it registered its
	// savepoint, and the restart must register it (Restore.Register).
	initial := o.Restore
	limit := cfg.RepeatedFailureLimit
	if limit == 0 {
		limit = DefaultRepeatedFailureLimit
	}
	var repeats repeatedFailure
	for attempt := 1; ; attempt++ {
		j.setState(Running, nil)
		err := cfg.Graph.Run(ctx, o)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if n := repeats.note(o.Restore, err); limit > 0 && n >= limit {
			return fmt.Errorf("weir: the job failed %d times in a row with the same error after restoring the same position, so it is not restarted again (a record it cannot process? route bad records to a dead-letter output): %w", n, err)
		}
		ok, delay := strategy.Restart(time.Now())
		if !ok {
			if attempt > 1 {
				// As Flink's "Recovery is suppressed by ...": the user
				// sees the strategy was applied and is used up.
				return fmt.Errorf("weir: the restart strategy allows no more restarts after %d: %w", attempt-1, err)
			}
			return err
		}
		j.setState(Restarting, err)
		cfg.Logger.Warn("weir: job failed, restarting", "attempt", attempt, "delay", delay, "err", err)
		if cfg.OnRestart != nil {
			cfg.OnRestart(attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		// From the latest checkpoint, or else from where the job started
		// (its savepoint, or nothing).
		o.Restore = initial
		if o.Checkpoint != nil {
			// The latest checkpoint: this run's, or what it started from
			// (registered in the storage at the first start).
			r, lerr := o.Checkpoint.Storage.Find(ctx, cfg.AllowCheckpointFallback)
			switch {
			case lerr == nil:
				o.Restore = RestoreOf(r, cfg.AllowNonRestoredState)
				cfg.Logger.Info("weir: restoring after failure", "checkpoint", r.Meta.ID, "from", r.Location)
			case errors.Is(lerr, checkpoint.ErrNoCheckpoint):
			default:
				return fmt.Errorf("weir: restart after %w: %w", err, lerr)
			}
		}
	}
}

// RestoreOf is the restore of a checkpoint that Storage.Find chose.
func RestoreOf(r *checkpoint.Restored, allowNonRestoredState bool) *graph.Restore {
	return &graph.Restore{Meta: r.Meta, Files: r.Files, Store: r.Shared, AllowNonRestoredState: allowNonRestoredState, Location: r.Location}
}

type noRestart struct{}

func (noRestart) Restart(time.Time) (bool, time.Duration) { return false, 0 }

// repeatedFailure counts consecutive failures with the same error after
// restoring the same checkpoint.
type repeatedFailure struct {
	from  string // the restored checkpoint: location and id
	err   string
	count int
}

// note records a failure of a run that restored rs (nil: a fresh start)
// and returns how many times in a row it failed so.
func (r *repeatedFailure) note(rs *graph.Restore, err error) int {
	from := "fresh"
	if rs != nil {
		from = fmt.Sprintf("%s#%d", rs.Location, rs.Meta.ID)
	}
	sig := failureSignature(err)
	if from == r.from && sig == r.err {
		r.count++
	} else {
		*r = repeatedFailure{from: from, err: sig, count: 1}
	}
	return r.count
}

// failureSignature is what makes two failures the same: the error's text,
// but for a panic only its value (the stack names goroutines and argument
// addresses that differ from run to run).
func failureSignature(err error) string {
	var p *runtime.PanicError
	if errors.As(err, &p) {
		return fmt.Sprintf("panic: %v", p.Value)
	}
	return err.Error()
}
