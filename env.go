package weir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/weirstream/weir/checkpoint"
	icheckpoint "github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/fileuri"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/job"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// Options configure an Environment. The zero value runs with parallelism 1.
type Options struct {
	// Parallelism is the default number of subtasks per operator (default 1).
	Parallelism int
	// MaxParallelism is the number of key groups, the upper bound of any
	// operator's parallelism (default 128). Keep it fixed for the life of a
	// job: state is partitioned by it.
	MaxParallelism int
	// DisableChaining runs every operator in its own subtasks.
	DisableChaining bool
	// BatchSize is the number of records buffered per exchange channel
	// before they are sent (default 512).
	BatchSize int
	// ChannelCapacity is the number of batches an exchange channel holds
	// before its producer blocks (default 8).
	ChannelCapacity int
	// AutoWatermarkInterval is how often, in processing time, sources emit
	// watermarks (default 200ms; negative: after every poll). Which records
	// are late depends on it: a fast source (a file) may emit many records
	// between two watermarks. A negative interval with a source that emits
	// one record per poll (file.SourceOptions.LinesPerPoll = 1) makes
	// lateness independent of read speed.
	AutoWatermarkInterval time.Duration
	// Logger receives the job's logs; nil discards them.
	Logger *slog.Logger
	// Registry, if set, receives the job's Prometheus metrics.
	Registry prometheus.Registerer
	// MetricsInterval is how often tasks publish metrics (default 1s).
	MetricsInterval time.Duration
	// Clock overrides the processing-time clock (milliseconds); for tests.
	Clock func() int64
	// Checkpoints configures checkpointing; it is off while Interval is 0.
	Checkpoints CheckpointOptions
	// Restore names the checkpoint the job starts from: "" starts fresh,
	// "latest" takes the newest completed checkpoint in Checkpoints.Dir
	// (or the savepoint a stop-with-savepoint or a restore left there; a
	// fresh start only if the directory holds none), anything else is the
	// directory of a checkpoint or savepoint. A newest checkpoint that
	// cannot be read fails the start (see AllowCheckpointFallback).
	Restore string
	// AllowCheckpointFallback lets "latest" (and restarts) restore an
	// older checkpoint when newer completed ones cannot be read (damaged
	// or missing files). Output that sinks committed for the skipped
	// checkpoints is then produced again: the restore logs at ERROR level
	// which checkpoints were skipped and how much input they covered.
	// Without it such a restore fails with an error naming the damaged
	// files.
	AllowCheckpointFallback bool
	// AllowNonRestoredState lets a job start from a checkpoint holding
	// state of an operator uid the job no longer has.
	AllowNonRestoredState bool
	// Restart decides whether the job restarts after a failure, from its
	// latest completed checkpoint (or from the start without checkpoints).
	// Nil means NoRestart.
	Restart RestartStrategy
	// RepeatedFailureLimit ends the job when it failed this many times in
	// a row with the same error from the same restored position (no
	// checkpoint completed in between), whatever Restart allows: a
	// deterministic failure, such as a record the job cannot process,
	// would otherwise restart it forever. 0 means 5; negative means no
	// limit.
	RepeatedFailureLimit int
	// StateBackend is where keyed state lives: StateHeap (the default) or
	// StatePebble (which needs Pebble). A checkpoint or savepoint of
	// either restores into either.
	StateBackend string
	// Pebble is the Pebble engine: pebble.New() of package
	// github.com/weirstream/weir/statebackend/pebble, which links Pebble
	// (the core does not). StatePebble needs it, and so does a heap job
	// restoring a checkpoint a Pebble job took (its keyed state is in
	// Pebble's files; savepoints are canonical and need nothing). Without
	// it such a job fails with an error naming the package.
	Pebble PebbleEngine
	// JobName names the job in logs (attribute job) and traces (job.name);
	// JobID identifies it (attribute job_id, job.id; default: 32 random
	// hex digits).
	JobName, JobID string
	// OnCheckpoint, if set, is told of every checkpoint and savepoint
	// that ended (completed, failed or aborted), with its statistics. It
	// runs on the checkpoint coordinator's goroutine and must not block.
	OnCheckpoint func(CheckpointEvent)
	// TracerProvider, if set, receives the job's OpenTelemetry spans: the
	// job's life, savepoints, one trace per checkpoint, and sampled
	// record latency (see docs/observability.md). Nil: no tracing. No
	// global provider is ever used.
	TracerProvider trace.TracerProvider
	// LatencyTrackingInterval, if positive, makes every source subtask
	// emit a latency marker this often; markers travel with the records
	// and each sink records the time since the marker left its source in
	// the histogram weir_latency_ms{source,sink} of Registry (and as a
	// span with TracerProvider). Off by default, as in Flink.
	LatencyTrackingInterval time.Duration
	// StateDir is the local working directory of the Pebble backend
	// (default: weir-state-<uid> under the system's temporary directory,
	// private to the user: mode 0700, refused if another user owns it or
	// it is open to others).
	// Each run makes its own subdirectory there and removes it when it
	// ends.
	StateDir string
}

