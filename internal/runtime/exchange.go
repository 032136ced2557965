package runtime

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/weirstream/weir/internal/keygroup"
)

// ErrCanceled is returned by blocking exchange calls when the job stops.
var ErrCanceled = errors.New("weir: job canceled")

// DefaultBatchSize is the number of records a writer buffers per channel
// before it sends them.
const DefaultBatchSize = 512

// DefaultChannelCapacity is the number of batches a channel holds before its
// producer blocks.
const DefaultChannelCapacity = 8

// Channel connects one producing subtask to one consuming subtask.
type Channel struct {
	C chan Envelope
	// notify is the consuming gate's wake-up signal, shared by all the
	// channels of that gate.
	notify chan struct{}
	// space wakes the producer blocked on a full channel (awaitSpace)
	// once the consumer drained the channel down to low envelopes, not at
	// the first free slot: a back-pressured producer then runs for
	// cap-low batches per wake-up instead of one, and the goroutine
	// switches, futex wake-ups and idle spinning of the scheduler are paid
	// once per several batches. queued counts the envelopes sent and not
	// yet received (the producer adds after a send, the consumer subtracts
	// after a receive); waiting tells the consumer that the producer
	// waits. Both are atomics, sequentially consistent: the producer sets
	// waiting and then reads queued, the consumer updates queued and then
	// reads waiting, so at least one of them sees the other and no wake-up
	// is lost.
	space   chan struct{}
	queued  atomic.Int64
	waiting atomic.Bool
	low     int64
}

// newChannel returns a channel of capacity envelopes that signals notify
// on every send.
func newChannel(capacity int, notify chan struct{}) *Channel {
	return &Channel{C: make(chan Envelope, capacity), notify: notify,
		space: make(chan struct{}, 1), low: int64(capacity / 2)}
}

// sent is called by the producer after each send.
func (c *Channel) sent() { c.queued.Add(1) }

// awaitSpace blocks the channel's (only) producer until the channel holds
// at most low envelopes, or done closes (ErrCanceled).
func (c *Channel) awaitSpace(done <-chan struct{}) error {
	c.waiting.Store(true)
	if c.queued.Load() <= c.low {
		if c.waiting.CompareAndSwap(true, false) {
			return nil
		}
		// The consumer saw the flag first: its signal is on the way.
	}
	select {
	case <-c.space:
		return nil
	case <-done:
		return ErrCanceled
	}
}

// received is called by the (only) consumer after each receive: it wakes
// the producer waiting in awaitSpace once the channel is down to low.
func (c *Channel) received() {
	if n := c.queued.Add(-1); n <= c.low && c.waiting.Load() && c.waiting.CompareAndSwap(true, false) {
		select {
		case c.space <- struct{}{}:
		default: // unreachable: one signal per wait, taken by the waiter
		}
	}
}

// Partitioning selects how a writer spreads records over its channels.
type Partitioning uint8

// Partitionings.
const (
	Forward Partitioning = iota
	Hash
	Rebalance
	Broadcast
)

func (p Partitioning) String() string {
	switch p {
	case Forward:
		return "FORWARD"
	case Hash:
		return "HASH"
	case Rebalance:
		return "REBALANCE"
	case Broadcast:
		return "BROADCAST"
	}
	return "UNKNOWN"
}

// BatchPool recycles batches of one edge between its producers and consumers.
type BatchPool[T any] struct {
	p    sync.Pool
	size int
}

// NewBatchPool returns a pool of batches with room for size records.
func NewBatchPool[T any](size int) *BatchPool[T] {
	bp := &BatchPool[T]{size: size}
	bp.p.New = func() any { return &Batch[T]{Recs: make([]Rec[T], 0, size)} }
	return bp
}

// Get returns an empty batch.
func (bp *BatchPool[T]) Get() *Batch[T] { return bp.p.Get().(*Batch[T]) }

// Put returns a batch once its records were delivered.
func (bp *BatchPool[T]) Put(b *Batch[T]) {
	clear(b.Recs)
	b.Recs = b.Recs[:0]
	b.Hashes = b.Hashes[:0]
	bp.p.Put(b)
}

// RecordWriter is the tail of a chain that sends records to the subtasks of
// the next vertex. It implements Output[T].
type RecordWriter[T any] struct {
	mode     Partitioning
	selector func(T) int // channel index, for Hash
	// hash, for a writer of NewHashWriter, is the stable hash of a
	// record's key: the channel follows from its key group, and the hash
	// goes with the record in Batch.Hashes.
	hash     func(T) uint64
	maxPar   int
	chans    []*Channel
	bufs     []*Batch[T]
	pool     *BatchPool[T]
	done     <-chan struct{}
	rr       int
	lastWM   int64
	idle     bool
	stats    *WriterStats
	maxBatch int
	marker   int // latency markers sent, to pick their channel
}

// WriterStats counts what a writer sent; read by the owning task only.
type WriterStats struct {
	Records      int64
	BlockedNanos int64
}

// NewRecordWriter returns a writer over chans. selector is required for Hash
// and maps a record to a channel index.
func NewRecordWriter[T any](mode Partitioning, chans []*Channel, selector func(T) int, pool *BatchPool[T], done <-chan struct{}) *RecordWriter[T] {
	w := &RecordWriter[T]{mode: mode, selector: selector, chans: chans, pool: pool, done: done,
		lastWM: MinWatermark, bufs: make([]*Batch[T], len(chans)), stats: &WriterStats{}, maxBatch: pool.size}
	for i := range w.bufs {
		w.bufs[i] = pool.Get()
	}
	if mode == Rebalance {
		w.rr = -1
	}
	return w
}

