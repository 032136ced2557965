package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
)

type benchFlags struct {
	records     int64
	count       int
	parallelism int
	noChaining  bool
	batchSize   int
	wmInterval  time.Duration
	cpuProfile  string
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	names := []string{"all", matchScenario}
	for _, s := range bench.Scenarios() {
		names = append(names, s.Name)
	}
	cmd := &cobra.Command{
		Use:   "bench [" + strings.Join(names, "|") + "]...",
		Short: "Measure throughput against hand-written Go loops",
		Long: `Runs each scenario twice in this process, as a Weir pipeline and as a
hand-written Go loop doing the same work, checks that both computed the same
result, and prints records per second of CPU time (user+system, from
getrusage), allocations per record and the ratio engine/loop.

Scenarios:
` + scenarioList() + "  " + matchScenario + "  " + matchTitle + " (not in all)\n",
		ValidArgs: names,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&f.records, "records", 0, "input records per scenario (0: the scenario's default)")
	fl.IntVar(&f.count, "count", 1, "runs per scenario")
	fl.IntVar(&f.parallelism, "parallelism", 1, "engine parallelism")
	fl.BoolVar(&f.noChaining, "no-chaining", false, "run every operator in its own subtasks")
	fl.IntVar(&f.batchSize, "batch-size", 0, "records per exchange batch (0: the engine's default)")
	fl.DurationVar(&f.wmInterval, "watermark-interval", bench.WatermarkInterval,
		"sources' periodic watermark interval (Flink's and the engine's default is 200ms; see docs/benchmarks.md)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the match mode's SQL runs to this file (and of its CEP runs to this file with .cep appended)")
	return cmd
}

func scenarioList() string {
	var b strings.Builder
	for _, s := range bench.Scenarios() {
		fmt.Fprintf(&b, "  %s  %s\n", s.Name, s.Title)
	}
	return b.String()
}

func runBench(cmd *cobra.Command, f benchFlags, args []string) error {
	if f.records < 0 || f.batchSize < 0 || f.count < 1 || f.parallelism < 1 {
		return fmt.Errorf("bench: --records and --batch-size must not be negative, --count and --parallelism must be positive")
	}
	if len(args) == 0 {
		args = []string{"all"}
	}
	var run []bench.Scenario
	matchRuns := 0
	for _, a := range args {
		if a == matchScenario {
			matchRuns++
			continue
		}
		if a == "all" {
			run = bench.Scenarios()
			break
		}
		s, ok := bench.Lookup(a)
		if !ok {
			return fmt.Errorf("bench: unknown scenario %q (have: %s)", a, strings.TrimSpace(scenarioNames()))
		}
		run = append(run, s)
	}
	if f.wmInterval <= 0 {
		return fmt.Errorf("bench: --watermark-interval must be positive")
	}
	opts := weir.Options{Parallelism: f.parallelism, DisableChaining: f.noChaining, BatchSize: f.batchSize,
		AutoWatermarkInterval: f.wmInterval}
	out := cmd.OutOrStdout()
	writeHeader(out, f)
	var results []bench.Result
	for _, s := range run {
		n := f.records
		if n == 0 {
			n = s.Records
		}
		for range f.count {
			r, err := bench.Run(cmd.Context(), s, n, opts)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	if len(run) > 0 {
		if err := writeTable(out, results); err != nil {
			return err
		}
	}
	var mrs []matchResult
	for range matchRuns * f.count {
		n := f.records
		if n == 0 {
			n = matchDefaultRecords
		}
		r, err := runMatchBench(cmd.Context(), n, opts, f.cpuProfile)
		if err != nil {
			return err
		}
		mrs = append(mrs, r)
	}
	if len(mrs) > 0 {
		return writeMatchTable(out, mrs)
	}
	return nil
}

func scenarioNames() string {
	var b strings.Builder
	for _, s := range bench.Scenarios() {
		b.WriteString(s.Name + " ")
	}
	return b.String()
}

func writeHeader(w io.Writer, f benchFlags) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "# weir %s, %s %s/%s, GOMAXPROCS=%d, NumCPU=%d, host %s\n",
		version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), host)
	fmt.Fprintf(w, "# command: weir %s\n", strings.Join(os.Args[1:], " "))
	batch := "default"
	if f.batchSize > 0 {
		batch = fmt.Sprint(f.batchSize)
	}
	fmt.Fprintf(w, "# parallelism=%d chaining=%v batch-size=%s watermark-interval=%s; throughput is records per second of process CPU time (user+sys)\n",
		f.parallelism, !f.noChaining, batch, f.wmInterval)
	fmt.Fprintln(w, "# +RSS: peak resident set during the run minus the resident set at its start (after a GC returned free memory): the run's own memory")
}

func writeTable(w io.Writer, rs []bench.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trecords\tengine rec/s/core\tloop rec/s/core\tratio\tengine allocs/rec\tloop allocs/rec\tengine cpu\tengine wall\tengine +RSS MiB\tloop +RSS MiB\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t\n", r.Scenario.Name, r.Engine.Records,
			human(r.Engine.PerCoreSecond()), human(r.Loop.PerCoreSecond()), r.Ratio(),
			r.Engine.AllocsPerRecord(), r.Loop.AllocsPerRecord(),
			r.Engine.CPU.Round(1e6), r.Engine.Wall.Round(1e6), mib(r.Engine.PeakRSS), mib(r.Loop.PeakRSS))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Scenario.Name] {
			continue
		}
		seen[r.Scenario.Name] = true
		if _, err := fmt.Fprintf(w, "# %s: %s\n", r.Scenario.Name, r.Scenario.Title); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	return nil
}

// mib formats a byte count in MiB ("-" if unknown).
func mib(b int64) string {
	if b < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

// human formats a rate as 12.3M.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
