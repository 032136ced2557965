package kafka

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// LostTransactionPolicy says what an exactly-once sink does when a
// transaction of a completed checkpoint cannot be committed because the
// broker aborted it (see SinkOptions.LostTransactions).
type LostTransactionPolicy uint8

const (
	// FailOnLostTransaction fails the job with an error matching
	// ErrTransactionLost (the default).
	FailOnLostTransaction LostTransactionPolicy = iota
	// LogLostTransaction logs the lost transaction at ERROR level, counts
	// it and lets the job continue without its records.
	LogLostTransaction
)

// ErrTransactionLost is matched (errors.Is) by the error of a restored
// transaction whose records are lost: the broker aborted it (its
// transaction timeout ran out while the job was down), or it cannot be
// told whether it committed. It matches weir.ErrDataLoss.
var ErrTransactionLost = weir.MarkError(errors.New("kafka: transaction of a completed checkpoint lost"), weir.ErrDataLoss)

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
	// LostTransactions says what a restored transaction that the broker
	// aborted (its records are lost) does: FailOnLostTransaction (the
	// default) fails the job with an ErrTransactionLost; LogLostTransaction
	// logs it at ERROR level and carries on. Either way the
	// weir_kafka_sink_lost_transactions_total counter counts it.
	LostTransactions LostTransactionPolicy
	// Registry, if set, receives the sink's metrics
	// (weir_kafka_sink_lost_transactions_total). Sinks of one job may share
	// it: the counter is registered once and shared.
	Registry prometheus.Registerer
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
	// lost and nLost count the transactions lost by all the sink's
	// writers: lost is the metric (shared with other sinks registered in
	// the same registry), nLost this sink's own count.
	lost  prometheus.Counter
	nLost atomic.Int64
	// register registers lost with opts.Registry once (regErr: failed).
	register sync.Once
	regErr   error
}

// NewSink returns a sink with opts; options are checked when the job
// starts.
func NewSink[T any](opts SinkOptions[T]) *Sink[T] {
	return &Sink[T]{opts: opts, lost: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "weir", Subsystem: "kafka_sink", Name: "lost_transactions_total",
		Help: "Transactions of completed checkpoints that could not be committed (aborted by the broker, or of unknown outcome): their records are lost.",
	})}
}

// LostTransactions returns the number of transactions of completed
// checkpoints this sink found lost (aborted by the broker, or of unknown
// outcome) since it was created.
func (s *Sink[T]) LostTransactions() int64 { return s.nLost.Load() }

// countLost counts a lost transaction.
func (s *Sink[T]) countLost() {
	s.nLost.Add(1)
	s.lost.Inc()
}

// registerMetrics registers the sink's counter with opts.Registry, or
// shares the one registered before under the same name.
func (s *Sink[T]) registerMetrics() error {
	s.register.Do(func() {
		if s.opts.Registry == nil {
			return
		}
		err := s.opts.Registry.Register(s.lost)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if c, ok := are.ExistingCollector.(prometheus.Counter); ok {
				s.lost, err = c, nil
			}
		}
		if err != nil {
			s.regErr = fmt.Errorf("kafka: registering sink metrics: %w", err)
		}
	})
	return s.regErr
}

// CreateWriter returns the writer of one subtask: a two-phase-commit
// writer for ExactlyOnce. It does no I/O.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	o := s.opts
	switch {
	case len(o.Brokers) == 0:
		return nil, optionError("Brokers", "must not be empty")
	case o.Topic == "" && o.TopicSelector == nil:
		return nil, optionError("Topic", "must be set (or TopicSelector)")
	case o.Serializer == nil:
		return nil, optionError("Serializer", "must be set")
	case o.Guarantee == ExactlyOnce && o.TransactionalIDPrefix == "":
		return nil, optionError("TransactionalIDPrefix", "must be set for ExactlyOnce")
	case o.Guarantee > ExactlyOnce:
		return nil, optionError("Guarantee", fmt.Sprintf("unknown guarantee %d", o.Guarantee))
	case o.LostTransactions > LogLostTransaction:
		return nil, optionError("LostTransactions", fmt.Sprintf("unknown policy %d", o.LostTransactions))
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
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
		parallelism: ctx.Parallelism, restoredSeq: -1, pending: map[int]int64{}, countLost: s.countLost}
	w.opts, w.promise = o, w.onProduced
	w.firsts.m = map[topicPartition]int64{}
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
		p.mu.err = transient(fmt.Errorf("kafka: producing to topic %s: %w", r.Topic, err))
	}
	p.mu.Unlock()
	p.failed.Store(true)
}

