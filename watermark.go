package weir

import (
	"time"

	"github.com/weirstream/weir/internal/cacheline"
	"github.com/weirstream/weir/internal/runtime"
)

const (
	// NoTimestamp marks a record without an event timestamp.
	NoTimestamp = runtime.NoTimestamp
	// MinWatermark is the watermark before any was emitted.
	MinWatermark = runtime.MinWatermark
	// MaxWatermark is the final watermark of a bounded stream.
	MaxWatermark = runtime.MaxWatermark
)

// WatermarkGenerator tracks event timestamps of one source split and says
// how far event time has progressed (Flink's WatermarkGenerator).
type WatermarkGenerator[T any] interface {
	// OnEvent sees every record and its timestamp.
	OnEvent(v T, ts int64)
	// Watermark returns the current watermark; it is asked periodically
	// (Options.AutoWatermarkInterval). MinWatermark means none yet.
	Watermark() int64
}

// WatermarkStrategy says how a source assigns timestamps and generates
// watermarks. The zero value keeps the source's own timestamps and emits no
// watermarks until the end of a bounded input.
type WatermarkStrategy[T any] struct {
	// Timestamp extracts a record's event time in milliseconds; nil keeps
	// the timestamp the source attached. Every subtask of the source calls
	// it, concurrently: it must be safe for that (see NewTimestamp).
	Timestamp func(T) int64
	// NewTimestamp, if set, creates each subtask's own timestamp assigner
	// and takes the place of Timestamp (Flink's TimestampAssignerSupplier),
	// for assigners that keep state or scratch space.
	NewTimestamp func() func(T) int64
	// Generator creates one generator per split; nil means no watermarks.
	Generator func() WatermarkGenerator[T]
	// IdleTimeout marks a split idle after it produced nothing for this
	// long, so it does not hold back the watermark; 0 disables idleness.
	IdleTimeout time.Duration
	// AlignGroup and MaxDrift set watermark alignment (see
	// WithWatermarkAlignment); an empty group or a MaxDrift of 0 or less
	// turns it off.
	AlignGroup string
	MaxDrift   time.Duration
}

// WithTimestamps returns the strategy with a timestamp assigner.
func (w WatermarkStrategy[T]) WithTimestamps(fn func(T) int64) WatermarkStrategy[T] {
	w.Timestamp = fn
	return w
}

// WithIdleness returns the strategy with an idle timeout.
func (w WatermarkStrategy[T]) WithIdleness(d time.Duration) WatermarkStrategy[T] {
	w.IdleTimeout = d
	return w
}

// NoWatermarks emits no watermarks (processing-time jobs).
func NoWatermarks[T any]() WatermarkStrategy[T] { return WatermarkStrategy[T]{} }

// ForMonotonousTimestamps assumes timestamps never decrease: the watermark
// is the highest timestamp seen minus one.
func ForMonotonousTimestamps[T any]() WatermarkStrategy[T] {
	return ForBoundedOutOfOrderness[T](0)
}

// ForBoundedOutOfOrderness assumes records arrive at most d behind the
// highest timestamp seen: the watermark is that timestamp minus d minus one
// millisecond, as in Flink.
func ForBoundedOutOfOrderness[T any](d time.Duration) WatermarkStrategy[T] {
	delay := d.Milliseconds()
	return WatermarkStrategy[T]{Generator: func() WatermarkGenerator[T] {
		return &boundedOutOfOrderness[T]{delay: delay, max: runtime.MinWatermark}
	}}
}

// ForGenerator uses a custom generator.
func ForGenerator[T any](gen func() WatermarkGenerator[T]) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{Generator: gen}
}

// boundedOutOfOrderness is padded (see package cacheline): OnEvent writes
// max per record, and the generators of the source's other subtasks,
// allocated next to it, are written on other cores.
type boundedOutOfOrderness[T any] struct {
	_          cacheline.Pad
	delay, max int64
	_          cacheline.Pad
}

func (b *boundedOutOfOrderness[T]) OnEvent(_ T, ts int64) {
	if ts > b.max {
		b.max = ts
	}
}

func (b *boundedOutOfOrderness[T]) Watermark() int64 {
	if b.max == runtime.MinWatermark {
		return runtime.MinWatermark
	}
	return b.max - b.delay - 1
}