// CheckpointOptions configure checkpoints (see docs/checkpoints.md).
type CheckpointOptions struct {
	// Interval between checkpoints; 0 turns checkpointing off.
	Interval time.Duration
	// Dir is the directory checkpoints are written to (required): a local
	// (or mounted) directory, or a URL such as s3://bucket/prefix served by
	// a Remote.
	Dir string
	// Timeout aborts a checkpoint not complete by then (default 10 min).
	Timeout time.Duration
	// MinPause is the least time between the end of a checkpoint and the
	// start of the next.
	MinPause time.Duration
	// TolerableFailures is how many consecutive failed checkpoints the job
	// survives (default 0).
	TolerableFailures int
	// Retained is how many completed checkpoints are kept (default 1).
	Retained int
	// AtLeastOnce tracks barriers without aligning them: lower latency,
	// but records may be processed twice after a restore.
	AtLeastOnce bool
	// Remote serves the checkpoint, savepoint and restore locations that
	// are URLs, one storage per scheme: s3.New(...) of package
	// github.com/weirstream/weir/checkpoint/s3 for s3://bucket/prefix.
	// Without one for a location's scheme, the job fails to start with an
	// error naming the package to import. Local directories need none.
	Remote []checkpoint.Remote
}

func (o *Options) fill() {
	if o.Parallelism <= 0 {
		o.Parallelism = 1
	}
	if o.MaxParallelism <= 0 {
		o.MaxParallelism = keygroup.DefaultMaxParallelism
	}
	if o.BatchSize <= 0 {
		o.BatchSize = runtime.DefaultBatchSize
	}
	if o.ChannelCapacity <= 0 {
		o.ChannelCapacity = runtime.DefaultChannelCapacity
	}
	if o.AutoWatermarkInterval == 0 {
		o.AutoWatermarkInterval = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.JobID == "" {
		o.JobID = newJobID()
	}
	if o.MetricsInterval <= 0 {
		o.MetricsInterval = time.Second
	}
}

// Environment collects a job's dataflow and runs it.
type Environment struct {
	opts     Options
	g        graph.Graph
	executed bool
	// aligns are the sources' watermark alignment groups.
	aligns alignGroups
}

// NewEnvironment returns an environment with opts (defaults filled in).
func NewEnvironment(opts Options) *Environment {
	opts.fill()
	return &Environment{opts: opts}
}

// Parallelism returns the default parallelism.
func (e *Environment) Parallelism() int { return e.opts.Parallelism }

// JobID returns Options.JobID (random unless given): connectors derive
// names from it that must stay the same when the job is built again to
// restore it.
func (e *Environment) JobID() string { return e.opts.JobID }

// JobName returns Options.JobName (empty unless given).
func (e *Environment) JobName() string { return e.opts.JobName }

// AutoWatermarkInterval returns Options.AutoWatermarkInterval: negative when
// sources emit a watermark after every poll.
func (e *Environment) AutoWatermarkInterval() time.Duration { return e.opts.AutoWatermarkInterval }

type clockFunc func() int64

func (f clockFunc) Now() int64 { return f() }

func (e *Environment) graphOptions() graph.Options {
	o := graph.Options{
		Parallelism:     e.opts.Parallelism,
		MaxParallelism:  e.opts.MaxParallelism,
		Chaining:        !e.opts.DisableChaining,
		BatchSize:       e.opts.BatchSize,
		ChannelCapacity: e.opts.ChannelCapacity,
		Logger:          e.jobLogger(),
		ReportInterval:  e.opts.MetricsInterval,
		StateBackend:    e.opts.StateBackend,
		StateEngine:     e.opts.Pebble,
	}
	// Every run gets a local state directory: Pebble's databases, or
	// native snapshots a heap job converts when it restores them.
	o.StateDir = e.opts.StateDir
	if o.StateDir == "" {
		o.StateDir, o.PrivateStateDir = graph.DefaultStateDir(), true
	}
	if e.opts.Clock != nil {
		o.Clock = clockFunc(e.opts.Clock)
	}
	return o
}

// JobPlan is the physical plan of a job: its vertices (chains of operators
// that one task per subtask runs together), each with its ID, name,
// parallelism, operators (name and uid) and inputs (producing vertex,
// partitioning FORWARD, HASH, REBALANCE or BROADCAST, side-output tag).
// Subtasks are addressed as (vertex ID, subtask index). It marshals to
// JSON as a REST API serves it.
type JobPlan = graph.PhysicalPlan

// PlanVertex, PlanOperator and PlanInput are the parts of a JobPlan.
type (
	PlanVertex   = graph.PlanVertex
	PlanOperator = graph.PlanOperator
	PlanInput    = graph.PlanInput
)

// Plan returns the job's physical plan, as Explain prints it.
func (e *Environment) Plan() JobPlan {
	return e.g.Physical(e.graphOptions())
}

// Explain returns the execution plan: the chains of operators run together,
// their parallelism and how their inputs are partitioned.
func (e *Environment) Explain() string {
	return e.g.Explain(e.graphOptions())
}

// Execute runs the job. It returns nil when every source ended and all
// records were processed (or the job was stopped with a savepoint), the
// first operator error (naming the operator and subtask), or the context's
// error if ctx was canceled first.
func (e *Environment) Execute(ctx context.Context) error {
	c, err := e.Start(ctx)
	if err != nil {
		return err
	}
	return c.Wait()
}

// JobClient controls a job started with Start.
type JobClient struct {
	j  *job.Job
	tr *jobTracer
}

// Start runs the job in the background and returns a client to wait for
// it, take savepoints or stop it.
func (e *Environment) Start(ctx context.Context) (*JobClient, error) {
	if e.executed {
		return nil, ErrAlreadyExecuted
	}
	e.executed = true
	switch e.opts.StateBackend {
	case "", StateHeap:
	case StatePebble:
		if e.opts.Pebble == nil {
			return nil, errNoPebble("the pebble state backend")
		}
	default:
		return nil, &InvalidOptionError{Prefix: "weir", Option: "StateBackend", Reason: fmt.Sprintf("unknown state backend %q (want %q or %q)", e.opts.StateBackend, StateHeap, StatePebble)}
	}
	o := e.graphOptions()
	var m *jobMetrics
	if e.opts.Registry != nil {
		var err error
		if m, err = newJobMetrics(e.opts.Registry); err != nil {
			return nil, err
		}
		o.Report = m.report
		o.OpMetrics = m.operator
	}
	if err := e.checkpointOptions(&o); err != nil {
		if m != nil {
			m.unregister()
		}
		return nil, err
	}
	tr := newJobTracer(ctx, e.opts.TracerProvider, e.opts.JobName, e.opts.JobID)
	if m != nil || tr != nil || e.opts.OnCheckpoint != nil {
		user := e.opts.OnCheckpoint
		o.OnCheckpoint = func(ev icheckpoint.Event) {
			if m != nil {
				m.checkpoint(ev)
			}
			if tr == nil && user == nil {
				return
			}
			ce := checkpointEvent(ev)
			tr.checkpoint(ce)
			if user != nil {
				user(ce)
			}
		}
	}
	e.latencyOptions(&o, m, tr)
	cfg := job.Config{
		Graph:                   &e.g,
		Options:                 o,
		RepeatedFailureLimit:    e.opts.RepeatedFailureLimit,
		AllowCheckpointFallback: e.opts.AllowCheckpointFallback,
		AllowNonRestoredState:   e.opts.AllowNonRestoredState,
		Logger:                  o.Logger,
		Restart:                 e.opts.Restart,
		OnEnd: func(err error) {
			tr.end(err, errors.Is(err, context.Canceled))
			if m != nil {
				m.unregister()
			}
		},
		OnRestart: func(attempt int, err error) {
			tr.restart(attempt, err)
			if m != nil {
				m.j.Restart()
			}
		},
	}
	o.Logger.Info("weir: job starting", "operators", len(e.g.Nodes), "parallelism", e.opts.Parallelism)
	return &JobClient{j: job.Start(ctx, cfg), tr: tr}, nil
}

// Wait blocks until the job ends and returns what Execute would.
func (c *JobClient) Wait() error { return c.j.Wait() }

// Done is closed when the job ended.
func (c *JobClient) Done() <-chan struct{} { return c.j.Done() }

// Cancel stops the job without a savepoint; Wait then returns
// context.Canceled.
func (c *JobClient) Cancel() { c.j.Cancel() }

// JobState is where a job is in its life, as Flink's JobStatus names it.
type JobState string

// Job states.
const (
	JobRunning    JobState = "RUNNING"    // an attempt is running
	JobRestarting JobState = "RESTARTING" // an attempt failed; the next one waits for its delay
	JobFinished   JobState = "FINISHED"   // every record processed, or stopped with a savepoint
	JobFailed     JobState = "FAILED"     // ended with an error it is not restarted after
	JobCanceled   JobState = "CANCELED"   // canceled (Cancel, or the context of Start)
)

// JobStatus is a job's state and its failures so far.
type JobStatus struct {
	State JobState
	// Attempts counts the runs started: 1 for a job that never restarted.
	Attempts int
	// LastFailure is the error of the last failed run, nil if none.
	LastFailure error
	// Started is when the job started; Ended when it ended (zero while
	// it runs).
	Started, Ended time.Time
}

// Status returns the job's current status. It may be called from any
// goroutine, at any time.
func (c *JobClient) Status() JobStatus {
	s := c.j.Status()
	return JobStatus{State: JobState(s.State.String()), Attempts: s.Attempt, LastFailure: s.LastFailure, Started: s.Started, Ended: s.Ended}
}

// TriggerSavepoint takes a savepoint into a new subdirectory of dir and
// returns its path; restore it with Options.Restore. Sinks commit the
// output up to the savepoint, as for a checkpoint.
func (c *JobClient) TriggerSavepoint(ctx context.Context, dir string) (string, error) {
	end := c.tr.savepoint(ctx, dir, false)
	path, err := c.j.Savepoint(ctx, dir, false, false)
	end(path, err)
	return path, err
}

// StopWithSavepoint takes a savepoint and stops the job once it completed
// and every sink committed up to it; Wait then returns nil. Restoring the
// savepoint continues exactly where the job stopped.
func (c *JobClient) StopWithSavepoint(ctx context.Context, dir string) (string, error) {
	end := c.tr.savepoint(ctx, dir, true)
	path, err := c.j.Savepoint(ctx, dir, true, false)
	end(path, err)
	return path, err
}

// StopWithDrain is StopWithSavepoint after the end of event time, Flink's
// stop --drain: each source emits the final watermark (MaxWatermark) just
// before the savepoint's barrier and reads no more, so every event-time
// timer fires and every window emits its result into the savepoint's
// output first. Use it to end a job for good: a job restored from a
// drained savepoint sees its windows already fired, and its sources resume
// where they stopped. If the savepoint fails after the sources drained,
// the job fails over to its latest checkpoint (restarting as its restart
// strategy says), as Flink does.
func (c *JobClient) StopWithDrain(ctx context.Context, dir string) (string, error) {
	end := c.tr.savepoint(ctx, dir, true)
	path, err := c.j.Savepoint(ctx, dir, true, true)
	end(path, err)
	return path, err
}

// checkpointOptions turns on checkpointing and loads the checkpoint to
// restore, as the options say.
func (e *Environment) checkpointOptions(o *graph.Options) error {
	// Flink's file URIs (file:///tmp/chk) name local directories.
	dir, err := fileuri.Path(e.opts.Checkpoints.Dir)
	if err != nil {
		return &InvalidOptionError{Prefix: "weir", Option: "Checkpoints.Dir", Reason: err.Error()}
	}
	e.opts.Checkpoints.Dir = dir
	if e.opts.Restore != "latest" {
		if e.opts.Restore, err = fileuri.Path(e.opts.Restore); err != nil {
			return &InvalidOptionError{Prefix: "weir", Option: "Restore", Reason: err.Error()}
		}
	}
	c := e.opts.Checkpoints
	store := &icheckpoint.Storage{Dir: c.Dir, Logger: o.Logger, Remote: c.Remote}
	if c.Interval > 0 {
		if c.Dir == "" {
			return &InvalidOptionError{Prefix: "weir", Option: "Checkpoints.Dir", Reason: "must be set for checkpointing (Checkpoints.Interval)"}
		}
		o.Checkpoint = &graph.CheckpointOptions{
			Config: icheckpoint.Config{Interval: c.Interval, Timeout: c.Timeout, MinPause: c.MinPause,
				TolerableFailures: c.TolerableFailures, Retained: c.Retained},
			Storage: store, AtLeastOnce: c.AtLeastOnce,
		}
	}
	var (
		meta  *icheckpoint.Metadata
		files map[string][]byte
		from  = store
	)
	switch e.opts.Restore {
	case "":
		return nil
	case "latest":
		if c.Dir == "" {
			return &InvalidOptionError{Prefix: "weir", Option: "Checkpoints.Dir", Reason: "must be set to restore latest"}
		}
		r, err := store.Find(context.Background(), e.opts.AllowCheckpointFallback)
		if errors.Is(err, icheckpoint.ErrNoCheckpoint) {
			o.Logger.Info("weir: no checkpoint to restore, starting fresh", "dir", c.Dir)
			return nil
		}
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		o.Restore = job.RestoreOf(r, e.opts.AllowNonRestoredState)
	default:
		// A chk-<id> that is a pointer (a stop-with-savepoint, a restored
		// savepoint) stands for the location it names.
		var loc string
		loc, err = store.ResolveLocation(context.Background(), e.opts.Restore)
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		// A checkpoint's shared files are in the shared/ beside it.
		from = &icheckpoint.Storage{Dir: parentLocation(loc), Logger: o.Logger, Remote: c.Remote}
		meta, files, err = from.ReadLocation(context.Background(), loc)
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		// Sinks commit what it staged: a later "restore latest" must find
		// it, not an older checkpoint of Checkpoints.Dir.
		o.Restore = &graph.Restore{Meta: meta, Files: files, Store: from, AllowNonRestoredState: e.opts.AllowNonRestoredState,
			Location: loc, Register: c.Interval > 0 && !store.Owns(e.opts.Restore)}
	}
	o.Logger.Info("weir: restoring", "checkpoint", o.Restore.Meta.ID, "taken", o.Restore.Meta.Timestamp, "from", o.Restore.Location)
	return nil
}

// parentLocation returns the directory (or s3:// prefix) holding loc.
func parentLocation(loc string) string {
	if strings.Contains(loc, "://") {
		loc = strings.TrimSuffix(loc, "/")
		if i := strings.LastIndexByte(loc, '/'); i > strings.Index(loc, "://")+2 {
			return loc[:i]
		}
		return loc
	}
	return filepath.Dir(filepath.Clean(loc))
}

// State backends (Options.StateBackend).
const (
	// StateHeap keeps keyed state in memory as Go values: fastest, bounded
	// by memory. The default.
	StateHeap = "heap"
	// StatePebble keeps keyed state on local disk in Pebble: state larger
	// than memory, incremental checkpoints. It needs Options.Pebble.
	StatePebble = "pebble"
)

// PebbleEngine is the Pebble storage engine of Options.Pebble: make it
// with New of package github.com/weirstream/weir/statebackend/pebble. Its
// methods are Weir's own business.
type PebbleEngine = kv.Engine

// errNoPebble is the error of what needs Options.Pebble without it.
func errNoPebble(what string) error {
	return fmt.Errorf("weir: %s needs Options.Pebble: import github.com/weirstream/weir/statebackend/pebble and set Options.Pebble = pebble.New()", what)
}

// jobLogger is the job's logger: Options.Logger with the job's name and id.
func (e *Environment) jobLogger() *slog.Logger {
	if e.opts.JobName != "" {
		return e.opts.Logger.With("job", e.opts.JobName, "job_id", e.opts.JobID)
	}
	return e.opts.Logger.With("job_id", e.opts.JobID)
}
