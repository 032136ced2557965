package connector

import "time"

// monitorInterval reads source.monitor-interval (Flink's filesystem
// source option, a Duration with no default): when set, the source is
// unbounded and lists 'path' again every interval, reading each file it
// has not seen before once (connector/file's SourceOptions.MonitorInterval:
// a file is identified by its path, every path read is kept in the
// source's checkpointed state). The interval must be greater than 0, as
// Flink's option requires. 0 means not set.
func monitorInterval(o *options) time.Duration {
	const key = "source.monitor-interval"
	if !o.has(key) {
		o.mark(key)
		return 0
	}
	d := o.duration(key, 0)
	if o.err == nil && d <= 0 {
		o.fail(key, o.m[key], "the interval must be greater than 0")
		return 0
	}
	if o.err == nil && d < time.Millisecond {
		o.fail(key, o.m[key], "the interval must be at least 1 ms")
		return 0
	}
	return d
}
