package sql_test

import (
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
)

// optionsOf runs script (SETs, DDL, one INSERT) and returns its job's
// options.
func optionsOf(t *testing.T, script string) weir.Options {
	t.Helper()
	sess := sql.NewSession(sql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(script + `
CREATE TABLE s (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE d (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO d SELECT id FROM s;`)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	return jobs[0].Options()
}

func TestExecutionOptions(t *testing.T) {
	o := optionsOf(t, "")
	if o.Checkpoints.Interval != 0 || o.Checkpoints.Timeout != 10*time.Minute || o.Checkpoints.Retained != 1 ||
		o.Checkpoints.AtLeastOnce || o.Restore != "" || o.AllowNonRestoredState || o.Restart != nil || o.RepeatedFailureLimit != 0 {
		t.Errorf("defaults: %+v", o)
	}
	o = optionsOf(t, `
SET 'execution.checkpointing.interval' = '5 s';
SET 'execution.checkpointing.dir' = 'file:///tmp/chk';
SET 'execution.checkpointing.mode' = 'at_least_once';
SET 'execution.checkpointing.timeout' = '2 min';
SET 'execution.checkpointing.min-pause' = '500 ms';
SET 'execution.checkpointing.tolerable-failed-checkpoints' = '3';
SET 'execution.checkpointing.num-retained' = '4';
SET 'execution.state-recovery.path' = '/sp/savepoint-1';
SET 'execution.state-recovery.ignore-unclaimed-state' = 'true';
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '3';
SET 'restart-strategy.fixed-delay.delay' = '10 s';`)
	c := o.Checkpoints
	if c.Interval != 5*time.Second || c.Dir != "file:///tmp/chk" || !c.AtLeastOnce || c.Timeout != 2*time.Minute ||
		c.MinPause != 500*time.Millisecond || c.TolerableFailures != 3 || c.Retained != 4 {
		t.Errorf("checkpoints: %+v", c)
	}
	if o.Restore != "/sp/savepoint-1" || !o.AllowNonRestoredState {
		t.Errorf("restore %q, allow non-restored %v", o.Restore, o.AllowNonRestoredState)
	}
	if r, ok := o.Restart.(*weir.FixedDelayRestart); !ok || r.Attempts != 3 || r.Delay != 10*time.Second {
		t.Errorf("restart %#v", o.Restart)
	}
	if o.RepeatedFailureLimit >= 0 {
		t.Errorf("RepeatedFailureLimit %d with restart-strategy.type set: Weir's stop after repeated failures would cut Flink's attempts", o.RepeatedFailureLimit)
	}
	// Flink's older keys, when the newer ones are not set.
	o = optionsOf(t, `
SET 'execution.checkpointing.interval' = '1 s';
SET 'state.checkpoints.dir' = '/old/chk';
SET 'state.checkpoints.num-retained' = '2';
SET 'execution.savepoint.path' = '/old/sp';
SET 'execution.savepoint.ignore-unclaimed-state' = 'true';
SET 'restart-strategy.type' = 'exponentialdelay';
SET 'restart-strategy.exponential-delay.backoff-multiplier' = '3';
SET 'restart-strategy.exponential-delay.attempts-before-reset-backoff' = '5';`)
	if o.Checkpoints.Dir != "/old/chk" || o.Checkpoints.Retained != 2 || o.Restore != "/old/sp" || !o.AllowNonRestoredState {
		t.Errorf("older keys: %+v", o)
	}
	e, ok := o.Restart.(*weir.ExponentialDelayRestart)
	if !ok || e.Multiplier != 3 || e.MaxAttempts != 5 || e.Initial != time.Second || e.Max != time.Minute ||
		e.Jitter != 0.1 || e.ResetAfter != time.Hour {
		t.Errorf("exponential delay %#v", o.Restart)
	}
	o = optionsOf(t, `SET 'restart-strategy.type' = 'failure-rate';
SET 'restart-strategy.failure-rate.max-failures-per-interval' = '2';`)
	if f, ok := o.Restart.(*weir.FailureRateRestart); !ok || f.MaxFailures != 2 || f.Interval != time.Minute || f.Delay != time.Second {
		t.Errorf("failure rate %#v", o.Restart)
	}
	o = optionsOf(t, `SET 'restart-strategy.type' = 'none';`)
	if _, ok := o.Restart.(weir.NoRestart); !ok {
		t.Errorf("none: %#v", o.Restart)
	}
	o = optionsOf(t, `SET 'restart-strategy.type' = 'exponential-delay';`)
	if e, ok := o.Restart.(*weir.ExponentialDelayRestart); !ok || e.MaxAttempts != 0 || e.Multiplier != 1.5 {
		t.Errorf("exponential delay defaults %#v", o.Restart)
	}
}

func TestExecutionOptionsRefused(t *testing.T) {
	for _, c := range []struct{ set, want string }{
		{`SET 'execution.checkpointing.max-concurrent-checkpoints' = '2'`, "only 1 is supported"},
		{`SET 'execution.checkpointing.mode' = 'twice'`, "is not one of EXACTLY_ONCE, AT_LEAST_ONCE"},
		{`SET 'execution.checkpointing.timeout' = '0 s'`, "must be positive"},
		{`SET 'execution.checkpointing.num-retained' = '0'`, "must be at least 1"},
		{`SET 'restart-strategy.type' = 'sometimes'`, `"sometimes" is not one of`},
		{`SET 'restart-strategy.fixed-delay.attempts' = '-1'`, "must not be negative"},
		{`SET 'restart-strategy.exponential-delay.backoff-multiplier' = '0.5'`, "must be at least 1"},
		{`SET 'restart-strategy.exponential-delay.jitter-factor' = 'x'`, "is not a number"},
		{`SET 'restart-strategy.exponential-delay.jitter-factor' = '2'`, "between 0 and 1"},
	} {
		sess := sql.NewSession(sql.SessionOptions{})
		_, _, err := sess.ExecuteScript(c.set + ";")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.set, err, c.want)
		}
	}
}