// NewHashWriter returns a writer of a keyed exchange over chans: a
// record goes to the subtask owning the key group of hash(record)
// (keygroup.Of with maxParallelism, keygroup.Subtask), and its hash goes
// with it in Batch.Hashes.
func NewHashWriter[T any](chans []*Channel, hash func(T) uint64, maxParallelism int, pool *BatchPool[T], done <-chan struct{}) *RecordWriter[T] {
	w := NewRecordWriter[T](Hash, chans, nil, pool, done)
	w.hash, w.maxPar = hash, maxParallelism
	return w
}

// Stats returns the writer's counters.
func (w *RecordWriter[T]) Stats() *WriterStats { return w.stats }

// ProcessElement buffers one record for its channel and sends the batch when
// it is full.
func (w *RecordWriter[T]) ProcessElement(v T, ts int64) error {
	switch w.mode {
	case Forward:
		return w.add(0, v, ts)
	case Hash:
		if w.hash != nil {
			h := w.hash(v)
			return w.addHashed(keygroup.Subtask(w.maxPar, len(w.chans), keygroup.Of(h, w.maxPar)), v, ts, h)
		}
		return w.add(w.selector(v), v, ts)
	case Rebalance:
		w.rr++
		if w.rr == len(w.chans) {
			w.rr = 0
		}
		return w.add(w.rr, v, ts)
	default:
		for i := range w.chans {
			if err := w.add(i, v, ts); err != nil {
				return err
			}
		}
		return nil
	}
}

func (w *RecordWriter[T]) add(i int, v T, ts int64) error {
	b := w.bufs[i]
	b.Recs = append(b.Recs, Rec[T]{V: v, TS: ts})
	if len(b.Recs) >= w.maxBatch {
		return w.flushOne(i)
	}
	return nil
}

// addHashed is add for a record whose key hash is h.
func (w *RecordWriter[T]) addHashed(i int, v T, ts int64, h uint64) error {
	b := w.bufs[i]
	b.Recs = append(b.Recs, Rec[T]{V: v, TS: ts})
	if b.Hashes == nil {
		b.Hashes = make([]uint64, 0, cap(b.Recs))
	}
	b.Hashes = append(b.Hashes, h)
	if len(b.Recs) >= w.maxBatch {
		return w.flushOne(i)
	}
	return nil
}

func (w *RecordWriter[T]) flushOne(i int) error {
	b := w.bufs[i]
	if len(b.Recs) == 0 {
		return nil
	}
	w.stats.Records += int64(len(b.Recs))
	w.bufs[i] = w.pool.Get()
	return w.send(i, Envelope{Kind: KindData, Data: b})
}

func (w *RecordWriter[T]) send(i int, e Envelope) error {
	ch := w.chans[i]
	select {
	case ch.C <- e:
	default:
		// Backpressure: block until the consumer drained the channel to
		// half (see Channel.space); there is room then, as this writer is
		// the channel's only producer.
		start := nanotime()
		if err := ch.awaitSpace(w.done); err != nil {
			return err
		}
		select {
		case ch.C <- e:
		case <-w.done:
			return ErrCanceled
		}
		w.stats.BlockedNanos += nanotime() - start
	}
	ch.sent()
	select {
	case ch.notify <- struct{}{}:
	default:
	}
	return nil
}

// Flush sends every buffered record.
func (w *RecordWriter[T]) Flush() error {
	for i := range w.bufs {
		if err := w.flushOne(i); err != nil {
			return err
		}
	}
	return nil
}

// Broadcast flushes and sends a control event on every channel.
func (w *RecordWriter[T]) Broadcast(e Envelope) error {
	if err := w.Flush(); err != nil {
		return err
	}
	for i := range w.chans {
		if err := w.send(i, e); err != nil {
			return err
		}
	}
	return nil
}

// ProcessWatermark forwards a watermark to every channel if it advanced.
func (w *RecordWriter[T]) ProcessWatermark(wm int64) error {
	if wm <= w.lastWM {
		return nil
	}
	w.lastWM = wm
	return w.Broadcast(Envelope{Kind: KindWatermark, Val: wm})
}

// ProcessWatermarkStatus forwards a change of idleness to every channel.
func (w *RecordWriter[T]) ProcessWatermarkStatus(idle bool) error {
	if idle == w.idle {
		return nil
	}
	w.idle = idle
	var v int64
	if idle {
		v = 1
	}
	return w.Broadcast(Envelope{Kind: KindStatus, Val: v})
}

// EndOfInput flushes and tells every consumer that this producer ended.
func (w *RecordWriter[T]) EndOfInput() error {
	return w.Broadcast(Envelope{Kind: KindEndOfInput})
}

// Barrier flushes and sends checkpoint barrier id to every consumer.
func (w *RecordWriter[T]) Barrier(id int64) error {
	return w.Broadcast(Envelope{Kind: KindBarrier, Val: id})
}

// LatencyMarker sends m on one channel, in turn, after the records
// buffered for that channel.
func (w *RecordWriter[T]) LatencyMarker(m *LatencyMarker) error {
	w.marker++
	i := w.marker % len(w.chans)
	if err := w.flushOne(i); err != nil {
		return err
	}
	return w.send(i, Envelope{Kind: KindLatencyMarker, Data: m})
}

// Writer is the type-erased view of a RecordWriter that a task drives.
type Writer interface {
	Flush() error
	EndOfInput() error
	Barrier(id int64) error
	LatencyMarker(m *LatencyMarker) error
	Stats() *WriterStats
}
