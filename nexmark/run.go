package nexmark

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"syscall"

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
	Query       string  `json:"query"`
	Events      int64   `json:"events"`
	Parallelism int     `json:"parallelism"`
	WallSeconds float64 `json:"wall_s"`
	CPUSeconds  float64 `json:"cpu_s"`
	// EventsPerSecond is events per second of wall time.
	EventsPerSecond float64 `json:"events_per_s"`
	// EventsPerCoreSecond is events per second of process CPU time (user
	// + system): the reference's throughput per core.
	EventsPerCoreSecond float64 `json:"events_per_core_s"`
	// Rows is the number of rows the query emitted, updates included.
	Rows int64 `json:"rows"`
	// PeakRSSBytes is the process's peak resident set size so far
	// (getrusage maxrss): with several queries in one process, the
	// largest of them and the ones before.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// Bench runs q over cfg.Events generated events with opts and measures it.
func Bench(ctx context.Context, q Query, cfg Config, opts weir.Options) (BenchResult, error) {
	if cfg.Events <= 0 {
		return BenchResult{}, fmt.Errorf("%w: a benchmark needs a positive event count", ErrInvalidConfig)
	}
	env := weir.NewEnvironment(opts)
	s, err := Events(env, cfg)
	if err != nil {
		return BenchResult{}, err
	}
	res := q.Attach(s, false)
	m, err := bench.Measure(cfg.Events, func() error { return env.Execute(ctx) })
	if err != nil {
		return BenchResult{}, fmt.Errorf("nexmark: %s: %w", q.Name, err)
	}
	r := BenchResult{
		Query: q.Name, Events: cfg.Events, Parallelism: max(opts.Parallelism, 1),
		WallSeconds: m.Wall.Seconds(), CPUSeconds: m.CPU.Seconds(),
		EventsPerCoreSecond: m.PerCoreSecond(), Rows: res.Rows(), PeakRSSBytes: peakRSS(),
	}
	if m.Wall > 0 {
		r.EventsPerSecond = float64(cfg.Events) / m.Wall.Seconds()
	}
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
