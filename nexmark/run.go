package nexmark

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
)

// Run runs query q as a bounded job over events (for example read with
// ReadFiles) and returns its final table as sorted JSON objects.
func Run(ctx context.Context, q Query, events []Event, opts weir.Options) ([][]byte, error) {
	env := weir.NewEnvironment(opts)
	s, err := FromEvents(env, events)
	if err != nil {
		return nil, err
	}
	res := q.Attach(s, true)
	if err := env.Execute(ctx); err != nil {
		return nil, fmt.Errorf("nexmark: %s: %w", q.Name, err)
	}
	return res.Final()
}

// WriteRows writes rows to path, one per line.
func WriteRows(path string, rows [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("nexmark: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, r := range rows {
		w.Write(r)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("nexmark: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("nexmark: %w", err)
	}
	return nil
}

// BenchResult is the cost of one query over generated events, generator
// included.
type BenchResult struct {
	Query       string `json:"query"`
	Events      int64  `json:"events"`
	Parallelism int    `json:"parallelism"`
	// State is the keyed state backend.
	State       string  `json:"state"`
	WallSeconds float64 `json:"wall_s"`
	CPUSeconds  float64 `json:"cpu_s"`
	// EventsPerSecond is events per second of wall time.
	EventsPerSecond float64 `json:"events_per_s"`
	// EventsPerCoreSecond is events per second of process CPU time (user
	// + system): the reference's throughput per core.
	EventsPerCoreSecond float64 `json:"events_per_core_s"`
	// Rows is the number of rows the query emitted, updates included.
	Rows int64 `json:"rows"`
	// PeakRSSBytes is the process's peak resident set size during this
	// query's run: on Linux the kernel's peak mark is reset before each
	// query (so earlier queries of the same process do not count), and
	// the file pages mapped at the start (the executable's, whose count
	// depends on the page cache, not on Weir) are left out
	// (bench.Measurement.PeakAnonRSS); where the mark cannot be reset,
	// the process's peak so far (getrusage maxrss).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// SQLRatio is, for a query's SQL run (Query qN-sql), its events per
	// second per core over the DataStream version's in the same run.
	SQLRatio float64 `json:"sql_ratio,omitempty"`
	// AllocsPerEvent is the process's heap allocations during the run per
	// event (runtime.MemStats.Mallocs, generator included); set by the SQL
	// runs of weir bench nexmark --sql.
	AllocsPerEvent float64 `json:"allocs_per_event,omitempty"`

	// LatencyFrom says what row latencies are measured from (the query's
	// Emission: event or watermark); empty when none was measured
	// (processing-time query, or no rows).
	LatencyFrom string `json:"latency_from,omitempty"`
	// LatencyRows is the number of rows whose latency was measured: every
	// 8th row of each sink subtask for a per-event query (the first, the
	// 9th, ...), every row for a windowed one.
	LatencyRows int64 `json:"latency_rows,omitempty"`
	// LatencyP50Ms, LatencyP99Ms and LatencyMaxMs are quantiles of the
	// rows' latencies in milliseconds: from the generator's emission of
	// the input that let the row out (see Emission) to the sink's receipt
	// of the row. Quantiles come from a log-bucketed histogram and
	// overstate by at most 1/32.
	LatencyP50Ms float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99Ms float64 `json:"latency_p99_ms,omitempty"`
	LatencyMaxMs float64 `json:"latency_max_ms,omitempty"`
	// LatencyResolutionMs is the mean wall time the generator took to emit
	// one millisecond of event time (rate/1000 events; more for runs over
	// 2^20 ms of event time): inputs are timed per millisecond of event
	// time, by its first event, so a per-event latency can overstate by
	// up to about this much. A lower rate gives a finer resolution.
	LatencyResolutionMs float64 `json:"latency_resolution_ms,omitempty"`

	// Checkpoints is the number of checkpoints that completed during the
	// run; CheckpointSyncMeanMs and CheckpointSyncMaxMs the mean and the
	// longest, over them, of the longest synchronous part of a subtask's
	// snapshot (the time the checkpoint stopped the task: from the
	// snapshot's start to the barrier going downstream).
	Checkpoints          int     `json:"checkpoints,omitempty"`
	CheckpointSyncMeanMs float64 `json:"checkpoint_sync_mean_ms,omitempty"`
	CheckpointSyncMaxMs  float64 `json:"checkpoint_sync_max_ms,omitempty"`
}

// Progress counts the events a running benchmark's generator has emitted:
// Bench adds to it while the job runs (in batches of up to 1024 events per
// source subtask, every event at the end), any goroutine may read it.
// The zero value is ready to use; use one per Bench call.
type Progress struct{ events atomic.Int64 }

// Events returns the number of events generated so far.
func (p *Progress) Events() int64 { return p.events.Load() }

// Bench runs q over cfg.Events generated events with opts and measures it.
// It counts generated events into progress (nil: a private counter) and
// measures the latency of every row (Emission, BenchResult.LatencyP99Ms).
func Bench(ctx context.Context, q Query, cfg Config, opts weir.Options, progress *Progress) (BenchResult, error) {
	if cfg.Events <= 0 {
		return BenchResult{}, fmt.Errorf("%w: a benchmark needs a positive event count", ErrInvalidConfig)
	}
	if progress == nil {
		progress = new(Progress)
	}
	var cs ckptStats
	env := weir.NewEnvironment(cs.hook(opts))
	em := newEmissions(cfg, time.Now(), &progress.events)
	src, err := newSource(cfg, em)
	if err != nil {
		return BenchResult{}, err
	}
	s := weir.FromSource(env, src, Watermarks(), "Nexmark")
	var lat *latencies
	if q.Emits() != OnProcessingTime {
		lat = newLatencies(em, q.Emits())
	}
	res := q.attach(s, false, lat)
	m, err := bench.Measure(cfg.Events, func() error { return env.Execute(ctx) })
	if err != nil {
		return BenchResult{}, fmt.Errorf("nexmark: %s: %w", q.Name, err)
	}
	r := BenchResult{
		Query: q.Name, Events: cfg.Events, Parallelism: max(opts.Parallelism, 1), State: cmp.Or(opts.StateBackend, weir.StateHeap),
		WallSeconds: m.Wall.Seconds(), CPUSeconds: m.CPU.Seconds(),
		EventsPerCoreSecond: m.PerCoreSecond(), Rows: res.Rows(), PeakRSSBytes: peakRSS(),
	}
	if peak := m.PeakAnonRSS(); peak >= 0 {
		r.PeakRSSBytes = peak
	}
	if m.Wall > 0 {
		r.EventsPerSecond = float64(cfg.Events) / m.Wall.Seconds()
	}
	if lat != nil {
		if h := lat.summary(); h.n > 0 {
			ms := func(ns int64) float64 { return float64(ns) / 1e6 }
			r.LatencyFrom, r.LatencyRows = q.Emits().String(), h.n
			r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs = ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(h.max)
			r.LatencyResolutionMs = ms(int64(em.resolution()))
		}
	}
	cs.fill(&r)
	return r, nil
}

// peakRSS returns the process's peak resident set size in bytes (0 if
// unknown). Linux reports ru_maxrss in kilobytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}
