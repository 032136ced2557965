package nats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// Source defaults.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 20000
	DefaultFetchBatch    = 256
	DefaultFetchWait     = 500 * time.Millisecond
	DefaultBuffer        = 8
)

// SourceOptions configure a Source. Zero values take the defaults.
type SourceOptions[T any] struct {
	// URL is the server (default nats.DefaultURL, nats://127.0.0.1:4222).
	URL string
	// Stream is the JetStream stream read (required).
	Stream string
	// Subjects, if set, create the stream on demand (file storage,
	// limits retention) with these subjects when it does not exist; an
	// existing stream is used as it is.
	Subjects []string
	// Consumer is the durable pull consumer's name (required). It is
	// created on demand (explicit acks, AckWait, MaxAckPending,
	// FilterSubjects, delivering from the start of the stream) or
	// updated to these settings. Every subtask of the source fetches from
	// it; a job owns its consumer (two jobs sharing one would split the
	// messages between them).
	Consumer string
	// FilterSubjects restrict the consumer to these subjects.
	FilterSubjects []string
	// Deserializer turns messages into values (required).
	Deserializer Deserializer[T]
	// ErrorPolicy handles messages the deserializer rejects (default:
	// fail the job). A dead-lettered message is acked like an emitted one.
	ErrorPolicy weir.ErrorPolicy
	// AckWait is the consumer's ack wait (default DefaultAckWait). A
	// message is acked only after the checkpoint that covers it
	// completed; the source keeps messages that wait longer than a third
	// of AckWait alive with in-progress acks, but AckWait should exceed
	// the checkpoint interval plus the time a checkpoint takes. After a
	// crash, the messages the failed run fetched and had not acked come
	// back after AckWait: a short AckWait shortens recovery.
	AckWait time.Duration
	// MaxAckPending bounds the messages fetched and not yet acked, over
	// all subtasks (default DefaultMaxAckPending). Since acks wait for a
	// checkpoint, it must exceed the messages read in a checkpoint
	// interval, or the source stalls until each checkpoint completes.
	MaxAckPending int
	// FetchBatch is the most messages one fetch asks for (default
	// DefaultFetchBatch); FetchWait how long a fetch waits for them
	// (default DefaultFetchWait).
	FetchBatch int
	FetchWait  time.Duration
	// Buffer is how many fetched batches wait for the task (default
	// DefaultBuffer): a full buffer stops fetching (backpressure).
	Buffer int
	// ConnectOptions are passed to nats.Connect (credentials, TLS); the
	// source sets reconnection with backoff before them.
	ConnectOptions []natsgo.Option
	// Registry, if set, receives the source's metrics
	// (weir_nats_source_*_total); sources may share it.
	Registry prometheus.Registerer
	// Logger receives connection events and warnings (nil discards).
	Logger *slog.Logger
}

func (o *SourceOptions[T]) fill() error {
	if o.URL == "" {
		o.URL = natsgo.DefaultURL
	}
	if o.Stream == "" {
		return optionError("Stream", "must not be empty")
	}
	if o.Consumer == "" {
		return optionError("Consumer", "must not be empty")
	}
	if o.Deserializer == nil {
		return optionError("Deserializer", "must be set")
	}
	if o.AckWait == 0 {
		o.AckWait = DefaultAckWait
	}
	if o.MaxAckPending == 0 {
		o.MaxAckPending = DefaultMaxAckPending
	}
	if o.FetchBatch == 0 {
		o.FetchBatch = DefaultFetchBatch
	}
	if o.FetchWait == 0 {
		o.FetchWait = DefaultFetchWait
	}
	if o.Buffer == 0 {
		o.Buffer = DefaultBuffer
	}
	if o.AckWait < 0 || o.MaxAckPending < 0 || o.FetchBatch < 0 || o.FetchWait < 0 || o.Buffer < 0 {
		return optionError("AckWait, MaxAckPending, FetchBatch, FetchWait, Buffer", "must not be negative")
	}
	o.Logger = discard(o.Logger)
	return nil
}

