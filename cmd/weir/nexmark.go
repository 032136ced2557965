package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
)

// newNexmarkCmd returns `weir nexmark`: generate Nexmark events to files
// and run a query over them.
func newNexmarkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nexmark",
		Short: "Nexmark: generate events and run a query over them (benchmarks: weir bench nexmark)",
	}
	cmd.AddCommand(newNexmarkGenerateCmd(), newNexmarkRunCmd())
	return cmd
}

func queryNames() string {
	var names []string
	for _, q := range nexmark.Queries() {
		names = append(names, q.Name)
	}
	return strings.Join(names, ", ")
}

func newNexmarkGenerateCmd() *cobra.Command {
	var (
		events int64
		seed   uint64
		rate   float64
		base   int64
		out    string
	)
	cmd := &cobra.Command{
		Use:   "generate --events N --out DIR",
		Short: "Write generated events as person.jsonl, auction.jsonl and bid.jsonl",
		Long: `Writes events 0 to N-1 of the Nexmark generator (person:auction:bid =
1:3:46, the reference's hot ratios, in-flight auctions and active people) to
DIR, one JSON object per line with the reference's column names and
dateTime in RFC 3339 with milliseconds in UTC. The same seed, count and rate
give the same files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events <= 0 || out == "" {
				return fmt.Errorf("nexmark generate: --events must be positive and --out set")
			}
			cfg := nexmark.DefaultConfig(events, seed)
			cfg.Rate, cfg.BaseTime = rate, base
			c, err := nexmark.WriteFiles(out, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d persons, %d auctions, %d bids to %s\n", c.Persons, c.Auctions, c.Bids, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&events, "events", 0, "number of events")
	fl.Uint64Var(&seed, "seed", 0, "random seed")
	fl.Float64Var(&rate, "rate", 10000, "events per second of event time")
	fl.Int64Var(&base, "base-time", nexmark.DefaultBaseTime, "timestamp of the first event, milliseconds since the epoch")
	fl.StringVar(&out, "out", "", "output directory")
	return cmd
}

func newNexmarkRunCmd() *cobra.Command {
	var (
		query, input, output string
		parallelism          int
	)
	cmd := &cobra.Command{
		Use:   "run --query qN --input DIR --output FILE",
		Short: "Run one query as a bounded job over generated files",
		Long: `Reads the files of 'weir nexmark generate' from DIR, runs the query as a
bounded job with the reference's watermark (dateTime - 4 s) and writes its
final result rows as JSON lines with the reference SELECT's column names,
sorted; for queries that update, the table after all updates.

Queries: ` + queryNames(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" {
				return fmt.Errorf("nexmark run: --query is required (one of: %s)", queryNames())
			}
			q, ok := nexmark.Lookup(query)
			if !ok {
				return fmt.Errorf("nexmark run: unknown query %q (have: %s)", query, queryNames())
			}
			if input == "" || output == "" || parallelism < 1 {
				return fmt.Errorf("nexmark run: --input and --output must be set, --parallelism positive")
			}
			events, err := nexmark.ReadFiles(input)
			if err != nil {
				return err
			}
			rows, err := nexmark.Run(cmd.Context(), q, events, weir.Options{Parallelism: parallelism})
			if err != nil {
				return err
			}
			if err := nexmark.WriteRows(output, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s): %d events, %d rows to %s\n", q.Name, q.Mode, len(events), len(rows), output)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&query, "query", "", "query name (q0, q1, ...)")
	fl.StringVar(&input, "input", "", "directory written by generate")
	fl.StringVar(&output, "output", "", "file of result rows (JSON lines)")
	fl.IntVar(&parallelism, "parallelism", 1, "job parallelism")
	return cmd
}
