package weir

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
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
	// watermarks (default 200ms; negative: after every poll).
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
	// StatePebble. A checkpoint or savepoint of either restores into
	// either.
	StateBackend string
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
	// Dir is the directory checkpoints are written to (required).
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
	// S3 configures access to S3-compatible object storage, used when Dir
	// (or a restore path) is an s3://bucket/prefix URL.
	S3 S3Options
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
	if o.MetricsInterval <= 0 {
		o.MetricsInterval = time.Second
	}
}

// Environment collects a job's dataflow and runs it.
type Environment struct {
	opts     Options
	g        graph.Graph
	executed bool
}

// NewEnvironment returns an environment with opts (defaults filled in).
func NewEnvironment(opts Options) *Environment {
	opts.fill()
	return &Environment{opts: opts}
}

// Parallelism returns the default parallelism.
func (e *Environment) Parallelism() int { return e.opts.Parallelism }

type clockFunc func() int64

func (f clockFunc) Now() int64 { return f() }

func (e *Environment) graphOptions() graph.Options {
	o := graph.Options{
		Parallelism:     e.opts.Parallelism,
		MaxParallelism:  e.opts.MaxParallelism,
		Chaining:        !e.opts.DisableChaining,
		BatchSize:       e.opts.BatchSize,
		ChannelCapacity: e.opts.ChannelCapacity,
		Logger:          e.opts.Logger,
		ReportInterval:  e.opts.MetricsInterval,
		StateBackend:    e.opts.StateBackend,
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

// Explain returns the execution plan: the chains of operators run together,
// their parallelism and how their inputs are partitioned.
func (e *Environment) Explain() string {
	return e.g.Explain(e.graphOptions())
}

// ErrCheckpointFallback is wrapped by the error of a restore refused
// because newer completed checkpoints cannot be read (restoring an older one
// would repeat output sinks committed); the error names the damaged files.
// See Options.AllowCheckpointFallback.
var ErrCheckpointFallback = checkpoint.ErrFallback

// ErrAlreadyExecuted is returned by a second call of Execute.
var ErrAlreadyExecuted = errors.New("weir: environment already executed")

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
	done       chan struct{}
	err        error
	cancel     context.CancelFunc
	savepoints chan graph.SavepointRequest
	logger     *slog.Logger
}

// Start runs the job in the background and returns a client to wait for
// it, take savepoints or stop it.
func (e *Environment) Start(ctx context.Context) (*JobClient, error) {
	if e.executed {
		return nil, ErrAlreadyExecuted
	}
	e.executed = true
	switch e.opts.StateBackend {
	case "", StateHeap, StatePebble:
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
	ctx, cancel := context.WithCancel(ctx)
	c := &JobClient{done: make(chan struct{}), cancel: cancel, logger: e.opts.Logger}
	if o.Checkpoint != nil {
		c.savepoints = make(chan graph.SavepointRequest)
		o.Savepoints = c.savepoints
	}
	e.opts.Logger.Info("weir: job starting", "operators", len(e.g.Nodes), "parallelism", e.opts.Parallelism)
	go func() {
		defer close(c.done)
		defer cancel()
		if m != nil {
			defer m.unregister()
		}
		c.err = e.runWithRestarts(ctx, o)
		if c.err != nil {
			e.opts.Logger.Error("weir: job ended", "err", c.err)
		} else {
			e.opts.Logger.Info("weir: job finished")
		}
	}()
	return c, nil
}

// Wait blocks until the job ends and returns what Execute would.
func (c *JobClient) Wait() error {
	<-c.done
	return c.err
}

// Done is closed when the job ended.
func (c *JobClient) Done() <-chan struct{} { return c.done }

// Cancel stops the job without a savepoint; Wait then returns
// context.Canceled.
func (c *JobClient) Cancel() { c.cancel() }

// ErrNoCheckpointing is returned by savepoint calls on a job without
// checkpointing (savepoints use the same barriers).
var ErrNoCheckpointing = errors.New("weir: savepoints need checkpointing (Options.Checkpoints.Interval)")

// TriggerSavepoint takes a savepoint into a new subdirectory of dir and
// returns its path; restore it with Options.Restore. Sinks commit the
// output up to the savepoint, as for a checkpoint.
func (c *JobClient) TriggerSavepoint(ctx context.Context, dir string) (string, error) {
	return c.savepoint(ctx, dir, false)
}

// StopWithSavepoint takes a savepoint and stops the job once it completed
// and every sink committed up to it; Wait then returns nil. Restoring the
// savepoint continues exactly where the job stopped.
func (c *JobClient) StopWithSavepoint(ctx context.Context, dir string) (string, error) {
	return c.savepoint(ctx, dir, true)
}

func (c *JobClient) savepoint(ctx context.Context, dir string, stop bool) (string, error) {
	if c.savepoints == nil {
		return "", ErrNoCheckpointing
	}
	req := graph.SavepointRequest{Dir: dir, Stop: stop, Reply: make(chan graph.SavepointResult, 1)}
	select {
	case c.savepoints <- req:
	case <-c.done:
		return "", fmt.Errorf("weir: savepoint: the job already ended: %v", c.err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-req.Reply:
		if r.Err == nil {
			c.logger.Info("weir: savepoint complete", "path", r.Path, "stop", stop)
		}
		return r.Path, r.Err
	case <-c.done:
		return "", fmt.Errorf("weir: savepoint: the job ended first: %v", c.err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// checkpointOptions turns on checkpointing and loads the checkpoint to
// restore, as the options say.
func (e *Environment) checkpointOptions(o *graph.Options) error {
	c := e.opts.Checkpoints
	store := &checkpoint.Storage{Dir: c.Dir, Logger: e.opts.Logger, S3: c.S3.internal()}
	if c.Interval > 0 {
		if c.Dir == "" {
			return &InvalidOptionError{Prefix: "weir", Option: "Checkpoints.Dir", Reason: "must be set for checkpointing (Checkpoints.Interval)"}
		}
		o.Checkpoint = &graph.CheckpointOptions{
			Config: checkpoint.Config{Interval: c.Interval, Timeout: c.Timeout, MinPause: c.MinPause,
				TolerableFailures: c.TolerableFailures, Retained: c.Retained},
			Storage: store, AtLeastOnce: c.AtLeastOnce,
		}
	}
	var (
		meta  *checkpoint.Metadata
		files map[string][]byte
		err   error
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
		if errors.Is(err, checkpoint.ErrNoCheckpoint) {
			e.opts.Logger.Info("weir: no checkpoint to restore, starting fresh", "dir", c.Dir)
			return nil
		}
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		o.Restore = e.restoreOf(r)
	default:
		// A chk-<id> that is a pointer (a stop-with-savepoint, a restored
		// savepoint) stands for the location it names.
		var loc string
		loc, err = store.ResolveLocation(context.Background(), e.opts.Restore)
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		// A checkpoint's shared files are in the shared/ beside it.
		from = &checkpoint.Storage{Dir: parentLocation(loc), Logger: e.opts.Logger, S3: c.S3.internal()}
		meta, files, err = from.ReadLocation(context.Background(), loc)
		if err != nil {
			return fmt.Errorf("weir: restore: %w", err)
		}
		// Sinks commit what it staged: a later "restore latest" must find
		// it, not an older checkpoint of Checkpoints.Dir.
		o.Restore = &graph.Restore{Meta: meta, Files: files, Store: from, AllowNonRestoredState: e.opts.AllowNonRestoredState,
			Location: loc, Register: c.Interval > 0 && !store.Owns(e.opts.Restore)}
	}
	e.opts.Logger.Info("weir: restoring", "checkpoint", o.Restore.Meta.ID, "taken", o.Restore.Meta.Timestamp, "from", o.Restore.Location)
	return nil
}

// restoreOf is the restore of a checkpoint Find chose.
func (e *Environment) restoreOf(r *checkpoint.Restored) *graph.Restore {
	return &graph.Restore{Meta: r.Meta, Files: r.Files, Store: r.Shared, AllowNonRestoredState: e.opts.AllowNonRestoredState, Location: r.Location}
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

// runWithRestarts runs the job and, after a failure the restart strategy
// accepts, runs it again from the latest completed checkpoint.
func (e *Environment) runWithRestarts(ctx context.Context, o graph.Options) error {
	strategy := e.opts.Restart
	if strategy == nil {
		strategy = NoRestart{}
	}
	// A restart falls back to initial only when the storage holds no
	// checkpoint: then the first attempt failed before it registered its
	// savepoint, and the restart must register it (Restore.Register).
	initial := o.Restore
	limit := e.opts.RepeatedFailureLimit
	if limit == 0 {
		limit = 5
	}
	var repeats repeatedFailure
	for attempt := 1; ; attempt++ {
		err := e.g.Run(ctx, o)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if n := repeats.note(o.Restore, err); limit > 0 && n >= limit {
			return fmt.Errorf("weir: the job failed %d times in a row with the same error after restoring the same position, so it is not restarted again (a record it cannot process? route bad records to a dead-letter output): %w", n, err)
		}
		ok, delay := strategy.Restart(time.Now())
		if !ok {
			return err
		}
		e.opts.Logger.Warn("weir: job failed, restarting", "attempt", attempt, "delay", delay, "err", err)
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
			r, lerr := o.Checkpoint.Storage.Find(ctx, e.opts.AllowCheckpointFallback)
			switch {
			case lerr == nil:
				o.Restore = e.restoreOf(r)
				e.opts.Logger.Info("weir: restoring after failure", "checkpoint", r.Meta.ID, "from", r.Location)
			case errors.Is(lerr, checkpoint.ErrNoCheckpoint):
			default:
				return fmt.Errorf("weir: restart after %w: %w", err, lerr)
			}
		}
	}
}

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

// State backends (Options.StateBackend).
const (
	// StateHeap keeps keyed state in memory as Go values: fastest, bounded
	// by memory. The default.
	StateHeap = "heap"
	// StatePebble keeps keyed state on local disk in Pebble: state larger
	// than memory, incremental checkpoints.
	StatePebble = "pebble"
)

// S3Options configure S3-compatible checkpoint storage. The zero value uses
// AWS with the SDK's default region and credential chain.
type S3Options struct {
	// Client, if set, is used as is (the other fields are ignored).
	Client *s3.Client
	// Endpoint is the base URL of an S3-compatible service (MinIO, Ceph),
	// e.g. "http://localhost:9000"; "" means AWS.
	Endpoint string
	// Region is the signing region ("" = the SDK's default; us-east-1 with
	// an Endpoint).
	Region string
	// UsePathStyle addresses buckets as endpoint/bucket/key, as MinIO-like
	// services usually need.
	UsePathStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials; without AccessKeyID the default credential chain is
	// used.
	AccessKeyID, SecretAccessKey, SessionToken string
}

func (o S3Options) internal() checkpoint.S3Options {
	return checkpoint.S3Options{Client: o.Client, Endpoint: o.Endpoint, Region: o.Region, UsePathStyle: o.UsePathStyle,
		AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey, SessionToken: o.SessionToken}
}
