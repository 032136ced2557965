package sql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// OptionKind says how an option's value is read.
type OptionKind int

// Option value kinds.
const (
	KindString OptionKind = iota
	KindInt
	KindBool
	KindDuration
	KindEnum
	KindFloat
	// KindMemorySize is a positive number of bytes in Flink's MemorySize
	// syntax: "10 mb", "512kb", "1g", "4096" (see ParseMemorySize).
	KindMemorySize
)

// OptionDef describes one session option (SET 'key' = 'value').
type OptionDef struct {
	Key     string
	Kind    OptionKind
	Default string
	Enum    []string // allowed values of a KindEnum option (case-insensitive)
	Doc     string
}

// Options are the session options Weir's SQL layer reads, with Flink's
// keys and defaults. Options outside this list are accepted by SET only
// under prefixes Flink passes through (pipeline., execution., table.,
// state., parallelism.), and are reported by SET; but a key of the list with
// a value of the wrong shape is an error naming the key.
var optionDefs = []OptionDef{
	{Key: "execution.runtime-mode", Kind: KindEnum, Default: "streaming", Enum: []string{"streaming", "batch"},
		Doc: "streaming: unbounded changelog results; batch: bounded sources only, final results"},
	{Key: "parallelism.default", Kind: KindInt, Default: "1", Doc: "parallelism of the job's operators"},
	{Key: "pipeline.name", Kind: KindString, Default: "", Doc: "the job's name"},
	{Key: "execution.checkpointing.interval", Kind: KindDuration, Default: "0", Doc: "checkpoint interval; 0 disables periodic checkpoints"},
	{Key: "table.exec.state.ttl", Kind: KindDuration, Default: "0", Doc: "idle state retention of unbounded stateful operators; 0 keeps state forever"},
	{Key: "table.local-time-zone", Kind: KindString, Default: "UTC", Doc: "session time zone for TIMESTAMP_LTZ and temporal functions"},
	{Key: "table.exec.source.idle-timeout", Kind: KindDuration, Default: "0", Doc: "a source split without data for this long is idle for watermarks; 0 disables"},
	{Key: "table.exec.mini-batch.enabled", Kind: KindBool, Default: "false", Doc: "group aggregations handle their input in batches (needs allow-latency and size); streaming mode only"},
	{Key: "table.exec.mini-batch.allow-latency", Kind: KindDuration, Default: "0", Doc: "mini-batch: a batch is handled at the latest at the next multiple of this in processing time (>= 1 ms)"},
	{Key: "table.exec.deduplicate.mini-batch.compact-changes-enabled", Kind: KindBool, Default: "false", Doc: "mini-batch deduplication on event time emits only each key's net change of a batch (Flink's RowTimeMiniBatchLatestChangeDeduplicateFunction); off: every change"},
	{Key: "table.exec.mini-batch.size", Kind: KindInt, Default: "-1", Doc: "mini-batch: a batch is handled once it holds this many rows (> 0)"},
	{Key: "table.optimizer.reuse-sub-plan-enabled", Kind: KindBool, Default: "true", Doc: "equal sub-plans of a job run once"},
	{Key: "table.optimizer.reuse-source-enabled", Kind: KindBool, Default: "true", Doc: "equal source scans of a job run once (with reuse-sub-plan-enabled)"},
	{Key: "table.optimizer.reuse-projected-source-enabled", Kind: KindBool, Default: "true", Doc: "scans of one source table with different pushed-down projections read it once, with the union of the projections (Flink's ScanReuser; with reuse-source-enabled); false plans a source per scan, as Weir did before, e.g. to restore such a job's checkpoints"},
	{Key: "table.optimizer.source.predicate-pushdown-enabled", Kind: KindBool, Default: "true", Doc: "filters of a WHERE clause over a source scan go into the source when its connector evaluates them (jdbc: the scan query's WHERE clause); partition pruning of filesystem tables does not depend on it, as in Flink"},
	{Key: "table.optimizer.agg-phase-strategy", Kind: KindEnum, Default: "AUTO", Enum: []string{"AUTO", "ONE_PHASE", "TWO_PHASE"}, Doc: "group aggregation in two phases (LocalGroupAggregate, GlobalGroupAggregate) with mini-batch on: TWO_PHASE when every aggregate function can merge accumulators, AUTO too unless a call is DISTINCT (Weir's choice, measured), ONE_PHASE never; window TVF aggregations (LocalWindowAggregate, GlobalWindowAggregate; no mini-batch needed) on event time under AUTO and TWO_PHASE when no call is DISTINCT and every one can merge"},
	{Key: "table.optimizer.distinct-agg.split.enabled", Kind: KindBool, Default: "false", Doc: "split a group aggregation with DISTINCT calls into a PARTIAL aggregate by the keys and MOD(HASH_CODE(distinct argument), bucket-num) and a FINAL aggregate by the keys (Flink's SplitAggregateRule; COUNT, SUM, $SUM0, MIN, MAX, AVG over numbers only); streaming mode only"},
	{Key: "table.optimizer.distinct-agg.split.bucket-num", Kind: KindInt, Default: "1024", Doc: "split distinct aggregation: the number of buckets of a distinct argument (> 0)"},
	{Key: "table.exec.resource.external-buffer-memory", Kind: KindMemorySize, Default: "10 mb", Doc: "batch mode: the memory a subtask's OVER window may take for the partition it computes; a larger partition is sorted into a spill file in the job's local state directory and read back from it (an absolute budget, estimated from the rows' encoded size; Flink's is a weight hint for managed memory)"},
	{Key: "io.tmp.dirs", Kind: KindString, Default: "", Doc: "directories of temporary files (spilled OVER partitions of the batch mode), separated by ',', '|' or ':', subtasks taking them in turn; empty: the job's local state directory, removed with it"},
	{Key: "table.exec.rank.topn-cache-size", Kind: KindInt, Default: "10000", Doc: "rows of decoded tops each subtask of an append-only or updatable Top-N keeps in memory, over the partitions it saw last (state stays authoritative; at least one partition's top is kept)"},
	{Key: "table.exec.sink.upsert-materialize", Kind: KindEnum, Default: "AUTO", Enum: []string{"AUTO", "FORCE", "NONE"}, Doc: "materialise updates before upsert sinks"},
	{Key: "table.exec.legacy-bytes-to-string-cast", Kind: KindBool, Default: "false", Doc: "Flink 2.4's migration option: true would make CAST(bytes AS STRING) replace invalid UTF-8 by U+FFFD; Weir refuses true (use MAKE_VALID_UTF8(bytes), or TRY_CAST for NULL)"},
	{Key: "table.exec.sink.not-null-enforcer", Kind: KindEnum, Default: "ERROR", Enum: []string{"ERROR", "DROP"}, Doc: "what a NULL in a NOT NULL sink column does"},
	{Key: "sql-client.execution.result-mode", Kind: KindEnum, Default: "table", Enum: []string{"table", "changelog", "tableau"}, Doc: "how the SQL client shows query results"},
	{Key: "sql-client.execution.max-table-result.rows", Kind: KindInt, Default: "1000000", Doc: "rows kept by the table result mode"},
	{Key: "sql-client.display.max-column-width", Kind: KindInt, Default: "30", Doc: "column width of the tableau result mode"},
	{Key: "state.backend.type", Kind: KindEnum, Default: "hashmap", Enum: []string{"hashmap", "pebble", "rocksdb"}, Doc: "keyed state backend (rocksdb means Pebble here)"},
	{Key: "execution.checkpointing.dir", Kind: KindString, Default: "", Doc: "checkpoint directory: a local path, a file:// URI or an s3:// URL (state.checkpoints.dir, Flink's older key, when empty)"},
	{Key: "state.checkpoints.dir", Kind: KindString, Default: "", Doc: "Flink's older key of execution.checkpointing.dir"},
	{Key: "execution.checkpointing.savepoint-dir", Kind: KindString, Default: "", Doc: "default directory of savepoints (state.savepoints.dir, Flink's older key, when empty)"},
	{Key: "state.savepoints.dir", Kind: KindString, Default: "", Doc: "Flink's older key of execution.checkpointing.savepoint-dir"},
	{Key: "execution.checkpointing.mode", Kind: KindEnum, Default: "EXACTLY_ONCE", Enum: []string{"EXACTLY_ONCE", "AT_LEAST_ONCE"}, Doc: "AT_LEAST_ONCE does not align barriers: lower latency, records may be processed twice after a restore"},
	{Key: "execution.checkpointing.timeout", Kind: KindDuration, Default: "10 min", Doc: "a checkpoint not complete by then is aborted"},
	{Key: "execution.checkpointing.min-pause", Kind: KindDuration, Default: "0", Doc: "least time between the end of a checkpoint and the start of the next"},
	{Key: "execution.checkpointing.tolerable-failed-checkpoints", Kind: KindInt, Default: "0", Doc: "consecutive failed checkpoints the job survives"},
	{Key: "execution.checkpointing.num-retained", Kind: KindInt, Default: "1", Doc: "completed checkpoints kept (state.checkpoints.num-retained, Flink's older key, when not set)"},
	{Key: "state.checkpoints.num-retained", Kind: KindInt, Default: "1", Doc: "Flink's older key of execution.checkpointing.num-retained"},
	{Key: "execution.checkpointing.max-concurrent-checkpoints", Kind: KindInt, Default: "1", Doc: "checkpoints in flight at once; Weir takes one at a time (only 1 is accepted)"},
	{Key: "execution.state-recovery.path", Kind: KindString, Default: "", Doc: "savepoint or retained checkpoint the session's next jobs start from (execution.savepoint.path, Flink's older key, when empty)"},
	{Key: "execution.savepoint.path", Kind: KindString, Default: "", Doc: "Flink's older key of execution.state-recovery.path"},
	{Key: "execution.state-recovery.ignore-unclaimed-state", Kind: KindBool, Default: "false", Doc: "start from a savepoint holding state no operator of the job claims (execution.savepoint.ignore-unclaimed-state, Flink's older key, too)"},
	{Key: "execution.savepoint.ignore-unclaimed-state", Kind: KindBool, Default: "false", Doc: "Flink's older key of execution.state-recovery.ignore-unclaimed-state"},
	{Key: "restart-strategy.type", Kind: KindEnum, Default: "", Enum: []string{"", "none", "off", "disable", "fixed-delay", "fixeddelay", "failure-rate", "failurerate", "exponential-delay", "exponentialdelay"}, Doc: "what a failed job does: none (fails), fixed-delay, failure-rate, exponential-delay (restart from the latest checkpoint); not set: Weir's CLI does not restart, the server restarts with exponential delay"},
	{Key: "restart-strategy.fixed-delay.attempts", Kind: KindInt, Default: "1", Doc: "fixed-delay: restarts before the job fails"},
	{Key: "restart-strategy.fixed-delay.delay", Kind: KindDuration, Default: "1 s", Doc: "fixed-delay: wait before each restart"},
	{Key: "restart-strategy.failure-rate.max-failures-per-interval", Kind: KindInt, Default: "1", Doc: "failure-rate: failures within the interval before the job fails"},
	{Key: "restart-strategy.failure-rate.failure-rate-interval", Kind: KindDuration, Default: "1 min", Doc: "failure-rate: the interval failures are counted in"},
	{Key: "restart-strategy.failure-rate.delay", Kind: KindDuration, Default: "1 s", Doc: "failure-rate: wait before each restart"},
	{Key: "restart-strategy.exponential-delay.initial-backoff", Kind: KindDuration, Default: "1 s", Doc: "exponential-delay: the first wait"},
	{Key: "restart-strategy.exponential-delay.max-backoff", Kind: KindDuration, Default: "1 min", Doc: "exponential-delay: the longest wait"},
	{Key: "restart-strategy.exponential-delay.backoff-multiplier", Kind: KindFloat, Default: "1.5", Doc: "exponential-delay: the wait grows by this factor after each failure"},
	{Key: "restart-strategy.exponential-delay.reset-backoff-threshold", Kind: KindDuration, Default: "1 h", Doc: "exponential-delay: after running this long without failure the wait starts over"},
	{Key: "restart-strategy.exponential-delay.jitter-factor", Kind: KindFloat, Default: "0.1", Doc: "exponential-delay: random share added to or taken from each wait"},
	{Key: "restart-strategy.exponential-delay.attempts-before-reset-backoff", Kind: KindInt, Default: "2147483647", Doc: "exponential-delay: restarts before the job fails, counted since the wait last started over"},
	{Key: "table.exec.async-lookup.buffer-capacity", Kind: KindInt, Default: "100", Doc: "lookup join: rows in flight per subtask"},
	{Key: "table.exec.async-lookup.timeout", Kind: KindDuration, Default: "3 min", Doc: "lookup join: time a row's lookup may take (its retries included) before the job fails"},
	{Key: "table.exec.async-lookup.output-mode", Kind: KindEnum, Default: "ORDERED", Enum: []string{"ORDERED", "ALLOW_UNORDERED"}, Doc: "lookup join: emit rows in input order, or as lookups complete (append-only input only)"},
}

