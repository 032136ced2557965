package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/fileuri"
)

// Flink's execution keys a session's jobs run with: checkpointing
// (execution.checkpointing.*), the savepoint to start from
// (execution.state-recovery.path), and the restart strategy
// (restart-strategy.*). Job.Options turns them into weir.Options, which
// `weir sql` and the server both start jobs with. Flink's older keys
// (state.checkpoints.dir, execution.savepoint.path, ...) are read when
// the newer one is not set.

// checkExecutionValue refuses, at SET, values Weir cannot honour.
func checkExecutionValue(key, value string) error {
	v := strings.TrimSpace(value)
	switch key {
	case "execution.checkpointing.dir", "state.checkpoints.dir", "execution.checkpointing.savepoint-dir",
		"state.savepoints.dir", "execution.state-recovery.path", "execution.savepoint.path":
		// A file URI the job could not use (another host, no path) is
		// refused now, as Flink checks a path's URI when it is parsed.
		if _, err := fileuri.Path(v); err != nil {
			return fmt.Errorf("sql: option %q: %w", key, err)
		}
	case "execution.checkpointing.max-concurrent-checkpoints":
		if n, _ := strconv.Atoi(v); n != 1 {
			return fmt.Errorf("sql: option %q: %q: Weir takes one checkpoint at a time; only 1 is supported", key, value)
		}
	case "execution.checkpointing.tolerable-failed-checkpoints", "restart-strategy.fixed-delay.attempts",
		"restart-strategy.failure-rate.max-failures-per-interval":
		if n, _ := strconv.Atoi(v); n < 0 {
			return fmt.Errorf("sql: option %q: %q must not be negative", key, value)
		}
	case "execution.checkpointing.num-retained", "state.checkpoints.num-retained",
		"restart-strategy.exponential-delay.attempts-before-reset-backoff":
		if n, _ := strconv.Atoi(v); n < 1 {
			return fmt.Errorf("sql: option %q: %q must be at least 1", key, value)
		}
	case "execution.checkpointing.timeout", "restart-strategy.exponential-delay.initial-backoff",
		"restart-strategy.exponential-delay.max-backoff", "restart-strategy.failure-rate.failure-rate-interval",
		"restart-strategy.exponential-delay.reset-backoff-threshold":
		if d, err := ParseDuration(v); err == nil && d <= 0 {
			return fmt.Errorf("sql: option %q: %q must be positive", key, value)
		}
	case "execution.checkpointing.min-pause", "restart-strategy.fixed-delay.delay", "restart-strategy.failure-rate.delay":
		if d, err := ParseDuration(v); err == nil && d < 0 {
			return fmt.Errorf("sql: option %q: %q must not be negative", key, value)
		}
	case "restart-strategy.exponential-delay.backoff-multiplier":
		if f, err := strconv.ParseFloat(v, 64); err == nil && !(f >= 1) {
			return fmt.Errorf("sql: option %q: %q must be at least 1", key, value)
		}
	case "restart-strategy.exponential-delay.jitter-factor":
		if f, err := strconv.ParseFloat(v, 64); err == nil && !(f >= 0 && f <= 1) {
			return fmt.Errorf("sql: option %q: %q must be between 0 and 1", key, value)
		}
	}
	return nil
}

// newer returns the value of key, or of its older spelling when key was
// not set and old was.
func (c *Config) newer(key, old string) string {
	if !c.IsSet(key) && c.IsSet(old) {
		return c.Get(old)
	}
	return c.Get(key)
}

// executionOptions sets o's checkpoint tuning, restore and restart
// strategy from the session's execution keys.
func executionOptions(c *Config, o *weir.Options) {
	// Set whatever the interval: they apply once checkpointing is on
	// (the caller may turn it on).
	o.Checkpoints.Timeout = c.Duration("execution.checkpointing.timeout")
	o.Checkpoints.MinPause = c.Duration("execution.checkpointing.min-pause")
	o.Checkpoints.TolerableFailures = c.Int("execution.checkpointing.tolerable-failed-checkpoints")
	n, _ := strconv.Atoi(strings.TrimSpace(c.newer("execution.checkpointing.num-retained", "state.checkpoints.num-retained")))
	o.Checkpoints.Retained = max(n, 1)
	o.Checkpoints.AtLeastOnce = c.Enum("execution.checkpointing.mode") == "AT_LEAST_ONCE"
	o.Restore = strings.TrimSpace(c.newer("execution.state-recovery.path", "execution.savepoint.path"))
	o.AllowNonRestoredState = c.Bool("execution.state-recovery.ignore-unclaimed-state") ||
		c.Bool("execution.savepoint.ignore-unclaimed-state")
	o.Restart = RestartStrategy(c)
	if o.Restart != nil {
		// A strategy the job asks for is applied as Flink applies it:
		// fixed-delay's attempts are restarts, whatever the error.
		// Weir's own stop after repeated identical failures guards only
		// the default strategy.
		o.RepeatedFailureLimit = -1
	}
}

// RestartStrategy returns the restart strategy restart-strategy.type asks
// for, with Flink's defaults for its options; nil when the type is not
// set (the caller's default applies).
func RestartStrategy(c *Config) weir.RestartStrategy {
	switch c.Enum("restart-strategy.type") {
	case "none", "off", "disable":
		return weir.NoRestart{}
	case "fixed-delay", "fixeddelay":
		return &weir.FixedDelayRestart{Attempts: c.Int("restart-strategy.fixed-delay.attempts"),
			Delay: c.Duration("restart-strategy.fixed-delay.delay")}
	case "failure-rate", "failurerate":
		return &weir.FailureRateRestart{MaxFailures: c.Int("restart-strategy.failure-rate.max-failures-per-interval"),
			Interval: c.Duration("restart-strategy.failure-rate.failure-rate-interval"),
			Delay:    c.Duration("restart-strategy.failure-rate.delay")}
	case "exponential-delay", "exponentialdelay":
		attempts := c.Int("restart-strategy.exponential-delay.attempts-before-reset-backoff")
		if attempts >= math.MaxInt32 {
			attempts = 0 // Flink's "infinite"
		}
		return &weir.ExponentialDelayRestart{
			Initial:     c.Duration("restart-strategy.exponential-delay.initial-backoff"),
			Max:         c.Duration("restart-strategy.exponential-delay.max-backoff"),
			Multiplier:  c.Float("restart-strategy.exponential-delay.backoff-multiplier"),
			ResetAfter:  c.Duration("restart-strategy.exponential-delay.reset-backoff-threshold"),
			Jitter:      c.Float("restart-strategy.exponential-delay.jitter-factor"),
			MaxAttempts: attempts,
			Seed:        uint64(time.Now().UnixNano()),
		}
	}
	return nil
}
