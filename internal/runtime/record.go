package runtime

import (
	"math"

	"github.com/weirstream/weir/internal/cacheline"
)

const (
	// NoTimestamp marks a record that carries no event timestamp.
	NoTimestamp int64 = math.MinInt64
	// MinWatermark is the watermark before any has been seen.
	MinWatermark int64 = math.MinInt64
	// MaxWatermark is the final watermark of a bounded input: it fires every
	// event-time timer and window.
	MaxWatermark int64 = math.MaxInt64
)

// Rec is one record in a batch: a value and its event timestamp in
// milliseconds (NoTimestamp if none).
type Rec[T any] struct {
	V  T
	TS int64
}

// Batch is the unit sent over a channel between subtasks.
//
// The header is padded (see package cacheline): the writer appends to
// Recs and Hashes per record, and other writers fill batches allocated
// next to this one on other cores.
type Batch[T any] struct {
	_    cacheline.Pad
	Recs []Rec[T]
	// Hashes, on a keyed exchange (see NewHashWriter), holds the key hash
	// of each record of Recs, index for index: the writer hashed the key
	// to route the record, and the keyed operator that receives it takes
	// the hash instead of hashing the key again (see HashedBatchOutput).
	// Empty on other exchanges. The slice lives with the pooled batch, so
	// it costs no allocation per record or per batch.
	Hashes []uint64
	_      cacheline.Pad
}

// HashedBatchOutput is a keyed operator at the head of a chain that takes
// the key hashes a keyed exchange's writer computed (Batch.Hashes) with
// the records, so that each record's key is hashed once on its way.
type HashedBatchOutput[T any] interface {
	// ProcessHashedBatch is ProcessBatch with hashes[i] the stable key
	// hash (keygroup.Hasher) of the key of recs[i]; len(hashes) ==
	// len(recs).
	ProcessHashedBatch(recs []Rec[T], hashes []uint64) (int, error)
}

// Output receives a stream of records and control events of type T. Chained
// operators, record writers and fan-outs all implement it; calls are made
// only by the owning task's goroutine.
type Output[T any] interface {
	// ProcessElement handles one record. It is the per-record hot path.
	ProcessElement(v T, ts int64) error
	// ProcessWatermark handles a watermark; operators forward it (after
	// firing timers) to their own output.
	ProcessWatermark(wm int64) error
	// ProcessWatermarkStatus tells that the stream became idle (true) or
	// active again (false).
	ProcessWatermarkStatus(idle bool) error
}

// Lifecycle is the part of an operator that the task drives outside the
// record path.
type Lifecycle interface {
	// Open prepares the operator; state and timers are registered here.
	Open(ctx *OperatorContext) error
	// Finish is called once all input ended (after the final watermark of a
	// bounded job); the operator may still emit records.
	Finish() error
	// Close releases resources. It is called on success and on failure.
	Close() error
}

// OneInput is an operator with one (possibly unioned) input.
type OneInput[In any] interface {
	Lifecycle
	Output[In]
}

// TwoInput is an operator with two inputs of different types; the task
// combines their watermarks before calling ProcessWatermark.
type TwoInput[In1, In2 any] interface {
	Lifecycle
	ProcessElement1(v In1, ts int64) error
	ProcessElement2(v In2, ts int64) error
	ProcessWatermark(wm int64) error
	ProcessWatermarkStatus(idle bool) error
}

// Kind tells what an Envelope carries.
type Kind uint8

// Envelope kinds.
const (
	KindData Kind = iota
	KindWatermark
	KindStatus
	KindEndOfInput
	// KindBarrier carries checkpoint barrier Val.
	KindBarrier
	// KindLatencyMarker carries a *LatencyMarker in Data.
	KindLatencyMarker
)

// LatencyMarker is Flink's latency marker: a source subtask emits one
// periodically; it travels with the records, never overtaking them on a
// channel, each task passes it on to one channel of each of its outputs,
// and tasks that hold sinks record the time since it left the source.
type LatencyMarker struct {
	// Source names the source operator; Emitted is when it left it (Unix
	// nanoseconds).
	Source  string
	Emitted int64
}

// Envelope is what travels on a channel: a *Batch[T] or a control event.
type Envelope struct {
	Kind Kind
	Data any   // *Batch[T] for KindData
	Val  int64 // the watermark, or 1/0 for idle/active status
}

// BatchOutput is an Output that also takes a run of records in one call:
// the batch path of a chain. Stateless operators (map, filter), sinks,
// fan-outs and record writers implement it; a source hands the records of
// one poll down the chain in such runs, and an exchange hands each batch
// it receives to a head operator that implements it. An operator that
// does not implement it gets the same records one ProcessElement call at
// a time (see BatchOf).
type BatchOutput[T any] interface {
	Output[T]
	// ProcessBatch handles recs in order, with the same effect as calling
	// ProcessElement for each record: the same records, timestamps and
	// errors reach the operator's outputs in the same order. recs is
	// read-only for the callee and valid only during the call. It returns
	// the number of records handled: len(recs) on success, and on error
	// the number up to and including the record that failed.
	ProcessBatch(recs []Rec[T]) (int, error)
}