var passThroughPrefixes = []string{"pipeline.", "execution.", "table.", "state.", "parallelism.", "sql-client.", "restart-strategy."}

// Config is a session's option values. The zero value is not usable; use
// NewConfig.
type Config struct {
	set  map[string]string
	defs map[string]OptionDef
}

// NewConfig returns a configuration holding every option's default.
func NewConfig() *Config {
	c := &Config{set: map[string]string{}, defs: map[string]OptionDef{}}
	for _, d := range optionDefs {
		c.defs[d.Key] = d
	}
	return c
}

// Set sets an option (SET 'key' = 'value'), checking known keys' values.
func (c *Config) Set(key, value string) error {
	d, known := c.defs[key]
	if !known {
		ok := false
		for _, p := range passThroughPrefixes {
			ok = ok || strings.HasPrefix(key, p)
		}
		if !ok {
			return fmt.Errorf("sql: unknown option %q", key)
		}
		c.set[key] = value
		return nil
	}
	if err := checkValue(d, value); err != nil {
		return err
	}
	if err := checkExecutionValue(key, value); err != nil {
		return err
	}
	if key == "table.exec.legacy-bytes-to-string-cast" {
		if b, _ := strconv.ParseBool(strings.TrimSpace(value)); b {
			return fmt.Errorf("sql: option %q: the lenient CAST(bytes AS STRING) is not supported; use MAKE_VALID_UTF8(bytes), which replaces invalid UTF-8 by U+FFFD, or TRY_CAST for NULL", key)
		}
	}
	c.set[key] = value
	return nil
}