// Source reads a JetStream stream through a durable pull consumer, into
// Weir's state exactly once (see the package documentation). Create it
// with NewSource and add it with weir.FromSource.
type Source[T any] struct {
	opts    SourceOptions[T]
	optErr  error
	metrics sourceMetrics
	once    sync.Once
	mErr    error

	// reg is shared by the readers of one run of the job; refs counts
	// them, and a run that starts with none open gets a new registry.
	mu   sync.Mutex
	reg  *registry
	refs int
	ids  uint64 // readers created: the last reader's id
}

type sourceMetrics struct {
	messages, deadLetters, duplicates, acks, fetchErrors, disconnects prometheus.Counter
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
		reg := s.opts.Registry
		var errs []error
		c := func(name, help string) prometheus.Counter {
			m, err := counter(reg, "nats_source", name, help)
			errs = append(errs, err)
			return m
		}
		s.metrics = sourceMetrics{
			messages:    c("messages_total", "Messages emitted by JetStream sources."),
			deadLetters: c("dead_letters_total", "Messages JetStream sources could not decode, sent to the dead-letter output."),
			duplicates:  c("duplicates_dropped_total", "Redeliveries of messages already in Weir's state, dropped."),
			acks:        c("acks_total", "Messages acked after the checkpoint covering them completed."),
			fetchErrors: c("fetch_errors_total", "Failed fetches (retried with backoff)."),
			disconnects: c("disconnects_total", "Connections of JetStream sources lost (the client reconnects with backoff)."),
		}
		s.mErr = errors.Join(errs...)
	})
	return s.mErr
}

// entry is what the registry knows of a stream sequence.
type entry struct {
	msg      jetstream.Msg // latest delivery (nil for a restored one not yet redelivered)
	at       time.Time     // last delivery or in-progress ack
	acked    bool
	restored bool // in the restored checkpoint: a redelivery is a duplicate
	// fetcher is the id of the reader whose fetch created the entry: it
	// holds the copy that is emitted (0 for a restored one). When it
	// closes, an entry neither acked nor restored is forgotten (see
	// reader.Close).
	fetcher uint64
}

// registry is the stream sequences the readers of one run fetched or
// restored and the server may still deliver (those above the consumer's
// ack floor): one map for all subtasks, since a redelivery may go to any
// of them.
type registry struct {
	mu    sync.Mutex
	m     map[uint64]*entry
	floor atomic.Uint64
}

// acquire returns the registry of the current run and a new reader id.
func (s *Source[T]) acquire() (*registry, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 || s.reg == nil {
		s.reg = &registry{m: map[uint64]*entry{}}
	}
	s.refs++
	s.ids++
	return s.reg, s.ids
}

func (s *Source[T]) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		s.reg = nil
	}
}

