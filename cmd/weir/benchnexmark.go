package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/statebackend/pebble"
)

// withBenchNexmark adds `nexmark` under the bench command.
func withBenchNexmark(bench *cobra.Command) *cobra.Command {
	bench.AddCommand(newBenchNexmarkCmd())
	return bench
}

func newBenchNexmarkCmd() *cobra.Command {
	var (
		query        string
		events       int64
		parallelism  int
		rate         float64
		seed         uint64
		ckpt         time.Duration
		ckptDir      string
		stateBackend string
		stateDir     string
		asJSON       bool
		withSQL      bool
		sqlSet       []string
	)
	cmd := &cobra.Command{
		Use:   "nexmark --query qN|all --events N --parallelism P",
		Short: "Measure Nexmark queries, generator included",
		Long: `Runs each query as a bounded job over N generated events (event time at
--rate events per second, as the reference's TPS) and prints events, wall
and CPU seconds, events per second, events per second per CPU core (process
user+system time, generator included, as the nexmark project counts cores),
output rows (updates included), row latency p50/p99 and peak RSS (the
query's own: the kernel's peak mark is reset before each query on Linux, and
the pages of the weir executable mapped at the start are left out: their
count depends on the page cache, up to 45 MB between two copies of one binary).

Latency is measured from the generator's emission of the input that let a
row out to the sink's receipt of the row, into a log-bucketed histogram
(quantiles overstate by at most 1/32), for every 8th row of per-event queries
and every row of windowed ones. Queries that emit per event
(all but q5, q7, q8, q11, q12) are measured from the row's newest input.
Windowed queries (q5, q7, q8, q11) emit when the watermark passes a window's
end T: they are measured from the emission of the first input with
timestamp T + 4 s, the one whose watermark (timestamp - 4 s) closes the
window; so the declared 4 s of out-of-orderness is left out but watermark
propagation and the window's firing are in. q12 uses processing-time windows:
no latency. Inputs are timed per millisecond of event time (by its first
event): the resolution is the time the generator takes for --rate/1000
events; JSON gives it as latency_resolution_ms.

On a terminal, a line on stderr shows the running query's progress (events
generated of the total, events/s, elapsed time); not with --json or when
stderr is not a terminal.

Queries: ` + queryNames(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events <= 0 || parallelism < 1 {
				return fmt.Errorf("bench nexmark: --events and --parallelism must be positive")
			}
			var qs []nexmark.Query
			for _, name := range strings.Split(query, ",") {
				if name == "all" {
					qs = nexmark.Queries()
					break
				}
				q, ok := nexmark.Lookup(name)
				if !ok {
					return fmt.Errorf("bench nexmark: unknown query %q (have: all, %s)", name, queryNames())
				}
				qs = append(qs, q)
			}
			cfg := nexmark.DefaultConfig(events, seed)
			cfg.Rate = rate
			switch stateBackend {
			case weir.StateHeap, weir.StatePebble:
			default:
				return fmt.Errorf("bench nexmark: --state %q: want heap or pebble", stateBackend)
			}
			opts := weir.Options{Parallelism: parallelism, StateBackend: stateBackend, Pebble: pebble.New(), StateDir: stateDir}
			if ckpt > 0 {
				dir := ckptDir
				if dir == "" {
					d, err := os.MkdirTemp("", "weir-nexmark-ckpt-")
					if err != nil {
						return fmt.Errorf("bench nexmark: %w", err)
					}
					defer os.RemoveAll(d)
					dir = d
				}
				opts.Checkpoints = weir.CheckpointOptions{Interval: ckpt, Dir: dir}
			}
			out := cmd.OutOrStdout()
			bar := !asJSON && isTerminal(cmd.ErrOrStderr())
			var results []nexmark.BenchResult
			for _, q := range qs {
				var p nexmark.Progress
				var r nexmark.BenchResult
				run := func() error {
					var err error
					r, err = nexmark.Bench(cmd.Context(), q, cfg, opts, &p)
					return err
				}
				var err error
				if bar {
					err = withProgress(cmd.ErrOrStderr(), q.Name, events, &p, progressInterval, run)
				} else {
					err = run()
				}
				if err != nil {
					return err
				}
				results = append(results, r)
				if withSQL && hasSQL(q.Name) {
					sr, err := benchSQL(cmd.Context(), q.Name, cfg, opts, sqlSet)
					if err != nil {
						return err
					}
					if r.EventsPerCoreSecond > 0 {
						sr.SQLRatio = sr.EventsPerCoreSecond / r.EventsPerCoreSecond
					}
					results = append(results, sr)
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				for _, r := range results {
					if err := enc.Encode(r); err != nil {
						return fmt.Errorf("bench nexmark: %w", err)
					}
				}
				return nil
			}
			fmt.Fprintf(out, "# weir %s, %s %s/%s, GOMAXPROCS=%d; parallelism=%d, events=%d, rate=%.0f/s, checkpoints=%v, state=%s\n",
				version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), parallelism, events, rate, ckpt, stateBackend)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(out, "# latency: from the row's newest input; w: from the input closing the window (its timestamp - 4 s passes the window's end)")
			if withSQL {
				fmt.Fprintln(out, "# qN-sql: the query's Flink SQL job (nexmark/sql/qN.sql) on the same events; sql/ds: its events/s/core over the DataStream version's")
			}
			header := "query\tevents\twall s\tcpu s\tevents/s\tevents/s/core\trows\tp50 ms\tp99 ms\tpeak RSS MB\t"
			if withSQL {
				header += "sql/ds\t"
			}
			fmt.Fprintln(tw, header)
			for _, r := range results {
				p50, p99 := "-", "-"
				if r.LatencyRows > 0 {
					w := ""
					if r.LatencyFrom == nexmark.OnWatermark.String() {
						w = "w"
					}
					p50, p99 = fmt.Sprintf("%.2f%s", r.LatencyP50Ms, w), fmt.Sprintf("%.2f%s", r.LatencyP99Ms, w)
				}
				rows, ratio := fmt.Sprint(r.Rows), "-"
				if r.Rows < 0 {
					rows = "-"
				}
				if r.SQLRatio > 0 {
					ratio = fmt.Sprintf("%.2f", r.SQLRatio)
				}
				line := fmt.Sprintf("%s\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%s\t%s\t%s\t%.0f\t", r.Query, r.Events, r.WallSeconds, r.CPUSeconds,
					r.EventsPerSecond, r.EventsPerCoreSecond, rows, p50, p99, float64(r.PeakRSSBytes)/(1<<20))
				if withSQL {
					line += ratio + "\t"
				}
				fmt.Fprintln(tw, line)
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("bench nexmark: %w", err)
			}
			for _, r := range results {
				if r.Checkpoints > 0 {
					fmt.Fprintf(out, "# %s: %d checkpoints, synchronous part (longest subtask) mean %.2f ms, max %.2f ms\n",
						r.Query, r.Checkpoints, r.CheckpointSyncMeanMs, r.CheckpointSyncMaxMs)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&query, "query", "all", "queries to run: all, or names separated by commas")
	fl.Int64Var(&events, "events", 10_000_000, "events per query")
	fl.IntVar(&parallelism, "parallelism", 1, "job parallelism")
	fl.Float64Var(&rate, "rate", 10_000_000, "events per second of event time (the reference's TPS)")
	fl.Uint64Var(&seed, "seed", 0, "random seed")
	fl.DurationVar(&ckpt, "checkpoint-interval", 0, "checkpoint interval (0: no checkpoints)")
	fl.StringVar(&ckptDir, "checkpoint-dir", "", "checkpoint directory (default: a temporary directory)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per query")
	fl.BoolVar(&withSQL, "sql", false, "also run each query's Flink SQL version (where written) on the same events, and print the ratio of events/s/core")
	fl.StringArrayVar(&sqlSet, "sql-set", nil, "with --sql: a session option key=value set before each SQL job (repeatable), e.g. table.exec.mini-batch.enabled=true")
	fl.StringVar(&stateBackend, "state", weir.StateHeap, "keyed state backend: heap or pebble")
	fl.StringVar(&stateDir, "state-dir", "", "local directory of the pebble backend (default: under the system's temporary directory)")
	return cmd
}

// progressInterval is how often the progress line is redrawn.
const progressInterval = 200 * time.Millisecond

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// withProgress runs run while a goroutine redraws one line on w every
// interval: the query, events generated (read from p) of total, events per
// second and elapsed time. It erases the line when run returns.
func withProgress(w io.Writer, query string, total int64, p *nexmark.Progress, interval time.Duration, run func() error) error {
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				drawProgress(w, query, p.Events(), total, time.Since(start))
			}
		}
	})
	err := run()
	close(stop)
	wg.Wait()
	fmt.Fprint(w, "\r\x1b[K")
	return err
}

// drawProgress redraws the progress line: carriage return, the line, and
// erase to its end.
func drawProgress(w io.Writer, query string, done, total int64, elapsed time.Duration) {
	pct, rate := 0.0, 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	fmt.Fprintf(w, "\r%s  %d / %d events (%.0f%%)  %.0f events/s  %.1fs\x1b[K", query, done, total, pct, rate, elapsed.Seconds())
}
