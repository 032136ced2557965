package nexmark

import (
	"context"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
)

// Emission says when a query emits its rows, which decides what Bench
// measures its latency from.
type Emission uint8

// Emission kinds.
const (
	// PerEvent: a row is emitted while the engine processes the newest
	// input that contributed to it, and carries that input's timestamp.
	// Latency is measured from the generator's emission of that input.
	PerEvent Emission = iota
	// OnWatermark: rows are emitted when the watermark passes the end of
	// an event-time window (or a timer at it), and carry the window's
	// last timestamp T. The input that lets them out is the first with
	// timestamp T + WatermarkDelay (its watermark is T); latency is
	// measured from the generator's emission of that input, so it leaves
	// out the watermark's declared 4 s of out-of-orderness but includes
	// the engine's watermark propagation and the window's firing.
	OnWatermark
	// OnProcessingTime: rows are emitted by processing-time windows (q12);
	// their timestamps are not event times and no latency is measured.
	OnProcessingTime
)

// String returns event, watermark or processing-time: in benchmark
// output, what latency is measured from.
func (e Emission) String() string {
	switch e {
	case OnWatermark:
		return "watermark"
	case OnProcessingTime:
		return "processing-time"
	}
	return "event"
}

// Emits says when q emits its rows: q5, q7, q8 and q11 when the watermark
// closes a window, q12 on processing time, the others per event.
func (q Query) Emits() Emission {
	switch q.Name {
	case "q5", "q7", "q8", "q11":
		return OnWatermark
	case "q12":
		return OnProcessingTime
	}
	return PerEvent
}

// Histogram bucketing: values below 2^(subBits+1) have a bucket each;
// above, each power of two is divided into 2^subBits buckets, so a
// bucket's width is at most 1/32 of its values (HDR histogram's layout
// with two significant binary digits more than a decimal digit).
const (
	subBits    = 5
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits) * subBuckets
)

// histogram counts non-negative int64 values (nanoseconds) in log-linear
// buckets. Not safe for concurrent use: each sink subtask has its own and
// they are merged at the end.
type histogram struct {
	counts [numBuckets]int64
	n      int64
	max    int64
}