// CreateReader connects to the server, creates the stream and the
// consumer if needed, and starts the reader's fetch goroutine.
func (s *Source[T]) CreateReader(sc weir.SourceContext) (weir.SourceReader[T], error) {
	if s.optErr != nil {
		return nil, s.optErr
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	o := s.opts
	restored, err := decodeSeqs(sc.Restored)
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("stream", o.Stream, "consumer", o.Consumer, "subtask", sc.Subtask)
	nc, err := connect(o.URL, fmt.Sprintf("weir source %s/%s #%d", o.Stream, o.Consumer, sc.Subtask), log, o.ConnectOptions, s.metrics.disconnects)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := s.consumer(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	reg, id := s.acquire()
	r := &reader[T]{
		src: s, opts: &s.opts, m: &s.metrics, log: log, nc: nc, cons: cons, reg: reg, id: id,
		subtask: sc.Subtask, par: sc.Parallelism,
		ch: make(chan []fetched, o.Buffer), avail: make(chan struct{}, 1),
	}
	reg.mu.Lock()
	for _, q := range restored {
		if e, ok := reg.m[q]; ok {
			e.restored = true
		} else {
			reg.m[q] = &entry{restored: true}
		}
		if int(q%uint64(sc.Parallelism)) == sc.Subtask {
			r.owned = append(r.owned, q)
		}
	}
	reg.mu.Unlock()
	fctx, fcancel := context.WithCancel(context.Background())
	r.cancel = fcancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.fetchLoop(fctx)
	}()
	return r, nil
}

// consumer returns the durable consumer, creating the stream and the
// consumer as needed.
func (s *Source[T]) consumer(ctx context.Context, nc *natsgo.Conn) (jetstream.Consumer, error) {
	o := s.opts
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	if _, err := js.Stream(ctx, o.Stream); errors.Is(err, jetstream.ErrStreamNotFound) && len(o.Subjects) > 0 {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: o.Stream, Subjects: o.Subjects, Storage: jetstream.FileStorage})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil, fmt.Errorf("nats: creating stream %s: %w", o.Stream, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("nats: stream %s: %w", o.Stream, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable: o.Consumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: o.AckWait,
		MaxAckPending: o.MaxAckPending, DeliverPolicy: jetstream.DeliverAllPolicy, MaxDeliver: -1,
		MaxRequestBatch: o.FetchBatch,
	}
	if len(o.FilterSubjects) == 1 {
		cfg.FilterSubject = o.FilterSubjects[0]
	} else {
		cfg.FilterSubjects = o.FilterSubjects
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("nats: consumer %s of stream %s: %w", o.Consumer, o.Stream, err)
	}
	return cons, nil
}

// fetched is a message handed to the task with its metadata, parsed
// once by the fetch goroutine (err if it has none).
type fetched struct {
	msg jetstream.Msg
	md  *jetstream.MsgMetadata
	err error
}

// staged are the sequences emitted before checkpoint id's barrier, acked
// once it completes.
type staged struct {
	id   int64
	seqs []uint64
}

// reader is one subtask's reader. The fetch goroutine (owned by the
// reader: Close cancels and waits for it) fetches, drops duplicates and
// hands batches over ch; everything else runs on the task's goroutine.
type reader[T any] struct {
	src     *Source[T]
	opts    *SourceOptions[T]
	m       *sourceMetrics
	log     *slog.Logger
	nc      *natsgo.Conn
	cons    jetstream.Consumer
	reg     *registry
	id      uint64 // unique to the Source: entry.fetcher
	subtask int
	par     int

	ch     chan []fetched
	avail  chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool

	cur []fetched // batch being emitted
	// emitted holds what this subtask emitted, or was given by the
	// restored checkpoint (owned), that the consumer's ack floor has not
	// passed: it goes into every checkpoint.
	emitted []uint64
	owned   []uint64
	epoch   []uint64 // emitted since the last barrier
	staged  []staged
	retry   []uint64 // acks that failed, sent again at the next completion
	msg     Message
}

// Available is signalled when a fetched batch is waiting.
func (r *reader[T]) Available() <-chan struct{} { return r.avail }

// Poll emits up to a few fetched batches.
func (r *reader[T]) Poll(ctx context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	for range 4 {
		if len(r.cur) == 0 {
			select {
			case b := <-r.ch:
				r.cur = b
			default:
				return weir.NothingAvailable, nil
			}
		}
		for len(r.cur) > 0 {
			if err := r.emit(out, r.cur[0]); err != nil {
				return weir.NothingAvailable, err
			}
			r.cur[0] = fetched{}
			r.cur = r.cur[1:]
		}
	}
	return weir.MoreAvailable, nil
}

func (r *reader[T]) emit(out *weir.SourceOutput[T], f fetched) error {
	jm, md := f.msg, f.md
	if f.err != nil {
		return fmt.Errorf("nats: message without JetStream metadata: %w", f.err)
	}
	m := &r.msg
	*m = Message{Subject: jm.Subject(), Data: jm.Data(), Header: jm.Headers(), Stream: md.Stream,
		Sequence: md.Sequence.Stream, Timestamp: md.Timestamp, NumDelivered: md.NumDelivered}
	v, derr := r.opts.Deserializer.Deserialize(m)
	if derr != nil {
		if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, weir.DeadLetter{
			Source: fmt.Sprintf("stream %s seq %d", md.Stream, md.Sequence.Stream),
			Reason: derr.Error(), Raw: m.Data,
		}); err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		r.m.deadLetters.Inc()
	} else {
		out.CollectWithTimestamp(v, md.Timestamp.UnixMilli())
		r.m.messages.Inc()
	}
	r.epoch = append(r.epoch, md.Sequence.Stream)
	r.emitted = append(r.emitted, md.Sequence.Stream)
	return nil
}

