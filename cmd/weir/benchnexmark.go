package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
)

// withBenchNexmark adds `nexmark` under the bench command.
func withBenchNexmark(bench *cobra.Command) *cobra.Command {
	bench.AddCommand(newBenchNexmarkCmd())
	return bench
}

func newBenchNexmarkCmd() *cobra.Command {
	var (
		query       string
		events      int64
		parallelism int
		rate        float64
		seed        uint64
		ckpt        time.Duration
		ckptDir     string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "nexmark --query qN|all --events N --parallelism P",
		Short: "Measure Nexmark queries, generator included",
		Long: `Runs each query as a bounded job over N generated events (event time at
--rate events per second, as the reference's TPS) and prints events, wall
and CPU seconds, events per second, events per second per CPU core (process
user+system time, generator included, as the nexmark project counts cores),
output rows (updates included) and peak RSS (getrusage maxrss, the process's
peak so far).

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
			opts := weir.Options{Parallelism: parallelism}
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
			var results []nexmark.BenchResult
			for _, q := range qs {
				r, err := nexmark.Bench(cmd.Context(), q, cfg, opts)
				if err != nil {
					return err
				}
				results = append(results, r)
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
			fmt.Fprintf(out, "# weir %s, %s %s/%s, GOMAXPROCS=%d; parallelism=%d, events=%d, rate=%.0f/s, checkpoints=%v\n",
				version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), parallelism, events, rate, ckpt)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "query\tevents\twall s\tcpu s\tevents/s\tevents/s/core\trows\tpeak RSS MB\t")
			for _, r := range results {
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%d\t%.0f\t\n", r.Query, r.Events, r.WallSeconds, r.CPUSeconds,
					r.EventsPerSecond, r.EventsPerCoreSecond, r.Rows, float64(r.PeakRSSBytes)/(1<<20))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("bench nexmark: %w", err)
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
	return cmd
}
