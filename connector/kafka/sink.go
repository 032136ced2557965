package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/graph"
)

// Guarantee is a sink's delivery guarantee.
type Guarantee uint8

const (
	// AtLeastOnce flushes every record to Kafka before a checkpoint
	// completes; after a failure, records since the checkpoint restored
	// from are written again.
	AtLeastOnce Guarantee = iota
	// ExactlyOnce writes each checkpoint's records in a Kafka transaction
	// committed when the checkpoint completes; read_committed consumers
	// see every record once.
	ExactlyOnce
)

// DefaultTransactionTimeout is the transaction timeout of an exactly-once
// sink by default. Kafka aborts a transaction that is open for longer, so
// it must exceed the checkpoint interval plus the time a failed job needs
// to restart (see the package documentation).
const DefaultTransactionTimeout = 10 * time.Minute

// TransactionSlots is the number of transactional ids each subtask of an
// exactly-once sink cycles through: prefix-<subtask>-<slot>. A slot is
// reused once its transaction committed, so at most TransactionSlots
// checkpoints of a subtask may await their commit at once.
const TransactionSlots = 8

// SinkOptions configure a Sink.
type SinkOptions[T any] struct {
	// Brokers are the seed brokers (host:port), required.
	Brokers []string
	// Topic receives the records, unless TopicSelector picks one.
	Topic         string
	TopicSelector func(v T) string
	// Serializer encodes record values (required).
	Serializer Serializer[T]
	// Key, if set, gives each record's key; records of one key go to one
	// partition under the default partitioner (Kafka's murmur2 hash).
	Key func(v T) []byte
	// Partition, if set, picks each record's partition, overriding the
	// partitioner.
	Partition func(v T) int32
	// Headers, if set, gives each record's headers.
	Headers func(v T) []kgo.RecordHeader
	// Guarantee is AtLeastOnce (default) or ExactlyOnce.
	Guarantee Guarantee
	// TransactionalIDPrefix is required for ExactlyOnce and must be unique
	// to the job: subtask s uses the transactional ids prefix-s-0 to
	// prefix-s-7.
	TransactionalIDPrefix string
	// TransactionTimeout (ExactlyOnce; default DefaultTransactionTimeout).
	TransactionTimeout time.Duration
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
	// ClientOptions are passed to the franz-go clients (TLS, SASL,
	// batching, compression).
	ClientOptions []kgo.Opt
}

// Sink writes records to Kafka. Create it with NewSink and add it with
// Stream.SinkTo.
type Sink[T any] struct {
	opts SinkOptions[T]
}

// NewSink returns a sink with opts; options are checked when the job
// starts.
func NewSink[T any](opts SinkOptions[T]) *Sink[T] { return &Sink[T]{opts: opts} }

// CreateWriter returns the writer of one subtask: a two-phase-commit
// writer for ExactlyOnce. It does no I/O.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	o := s.opts
	switch {
	case len(o.Brokers) == 0:
		return nil, fmt.Errorf("%w: no brokers", ErrOptions)
	case o.Topic == "" && o.TopicSelector == nil:
		return nil, fmt.Errorf("%w: no topic", ErrOptions)
	case o.Serializer == nil:
		return nil, fmt.Errorf("%w: no serializer", ErrOptions)
	case o.Guarantee == ExactlyOnce && o.TransactionalIDPrefix == "":
		return nil, fmt.Errorf("%w: exactly-once needs a transactional id prefix", ErrOptions)
	case o.Guarantee > ExactlyOnce:
		return nil, fmt.Errorf("%w: guarantee %d", ErrOptions, o.Guarantee)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TransactionTimeout <= 0 {
		o.TransactionTimeout = DefaultTransactionTimeout
	}
	base := []kgo.Opt{kgo.SeedBrokers(o.Brokers...)}
	if o.Partition != nil {
		base = append(base, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	base = append(base, o.ClientOptions...)
	if o.Guarantee == AtLeastOnce {
		cl, err := kgo.NewClient(base...)
		if err != nil {
			return nil, fmt.Errorf("kafka: sink client: %w", err)
		}
		w := &alWriter[T]{}
		w.opts, w.cl, w.promise = o, cl, w.onDone
		return w, nil
	}
	ctl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, fmt.Errorf("kafka: sink client: %w", err)
	}
	w := &txnWriter[T]{base: base, ctl: ctl, subtask: ctx.Subtask,
		parallelism: ctx.Parallelism, restoredSeq: -1, pending: map[int]int64{}}
	w.opts, w.promise = o, w.onDone
	return w, nil
}

// producer turns values into records and produces them asynchronously,
// keeping the first delivery error.
type producer[T any] struct {
	opts    SinkOptions[T]
	cl      *kgo.Client
	promise func(*kgo.Record, error)
	n       int // records produced since the last flush
	failed  atomic.Bool
	mu      struct {
		sync.Mutex
		err error
	}
}

func (p *producer[T]) onDone(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	if p.mu.err == nil {
		p.mu.err = fmt.Errorf("kafka: producing to topic %s: %w", r.Topic, err)
	}
	p.mu.Unlock()
	p.failed.Store(true)
}

func (p *producer[T]) produce(v T, ts int64) error {
	val, err := p.opts.Serializer.Serialize(v)
	if err != nil {
		return fmt.Errorf("kafka: serializing: %w", err)
	}
	r := &kgo.Record{Topic: p.opts.Topic, Value: val}
	if p.opts.TopicSelector != nil {
		r.Topic = p.opts.TopicSelector(v)
	}
	if p.opts.Key != nil {
		r.Key = p.opts.Key(v)
	}
	if p.opts.Partition != nil {
		r.Partition = p.opts.Partition(v)
	}
	if p.opts.Headers != nil {
		r.Headers = p.opts.Headers(v)
	}
	if ts != weir.NoTimestamp {
		r.Timestamp = time.UnixMilli(ts)
	}
	p.n++
	p.cl.Produce(context.Background(), r, p.promise)
	if p.failed.Load() {
		return p.err()
	}
	return nil
}

func (p *producer[T]) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.err
}