func checkValue(d OptionDef, v string) error {
	switch d.Kind {
	case KindInt:
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("sql: option %q: %q is not an integer", d.Key, v)
		}
	case KindBool:
		if _, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("sql: option %q: %q is not true or false", d.Key, v)
		}
	case KindFloat:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("sql: option %q: %q is not a number", d.Key, v)
		}
	case KindDuration:
		if _, err := ParseDuration(v); err != nil {
			return fmt.Errorf("option %q: %w", d.Key, err)
		}
	case KindMemorySize:
		n, err := ParseMemorySize(v)
		if err != nil {
			return fmt.Errorf("option %q: %w", d.Key, err)
		}
		if n <= 0 {
			return fmt.Errorf("sql: option %q: %q must be positive", d.Key, v)
		}
	case KindEnum:
		for _, e := range d.Enum {
			if strings.EqualFold(e, strings.TrimSpace(v)) {
				return nil
			}
		}
		var names []string // the empty value (not set) is not listed
		for _, e := range d.Enum {
			if e != "" {
				names = append(names, e)
			}
		}
		return fmt.Errorf("sql: option %q: %q is not one of %s", d.Key, v, strings.Join(names, ", "))
	}
	return nil
}

// Reset restores one option to its default (RESET 'key'), or every option
// when key is empty (RESET).
func (c *Config) Reset(key string) {
	if key == "" {
		clear(c.set)
		return
	}
	delete(c.set, key)
}

