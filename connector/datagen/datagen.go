// Package datagen is a source of generated records, like Flink's
// DataGeneratorSource: for tests, demos and benchmarks.
//
// A user function turns a sequence number into a record. Sequence numbers
// are spread over the source's subtasks with a stride: subtask i of p
// produces i, i+p, i+2p, ... so that every number below Options.Count is
// produced exactly once whatever the parallelism, and generated event
// timestamps (Options.Timestamp) advance at the same pace on every subtask.
//
// Randomness is deterministic: each subtask gets its own *rand.Rand (PCG),
// seeded from Options.Seed and the subtask index, so the same seed and
// parallelism give the same records. Values drawn from that generator
// depend on the parallelism; for values that must not, derive them from the
// sequence number with Mix.
//
// Rate limiting (Options.RecordsPerSecond) spreads the total rate evenly
// over the subtasks; a subtask ahead of its schedule returns
// weir.NothingAvailable after scheduling a processing-time wake-up, so an
// idle generator costs no CPU. The clock is the job's processing-time
// clock (weir.Options.Clock in tests).
//
// The reader emits up to Options.BatchSize records per Poll in a tight
// loop: one call of the user function and one Collect per record, no clock
// reads and no allocation of its own. Readers are owned by their subtask's
// goroutine; the user function is shared by all subtasks of a source and
// must be safe for concurrent use (NewFactory gives each subtask its own).
//
// Checkpoints: a reader stores, per sequence, the next number to produce
// (weir.CheckpointedReader). After a restore at the same parallelism every
// subtask resumes its sequence. At another parallelism the sequences are
// kept whole and dealt out (sequence i to subtask i mod parallelism, each
// with its own watermark split): exactly the numbers not yet produced are
// produced, but a subtask may get several sequences or none. The per-subtask
// random generators restart from their seeds after a restore, so values
// drawn from them differ from an uninterrupted run; values derived from the
// sequence number with Mix do not.
package datagen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/weirstream/weir"
)

// DefaultBatchSize is the number of records emitted per Poll by default.
const DefaultBatchSize = 1024

// Options configure a generator source. The zero value generates an
// unbounded stream as fast as possible with seed 0.
type Options struct {
	// Count is the total number of records, across all subtasks; 0 or less
	// means unbounded, unless Bounded is set.
	Count int64
	// Bounded makes Count the number of records even when it is 0 (an
	// empty source that ends at once).
	Bounded bool
	// RecordsPerSecond limits the total rate across all subtasks; 0 or less
	// means as fast as possible.
	RecordsPerSecond float64
	// Seed seeds the per-subtask random generators.
	Seed uint64
	// BatchSize is the maximum number of records per Poll (default 1024).
	BatchSize int
	// Timestamp, if set, gives each record an event timestamp (milliseconds)
	// from its sequence number, so event-time windows can run on generated
	// data. Use it with a watermark strategy such as
	// weir.ForMonotonousTimestamps (per subtask, timestamps of an increasing
	// function of seq are increasing).
	Timestamp func(seq int64) int64
}

// Source generates records of type T. Create it with New or NewFactory and
// add it with weir.FromSource.
type Source[T any] struct {
	factory func(subtask int, r *rand.Rand) func(seq int64) T
	opts    Options
}

// New returns a source whose records are fn(seq). fn is called from every
// subtask's goroutine; it must be safe for concurrent use.
func New[T any](fn func(seq int64) T, opts Options) *Source[T] {
	return &Source[T]{factory: func(int, *rand.Rand) func(int64) T { return fn }, opts: opts}
}

// NewFactory returns a source that calls factory once per subtask, with the
// subtask index and its deterministic random generator, to get that
// subtask's record function. The function may keep state (buffers, the
// generator) without locking: only its subtask calls it.
func NewFactory[T any](factory func(subtask int, r *rand.Rand) func(seq int64) T, opts Options) *Source[T] {
	return &Source[T]{factory: factory, opts: opts}
}

// Rand returns the random generator of subtask, as the source gives it to
// NewFactory: a PCG seeded from seed and the subtask index.
func Rand(seed uint64, subtask int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, Mix(seed, int64(subtask))))
}

// Mix hashes a seed and a sequence number into 64 well-mixed bits
// (SplitMix64's finaliser): a way to draw a value that depends only on the
// sequence number, not on the parallelism, without allocation.
func Mix(seed uint64, seq int64) uint64 {
	z := seed + uint64(seq)*0x9e3779b97f4a7c15 + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ErrInvalidOptions is matched by the error of a source with bad options:
// a weir.InvalidOptionError worded "datagen: option RecordsPerSecond:
// ...". It matches weir.ErrInvalidOption.
var ErrInvalidOptions = weir.MarkError(errors.New("datagen: invalid options"), weir.ErrInvalidOption)

// optionError is the error of an invalid option.
func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "datagen", Option: option, Reason: reason, Kind: ErrInvalidOptions}
}