// flush waits until every produced record is acknowledged.
func (p *producer[T]) flush() error {
	if p.cl == nil {
		return nil
	}
	if err := p.cl.Flush(context.Background()); err != nil {
		return fmt.Errorf("kafka: flush: %w", err)
	}
	return p.err()
}

// alWriter is an at-least-once writer: records are flushed on every
// checkpoint and at the end of input.
type alWriter[T any] struct {
	producer[T]
}

func (w *alWriter[T]) Write(v T, ts int64) error { return w.produce(v, ts) }
func (w *alWriter[T]) Flush(bool) error          { return w.flush() }

func (w *alWriter[T]) Close() error {
	w.cl.Close()
	return nil
}

// committable names a prepared transaction: enough to commit it from any
// process, by the producer id and epoch that wrote it.
type committable struct {
	subtask, parallelism int
	seq                  int64
	producerID           int64
	epoch                int16
	txnID                string
}

func (c committable) encode() []byte {
	b := []byte{1}
	b = binary.AppendUvarint(b, uint64(c.subtask))
	b = binary.AppendUvarint(b, uint64(c.parallelism))
	b = binary.AppendVarint(b, c.seq)
	b = binary.AppendVarint(b, c.producerID)
	b = binary.AppendVarint(b, int64(c.epoch))
	return append(b, c.txnID...)
}

func decodeCommittable(b []byte) (committable, error) {
	var c committable
	if len(b) == 0 || b[0] != 1 {
		return c, fmt.Errorf("kafka: %w: committable version", codec.ErrCorrupt)
	}
	b = b[1:]
	var vals [5]int64
	for i := range vals {
		var n int
		if i < 2 {
			var u uint64
			u, n = binary.Uvarint(b)
			vals[i] = int64(u)
		} else {
			vals[i], n = binary.Varint(b)
		}
		if n <= 0 {
			return c, fmt.Errorf("kafka: %w: committable", codec.ErrCorrupt)
		}
		b = b[n:]
	}
	c.subtask, c.parallelism, c.seq, c.producerID, c.epoch = int(vals[0]), int(vals[1]), vals[2], vals[3], int16(vals[4])
	c.txnID = string(b)
	// A parallelism above the limit of key groups, a subtask outside it or
	// an epoch that is not an int16 is not what a sink wrote (and a huge
	// parallelism would make the restore abort that many subtasks' ids).
	if vals[1] <= 0 || vals[1] > graph.MaxMaxParallelism || vals[0] < 0 || vals[0] >= vals[1] ||
		int64(c.epoch) != vals[4] || c.txnID == "" {
		return c, fmt.Errorf("kafka: %w: committable", codec.ErrCorrupt)
	}
	return c, nil
}

// TransactionalID is the transactional id an exactly-once sink's subtask
// uses for its transaction number seq.
func TransactionalID(prefix string, subtask int, seq int64) string {
	return prefix + "-" + strconv.Itoa(subtask) + "-" + strconv.FormatInt(seq%TransactionSlots, 10)
}

