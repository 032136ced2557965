package rabbitmq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// Source defaults.
const (
	DefaultPrefetch       = 4096
	DefaultDedupRetention = time.Minute
	DefaultBuffer         = 8
)

// IDSource says which property identifies a message for deduplication.
type IDSource uint8

const (
	// MessageID uses the message-id property (the default).
	MessageID IDSource = iota
	// CorrelationID uses the correlation-id property, as Flink's
	// RMQSource with usesCorrelationId.
	CorrelationID
	// NoID deduplicates nothing: the source is at-least-once.
	NoID
)

// PrefetchFor returns a prefetch count for a subtask reading rate
// messages per second with checkpoints every interval: twice the messages
// of one interval (acks wait for the checkpoint), within 1..65535.
func PrefetchFor(rate float64, interval time.Duration) int {
	n := 2 * rate * interval.Seconds()
	return int(math.Max(1, math.Min(65535, math.Ceil(n))))
}

// SourceOptions configure a Source. Zero values take the defaults.
type SourceOptions[T any] struct {
	// URL is the broker (default DefaultURL: guest on 127.0.0.1:5672).
	URL string
	// Queue is consumed (required). Unless Passive, it is declared on
	// demand (durable, with QueueArgs) at every (re)connection.
	Queue     string
	Passive   bool
	QueueArgs amqp.Table
	// Prefetch is the channel's QoS prefetch count (default
	// DefaultPrefetch). Messages are acked only when the checkpoint
	// covering them completed, so it must exceed the messages a subtask
	// reads in a checkpoint interval, or the broker waits for each
	// checkpoint; PrefetchFor computes one.
	Prefetch int
	// IDFrom is the property that identifies messages (default
	// MessageID). Messages without it are read at least once.
	IDFrom IDSource
	// DedupRetention is how long the id of a message stays known after
	// the checkpoint covering it completed (or after a restore, for the
	// restored ids): a redelivery within it is dropped (default
	// DefaultDedupRetention). See the package documentation.
	DedupRetention time.Duration
	// Deserializer turns deliveries into values (required).
	Deserializer Deserializer[T]
	// ErrorPolicy handles messages the deserializer rejects (default:
	// fail the job); a dead-lettered message is acked like an emitted one.
	ErrorPolicy weir.ErrorPolicy
	// Buffer is how many delivered batches wait for the task (default
	// DefaultBuffer).
	Buffer int
	// Config is passed to amqp.DialConfig (TLS, SASL, vhost, heartbeat).
	Config amqp.Config
	// Registry, if set, receives the source's metrics
	// (weir_rabbitmq_source_*_total).
	Registry prometheus.Registerer
	// Logger receives connection events (nil discards).
	Logger *slog.Logger
}

func (o *SourceOptions[T]) fill() error {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Queue == "" {
		return optionError("Queue", "must not be empty")
	}
	if o.Deserializer == nil {
		return optionError("Deserializer", "must be set")
	}
	if o.Prefetch == 0 {
		o.Prefetch = DefaultPrefetch
	}
	if o.DedupRetention == 0 {
		o.DedupRetention = DefaultDedupRetention
	}
	if o.Buffer == 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Prefetch < 0 || o.Prefetch > 65535 {
		return optionError("Prefetch", "must be within 0..65535")
	}
	if o.DedupRetention < 0 || o.Buffer < 0 {
		return optionError("DedupRetention, Buffer", "must not be negative")
	}
	if o.IDFrom > NoID {
		return optionError("IDFrom", "unknown")
	}
	o.Logger = discard(o.Logger)
	return nil
}

// Source consumes a RabbitMQ queue; see the package documentation for
// its guarantee. Create it with NewSource and add it with weir.FromSource.
type Source[T any] struct {
	opts    SourceOptions[T]
	optErr  error
	once    sync.Once
	mErr    error
	metrics sourceMetrics

	mu   sync.Mutex
	reg  *registry
	refs int
}

type sourceMetrics struct {
	messages, deadLetters, duplicates, acks, reconnects prometheus.Counter
}

// NewSource returns a source with opts; options are checked when the job
// starts.
func NewSource[T any](opts SourceOptions[T]) *Source[T] {
	s := &Source[T]{opts: opts}
	s.optErr = s.opts.fill()
	s.registerMetrics() // its error is CreateReader's
	return s
}

