package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/checkpoint"
	"github.com/weirstream/weir/checkpoint/s3"
	"github.com/weirstream/weir/statebackend/pebble"
)

// runFlags are the flags every job of `weir run` takes.
type runFlags struct {
	parallelism, maxParallelism int
	checkpointDir               string
	checkpointInterval          time.Duration
	retained                    int
	tolerableFailedCheckpoints  int
	s3Endpoint, s3Region        string
	s3PathStyle                 bool
	restore                     string
	allowNonRestoredState       bool
	allowCheckpointFallback     bool
	stateBackend, stateDir      string
	savepointDir                string
	drain                       bool
	verbose                     bool
	telemetry                   telemetryFlags
}

// signalFunc starts delivering the signals `weir run` handles (SIGUSR1,
// SIGINT, SIGTERM) and returns their channel and a function that stops
// the delivery. Tests pass one that returns a channel of their own.
type signalFunc func() (<-chan os.Signal, func())

// notifySignals delivers the process's signals.
func notifySignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGUSR1, os.Interrupt, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

// newRunCmd returns `weir run`, whose subcommands are the built-in jobs.
func newRunCmd(signals signalFunc) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run <job> [flags]",
		Short: "Run a built-in job with checkpoints, restore and savepoints",
		Long: `Runs a built-in job (sums, demo, nexmark) with the engine's fault tolerance.

With --checkpoint-dir (a directory or s3://bucket/prefix) the job takes a
checkpoint every --checkpoint-interval. After a crash, run the same command
with --restore latest: the job resumes from the newest completed checkpoint
in --checkpoint-dir, or from the savepoint a stop-with-savepoint or a
--restore PATH left there (and starts fresh only if the directory holds
none). --restore PATH starts from one checkpoint or savepoint, at any
--parallelism and either --state-backend.

Exactly-once: whatever sinks committed is never produced again by a
restore. If the newest completed checkpoint cannot be read (a damaged or
missing file), --restore latest fails and names the damaged files rather
than go back to an older checkpoint and repeat output; with
--allow-checkpoint-fallback it goes back and says at ERROR level how much
may repeat. Warnings and errors always go to stderr; -v adds progress.

Savepoints: with --savepoint-dir, SIGUSR1 (kill -USR1 PID) takes a savepoint
and prints its path on stderr, and SIGINT/SIGTERM (Ctrl-C) stops the job
with a savepoint, prints its path and exits with status 0 (if that
savepoint fails, the job is canceled and the run exits with its error:
resume with --restore latest); a second signal cancels at once. Without
--savepoint-dir, SIGINT/SIGTERM cancel the job. With --drain the stop is
Flink's stop --drain: the sources emit the final watermark before the
savepoint, so every open event-time window fires into the output it
commits; if that savepoint fails, the job fails over to its latest
checkpoint and the run exits with the error (resume with --restore
latest).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("run: name a job: sums, demo or nexmark (weir run --help)")
			}
			return fmt.Errorf("run: unknown job %q (have: sums, demo, nexmark)", args[0])
		},
	}
	f.register(cmd.PersistentFlags())
	cmd.AddCommand(newRunSumsCmd(f, signals), newRunDemoCmd(f, signals), newRunNexmarkCmd(f, signals))
	return cmd
}

// register adds the flags to a command's flag set.
func (f *runFlags) register(pf *pflag.FlagSet) {
	pf.IntVar(&f.parallelism, "parallelism", 2, "subtasks per operator")
	pf.IntVar(&f.maxParallelism, "max-parallelism", 0, "number of key groups, the bound of any parallelism; keep it fixed across restores (0: 128)")
	pf.StringVar(&f.checkpointDir, "checkpoint-dir", "", "directory (or file:///dir) or s3://bucket/prefix of the checkpoints (empty: no checkpoints)")
	pf.DurationVar(&f.checkpointInterval, "checkpoint-interval", time.Second, "time between checkpoints (with --checkpoint-dir)")
	pf.IntVar(&f.retained, "retained", 2, "completed checkpoints kept")
	pf.IntVar(&f.tolerableFailedCheckpoints, "tolerable-failed-checkpoints", 0, "consecutive failed checkpoints the job survives (Flink's execution.checkpointing.tolerable-failed-checkpoints): a checkpoint that cannot be stored, e.g. on a full disk, is declined and the job goes on")
	pf.StringVar(&f.s3Endpoint, "s3-endpoint", "", "base URL of an S3-compatible service for s3:// paths, e.g. http://localhost:9000 (empty: AWS)")
	pf.StringVar(&f.s3Region, "s3-region", "", "S3 signing region (empty: the SDK's default; us-east-1 with --s3-endpoint)")
	pf.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address buckets as endpoint/bucket/key (MinIO and the like)")
	pf.StringVar(&f.restore, "restore", "", `where to start: "latest" (the newest checkpoint in --checkpoint-dir), a checkpoint or savepoint path, or empty for a fresh start`)
	pf.BoolVar(&f.allowCheckpointFallback, "allow-checkpoint-fallback", false, "with --restore latest, restore an older checkpoint when newer completed ones cannot be read; output committed for those is produced again (without it such a restore fails and names the damaged files)")
	pf.BoolVar(&f.allowNonRestoredState, "allow-non-restored-state", false, "restore even if the checkpoint holds state of an operator the job lacks")
	pf.StringVar(&f.stateBackend, "state-backend", weir.StateHeap, `where keyed state lives: "heap" (memory) or "pebble" (local disk)`)
	pf.StringVar(&f.stateDir, "state-dir", "", "local working directory of the pebble backend (default: under the system's temporary directory)")
	pf.StringVar(&f.savepointDir, "savepoint-dir", "", "directory (or file:///dir) or s3://bucket/prefix of savepoints taken on SIGUSR1 and on stop (needs --checkpoint-dir)")
	pf.BoolVar(&f.drain, "drain", false, "with --savepoint-dir, SIGINT/SIGTERM stop with drain (Flink's stop --drain): the sources emit the final watermark first, so every event-time timer and window fires into the output the savepoint commits")
	pf.BoolVarP(&f.verbose, "verbose", "v", false, "log the job's progress (checkpoints, restores) to stderr")
	f.telemetry.register(pf, true)
}

// options checks the flags and returns the engine's options.
func (f *runFlags) options(logger *slog.Logger) (weir.Options, error) {
	switch {
	case f.parallelism < 1:
		return weir.Options{}, fmt.Errorf("--parallelism must be at least 1, not %d", f.parallelism)
	case f.maxParallelism < 0 || f.maxParallelism > 0 && f.maxParallelism < f.parallelism:
		return weir.Options{}, fmt.Errorf("--max-parallelism %d must be 0 or at least --parallelism %d", f.maxParallelism, f.parallelism)
	case f.tolerableFailedCheckpoints < 0:
		return weir.Options{}, fmt.Errorf("--tolerable-failed-checkpoints must not be negative, not %d", f.tolerableFailedCheckpoints)
	case f.retained < 1:
		return weir.Options{}, fmt.Errorf("--retained must be at least 1, not %d", f.retained)
	case f.stateBackend != weir.StateHeap && f.stateBackend != weir.StatePebble:
		return weir.Options{}, fmt.Errorf("--state-backend must be %q or %q, not %q", weir.StateHeap, weir.StatePebble, f.stateBackend)
	case f.checkpointDir != "" && f.checkpointInterval <= 0:
		return weir.Options{}, fmt.Errorf("--checkpoint-interval must be positive, not %v", f.checkpointInterval)
	case f.allowCheckpointFallback && f.restore != "latest":
		return weir.Options{}, errors.New("--allow-checkpoint-fallback applies to --restore latest only (a --restore PATH restores that checkpoint as it is)")
	case f.restore == "latest" && f.checkpointDir == "":
		return weir.Options{}, errors.New("--restore latest needs --checkpoint-dir (where to look for the checkpoints)")
	case f.savepointDir != "" && f.checkpointDir == "":
		return weir.Options{}, errors.New("--savepoint-dir needs checkpointing: set --checkpoint-dir (savepoints use the checkpoints' barriers)")
	case f.drain && f.savepointDir == "":
		return weir.Options{}, errors.New("--drain needs --savepoint-dir (a stop with drain ends with a savepoint)")
	}
	o := weir.Options{
		Parallelism:             f.parallelism,
		MaxParallelism:          f.maxParallelism,
		Logger:                  logger,
		Restore:                 f.restore,
		AllowNonRestoredState:   f.allowNonRestoredState,
		AllowCheckpointFallback: f.allowCheckpointFallback,
		StateBackend:            f.stateBackend,
		Pebble:                  pebble.New(), // the CLI links Pebble
		StateDir:                f.stateDir,
		LatencyTrackingInterval: f.telemetry.latency,
	}
	// The CLI serves s3:// paths always: it links the S3 storage.
	o.Checkpoints.Remote = []checkpoint.Remote{s3.New(s3.Options{Endpoint: f.s3Endpoint, Region: f.s3Region, UsePathStyle: f.s3PathStyle})}
	if f.checkpointDir != "" {
		o.Checkpoints.Dir = f.checkpointDir
		o.Checkpoints.Interval = f.checkpointInterval
		o.Checkpoints.Retained = f.retained
		o.Checkpoints.TolerableFailures = f.tolerableFailedCheckpoints
	}
	return o, nil
}

// runJob is a built-in job of `weir run`.
type runJob struct {
	// name prefixes errors.
	name string
	// build adds the job to env.
	build func(env *weir.Environment) error
	// done, if set, is called after the job ended, with the error run
	// returns, to print a summary.
	done func(err error)
	// ctx, if set, replaces the command's context: its end stops the job
	// as a signal does (the SQL client's live view quits with it).
	ctx context.Context
	// id, if set, is the job's id (weir.Options.JobID).
	id string
	// started, if set, is called with the job's client once it runs.
	started func(*weir.JobClient)
	// options, if set, adjusts the options the flags give (the SQL
	// session's checkpoint tuning and restart strategy).
	options func(*weir.Options)
}

// executeJob builds the job, runs it and serves savepoints and stops
// (controller) until it ends.
func executeJob(cmd *cobra.Command, f *runFlags, signals signalFunc, job runJob) error {
	stderr := newLockedWriter(cmd.ErrOrStderr())
	// Warnings and errors (a checkpoint skipped, a restore falling back, a
	// restart) always reach stderr; -v adds the job's progress.
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	logger, err := f.telemetry.logger(stderr, level)
	if err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	opts, err := f.options(logger)
	if err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	opts.JobName = job.name
	if job.options != nil {
		job.options(&opts)
	}
	if job.id != "" {
		opts.JobID = job.id
	}
	tp, shutdown, err := f.telemetry.tracerProvider(cmd.Context())
	if err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	defer shutdownTracing(shutdown, logger)
	opts.TracerProvider = tp
	env := weir.NewEnvironment(opts)
	if err := job.build(env); err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	sigs, stopSignals := signals()
	defer stopSignals()
	ctx := cmd.Context()
	if job.ctx != nil {
		ctx = job.ctx
	}
	// The job outlives ctx: when ctx ends the controller stops the job,
	// with a savepoint if asked to.
	client, err := env.Start(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	if job.started != nil {
		job.started(client)
	}
	c := &controller{client: client, savepointDir: f.savepointDir, drain: f.drain, checkpointDir: f.checkpointDir, out: stderr}
	err = c.serve(ctx, sigs)
	if job.done != nil {
		job.done(err)
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", job.name, err)
	}
	return nil
}

// controller serves a running job's savepoints and stop: SIGUSR1 takes a
// savepoint, SIGINT, SIGTERM or the end of the command's context stop the
// job (with a savepoint when savepointDir is set). It is used by one
// goroutine, in serve; the savepoints it triggers run on goroutines serve
// waits for.
type controller struct {
	client       *weir.JobClient
	savepointDir string
	// drain makes the stop a stop with drain (JobClient.StopWithDrain).
	drain         bool
	checkpointDir string
	out           io.Writer // safe for concurrent writes
}

// stopResult is the outcome of a stop-with-savepoint.
type stopResult struct {
	path string
	err  error
}

// serve waits for the job to end while acting on the signals and on the
// end of ctx; it returns nil if the job finished, was stopped with a
// savepoint or was canceled on request, and the job's or the savepoint's
// error otherwise.
func (c *controller) serve(ctx context.Context, signals <-chan os.Signal) error {
	// hard ends the savepoint calls when the job is canceled outright.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancelHard()

	var (
		ctxDone     = ctx.Done()
		stopped     chan stopResult // the stop-with-savepoint's result, once asked
		stopping    bool
		canceled    bool
		stopSignals int
		stopErr     error
		// stopFailed: the stop's savepoint failed and the job was
		// canceled for it; the run ends with the savepoint's error.
		stopFailed bool
	)
	stop := func() {
		stopping = true
		if c.savepointDir == "" {
			fmt.Fprintf(c.out, "weir run: canceling the job (no --savepoint-dir)%s\n", c.resumeHint())
			canceled = true
			c.client.Cancel()
			return
		}
		how, stopWith := "", c.client.StopWithSavepoint
		if c.drain {
			how, stopWith = "draining, then ", c.client.StopWithDrain
		}
		fmt.Fprintf(c.out, "weir run: %sstopping with a savepoint into %s (signal again to cancel at once)\n", how, c.savepointDir)
		stopped = make(chan stopResult, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, err := stopWith(hard, c.savepointDir)
			stopped <- stopResult{path, err}
		}()
	}
	for {
		select {
		case <-c.client.Done():
			err := c.client.Wait()
			if stopped != nil {
				// The savepoint's answer comes before the job ends, or
				// the call gives up when it sees the end.
				r := <-stopped
				if r.err == nil {
					fmt.Fprintf(c.out, "weir run: stopped with savepoint %s\n", r.path)
				} else if stopErr == nil {
					stopErr = fmt.Errorf("stop with savepoint: %w", r.err)
				}
			}
			switch {
			case stopFailed && (err == nil || errors.Is(err, context.Canceled)):
				err = stopErr
			case canceled && errors.Is(err, context.Canceled):
				err = nil
			case err == nil && errors.Is(stopErr, weir.ErrSavepointJobEnded):
				// Its input ended while the savepoint was under way: the
				// job is done, nothing is left to resume.
				fmt.Fprintln(c.out, "weir run: the job finished (its input ended) before the savepoint completed: no savepoint was taken, none is needed")
			case err == nil && stopErr != nil:
				err = stopErr
			}
			return err
		case <-ctxDone:
			ctxDone = nil
			if !stopping {
				stop()
			}
		case s := <-signals:
			switch {
			case s == syscall.SIGUSR1:
				c.triggerSavepoint(hard, &wg)
			case !stopping:
				stopSignals++
				stop()
			default:
				stopSignals++
				if stopSignals > 1 && !canceled {
					fmt.Fprintf(c.out, "weir run: canceling the job without waiting for the savepoint%s\n", c.resumeHint())
					canceled = true
					cancelHard()
					c.client.Cancel()
				}
			}
		case r := <-stopped:
			stopped = nil
			if errors.Is(r.err, weir.ErrSavepointJobEnded) {
				// The job ended first: whether it finished or failed,
				// Done tells.
				stopErr = fmt.Errorf("stop with savepoint: %w", r.err)
				continue
			}
			if r.err != nil && canceled {
				// A second signal canceled the job, and the savepoint
				// with it: the cancel asked for, not a failed stop.
				fmt.Fprintf(c.out, "weir run: stop with savepoint: %v\n", r.err)
				continue
			}
			if r.err != nil {
				// The job goes on after a failed savepoint: cancel it, and
				// report why.
				stopErr = fmt.Errorf("stop with savepoint: %w", r.err)
				fmt.Fprintf(c.out, "weir run: %v; canceling the job%s\n", stopErr, c.resumeHint())
				canceled, stopFailed = true, true
				c.client.Cancel()
				continue
			}
			fmt.Fprintf(c.out, "weir run: stopped with savepoint %s\n", r.path)
		}
	}
}

// triggerSavepoint takes a savepoint on a goroutine of wg and prints its
// path, or why none was taken.
func (c *controller) triggerSavepoint(ctx context.Context, wg *sync.WaitGroup) {
	if c.savepointDir == "" {
		fmt.Fprintln(c.out, "weir run: SIGUSR1: no savepoint taken: set --savepoint-dir (and --checkpoint-dir) to take savepoints")
		return
	}
	fmt.Fprintf(c.out, "weir run: taking a savepoint into %s\n", c.savepointDir)
	wg.Add(1)
	go func() {
		defer wg.Done()
		path, err := c.client.TriggerSavepoint(ctx, c.savepointDir)
		if err != nil {
			fmt.Fprintf(c.out, "weir run: savepoint failed: %v\n", err)
			return
		}
		fmt.Fprintf(c.out, "weir run: savepoint %s\n", path)
	}()
}

// resumeHint says how to resume a canceled job.
func (c *controller) resumeHint() string {
	if c.checkpointDir == "" {
		return ""
	}
	return fmt.Sprintf("; resume from the latest checkpoint in %s with --restore latest", c.checkpointDir)
}

// lockedWriter serializes writes to w (the logger's and the controller's
// lines on stderr).
type lockedWriter struct {
	mu struct {
		sync.Mutex
		w io.Writer
	}
}

func newLockedWriter(w io.Writer) *lockedWriter {
	l := &lockedWriter{}
	l.mu.w = w
	return l
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.w.Write(p)
}