// CreateReader returns the reader of one subtask.
func (s *Source[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	o := s.opts
	if math.IsNaN(o.RecordsPerSecond) || math.IsInf(o.RecordsPerSecond, 0) {
		return nil, optionError("RecordsPerSecond", fmt.Sprintf("%v is not a rate", o.RecordsPerSecond))
	}
	if s.factory == nil {
		return nil, optionError("record function", "must be set")
	}
	if ctx.Parallelism < 1 || ctx.Subtask < 0 || ctx.Subtask >= ctx.Parallelism {
		return nil, optionError("SourceContext", fmt.Sprintf("subtask %d of %d", ctx.Subtask, ctx.Parallelism))
	}
	batch := o.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	r := &reader[T]{
		seqs:  []sequence{{id: ctx.Subtask, next: int64(ctx.Subtask)}},
		step:  int64(ctx.Parallelism),
		end:   math.MaxInt64,
		batch: int64(batch),
		ts:    o.Timestamp,
		time:  ctx.Time,
	}
	if ctx.Restored != nil {
		seqs, step, err := restoreSequences(ctx.Restored, ctx.Subtask, ctx.Parallelism)
		if err != nil {
			return nil, fmt.Errorf("datagen: restoring from checkpoint %d: %w", ctx.RestoredFrom, err)
		}
		r.seqs, r.step = seqs, step
	}
	if o.Count > 0 || o.Bounded {
		r.end = max(o.Count, 0)
	}
	if o.RecordsPerSecond > 0 {
		r.limit = newLimiter(o.RecordsPerSecond / float64(ctx.Parallelism))
		r.wake = func(int64) error { return nil }
	}
	r.fn = s.factory(ctx.Subtask, Rand(o.Seed, ctx.Subtask))
	if r.fn == nil {
		return nil, optionError("record function", fmt.Sprintf("the factory returned none for subtask %d", ctx.Subtask))
	}
	return r, nil
}

// sequence is one strided sequence of numbers: id, id+step, id+2*step, ...
// A fresh job has one per subtask (step: the parallelism); a restored job
// keeps them whole and deals them out to its subtasks.
type sequence struct {
	id    int
	next  int64 // next number to produce
	split string
}

type reader[T any] struct {
	fn    func(seq int64) T
	ts    func(seq int64) int64
	seqs  []sequence
	step  int64 // the stride of every sequence: the parallelism of the first run
	end   int64 // first sequence number not to produce
	batch int64
	limit *limiter
	time  weir.ProcessingTimeService
	wake  func(int64) error
}

// pick returns the index of the unfinished sequence furthest behind, or -1.
func (r *reader[T]) pick() int {
	best := -1
	for i := range r.seqs {
		if r.seqs[i].next < r.end && (best < 0 || r.seqs[i].next < r.seqs[best].next) {
			best = i
		}
	}
	return best
}

func (r *reader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	i := r.pick()
	if i < 0 {
		return weir.EndOfInput, nil
	}
	sq := &r.seqs[i]
	// n: how many records this poll emits.
	// left: the numbers next, next+step, ... below end (next < end, so
	// end-next does not overflow; end-next+step-1 would when end is
	// MaxInt64, the unbounded case).
	n := r.batch
	if left := (r.end-sq.next-1)/r.step + 1; left < n {
		n = left
	}
	if r.limit != nil {
		now := r.time.Now()
		allowed := r.limit.allowed(now)
		if allowed <= 0 {
			r.time.Schedule(r.limit.nextAt(now), r.wake)
			return weir.NothingAvailable, nil
		}
		if allowed < n {
			n = allowed
		}
		r.limit.take(n)
	}
	seq, step, fn, ts := sq.next, r.step, r.fn, r.ts
	if len(r.seqs) == 1 {
		if ts == nil {
			for i := int64(0); i < n; i++ {
				out.Collect(fn(seq))
				seq += step
			}
		} else {
			for i := int64(0); i < n; i++ {
				out.CollectWithTimestamp(fn(seq), ts(seq))
				seq += step
			}
		}
	} else {
		// Several sequences after a restore: each is a split with its own
		// watermark, as their timestamps interleave.
		if sq.split == "" {
			sq.split = "sequence-" + strconv.Itoa(sq.id)
		}
		sp := out.Split(sq.split)
		for i := int64(0); i < n; i++ {
			if ts == nil {
				sp.Collect(fn(seq))
			} else {
				sp.CollectWithTimestamp(fn(seq), ts(seq))
			}
			seq += step
		}
	}
	if seq < sq.next { // overflow of an unbounded sequence
		seq = math.MaxInt64
	}
	sq.next = seq
	if sq.next >= r.end && sq.split != "" {
		out.ReleaseSplit(sq.split)
	}
	if r.pick() < 0 {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

// SnapshotState stores, for every sequence of the reader, its id, its
// stride and the next number to produce.
func (r *reader[T]) SnapshotState(int64) ([][]byte, error) {
	items := make([][]byte, len(r.seqs))
	for i, sq := range r.seqs {
		b := []byte{seqVersion}
		b = binary.AppendUvarint(b, uint64(sq.id))
		b = binary.AppendUvarint(b, uint64(r.step))
		items[i] = binary.AppendUvarint(b, uint64(sq.next))
	}
	return items, nil
}

const seqVersion = 1

// restoreSequences reads the sequences of every reader of the previous run
// and returns those of subtask: sequence id goes to subtask id mod
// parallelism. Sequences are never split, so the numbers not yet produced
// are exactly those produced after the restore, at any parallelism (with
// more subtasks than sequences, some subtasks have nothing to do).
func restoreSequences(items [][]byte, subtask, parallelism int) ([]sequence, int64, error) {
	var (
		step int64
		seen = map[int]bool{}
		mine []sequence
	)
	for _, it := range items {
		if len(it) == 0 || it[0] != seqVersion {
			return nil, 0, weir.MarkError(errors.New("corrupt position: unknown version"), weir.ErrCorruption)
		}
		b := it[1:]
		id, a := binary.Uvarint(b)
		st, c := binary.Uvarint(b[max(a, 0):])
		next, d := binary.Uvarint(b[max(a+c, 0):])
		if a <= 0 || c <= 0 || d <= 0 || a+c+d != len(b) || st == 0 || st > math.MaxInt32 || id >= st || next > math.MaxInt64 {
			return nil, 0, weir.MarkError(errors.New("corrupt position"), weir.ErrCorruption)
		}
		// Sequence id produces id, id+stride, ...; past the end of
		// numbers its next is MaxInt64. Another next would produce
		// numbers of another sequence.
		if next%st != id && next != math.MaxInt64 {
			return nil, 0, weir.MarkError(fmt.Errorf("corrupt position: sequence %d of stride %d at %d", id, st, next), weir.ErrCorruption)
		}
		if step != 0 && int64(st) != step {
			return nil, 0, fmt.Errorf("positions with strides %d and %d", step, st)
		}
		step = int64(st)
		if seen[int(id)] {
			return nil, 0, fmt.Errorf("sequence %d stored twice", id)
		}
		seen[int(id)] = true
		if int(id)%parallelism == subtask {
			mine = append(mine, sequence{id: int(id), next: int64(next)})
		}
	}
	if len(seen) == 0 || int64(len(seen)) != step {
		// Without every sequence the numbers still to produce are unknown:
		// refuse rather than lose or repeat records.
		return nil, 0, fmt.Errorf("the checkpoint holds %d of the %d sequences of the generator", len(seen), step)
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].id < mine[j].id })
	return mine, step, nil
}

func (r *reader[T]) Close() error { return nil }

// limiter paces one subtask at rate records per second: by processing time
// now (ms) it allows floor((now-start)*rate/1000)+1 records since the first
// poll. The first record goes at once, and a subtask that fell behind (a
// slow consumer) catches up in batches.
type limiter struct {
	perMs   float64
	start   int64
	started bool
	taken   int64
}

func newLimiter(perSecond float64) *limiter { return &limiter{perMs: perSecond / 1000} }

// allowed returns how many more records may go at time now.
func (l *limiter) allowed(now int64) int64 {
	if !l.started {
		l.start, l.started = now, true
	}
	el := now - l.start
	if el < 0 {
		el = 0
	}
	total := float64(el)*l.perMs + 1
	if total >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(total) - l.taken
}

// take records that n records went.
func (l *limiter) take(n int64) { l.taken += n }

// nextAt returns the first time after now at which one more record is
// allowed.
func (l *limiter) nextAt(now int64) int64 {
	// allowed > 0 once el*perMs + 1 >= taken+1, that is el >= taken/perMs.
	at := l.start + int64(math.Ceil(float64(l.taken)/l.perMs))
	if at <= now { // rounding: never ask to be woken in the past
		at = now + 1
	}
	return at
}
