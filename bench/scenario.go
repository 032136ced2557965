package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/weirstream/weir"
)

// Checksum summarises what reached a sink: the number of output records and
// the sum of a field of them. The engine and the loop of a scenario must
// agree on the fields the scenario compares.
type Checksum struct {
	Records, Sum int64
}

// Scenario is one benchmark: a pipeline and the hand-written loop that does
// the same work.
type Scenario struct {
	// Name is the short name used on the command line ("a").
	Name string
	// Title describes the pipeline.
	Title string
	// Engine runs the pipeline over n generated records.
	Engine func(ctx context.Context, n int64, opts weir.Options) (Checksum, error)
	// Loop runs the hand-written equivalent over the same n records.
	Loop func(n int64) Checksum
	// Records is the default number of input records: a few seconds of
	// work at most.
	Records int64
	// SumOnly: only the Sum must match (the engine's watermarks lag event
	// time, so the number of outputs may legitimately differ).
	SumOnly bool
}

var scenarios = []Scenario{
	{Name: "a", Title: "generator → map → filter → discard", Engine: mapFilterEngine, Loop: mapFilterLoop, Records: 20_000_000},
	{Name: "b", Title: "keyed tumbling 10s event-time window count+sum (100k keys, ~0.95 rows per event)", Engine: tumblingEngine, Loop: tumblingLoop, Records: 5_000_000},
	{Name: "c", Title: "keyed session window count, 2s gap (10k keys)", Engine: sessionEngine, Loop: sessionLoop, SumOnly: true, Records: 2_000_000},
	{Name: "d", Title: "keyed process: value state + event-time timer per record (100k keys)", Engine: timeoutEngine, Loop: timeoutLoop, SumOnly: true, Records: 1_000_000},
	{Name: "e", Title: "keyed tumbling 1s event-time window count (100k keys, ~10 records per key and window)", Engine: denseEngine, Loop: denseLoop, Records: 5_000_000},
}

// Scenarios returns every scenario, in name order.
func Scenarios() []Scenario { return append([]Scenario(nil), scenarios...) }

// Lookup returns the scenario with the given name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Result is the outcome of one scenario run.
type Result struct {
	Scenario     Scenario
	Engine, Loop Measurement
	Checksum     Checksum
}

// Ratio is the engine's per-core throughput over the loop's.
func (r Result) Ratio() float64 {
	l := r.Loop.PerCoreSecond()
	if l == 0 {
		return 0
	}
	return r.Engine.PerCoreSecond() / l
}

// WatermarkInterval is the sources' periodic watermark interval the
// benchmarks run with unless told otherwise (weir bench
// --watermark-interval; WithDefaults). The hand-written loops close a window
// the moment the next one starts; the engine closes it at the next
// watermark. Replaying generated events thousands of times faster than
// their event time, Flink's default of 200 ms of processing time lets event
// time run ahead by hundreds of windows between two watermarks (scenario b:
// ~100 live 10 s windows instead of one), which measures the watermark
// cadence, not the operators. 1 ms keeps the engine's windows as few as the
// loop's at a cost of one watermark per millisecond.
const WatermarkInterval = time.Millisecond

// WithDefaults returns opts with the benchmarks' watermark interval if it
// has none.
func WithDefaults(opts weir.Options) weir.Options {
	if opts.AutoWatermarkInterval == 0 {
		opts.AutoWatermarkInterval = WatermarkInterval
	}
	return opts
}

// Run runs the loop and then the engine over n records and checks that
// their checksums agree. opts gets WithDefaults.
func Run(ctx context.Context, s Scenario, n int64, opts weir.Options) (Result, error) {
	opts = WithDefaults(opts)
	var want, got Checksum
	loop, err := Measure(n, func() error { want = s.Loop(n); return nil })
	if err != nil {
		return Result{}, err
	}
	eng, err := Measure(n, func() error {
		var err error
		got, err = s.Engine(ctx, n, opts)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("bench: scenario %s: %w", s.Name, err)
	}
	if got.Sum != want.Sum || (!s.SumOnly && got.Records != want.Records) {
		return Result{}, fmt.Errorf("bench: scenario %s: engine checksum %+v, loop %+v", s.Name, got, want)
	}
	return Result{Scenario: s, Engine: eng, Loop: loop, Checksum: got}, nil
}

// sumSink adds up the records it receives with a value function; each
// subtask counts on its own and merges its totals at the end of input.
type sumSink[T any] struct {
	value func(T) int64
	mu    sync.Mutex
	total Checksum
}

func (s *sumSink[T]) CreateWriter(weir.SinkContext) (weir.SinkWriter[T], error) {
	return &sumWriter[T]{sink: s}, nil
}

func (s *sumSink[T]) result() Checksum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

type sumWriter[T any] struct {
	sink *sumSink[T]
	c    Checksum
}

func (w *sumWriter[T]) Write(_ context.Context, v T, _ int64) error {
	w.c.Records++
	w.c.Sum += w.sink.value(v)
	return nil
}

// WriteBatch is the sum's batch path (weir.BatchWriter): one call per run
// of records instead of one Write each.
func (w *sumWriter[T]) WriteBatch(_ context.Context, recs []weir.Rec[T]) (int, error) {
	value, c := w.sink.value, w.c
	for i := range recs {
		c.Sum += value(recs[i].V)
	}
	c.Records += int64(len(recs))
	w.c = c
	return len(recs), nil
}

func (w *sumWriter[T]) Flush(_ context.Context, endOfInput bool) error {
	if !endOfInput {
		return nil
	}
	w.sink.mu.Lock()
	w.sink.total.Records += w.c.Records
	w.sink.total.Sum += w.c.Sum
	w.sink.mu.Unlock()
	w.c = Checksum{}
	return nil
}

func (w *sumWriter[T]) Close() error { return nil }

// execute adds a summing sink to s, runs the job and returns the checksum.
func execute[T any](ctx context.Context, env *weir.Environment, s weir.Stream[T], value func(T) int64) (Checksum, error) {
	sink := &sumSink[T]{value: value}
	s.SinkTo(sink).Name("sum")
	if err := env.Execute(ctx); err != nil {
		return Checksum{}, err
	}
	return sink.result(), nil
}
