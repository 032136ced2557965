package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// hasSQL reports whether a query is written in SQL (nexmark/sql).
func hasSQL(name string) bool { return slices.Contains(nexmark.SQLQueries(), name) }

// benchSQL runs a query's Flink SQL job (nexmark/sql/qN.sql, its sink a
// blackhole) over the same generated events as the DataStream version and
// measures it the same way (generator included, CPU time of the process).
//
// set holds key=value session options (--sql-set) set before the script.
func benchSQL(ctx context.Context, name string, cfg nexmark.Config, opts weir.Options, set []string) (nexmark.BenchResult, error) {
	dir, err := os.MkdirTemp("", "weir-nexmark-sql-")
	if err != nil {
		return nexmark.BenchResult{}, err
	}
	defer os.RemoveAll(dir)
	script, err := nexmark.SQLScriptIn(name, cfg.Events, cfg.Seed, cfg.Rate, dir)
	if err != nil {
		return nexmark.BenchResult{}, err
	}
	sess, err := nexmark.SQLSession(sql.SessionOptions{})
	if err != nil {
		return nexmark.BenchResult{}, err
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nexmark.BenchResult{}, fmt.Errorf("--sql-set %q: want key=value", kv)
		}
		if err := sess.Config().Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return nexmark.BenchResult{}, fmt.Errorf("--sql-set: %w", err)
		}
	}
	stmts, err := parser.Parse(script)
	if err != nil {
		return nexmark.BenchResult{}, fmt.Errorf("nexmark %s (sql): %w", name, err)
	}
	env := weir.NewEnvironment(opts)
	jobs := 0
	for _, st := range stmts {
		_, job, err := sess.Execute(st)
		if err != nil {
			return nexmark.BenchResult{}, fmt.Errorf("nexmark %s (sql): %w", name, err)
		}
		if job != nil {
			if err := job.Build(env, nil); err != nil {
				return nexmark.BenchResult{}, fmt.Errorf("nexmark %s (sql): %w", name, err)
			}
			jobs++
		}
	}
	if jobs != 1 {
		return nexmark.BenchResult{}, fmt.Errorf("nexmark %s (sql): the script has %d jobs, want 1", name, jobs)
	}
	m, err := bench.Measure(cfg.Events, func() error { return env.Execute(ctx) })
	if err != nil {
		return nexmark.BenchResult{}, fmt.Errorf("nexmark %s (sql): %w", name, err)
	}
	r := nexmark.BenchResult{
		Query: name + "-sql", Events: cfg.Events, Parallelism: max(opts.Parallelism, 1), State: opts.StateBackend,
		WallSeconds: m.Wall.Seconds(), CPUSeconds: m.CPU.Seconds(), EventsPerCoreSecond: m.PerCoreSecond(), Rows: -1,
		AllocsPerEvent: m.AllocsPerRecord(),
	}
	if peak := m.PeakAnonRSS(); peak >= 0 {
		r.PeakRSSBytes = peak
	}
	if m.Wall > 0 {
		r.EventsPerSecond = float64(cfg.Events) / m.Wall.Seconds()
	}
	return r, nil
}