// Get returns an option's value, or its default.
func (c *Config) Get(key string) string {
	if v, ok := c.set[key]; ok {
		return v
	}
	return c.defs[key].Default
}

// Int returns an integer option.
func (c *Config) Int(key string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(c.Get(key)))
	return n
}

// MemorySize returns a memory size option in bytes.
func (c *Config) MemorySize(key string) int64 {
	n, _ := ParseMemorySize(c.Get(key))
	return n
}

// ParseMemorySize reads a memory size as Flink's MemorySize.parse does: a
// non-negative integer and an optional unit, case-insensitive, with or
// without a space: b or bytes; k, kb or kibibytes; m, mb or mebibytes;
// g, gb or gibibytes; t, tb or tebibytes (powers of 1024). No unit means
// bytes.
func ParseMemorySize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("sql: %q is not a memory size (a number and an optional unit: b, kb, mb, gb, tb)", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sql: memory size %q: the number does not fit in 64 bits", s)
	}
	var shift uint
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b", "bytes":
	case "k", "kb", "kibibytes":
		shift = 10
	case "m", "mb", "mebibytes":
		shift = 20
	case "g", "gb", "gibibytes":
		shift = 30
	case "t", "tb", "tebibytes":
		shift = 40
	default:
		return 0, fmt.Errorf("sql: memory size %q: unknown unit %q (b, kb, mb, gb, tb)", s, strings.TrimSpace(t[i:]))
	}
	if n > int64(^uint64(0)>>1)>>shift {
		return 0, fmt.Errorf("sql: memory size %q does not fit in 64 bits", s)
	}
	return n << shift, nil
}