func (s *Source[T]) registerMetrics() error {
	s.once.Do(func() {
		var errs []error
		c := func(name, help string) prometheus.Counter {
			m, err := counter(s.opts.Registry, "rabbitmq_source", name, help)
			errs = append(errs, err)
			return m
		}
		s.metrics = sourceMetrics{
			messages:    c("messages_total", "Messages emitted by RabbitMQ sources."),
			deadLetters: c("dead_letters_total", "Messages RabbitMQ sources could not decode, sent to the dead-letter output."),
			duplicates:  c("duplicates_dropped_total", "Redeliveries of messages already in Weir's state (known id), dropped."),
			acks:        c("acks_total", "Messages acked after the checkpoint covering them completed."),
			reconnects:  c("reconnects_total", "Connections or channels of RabbitMQ sources re-established after a failure."),
		}
		s.mErr = errors.Join(errs...)
	})
	return s.mErr
}

// rentry is what the registry knows of a message id: completed once the
// checkpoint covering it completed (or it was restored), and from then
// on until expires.
type rentry struct {
	completed bool
	expires   time.Time
}

// registry holds the ids of the messages the readers of one run emitted
// or restored, for all subtasks: a redelivery may go to any of them.
type registry struct {
	mu sync.Mutex
	m  map[string]*rentry
}

func (s *Source[T]) acquire() *registry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 || s.reg == nil {
		s.reg = &registry{m: map[string]*rentry{}}
	}
	s.refs++
	return s.reg
}

func (s *Source[T]) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs == 0 {
		s.reg = nil
	}
}

// CreateReader checks the options, connects (failing if the broker is
// unreachable) and starts the reader's consuming goroutine.
func (s *Source[T]) CreateReader(sc weir.SourceContext) (weir.SourceReader[T], error) {
	if s.optErr != nil {
		return nil, s.optErr
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	restored, err := decodeIDs(sc.Restored)
	if err != nil {
		return nil, err
	}
	r := &reader[T]{src: s, opts: &s.opts, m: &s.metrics, subtask: sc.Subtask,
		log: s.opts.Logger.With("queue", s.opts.Queue, "subtask", sc.Subtask),
		ch:  make(chan batch, s.opts.Buffer), avail: make(chan struct{}, 1), mine: map[string]struct{}{}}
	conn, ch, dels, err := r.open()
	if err != nil {
		return nil, err
	}
	r.reg = s.acquire()
	exp := time.Now().Add(s.opts.DedupRetention)
	r.reg.mu.Lock()
	for _, id := range restored {
		r.reg.m[id] = &rentry{completed: true, expires: exp}
		h := fnv.New32a()
		h.Write([]byte(id))
		if int(h.Sum32()%uint32(sc.Parallelism)) == sc.Subtask {
			r.mine[id] = struct{}{}
		}
	}
	r.reg.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.consume(ctx, conn, ch, dels)
	}()
	return r, nil
}

// batch is a run of deliveries of channel generation gen.
type batch struct {
	gen  uint64
	dels []amqp.Delivery
}

// pend is a delivery of the current channel awaiting its ack: seq is its
// position among this reader's deliveries; foreign marks a redelivery of
// a message another delivery emitted and whose checkpoint has not
// completed yet (it is acked once it has).
type pend struct {
	gen     uint64
	tag     uint64
	seq     uint64
	id      string
	foreign bool
}

type staged struct {
	id   int64
	upTo uint64 // deliveries with seq < upTo precede the barrier
	ids  []string
}

// reader is one subtask's reader. The consuming goroutine owns the
// connection (reconnecting with backoff); the channel it acks on is
// published in mu for the task's goroutine, which runs everything else.
type reader[T any] struct {
	src     *Source[T]
	opts    *SourceOptions[T]
	m       *sourceMetrics
	log     *slog.Logger
	subtask int
	reg     *registry

	ch     chan batch
	avail  chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool

	gen  atomic.Uint64 // generation of the current channel
	mu   sync.Mutex
	amqp *amqp.Channel // current channel (mu)

	cur     batch
	seq     uint64
	pend    []pend
	epochID []string
	staged  []staged
	mine    map[string]struct{} // ids this subtask carries in checkpoints
}