// SnapshotState stores the sequences this subtask emitted (or owns from
// the restored checkpoint) above the consumer's ack floor: after a
// restore, a redelivery of any of them is dropped.
func (r *reader[T]) SnapshotState(id int64) ([][]byte, error) {
	r.staged = append(r.staged, staged{id: id, seqs: r.epoch})
	r.epoch = nil
	floor := r.reg.floor.Load()
	above := func(q uint64) bool { return q <= floor }
	r.emitted = slices.DeleteFunc(r.emitted, above)
	r.owned = slices.DeleteFunc(r.owned, above)
	all := make([]uint64, 0, len(r.emitted)+len(r.owned))
	all = append(append(all, r.emitted...), r.owned...)
	slices.Sort(all)
	all = slices.Compact(all)
	return [][]byte{encodeSeqs(all)}, nil
}

// NotifyCheckpointComplete acks the messages emitted before checkpoint
// id's barrier (and earlier ones whose acks failed).
func (r *reader[T]) NotifyCheckpointComplete(id int64) error {
	n := 0
	for _, st := range r.staged {
		if st.id > id {
			break
		}
		n++
	}
	if n == 0 && len(r.retry) == 0 {
		return nil
	}
	todo := r.retry
	r.retry = nil
	for _, st := range r.staged[:n] {
		todo = append(todo, st.seqs...)
	}
	r.staged = slices.Delete(r.staged, 0, n)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	acked := 0
	for _, q := range todo {
		e := r.reg.m[q]
		if e == nil || e.acked || e.msg == nil {
			continue // at or below the ack floor: acked already
		}
		if err := e.msg.Ack(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			r.retry = append(r.retry, q)
			continue
		}
		e.acked = true
		acked++
	}
	r.m.acks.Add(float64(acked))
	if len(r.retry) > 0 {
		r.log.Warn("nats: acks failed, retried after the next checkpoint", "count", len(r.retry))
	}
	return nil
}

// fetchLoop fetches batches until ctx ends, retrying failures with
// backoff; it also follows the consumer's ack floor and keeps messages
// awaiting their checkpoint alive.
func (r *reader[T]) fetchLoop(ctx context.Context) {
	o := r.opts
	fails := 0
	var lastInfo, lastProgress time.Time
	for ctx.Err() == nil {
		if time.Since(lastInfo) > time.Second || fails > 0 {
			ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if info, err := r.cons.Info(ictx); err == nil {
				r.prune(info.AckFloor.Stream)
			}
			cancel()
			lastInfo = time.Now()
		}
		if time.Since(lastProgress) > o.AckWait/6 {
			r.keepAlive(o.AckWait / 3)
			lastProgress = time.Now()
		}
		batch, err := r.cons.Fetch(o.FetchBatch, jetstream.FetchMaxWait(o.FetchWait))
		var msgs []jetstream.Msg
		if err == nil {
			for m := range batch.Messages() {
				msgs = append(msgs, m)
			}
			err = batch.Error()
		}
		if err != nil && !errors.Is(err, natsgo.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			r.m.fetchErrors.Inc()
			r.log.Warn("nats: fetch failed, retrying", "err", err, "attempt", fails+1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff(fails)):
			}
			fails++
		} else {
			fails = 0
		}
		kept := r.dedup(msgs)
		if len(kept) == 0 {
			continue
		}
		select {
		case r.ch <- kept:
		case <-ctx.Done():
			return
		}
		select {
		case r.avail <- struct{}{}:
		default:
		}
	}
}