// txnWriter is an exactly-once writer. Every checkpoint's records go into
// one transaction, written by a franz-go client of its own (so every
// transaction has its own producer epoch); PreCommit flushes it and stages
// (transactional id, producer id, epoch); Commit sends EndTxn(commit) for
// that triple, which works from any process as long as no producer
// re-initialised the transactional id since.
type txnWriter[T any] struct {
	producer[T]
	base                 []kgo.Opt
	ctl                  *kgo.Client // for EndTxn and InitProducerID
	subtask, parallelism int

	started bool
	// restoredSeq is the highest transaction number of this subtask in
	// the restored checkpoint (-1: none); oldParallelism the parallelism
	// the restored committables were written at (0: unknown).
	restoredSeq    int64
	oldParallelism int
	seq            int64 // number of the current (or next) transaction
	inTxn          bool
	// pending maps slots to the transaction numbers staged in them and
	// not yet committed.
	pending map[int]int64
}

// start aborts what earlier runs left open: every transactional id of
// this subtask (and of subtasks of a larger previous parallelism that map
// to it) is re-initialised, which fences zombie producers and aborts their
// open transactions. It runs after the restored checkpoint's transactions
// were committed.
func (w *txnWriter[T]) start() error {
	w.started = true
	w.seq = w.restoredSeq + 1
	for slot := range TransactionSlots {
		if err := w.abort(TransactionalID(w.opts.TransactionalIDPrefix, w.subtask, int64(slot))); err != nil {
			return err
		}
	}
	// Ids of subtasks a lower parallelism removed: the open transactions
	// the broker lists (Kafka 3.0+), else those of the subtasks the
	// restored committables name.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	orphans := map[string]bool{}
	listed, err := kadm.NewClient(w.ctl).ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		w.opts.Logger.Warn("kafka: cannot list open transactions; aborting those of the restored subtasks only", "err", err)
		for s := w.subtask + w.parallelism; s < w.oldParallelism; s += w.parallelism {
			for slot := range TransactionSlots {
				orphans[TransactionalID(w.opts.TransactionalIDPrefix, s, int64(slot))] = true
			}
		}
	}
	for id := range listed {
		if s, ok := subtaskOf(w.opts.TransactionalIDPrefix, id); ok && s >= w.parallelism && s%w.parallelism == w.subtask {
			orphans[id] = true
		}
	}
	for id := range orphans {
		if err := w.abort(id); err != nil {
			return err
		}
	}
	return nil
}

// subtaskOf parses the subtask of a transactional id prefix-subtask-slot.
func subtaskOf(prefix, txnID string) (int, bool) {
	rest, ok := strings.CutPrefix(txnID, prefix+"-")
	if !ok {
		return 0, false
	}
	sub, slot, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	s, err := strconv.Atoi(sub)
	n, err2 := strconv.Atoi(slot)
	// Only ids TransactionalID writes: not "+1", "01" or slot 9, which
	// belong to no subtask's transactions (and must not be aborted).
	if err != nil || err2 != nil || s < 0 || n < 0 || n >= TransactionSlots || TransactionalID(prefix, s, int64(n)) != txnID {
		return 0, false
	}
	return s, true
}

func (w *txnWriter[T]) abort(txnID string) error {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &txnID
	req.TransactionTimeoutMillis = int32(w.opts.TransactionTimeout.Milliseconds())
	req.ProducerID, req.ProducerEpoch = -1, -1
	err := retry(func() error {
		resp, err := req.RequestWith(context.Background(), w.ctl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("kafka: aborting leftover transactions of %s: %w", txnID, err)
	}
	return nil
}

// retry runs fn until it returns an error Kafka does not call retriable
// (such as CONCURRENT_TRANSACTIONS while a coordinator completes an
// earlier transaction), for at most about 30 seconds.
func retry(fn func() error) error {
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		if err = fn(); err == nil || !kerr.IsRetriable(err) {
			return err
		}
		t := time.NewTimer(300 * time.Millisecond)
		<-t.C
	}
	return err
}

// begin opens the transaction number w.seq with a new client.
func (w *txnWriter[T]) begin() error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	slot := int(w.seq % TransactionSlots)
	if old, busy := w.pending[slot]; busy {
		return fmt.Errorf("kafka: transaction %d of subtask %d is still awaiting its commit: more than %d checkpoints without a completed one", old, w.subtask, TransactionSlots)
	}
	txnID := TransactionalID(w.opts.TransactionalIDPrefix, w.subtask, w.seq)
	opts := append(append([]kgo.Opt(nil), w.base...), kgo.TransactionalID(txnID), kgo.TransactionTimeout(w.opts.TransactionTimeout))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: transactional client: %w", err)
	}
	if err := cl.BeginTransaction(); err != nil {
		cl.Close()
		return fmt.Errorf("kafka: begin transaction %s: %w", txnID, err)
	}
	w.cl, w.inTxn, w.n = cl, true, 0
	return nil
}