func bucketOf(v int64) int {
	if v < 2*subBuckets {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - subBits - 1
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// bucketHigh returns the largest value of bucket i.
func bucketHigh(i int) int64 {
	if i < 2*subBuckets {
		return int64(i)
	}
	e := i/subBuckets - 1
	m := int64(i%subBuckets + subBuckets)
	if e >= 64-subBits-1 { // the last power of two: up to MaxInt64
		return math.MaxInt64
	}
	return (m+1)<<e - 1
}

func (h *histogram) record(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0 < q <= 1): the largest value
// of the bucket holding the ceil(q*n)-th smallest value, capped at the
// maximum recorded; so an overestimate by at most 1/32. 0 if empty.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(h.n))), 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}

// emissions records when the generator emitted events: for every slot of
// event time (a millisecond, or more for very long spans), the wall time
// of the first event of that slot any subtask emitted. A row's latency is
// measured from the slot of the input that let it out (Emission), so its
// resolution is the wall time the generator takes for one slot of events
// (--rate/1000 events): it errs on the high side by at most that.
//
// Generator functions (one per source subtask) write it; sink subtasks
// read it; all fields are atomics or fixed after construction.
type emissions struct {
	base      time.Time // origin of the recorded wall times (monotonic)
	firstTS   int64     // event time of slot 0
	width     int64     // milliseconds of event time per slot
	slots     []atomic.Int64
	maxSlot   atomic.Int64 // highest slot written; -1: none
	end       atomic.Int64 // wall time of the latest of the last events, +1; 0: not yet
	lastEvent int64        // number of the last event
	events    *atomic.Int64
}

// maxSlots bounds the slot table (8 MiB).
const maxSlots = 1 << 20

// endStretch is the number of final events after which generators count
// every event and record their wall time (the end of input).
const endStretch = 4096

// countBatch is how many events a generator counts before adding them to
// the shared counter.
const countBatch = 1024

func newEmissions(cfg Config, base time.Time, events *atomic.Int64) *emissions {
	span := cfg.Timestamp(cfg.Events-1) - cfg.BaseTime + 1
	width := max((span+maxSlots-1)/maxSlots, 1)
	e := &emissions{
		base: base, firstTS: cfg.BaseTime, width: width,
		slots:     make([]atomic.Int64, (span+width-1)/width),
		lastEvent: cfg.Events - 1, events: events,
	}
	e.maxSlot.Store(-1)
	return e
}

// now returns the wall time since base in nanoseconds, at least 1.
func (e *emissions) now() int64 { return max(int64(time.Since(e.base)), 1) }

func (e *emissions) slot(ts int64) int64 { return (ts - e.firstTS) / e.width }

// generator wraps one subtask's event function: it counts the events and
// records the wall time of the first event of every slot.
func (e *emissions) generator(event func(int64) Event, timestamp func(int64) int64) func(int64) Event {
	last, pending := int64(-1), int64(0)
	return func(n int64) Event {
		ev := event(n)
		pending++
		tail := n+endStretch > e.lastEvent
		if pending == countBatch || tail {
			e.events.Add(pending)
			pending = 0
		}
		if s := e.slot(timestamp(n)); s != last && s >= 0 && s < int64(len(e.slots)) {
			last = s
			e.slots[s].CompareAndSwap(0, e.now())
			for m := e.maxSlot.Load(); s > m && !e.maxSlot.CompareAndSwap(m, s); m = e.maxSlot.Load() {
			}
		}
		if tail {
			t := e.now()
			for m := e.end.Load(); t > m && !e.end.CompareAndSwap(m, t); m = e.end.Load() {
			}
		}
		return ev
	}
}

// emitted returns the wall time at which the generator emitted the first
// event at or after event time ts, or, past the last event, the end of
// input; false if not known.
func (e *emissions) emitted(ts int64) (int64, bool) {
	s := max(e.slot(ts), 0)
	top := e.maxSlot.Load()
	for ; s <= top; s++ {
		if v := e.slots[s].Load(); v != 0 {
			return v, true
		}
	}
	if v := e.end.Load(); v != 0 {
		return v, true
	}
	if top >= 0 {
		return e.slots[top].Load(), true
	}
	return 0, false
}

// resolution returns the mean wall time the generator took per slot: the
// span between the earliest and the latest first emission of a slot over
// the slots. (Subtasks record their slots concurrently, so the first
// emission of the top slot may be read a few nanoseconds before slot 0's.)
func (e *emissions) resolution() time.Duration {
	top := e.maxSlot.Load()
	if top < 1 {
		return 0
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for s := range top + 1 {
		if v := e.slots[s].Load(); v != 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi <= lo {
		return 0
	}
	return time.Duration((hi - lo) / top)
}

// perEventSample: of a per-event query's rows, every perEventSample-th
// row (per sink subtask) is measured, to keep the clock reads' cost out of
// the throughput; rows arrive in batches whose sizes are multiples of it,
// so the sample covers every position in a batch alike.
const perEventSample = 8

// latencies measures the latency of a query's rows into one histogram
// per sink subtask, merged when they close.
type latencies struct {
	em     *emissions
	delay  int64 // event time from a row's timestamp to its input's
	sample int64 // measure every sample-th row

	mu struct {
		sync.Mutex
		h histogram
	}
}

func newLatencies(em *emissions, emits Emission) *latencies {
	l := &latencies{em: em, sample: perEventSample}
	if emits == OnWatermark {
		l.delay, l.sample = WatermarkDelay, 1
	}
	return l
}

// summary returns the merged histogram, after the job ended.
func (l *latencies) summary() histogram {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.h
}

// latencySink wraps a query's row sink: it calls it, then records the
// row's latency in its subtask's histogram.
type latencySink[R any] struct {
	l    *latencies
	rows weir.SinkFunc[R]
}

func (s latencySink[R]) CreateWriter(weir.SinkContext) (weir.SinkWriter[R], error) {
	return &latencyWriter[R]{l: s.l, rows: s.rows, h: new(histogram)}, nil
}

type latencyWriter[R any] struct {
	l    *latencies
	rows weir.SinkFunc[R]
	h    *histogram
	skip int64 // rows to skip before the next measured one
}

func (w *latencyWriter[R]) Write(ctx context.Context, v R, ts int64) error {
	if err := w.rows(ctx, v, ts); err != nil {
		return err
	}
	if w.skip > 0 {
		w.skip--
		return nil
	}
	w.skip = w.l.sample - 1
	if at, ok := w.l.em.emitted(ts + w.l.delay); ok {
		w.h.record(w.l.em.now() - at)
	}
	return nil
}

func (w *latencyWriter[R]) Flush(context.Context, bool) error { return nil }

// Close merges the subtask's histogram into the query's.
func (w *latencyWriter[R]) Close() error {
	if w.h == nil {
		return nil
	}
	w.l.mu.Lock()
	w.l.mu.h.merge(w.h)
	w.l.mu.Unlock()
	w.h = nil
	return nil
}
