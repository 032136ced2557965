package weir

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// ErrAlreadyExecuted is returned by a second call of Execute.
var ErrAlreadyExecuted = errors.New("weir: environment already executed")

// Execute runs the job. It returns nil when every source ended and all
// records were processed, the first operator error (naming the operator and
// subtask), or the context's error if ctx was canceled first.
func (e *Environment) Execute(ctx context.Context) error {
	if e.executed {
		return ErrAlreadyExecuted
	}
	e.executed = true
	o := e.graphOptions()
	if e.opts.Registry != nil {
		m, err := newJobMetrics(e.opts.Registry)
		if err != nil {
			return err
		}
		defer m.unregister()
		o.Report = m.report
		o.OpMetrics = m.operator
	}
	e.opts.Logger.Info("weir: job starting", "operators", len(e.g.Nodes), "parallelism", e.opts.Parallelism)
	err := e.g.Run(ctx, o)
	if err != nil {
		e.opts.Logger.Error("weir: job ended", "err", err)
	} else {
		e.opts.Logger.Info("weir: job finished")
	}
	return err
}