// open connects, declares the queue, sets QoS and starts consuming.
func (r *reader[T]) open() (*amqp.Connection, *amqp.Channel, <-chan amqp.Delivery, error) {
	o := r.opts
	conn, err := dial(o.URL, o.Config)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(what string, err error) (*amqp.Connection, *amqp.Channel, <-chan amqp.Delivery, error) {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("rabbitmq: %s queue %s: %w", what, o.Queue, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		return fail("opening a channel for", err)
	}
	if o.Passive {
		_, err = ch.QueueDeclarePassive(o.Queue, true, false, false, false, o.QueueArgs)
	} else {
		_, err = ch.QueueDeclare(o.Queue, true, false, false, false, o.QueueArgs)
	}
	if err != nil {
		return fail("declaring", err)
	}
	if err := ch.Qos(o.Prefetch, 0, false); err != nil {
		return fail("setting QoS on", err)
	}
	dels, err := ch.Consume(o.Queue, "", false, false, false, false, nil)
	if err != nil {
		return fail("consuming", err)
	}
	r.mu.Lock()
	r.amqp = ch
	r.gen.Add(1)
	r.mu.Unlock()
	return conn, ch, dels, nil
}

// consume forwards deliveries in batches until ctx ends; when the channel
// or connection fails it reconnects with backoff. The delivery tags of
// the old channel die with it: the broker requeues its unacked messages.
func (r *reader[T]) consume(ctx context.Context, conn *amqp.Connection, ch *amqp.Channel, dels <-chan amqp.Delivery) {
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		gen := r.gen.Load()
		r.forward(ctx, gen, dels)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("rabbitmq: channel closed, reconnecting")
		conn.Close()
		conn = nil
		for attempt := 0; conn == nil; attempt++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff(attempt)):
			}
			c, _, d, err := r.open()
			if err != nil {
				r.log.Warn("rabbitmq: reconnect failed", "err", err, "attempt", attempt+1)
				continue
			}
			conn, dels = c, d
			r.m.reconnects.Inc()
			r.log.Info("rabbitmq: reconnected")
		}
	}
}

// forward hands deliveries to the task in batches until dels closes or
// ctx ends.
func (r *reader[T]) forward(ctx context.Context, gen uint64, dels <-chan amqp.Delivery) {
	for {
		var b batch
		b.gen = gen
		select {
		case <-ctx.Done():
			return
		case d, ok := <-dels:
			if !ok {
				return
			}
			b.dels = append(b.dels, d)
		}
	more:
		for len(b.dels) < 256 {
			select {
			case d, ok := <-dels:
				if !ok {
					break more
				}
				b.dels = append(b.dels, d)
			default:
				break more
			}
		}
		select {
		case r.ch <- b:
		case <-ctx.Done():
			return
		}
		select {
		case r.avail <- struct{}{}:
		default:
		}
	}
}

// Available is signalled when deliveries wait.
func (r *reader[T]) Available() <-chan struct{} { return r.avail }

func (r *reader[T]) idOf(d *amqp.Delivery) string {
	switch r.opts.IDFrom {
	case MessageID:
		return d.MessageId
	case CorrelationID:
		return d.CorrelationId
	}
	return ""
}

// Poll emits up to a few batches of deliveries, dropping known ids.
func (r *reader[T]) Poll(ctx context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	for range 4 {
		if len(r.cur.dels) == 0 {
			select {
			case r.cur = <-r.ch:
			default:
				return weir.NothingAvailable, nil
			}
		}
		if r.cur.gen != r.gen.Load() {
			// Delivered on a channel that has died: the broker requeued
			// them and delivers them again on the new one.
			r.cur.dels = nil
			continue
		}
		// Decide under the registry's lock, emit outside it: emitting
		// runs the operators chained after the source, which may block.
		emit := r.cur.dels[:0]
		r.reg.mu.Lock()
		for i := range r.cur.dels {
			d := r.cur.dels[i]
			id := r.idOf(&d)
			p := pend{gen: r.cur.gen, tag: d.DeliveryTag, seq: r.seq, id: id}
			r.seq++
			if id != "" {
				if e, ok := r.reg.m[id]; ok {
					r.m.duplicates.Inc()
					p.foreign = !e.completed
					r.pend = append(r.pend, p)
					continue
				}
				r.reg.m[id] = &rentry{}
				r.mine[id] = struct{}{}
				r.epochID = append(r.epochID, id)
			}
			r.pend = append(r.pend, p)
			emit = append(emit, d)
		}
		r.reg.mu.Unlock()
		for i := range emit {
			if err := r.emit(out, &emit[i]); err != nil {
				return weir.NothingAvailable, err
			}
		}
		clear(r.cur.dels)
		r.cur.dels = nil
	}
	return weir.MoreAvailable, nil
}

func (r *reader[T]) emit(out *weir.SourceOutput[T], d *amqp.Delivery) error {
	v, err := r.opts.Deserializer.Deserialize(d)
	if err != nil {
		where := fmt.Sprintf("queue %s message-id %q", r.opts.Queue, d.MessageId)
		if d.MessageId == "" {
			where = fmt.Sprintf("queue %s delivery %d", r.opts.Queue, d.DeliveryTag)
		}
		if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, weir.DeadLetter{Source: where, Reason: err.Error(), Raw: d.Body}); err != nil {
			return fmt.Errorf("rabbitmq: %w", err)
		}
		r.m.deadLetters.Inc()
		return nil
	}
	ts := weir.NoTimestamp
	if !d.Timestamp.IsZero() {
		ts = d.Timestamp.UnixMilli()
	}
	out.CollectWithTimestamp(v, ts)
	r.m.messages.Inc()
	return nil
}