// dedup records msgs in the registry and drops the ones it knew: a
// redelivery of a message in the restored checkpoint is acked at once
// (that checkpoint completed); a redelivery of one fetched in this run is
// dropped and its entry keeps the latest delivery, which the subtask that
// emitted it acks when its checkpoint completes.
func (r *reader[T]) dedup(msgs []jetstream.Msg) []fetched {
	now := time.Now()
	floor := r.reg.floor.Load()
	kept := make([]fetched, 0, len(msgs))
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			kept = append(kept, fetched{msg: m, err: err}) // emit fails the job, naming the error
			continue
		}
		q := md.Sequence.Stream
		e, ok := r.reg.m[q]
		switch {
		case q <= floor:
			_ = m.Ack()
			r.m.duplicates.Inc()
			continue
		case !ok:
			r.reg.m[q] = &entry{msg: m, at: now, fetcher: r.id}
			kept = append(kept, fetched{msg: m, md: md})
			continue
		}
		r.m.duplicates.Inc()
		e.msg, e.at = m, now
		if e.restored || e.acked {
			if m.Ack() == nil {
				e.acked = true
			}
		}
	}
	return kept
}

// prune forgets the sequences at or below the consumer's ack floor: the
// server will not deliver them again.
func (r *reader[T]) prune(floor uint64) {
	if floor <= r.reg.floor.Load() {
		return
	}
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	if floor <= r.reg.floor.Load() {
		return
	}
	r.reg.floor.Store(floor)
	for q := range r.reg.m {
		if q <= floor {
			delete(r.reg.m, q)
		}
	}
}

// keepAlive sends in-progress acks for the messages delivered more than
// age ago and not acked, so the server does not redeliver them while
// their checkpoint is pending.
func (r *reader[T]) keepAlive(age time.Duration) {
	now := time.Now()
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	for _, e := range r.reg.m {
		if e.msg != nil && !e.acked && now.Sub(e.at) > age {
			if e.msg.InProgress() == nil {
				e.at = now
			}
		}
	}
}

// Close stops the fetch goroutine and closes the connection. Messages
// not acked are redelivered after AckWait.
//
// It also forgets the registry entries of the messages it fetched that
// are neither acked nor in the restored checkpoint: no completed
// checkpoint holds them (they are handed over, emitted after the last
// barrier, or awaiting a checkpoint that will not complete in this run),
// so their redeliveries must be emitted. The runtime closes every reader
// of a failed run before it opens the next (the registry is then new),
// but a reader of the next run opened before this one closed shares the
// registry: it would drop those redeliveries as duplicates forever.
func (r *reader[T]) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.wg.Wait()
	r.nc.Close()
	r.reg.mu.Lock()
	for q, e := range r.reg.m {
		if e.fetcher == r.id && !e.acked && !e.restored {
			delete(r.reg.m, q)
		}
	}
	r.reg.mu.Unlock()
	r.src.release()
	return nil
}

// Sequences are stored as one item per subtask: a format byte (1), the
// count, then the sorted sequences as deltas, all uvarints.
func encodeSeqs(seqs []uint64) []byte {
	b := binary.AppendUvarint([]byte{1}, uint64(len(seqs)))
	var prev uint64
	for _, q := range seqs {
		b = binary.AppendUvarint(b, q-prev)
		prev = q
	}
	return b
}

func decodeSeqs(items [][]byte) ([]uint64, error) {
	var all []uint64
	for _, it := range items {
		if len(it) == 0 || it[0] != 1 {
			return nil, fmt.Errorf("nats: restored source state: %w: unknown format", codec.ErrCorrupt)
		}
		it = it[1:]
		n, k := binary.Uvarint(it)
		if k <= 0 || n > uint64(len(it)) {
			return nil, fmt.Errorf("nats: restored source state: %w: count", codec.ErrCorrupt)
		}
		it = it[k:]
		var prev uint64
		for range n {
			d, k := binary.Uvarint(it)
			if k <= 0 {
				return nil, fmt.Errorf("nats: restored source state: %w: sequence", codec.ErrCorrupt)
			}
			prev += d
			all = append(all, prev)
			it = it[k:]
		}
		if len(it) != 0 {
			return nil, fmt.Errorf("nats: restored source state: %w: %d trailing bytes", codec.ErrCorrupt, len(it))
		}
	}
	return all, nil
}