func (w *txnWriter[T]) Write(v T, ts int64) error {
	if !w.inTxn {
		if err := w.begin(); err != nil {
			return err
		}
	}
	return w.produce(v, ts)
}

// Flush sends buffered records; they stay invisible to read_committed
// consumers until their transaction commits.
func (w *txnWriter[T]) Flush(bool) error { return w.flush() }

// PreCommit flushes the current transaction and stages it. An empty
// transaction stays open for the next checkpoint and stages nothing.
func (w *txnWriter[T]) PreCommit(int64) ([][]byte, error) {
	if !w.started {
		if err := w.start(); err != nil {
			return nil, err
		}
	}
	if !w.inTxn || w.n == 0 {
		return nil, nil
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	id, epoch, err := w.cl.ProducerID(ctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("kafka: producer id: %w", err)
	}
	c := committable{subtask: w.subtask, parallelism: w.parallelism, seq: w.seq, producerID: id, epoch: epoch,
		txnID: TransactionalID(w.opts.TransactionalIDPrefix, w.subtask, w.seq)}
	// The client is done: closing it leaves the transaction open for
	// Commit (franz-go does not end transactions on Close).
	w.cl.Close()
	w.cl, w.inTxn = nil, false
	w.pending[int(w.seq%TransactionSlots)] = w.seq
	w.seq++
	return [][]byte{c.encode()}, nil
}

// Commit commits staged transactions. Before the writer started (after a
// restore) it commits the committables of the subtasks that map to this
// one and remembers where their numbering ended.
func (w *txnWriter[T]) Commit(items [][]byte) error {
	for _, it := range items {
		c, err := decodeCommittable(it)
		if err != nil {
			return err
		}
		if !w.started {
			if c.subtask%w.parallelism != w.subtask {
				continue // another subtask commits it
			}
			w.oldParallelism = max(w.oldParallelism, c.parallelism)
			if c.subtask == w.subtask {
				w.restoredSeq = max(w.restoredSeq, c.seq)
			}
		}
		if err := w.commit(c); err != nil {
			return err
		}
		if c.subtask == w.subtask {
			if s, ok := w.pending[int(c.seq%TransactionSlots)]; ok && s == c.seq {
				delete(w.pending, int(c.seq%TransactionSlots))
			}
		}
	}
	return nil
}

// commit ends the transaction c with a commit. A transaction already
// committed is fine; one the broker no longer has open under c's epoch was
// either committed before (its id was reused since) or aborted by the
// broker's transaction timeout, which the log reports.
func (w *txnWriter[T]) commit(c committable) error {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID = c.txnID
	req.ProducerID, req.ProducerEpoch = c.producerID, c.epoch
	req.Commit = true
	err := retry(func() error {
		resp, err := req.RequestWith(context.Background(), w.ctl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch),
		errors.Is(err, kerr.InvalidTxnState), errors.Is(err, kerr.InvalidProducerIDMapping):
		w.opts.Logger.Warn("kafka: transaction no longer open: committed earlier, or aborted by its timeout",
			"transactional_id", c.txnID, "producer_id", c.producerID, "epoch", c.epoch, "err", err)
		return nil
	default:
		return fmt.Errorf("kafka: committing transaction %s (producer %d epoch %d): %w", c.txnID, c.producerID, c.epoch, err)
	}
}

// Close aborts the open transaction, if any, and closes the clients.
// Staged transactions stay open: the restore commits them.
func (w *txnWriter[T]) Close() error {
	var err error
	if w.cl != nil {
		if w.inTxn {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if aerr := w.cl.AbortBufferedRecords(ctx); aerr == nil {
				err = w.cl.EndTransaction(ctx, kgo.TryAbort)
			}
			cancel()
		}
		w.cl.Close()
	}
	w.ctl.Close()
	if err != nil {
		return fmt.Errorf("kafka: aborting open transaction: %w", err)
	}
	return nil
}