// SnapshotState stages the deliveries since the last barrier and stores
// the ids this subtask emitted (not yet acked, or acked within
// DedupRetention) and the restored ids it carries.
func (r *reader[T]) SnapshotState(id int64) ([][]byte, error) {
	r.staged = append(r.staged, staged{id: id, upTo: r.seq, ids: r.epochID})
	r.epochID = nil
	now := time.Now()
	ids := make([]string, 0, len(r.mine))
	r.reg.mu.Lock()
	for q := range r.mine {
		e := r.reg.m[q]
		if e == nil || (e.completed && now.After(e.expires)) {
			delete(r.mine, q)
			delete(r.reg.m, q)
			continue
		}
		ids = append(ids, q)
	}
	r.reg.mu.Unlock()
	return [][]byte{encodeIDs(ids)}, nil
}

// NotifyCheckpointComplete marks the ids emitted before checkpoint id's
// barrier completed and acks their deliveries: with multiple=true up to
// the last tag before the first delivery that may not be acked yet, one
// by one after it.
func (r *reader[T]) NotifyCheckpointComplete(id int64) error {
	var upTo uint64
	n := 0
	exp := time.Now().Add(r.opts.DedupRetention)
	r.mu.Lock()
	ch, gen := r.amqp, r.gen.Load()
	r.mu.Unlock()
	// Tags are per channel: those of a dead channel cannot be acked (the
	// broker requeued their messages; known ids among the redeliveries
	// are dropped, and acked on the new channel).
	live := r.pend[:0]
	for _, p := range r.pend {
		if p.gen == gen {
			live = append(live, p)
		}
	}
	clear(r.pend[len(live):])
	r.pend = live

	// Under the registry's lock: mark the ids completed and decide which
	// deliveries may be acked. The acks go out after it.
	ok := make([]bool, len(r.pend))
	r.reg.mu.Lock()
	for _, st := range r.staged {
		if st.id > id {
			break
		}
		upTo = st.upTo
		for _, q := range st.ids {
			if e := r.reg.m[q]; e != nil {
				e.completed, e.expires = true, exp
			}
		}
		n++
	}
	for i, p := range r.pend {
		if p.foreign {
			e := r.reg.m[p.id]
			ok[i] = e == nil || e.completed
		} else {
			ok[i] = p.seq < upTo
		}
	}
	r.reg.mu.Unlock()
	r.staged = r.staged[n:]

	i := 0
	for i < len(r.pend) && ok[i] {
		i++
	}
	acked := 0
	var err error
	if i > 0 {
		err = ch.Ack(r.pend[i-1].tag, true)
		acked += i
	}
	kept := r.pend[:0]
	for j := i; j < len(r.pend); j++ {
		p := r.pend[j]
		if err == nil && ok[j] {
			err = ch.Ack(p.tag, false)
			acked++
			continue
		}
		kept = append(kept, p)
	}
	clear(r.pend[len(kept):])
	r.pend = kept
	if err != nil {
		// The channel died: its deliveries come again, and the known ids
		// among them are dropped (and acked on the new channel).
		r.log.Warn("rabbitmq: ack failed", "err", err)
		r.pend = nil
		return nil
	}
	r.m.acks.Add(float64(acked))
	return nil
}

// Close stops consuming and closes the connection; unacked messages go
// back to the queue.
func (r *reader[T]) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.wg.Wait()
	r.src.release()
	return nil
}

// Ids are stored as one item per subtask: a format byte (1), the count,
// then each id with its length, all lengths uvarints.
func encodeIDs(ids []string) []byte {
	b := binary.AppendUvarint([]byte{1}, uint64(len(ids)))
	for _, q := range ids {
		b = binary.AppendUvarint(b, uint64(len(q)))
		b = append(b, q...)
	}
	return b
}

func decodeIDs(items [][]byte) ([]string, error) {
	var all []string
	bad := func(what string) error {
		return fmt.Errorf("rabbitmq: restored source state: %w: %s", codec.ErrCorrupt, what)
	}
	for _, it := range items {
		if len(it) == 0 || it[0] != 1 {
			return nil, bad("unknown format")
		}
		it = it[1:]
		n, k := binary.Uvarint(it)
		if k <= 0 || n > uint64(len(it)) {
			return nil, bad("count")
		}
		it = it[k:]
		for range n {
			l, k := binary.Uvarint(it)
			if k <= 0 || l > uint64(len(it)-k) {
				return nil, bad("id")
			}
			all = append(all, string(it[k:k+int(l)]))
			it = it[k+int(l):]
		}
		if len(it) != 0 {
			return nil, bad("trailing bytes")
		}
	}
	return all, nil
}
