package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/connector/print"
	"github.com/weirstream/weir/demo/fraud"
	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/nexmark"
)

// newRunSumsCmd returns `weir run sums`: the exactly-once running-sum job
// of examples/exactly-once-files (package demo/sums).
func newRunSumsCmd(f *runFlags, signals signalFunc) *cobra.Command {
	var c sums.Config
	cmd := &cobra.Command{
		Use:   "sums --input DIR --output DIR [flags]",
		Short: "Per-key running sums from JSON-lines files to exactly-once part files",
		Long: `Reads JSON-lines records {"key","seq","value"} from the files in --input,
keeps a running sum per key in keyed state and writes {"key","seq","sum"}
through the exactly-once file sink: part files in --output become visible
(names without a leading '.') when the checkpoint after their records
completes, so with --checkpoint-dir and --restore latest the committed
output holds every input record exactly once whatever crashes happen.
Ends when every input file was read. Write an input directory with
'go run ./examples/exactly-once-files -generate 2000 -input DIR'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.Input == "" || c.Output == "" {
				return errors.New("run sums: --input and --output must be set")
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("run sums: %w", err)
			}
			for _, d := range []struct{ flag, dir string }{{"checkpoint", f.checkpointDir}, {"savepoint", f.savepointDir}, {"state", f.stateDir}} {
				if err := c.CheckOutsideInput(d.flag, d.dir); err != nil {
					return fmt.Errorf("run sums: --%s-dir: %w", d.flag, err)
				}
			}
			if err := checkRate(c.Rate); err != nil {
				return fmt.Errorf("run sums: %w", err)
			}
			return executeJob(cmd, f, signals, runJob{name: "sums", build: func(env *weir.Environment) error {
				sums.Build(env, c)
				return nil
			}})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Input, "input", "", "directory of JSON-lines input files")
	fl.StringVar(&c.Output, "output", "", "directory of the output part files")
	fl.Float64Var(&c.Rate, "rate", 0, "input lines read per second (0: as fast as possible)")
	fl.StringVar(&c.DeadLetters, "dead-letters", "", "directory for input lines that do not decode (JSON-lines dead letters naming file, line and field, committed exactly once like the output); empty: such a line fails the job")
	return cmd
}

// newRunDemoCmd returns `weir run demo`: the pipeline of `weir demo`.
func newRunDemoCmd(f *runFlags, signals signalFunc) *cobra.Command {
	var d demoFlags
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "The fraud detection demo of weir demo, with checkpoints and savepoints",
		Long: `Runs the pipeline of 'weir demo': alerts on stdout, a summary on stderr at
the end. With --checkpoint-dir the generator's position and the detectors'
state are checkpointed and --restore resumes them (at any parallelism);
alerts go to stdout, which is not transactional, so alerts emitted after the
restored checkpoint and before a crash are printed again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gen, err := d.generator()
			if err != nil {
				return fmt.Errorf("run demo: %w", err)
			}
			stats := fraud.NewStats()
			start := time.Now()
			return executeJob(cmd, f, signals, runJob{
				name: "demo",
				build: func(env *weir.Environment) error {
					alerts := fraud.Build(env, fraud.Config{Generator: gen}, stats)
					counted := weir.Map(alerts, func(a fraud.Alert) fraud.Alert { stats.Alerts.Add(1); return a }).Name("count-alerts")
					counted.SinkTo(print.New[fraud.Alert](cmd.OutOrStdout()).WithFormat(fraud.Alert.String)).Name("alerts").UID("alerts")
					return nil
				},
				done: func(error) {
					sum := fraud.Summary{Payments: stats.Payments.Load(), Alerts: stats.Alerts.Load(), TimedOut: stats.TimedOut.Load(),
						Elapsed: time.Since(start), Watermark: stats.Watermark.Load()}
					fmt.Fprintln(cmd.ErrOrStderr(), sum)
				},
			})
		},
	}
	d.addGeneratorFlags(cmd)
	return cmd
}

// newRunNexmarkCmd returns `weir run nexmark`: one Nexmark query over
// generated events.
func newRunNexmarkCmd(f *runFlags, signals signalFunc) *cobra.Command {
	var (
		query  string
		events int64
		seed   uint64
		rate   float64
	)
	cmd := &cobra.Command{
		Use:   "nexmark --query qN [flags]",
		Short: "A Nexmark query over generated events, with checkpoints and savepoints",
		Long: `Runs one Nexmark query over the generator's events (the reference's
configuration, watermark dateTime - 4 s) and prints the number of result
rows at the end; the rows themselves are counted, not written (for the
result table use 'weir nexmark run'). The generator stores its position in
checkpoints, so a restored job continues with the next event.

Queries: ` + queryNames(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, ok := nexmark.Lookup(query)
			if !ok {
				return fmt.Errorf("run nexmark: unknown query %q for --query (have: %s)", query, queryNames())
			}
			if events < 0 {
				return errors.New("run nexmark: --events must not be negative")
			}
			if err := checkRate(rate); err != nil {
				return fmt.Errorf("run nexmark: %w", err)
			}
			cfg := nexmark.DefaultConfig(events, seed)
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("run nexmark: %w", err)
			}
			var res *nexmark.Result
			var generated atomic.Int64
			return executeJob(cmd, f, signals, runJob{
				name: "nexmark",
				build: func(env *weir.Environment) error {
					src := datagen.NewFactory(func(int, *rand.Rand) func(int64) nexmark.Event {
						g, err := nexmark.NewGenerator(cfg)
						if err != nil {
							return nil // the source reports a missing function; cfg was validated
						}
						return func(n int64) nexmark.Event { generated.Add(1); return g.Event(n) }
					}, datagen.Options{Count: cfg.Events, Seed: cfg.Seed, Timestamp: cfg.Timestamp, RecordsPerSecond: rate})
					s := weir.FromSource(env, src, nexmark.Watermarks(), "Nexmark").UID("nexmark-events")
					res = q.Attach(s, false)
					return nil
				},
				done: func(error) {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s (%s): %d events generated in this run, %d rows\n", q.Name, q.Mode, generated.Load(), res.Rows())
				},
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&query, "query", "", "query name (q0, q1, ...)")
	fl.Int64Var(&events, "events", 0, "number of events (0: unbounded, until stopped)")
	fl.Uint64Var(&seed, "seed", 0, "random seed")
	fl.Float64Var(&rate, "rate", 10_000, "events generated per second of wall time (0: as fast as possible)")
	return cmd
}
