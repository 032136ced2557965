package sql

import (
	"fmt"

	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// miniBatchOf returns the mini-batch of the group aggregations that cfg
// plans (Flink's table.exec.mini-batch.enabled, allow-latency and size):
// off unless enabled, and off in batch mode (Flink's batch planner has no
// mini-batch). It checks the values as Flink does: with mini-batch
// enabled, allow-latency must be at least 1 ms (Flink's
// MiniBatchIntervalInferRule setup, for every streaming query) and size
// > 0 (Flink's mini-batch trigger, for a plan with an aggregation: the
// caller checks that with needSize).
func miniBatchOf(cfg *Config, needSize bool) (exec.MiniBatch, error) {
	if !cfg.Bool("table.exec.mini-batch.enabled") || cfg.Enum("execution.runtime-mode") == "batch" {
		return exec.MiniBatch{}, nil
	}
	lat := cfg.Duration("table.exec.mini-batch.allow-latency")
	if lat.Milliseconds() <= 0 {
		return exec.MiniBatch{}, fmt.Errorf("sql: MiniBatch Latency must be greater than 0 ms: 'table.exec.mini-batch.enabled' is true and 'table.exec.mini-batch.allow-latency' is '%s'",
			cfg.Get("table.exec.mini-batch.allow-latency"))
	}
	size := cfg.Int("table.exec.mini-batch.size")
	if needSize && size <= 0 {
		return exec.MiniBatch{}, fmt.Errorf("sql: 'table.exec.mini-batch.size' must be > 0 when 'table.exec.mini-batch.enabled' is true (it is %d)", size)
	}
	return exec.MiniBatch{Interval: lat, Size: int64(size)}, nil
}

// checkMiniBatch checks the mini-batch options of the job's plan.
func (j *Job) checkMiniBatch() error {
	agg := false
	var walk func(r plan.Rel)
	walk = func(r plan.Rel) {
		if _, ok := r.(*plan.Aggregate); ok {
			agg = true
		}
		if rk, ok := r.(*plan.Rank); ok && rk.Strategy == plan.Dedup {
			agg = true // Flink's deduplication checks the size too
		}
		if _, ok := r.(*plan.Join); ok {
			agg = true // and the mini-batch join's CountCoBundleTrigger
		}
		for _, in := range r.Inputs() {
			walk(in)
		}
	}
	for _, r := range j.roots() {
		walk(r)
	}
	_, err := miniBatchOf(j.cfg, agg)
	return err
}

// aggTwoPhase returns which group aggregations cfg plans in two phases
// (plan.TwoPhaseAggregate: table.optimizer.agg-phase-strategy, with
// mini-batch on in streaming mode).
func aggTwoPhase(cfg *Config) func(*plan.Aggregate) bool {
	mb := cfg.Bool("table.exec.mini-batch.enabled") && cfg.Enum("execution.runtime-mode") != "batch"
	strategy := cfg.Enum("table.optimizer.agg-phase-strategy")
	return func(a *plan.Aggregate) bool { return plan.TwoPhaseAggregate(a, strategy, mb) }
}

// windowTwoPhase returns which window aggregations cfg plans in two
// phases (plan.TwoPhaseWindowAggregate: table.optimizer.agg-phase-strategy,
// in streaming mode; no mini-batch needed, as in Flink).
func windowTwoPhase(cfg *Config) func(*plan.WindowAggregate) bool {
	batch := cfg.Enum("execution.runtime-mode") == "batch"
	strategy := cfg.Enum("table.optimizer.agg-phase-strategy")
	return func(w *plan.WindowAggregate) bool { return !batch && plan.TwoPhaseWindowAggregate(w, strategy) }
}