// Bool returns a boolean option.
func (c *Config) Bool(key string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(c.Get(key)))
	return b
}

// Float returns a floating-point option.
func (c *Config) Float(key string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(c.Get(key)), 64)
	return f
}

// IsSet reports whether key was set (SET), not only defaulted.
func (c *Config) IsSet(key string) bool {
	_, ok := c.set[key]
	return ok
}

// Duration returns a duration option.
func (c *Config) Duration(key string) time.Duration {
	d, _ := ParseDuration(c.Get(key))
	return d
}

// Enum returns an enum option in its canonical spelling.
func (c *Config) Enum(key string) string {
	v := strings.TrimSpace(c.Get(key))
	for _, e := range c.defs[key].Enum {
		if strings.EqualFold(e, v) {
			return e
		}
	}
	return v
}

// Entries returns every option that was set, and every known option, with
// their values, sorted by key (what SET; prints).
func (c *Config) Entries() [][2]string {
	m := map[string]string{}
	for k, d := range c.defs {
		m[k] = d.Default
	}
	for k, v := range c.set {
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, m[k]}
	}
	return out
}

// Clone returns an independent copy.
func (c *Config) Clone() *Config {
	n := NewConfig()
	for k, v := range c.set {
		n.set[k] = v
	}
	return n
}

// ParseDuration reads a duration as Flink's TimeUtils does: a number and an
// optional unit (d, day(s); h, hour(s); min, m, minute(s); s, sec(s),
// second(s); ms, milli(s), millisecond(s); us, µs, micro(s),
// microsecond(s); ns, nano(s), nanosecond(s)), with optional space
// between; no unit means milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("sql: %q is not a duration (expected a number and a unit, e.g. '10 s' or '1 min')", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sql: %q is not a duration: %w", s, err)
	}
	unit := strings.ToLower(strings.TrimLeftFunc(t[i:], unicode.IsSpace))
	var m time.Duration
	switch unit {
	case "", "ms", "milli", "millis", "millisecond", "milliseconds":
		m = time.Millisecond
	case "d", "day", "days":
		m = 24 * time.Hour
	case "h", "hour", "hours":
		m = time.Hour
	case "min", "m", "minute", "minutes":
		m = time.Minute
	case "s", "sec", "secs", "second", "seconds":
		m = time.Second
	case "us", "µs", "micro", "micros", "microsecond", "microseconds":
		m = time.Microsecond
	case "ns", "nano", "nanos", "nanosecond", "nanoseconds":
		m = time.Nanosecond
	default:
		return 0, fmt.Errorf("sql: %q is not a duration: unknown unit %q", s, unit)
	}
	if n > int64(1<<63-1)/int64(m) {
		return 0, fmt.Errorf("sql: %q is not a duration: too large", s)
	}
	return time.Duration(n) * m, nil
}