// TestExecutionPathsCheckedAtSet: a file URI the job could not use (one
// naming another host) is refused at SET with the key's name, as the other
// execution keys are, not when a job starts with an error naming
// Options.Checkpoints.Dir.
func TestExecutionPathsCheckedAtSet(t *testing.T) {
	for _, key := range []string{"execution.checkpointing.dir", "state.checkpoints.dir",
		"execution.checkpointing.savepoint-dir", "state.savepoints.dir",
		"execution.state-recovery.path", "execution.savepoint.path"} {
		sess := sql.NewSession(sql.SessionOptions{})
		_, _, err := sess.ExecuteScript("SET '" + key + "' = 'file://otherhost/x';")
		if err == nil || !strings.Contains(err.Error(), `"`+key+`"`) || !strings.Contains(err.Error(), "otherhost") {
			t.Errorf("%s = file://otherhost/x: %v, want an error naming the key and the host", key, err)
		}
		for _, ok := range []string{"file:///tmp/chk", "file:/tmp/chk", "file://localhost/tmp/chk", "/tmp/chk", "s3://bucket/chk"} {
			sess := sql.NewSession(sql.SessionOptions{})
			if _, _, err := sess.ExecuteScript("SET '" + key + "' = '" + ok + "';"); err != nil {
				t.Errorf("%s = %s: %v", key, ok, err)
			}
		}
	}
}

// TestEnumErrorListsValues: the error for a bad enum value lists the
// accepted values without the empty "not set" default.
func TestEnumErrorListsValues(t *testing.T) {
	sess := sql.NewSession(sql.SessionOptions{})
	_, _, err := sess.ExecuteScript("SET 'restart-strategy.type' = 'bogus';")
	if err == nil || strings.Contains(err.Error(), "one of , ") || !strings.Contains(err.Error(), "is not one of none, ") {
		t.Errorf("got %v", err)
	}
}