// produce serializes v and produces it. Produce blocks while the client's
// buffer is full; ctx interrupts that wait, and a record still buffered
// when ctx is done fails with ctx's error.
func (p *producer[T]) produce(ctx context.Context, v T, ts int64) error {
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
	p.cl.Produce(ctx, r, p.promise)
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

// flush waits until every produced record is acknowledged, or ctx is done.
func (p *producer[T]) flush(ctx context.Context) error {
	if p.cl == nil {
		return nil
	}
	if err := p.cl.Flush(ctx); err != nil {
		return transient(fmt.Errorf("kafka: flush: %w", err))
	}
	return p.err()
}

// alWriter is an at-least-once writer: records are flushed on every
// checkpoint and at the end of input.
type alWriter[T any] struct {
	producer[T]
}

func (w *alWriter[T]) Write(ctx context.Context, v T, ts int64) error {
	return w.produce(ctx, v, ts)
}

func (w *alWriter[T]) Flush(ctx context.Context, _ bool) error { return w.flush(ctx) }

func (w *alWriter[T]) Close() error {
	w.cl.Close()
	return nil
}

// committable names a prepared transaction: enough to commit it from any
// process, by the producer id and epoch that wrote it, and to find its
// records (and its end marker) again: the first offset it wrote in each
// partition.
type committable struct {
	subtask, parallelism int
	seq                  int64
	producerID           int64
	epoch                int16
	txnID                string
	parts                []txnPart // none in committables of version 1
}

// txnPart is the first offset a transaction wrote in a partition.
type txnPart struct {
	topic       string
	partition   int32
	firstOffset int64
}

// encode writes version 2: byte 2, uvarint subtask, uvarint parallelism,
// varint seq, varint producer id, varint epoch, uvarint len + transactional
// id, uvarint count of partitions, then per partition uvarint len + topic,
// varint partition, varint first offset. Version 1 (still decoded) ended
// after the epoch with the transactional id and had no partitions.
func (c committable) encode() []byte {
	b := []byte{2}
	b = binary.AppendUvarint(b, uint64(c.subtask))
	b = binary.AppendUvarint(b, uint64(c.parallelism))
	b = binary.AppendVarint(b, c.seq)
	b = binary.AppendVarint(b, c.producerID)
	b = binary.AppendVarint(b, int64(c.epoch))
	b = binary.AppendUvarint(b, uint64(len(c.txnID)))
	b = append(b, c.txnID...)
	b = binary.AppendUvarint(b, uint64(len(c.parts)))
	for _, p := range c.parts {
		b = binary.AppendUvarint(b, uint64(len(p.topic)))
		b = append(b, p.topic...)
		b = binary.AppendVarint(b, int64(p.partition))
		b = binary.AppendVarint(b, p.firstOffset)
	}
	return b
}

func decodeCommittable(b []byte) (committable, error) {
	var c committable
	corrupt := fmt.Errorf("kafka: %w: committable", codec.ErrCorrupt)
	if len(b) == 0 || (b[0] != 1 && b[0] != 2) {
		return c, fmt.Errorf("kafka: %w: committable version", codec.ErrCorrupt)
	}
	version := b[0]
	b = b[1:]
	uvarint := func() (uint64, bool) {
		u, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return u, true
	}
	varint := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		l, ok := uvarint()
		if !ok || l > uint64(len(b)) {
			return "", false
		}
		s := string(b[:l])
		b = b[l:]
		return s, true
	}
	sub, ok1 := uvarint()
	par, ok2 := uvarint()
	seq, ok3 := varint()
	pid, ok4 := varint()
	epoch, ok5 := varint()
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || sub > 1<<31 || par > 1<<31 || epoch != int64(int16(epoch)) {
		return c, corrupt
	}
	c.subtask, c.parallelism, c.seq, c.producerID, c.epoch = int(sub), int(par), seq, pid, int16(epoch)
	if version == 1 {
		c.txnID = string(b)
	} else {
		var ok bool
		if c.txnID, ok = str(); !ok {
			return c, corrupt
		}
		n, ok := uvarint()
		if !ok || n > uint64(len(b)) {
			return c, corrupt
		}
		for range n {
			var p txnPart
			var ok1, ok2, ok3 bool
			p.topic, ok1 = str()
			part, ok2 := varint()
			p.firstOffset, ok3 = varint()
			if !ok1 || !ok2 || !ok3 || part != int64(int32(part)) {
				return c, corrupt
			}
			p.partition = int32(part)
			c.parts = append(c.parts, p)
		}
		if len(b) != 0 {
			return c, corrupt
		}
	}
	// A parallelism above the limit of key groups or a subtask outside it
	// is not what a sink wrote (and a huge parallelism would make the
	// restore abort that many subtasks' ids).
	if c.parallelism <= 0 || c.parallelism > graph.MaxMaxParallelism || c.subtask >= c.parallelism || c.txnID == "" {
		return c, corrupt
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
	// countLost counts a lost transaction in the sink's metric.
	countLost func()
	// firsts holds the first offset the current transaction wrote in each
	// partition, set by the produce promises.
	firsts struct {
		sync.Mutex
		m map[topicPartition]int64
	}
}

// onProduced records the first offset of each partition the transaction
// writes, and keeps the first error.
func (w *txnWriter[T]) onProduced(r *kgo.Record, err error) {
	if err != nil {
		w.onDone(r, err)
		return
	}
	tp := topicPartition{r.Topic, r.Partition}
	w.firsts.Lock()
	if o, ok := w.firsts.m[tp]; !ok || r.Offset < o {
		w.firsts.m[tp] = r.Offset
	}
	w.firsts.Unlock()
}

// takeParts returns the partitions the transaction wrote, sorted, and
// forgets them.
func (w *txnWriter[T]) takeParts() []txnPart {
	w.firsts.Lock()
	defer w.firsts.Unlock()
	parts := make([]txnPart, 0, len(w.firsts.m))
	for tp, o := range w.firsts.m {
		parts = append(parts, txnPart{topic: tp.topic, partition: tp.partition, firstOffset: o})
	}
	clear(w.firsts.m)
	slices.SortFunc(parts, func(a, b txnPart) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return parts
}

// start aborts what earlier runs left open: every transactional id of
// this subtask (and of subtasks of a larger previous parallelism that map
// to it) is re-initialised, which fences zombie producers and aborts their
// open transactions. It runs after the restored checkpoint's transactions
// were committed.
func (w *txnWriter[T]) start(ctx context.Context) error {
	w.started = true
	w.seq = w.restoredSeq + 1
	for slot := range TransactionSlots {
		if err := w.abort(ctx, TransactionalID(w.opts.TransactionalIDPrefix, w.subtask, int64(slot))); err != nil {
			return err
		}
	}
	// Ids of subtasks a lower parallelism removed: the open transactions
	// the broker lists (Kafka 3.0+), else those of the subtasks the
	// restored committables name.
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	orphans := map[string]bool{}
	listed, err := kadm.NewClient(w.ctl).ListTransactions(lctx, nil, []string{"Ongoing"})
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
		if err := w.abort(ctx, id); err != nil {
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

func (w *txnWriter[T]) abort(ctx context.Context, txnID string) error {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &txnID
	req.TransactionTimeoutMillis = int32(w.opts.TransactionTimeout.Milliseconds())
	req.ProducerID, req.ProducerEpoch = -1, -1
	err := retry(ctx, func() error {
		resp, err := req.RequestWith(ctx, w.ctl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		return err
	})
	if err != nil {
		return transient(fmt.Errorf("kafka: aborting leftover transactions of %s: %w", txnID, err))
	}
	return nil
}

// transient marks err retriable (weir.ErrRetriable) when Kafka calls its
// cause so — a broker unavailable or not the leader, not enough replicas,
// a coordinator loading — or a record timed out. Cancellation is not.
func transient(err error) error {
	if err != nil && (kerr.IsRetriable(err) || errors.Is(err, kgo.ErrRecordTimeout)) && !errors.Is(err, context.Canceled) {
		return weir.MarkError(err, weir.ErrRetriable)
	}
	return err
}

// retry runs fn until it returns an error Kafka does not call retriable
// (such as CONCURRENT_TRANSACTIONS while a coordinator completes an
// earlier transaction), for at most about 30 seconds, or until ctx is done.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		if err = fn(); err == nil || !kerr.IsRetriable(err) {
			return err
		}
		t := time.NewTimer(300 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %w)", ctx.Err(), err)
		}
	}
	return err
}

// begin opens the transaction number w.seq with a new client.
func (w *txnWriter[T]) begin(ctx context.Context) error {
	if !w.started {
		if err := w.start(ctx); err != nil {
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
	w.takeParts()
	return nil
}

func (w *txnWriter[T]) Write(ctx context.Context, v T, ts int64) error {
	if !w.inTxn {
		if err := w.begin(ctx); err != nil {
			return err
		}
	}
	return w.produce(ctx, v, ts)
}

// Flush sends buffered records; they stay invisible to read_committed
// consumers until their transaction commits.
func (w *txnWriter[T]) Flush(ctx context.Context, _ bool) error { return w.flush(ctx) }

// PreCommit flushes the current transaction and stages it. An empty
// transaction stays open for the next checkpoint and stages nothing.
func (w *txnWriter[T]) PreCommit(ctx context.Context, _ int64) ([][]byte, error) {
	if !w.started {
		if err := w.start(ctx); err != nil {
			return nil, err
		}
	}
	if !w.inTxn || w.n == 0 {
		return nil, nil
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	id, epoch, err := w.cl.ProducerID(pctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("kafka: producer id: %w", err)
	}
	txnID := TransactionalID(w.opts.TransactionalIDPrefix, w.subtask, w.seq)
	if err := w.checkOngoing(ctx, txnID, id, epoch); err != nil {
		return nil, err
	}
	c := committable{subtask: w.subtask, parallelism: w.parallelism, seq: w.seq, producerID: id, epoch: epoch,
		txnID: txnID, parts: w.takeParts()}
	// The client is done: closing it leaves the transaction open for
	// Commit (franz-go does not end transactions on Close).
	w.cl.Close()
	w.cl, w.inTxn = nil, false
	w.pending[int(w.seq%TransactionSlots)] = w.seq
	w.seq++
	return [][]byte{c.encode()}, nil
}

// checkOngoing makes sure that the broker still has the transaction open
// before it is staged: a transaction the broker aborted while its records
// were written (its timeout ran out, or a broker that does not keep
// transactions across a crash restarted; the client goes on producing
// without noticing) would otherwise be staged and found lost only at the
// commit. Brokers without DescribeTransactions (before Kafka 3.0), or
// that do not let the client describe its transactional id, are trusted.
func (w *txnWriter[T]) checkOngoing(ctx context.Context, txnID string, id int64, epoch int16) error {
	var d kadm.DescribedTransaction
	err := retry(ctx, func() error {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		described, err := kadm.NewClient(w.ctl).DescribeTransactions(dctx, txnID)
		if err != nil {
			return err
		}
		var ok bool
		if d, ok = described[txnID]; !ok {
			return fmt.Errorf("no description of transactional id %s", txnID)
		}
		return d.Err
	})
	switch {
	case err == nil:
	case strings.Contains(err.Error(), "broker is too old"), errors.Is(err, kerr.UnsupportedVersion),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return nil
	default:
		return fmt.Errorf("kafka: describing transaction %s: %w", txnID, err)
	}
	if d.State != "Ongoing" || d.ProducerID != id || d.ProducerEpoch != epoch {
		return fmt.Errorf("kafka: transaction %s (producer %d epoch %d) is no longer open at the checkpoint barrier: the broker has it %s under producer %d epoch %d; "+
			"it aborted the transaction (its timeout of %v ran out, or the broker restarted without keeping open transactions), so the checkpoint fails and its input is read again",
			txnID, id, epoch, d.State, d.ProducerID, d.ProducerEpoch, w.opts.TransactionTimeout)
	}
	return nil
}

// Commit commits staged transactions. Before the writer started (after a
// restore) it commits the committables of the subtasks that map to this
// one and remembers where their numbering ended.
func (w *txnWriter[T]) Commit(ctx context.Context, items [][]byte) error {
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
		if err := w.commit(ctx, c); err != nil {
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
// committed is fine. One the broker no longer has open under c's epoch was
// either committed before (its id was reused since) or aborted by the
// broker, typically by its transaction timeout while the job was down:
// lost tells them apart by the end marker in the transaction's partitions.
func (w *txnWriter[T]) commit(ctx context.Context, c committable) error {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID = c.txnID
	req.ProducerID, req.ProducerEpoch = c.producerID, c.epoch
	req.Commit = true
	err := retry(ctx, func() error {
		resp, err := req.RequestWith(ctx, w.ctl)
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
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, where, oerr := txnOutcome(octx, w.base, c)
		cancel()
		if cerr := ctx.Err(); cerr != nil && out == outcomeUnknown {
			// Cancelled while looking: the transaction is not known lost;
			// the restore commits it again.
			return fmt.Errorf("kafka: committing transaction %s (producer %d epoch %d): %w", c.txnID, c.producerID, c.epoch, cerr)
		}
		if out == outcomeCommitted {
			w.opts.Logger.Debug("kafka: transaction committed earlier", "transactional_id", c.txnID,
				"producer_id", c.producerID, "epoch", c.epoch, "marker", where)
			return nil
		}
		return w.lost(c, out, where, err, oerr)
	default:
		return transient(fmt.Errorf("kafka: committing transaction %s (producer %d epoch %d): %w", c.txnID, c.producerID, c.epoch, err))
	}
}

// lost reports a transaction of a completed checkpoint that cannot be
// committed: an error matching ErrTransactionLost, or under
// LogLostTransaction an ERROR log and nil. Either way it is counted.
func (w *txnWriter[T]) lost(c committable, out outcome, where string, endErr, outcomeErr error) error {
	w.countLost()
	var why string
	switch out {
	case outcomeAborted:
		why = fmt.Sprintf("the broker aborted it (abort marker at %s), so the records it held are lost. "+
			"A broker aborts a transaction left open longer than its transaction timeout (%v here): "+
			"the job was down, or its checkpoint took, longer than that. "+
			"The transaction timeout must exceed the checkpoint interval plus the longest time a failed job needs to restore "+
			"(raise SinkOptions.TransactionTimeout, and the broker's transaction.max.timeout.ms if needed)",
			where, w.opts.TransactionTimeout)
	default:
		reason := "its committable names no partitions (written by an older version)"
		if outcomeErr != nil {
			reason = outcomeErr.Error()
		}
		why = fmt.Sprintf("the broker no longer has it open and whether it committed cannot be told (%s). "+
			"It was committed earlier, or aborted by the broker because it stayed open longer than its transaction timeout (%v here), "+
			"in which case its records are lost", reason, w.opts.TransactionTimeout)
	}
	first := "no partitions recorded"
	if len(c.parts) > 0 {
		p := c.parts[0]
		first = fmt.Sprintf("%d partitions, first records at topic %s partition %d offset %d", len(c.parts), p.topic, p.partition, p.firstOffset)
	}
	if w.opts.LostTransactions == LogLostTransaction {
		w.opts.Logger.Error("kafka: transaction of a completed checkpoint lost", "transactional_id", c.txnID,
			"producer_id", c.producerID, "epoch", c.epoch, "subtask", c.subtask, "transaction", c.seq,
			"written", first, "reason", why, "end_txn", endErr)
		return nil
	}
	return fmt.Errorf("%w: transaction %s (producer %d epoch %d, transaction %d of subtask %d; %s): EndTxn(commit) answered %v: %s",
		ErrTransactionLost, c.txnID, c.producerID, c.epoch, c.seq, c.subtask, first, endErr, why)
}

// outcome is how a transaction that is no longer open ended.
type outcome uint8

const (
	outcomeUnknown outcome = iota
	outcomeCommitted
	outcomeAborted
)

// txnOutcome tells whether the transaction c committed or aborted by the
// first control record of its producer id at or after the first offset it
// wrote in each of its partitions (read uncommitted, with control
// records): the end marker of that very transaction, since a producer id
// writes the marker of one transaction before it writes anything else to
// the partition. It also returns where the marker is. A partition whose
// log no longer reaches the first offset (retention) or holds no marker
// up to its end does not tell; the next one is tried.
func txnOutcome(ctx context.Context, base []kgo.Opt, c committable) (outcome, string, error) {
	var errs []error
	for _, p := range c.parts {
		out, off, err := partitionOutcome(ctx, base, c.producerID, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("topic %s partition %d: %w", p.topic, p.partition, err))
			continue
		}
		return out, fmt.Sprintf("topic %s partition %d offset %d", p.topic, p.partition, off), nil
	}
	if len(errs) == 0 {
		return outcomeUnknown, "", nil
	}
	return outcomeUnknown, "", errors.Join(errs...)
}

// partitionOutcome reads p from its first offset to its end for the first
// control record of producer pid.
func partitionOutcome(ctx context.Context, base []kgo.Opt, pid int64, p txnPart) (outcome, int64, error) {
	opts := append(append([]kgo.Opt(nil), base...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{p.topic: {p.partition: kgo.NewOffset().At(p.firstOffset)}}),
		kgo.KeepControlRecords(), kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return outcomeUnknown, 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, p.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return outcomeUnknown, 0, fmt.Errorf("end offset: %w", err)
	}
	end, _ := ends.Lookup(p.topic, p.partition)
	starts, err := adm.ListStartOffsets(ctx, p.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return outcomeUnknown, 0, fmt.Errorf("start offset: %w", err)
	}
	if start, _ := starts.Lookup(p.topic, p.partition); start.Offset > p.firstOffset {
		return outcomeUnknown, 0, fmt.Errorf("the log starts at offset %d, after the transaction's first record at %d (retention)", start.Offset, p.firstOffset)
	}
	for next := p.firstOffset; next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return outcomeUnknown, 0, fmt.Errorf("no end marker read up to offset %d of %d: %w", next, end.Offset, err)
		}
		if err := fs.Err(); err != nil {
			return outcomeUnknown, 0, err
		}
		for _, r := range fs.Records() {
			next = r.Offset + 1
			if !r.Attrs.IsControl() || r.ProducerID != pid || len(r.Key) < 4 {
				continue
			}
			// A control record's key is version int16, type int16
			// (0 abort, 1 commit).
			if binary.BigEndian.Uint16(r.Key[2:4]) == 1 {
				return outcomeCommitted, r.Offset, nil
			}
			return outcomeAborted, r.Offset, nil
		}
	}
	return outcomeUnknown, 0, fmt.Errorf("no end marker of producer %d between offsets %d and %d: the transaction may still be open", pid, p.firstOffset, end.Offset)
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
