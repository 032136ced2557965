package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/replayid"
)

// Sink defaults.
const (
	DefaultMaxInFlight     = 4096
	DefaultPublishTimeout  = 5 * time.Second
	DefaultDuplicateWindow = 2 * time.Minute
)

// SinkOptions configure a Sink. Zero values take the defaults.
type SinkOptions[T any] struct {
	// URL is the server (default nats.DefaultURL).
	URL string
	// Subject every record is published to; SubjectOf, if set, picks a
	// subject per record instead. One of them is required.
	Subject   string
	SubjectOf func(v T) string
	// Serializer turns records into payloads (required).
	Serializer Serializer[T]
	// MsgID, if set, derives the Nats-Msg-Id of a record from the record
	// (for example its key and sequence): a record written again after a
	// restore, in any order and by any subtask, carries the same id, and
	// the stream drops it within its duplicate window. Without it the id
	// is IDPrefix/subtask/chain/seq, seq being the record's position in
	// the subtask's input since the chain began (stored in every
	// checkpoint; see internal/replayid): the same id only if the job
	// replays the same records in the same order to the same subtask (a
	// deterministic pipeline from a replayable source such as Kafka or
	// files), wherever the checkpoint barriers fall.
	MsgID func(v T) string
	// IDPrefix starts the default message ids (default the sink
	// operator's name); make it unique to the job.
	IDPrefix string
	// Stream and Subjects, if both set, create the stream on demand
	// (file storage, duplicate window DuplicateWindow) when it does not
	// exist.
	Stream          string
	Subjects        []string
	DuplicateWindow time.Duration
	// MaxInFlight bounds the publishes awaiting their ack (default
	// DefaultMaxInFlight); PublishTimeout is how long a publish waits
	// for its ack before it is sent again with the same id (default
	// DefaultPublishTimeout).
	MaxInFlight    int
	PublishTimeout time.Duration
	// DeadLetters, if set, receives the records the sink cannot write
	// because of the record itself (the serializer fails, the server
	// rejects the message: too large, ...) as weir.DeadLetter, and the
	// job goes on; without it such a record fails the job. It is flushed
	// with the sink (the same guarantee) and closed with it.
	DeadLetters weir.SinkWriter[weir.DeadLetter]
	// ConnectOptions are passed to nats.Connect.
	ConnectOptions []natsgo.Option
	// Registry, if set, receives the sink's metrics
	// (weir_nats_sink_*_total).
	Registry prometheus.Registerer
	// Logger receives connection events and retries (nil discards).
	Logger *slog.Logger
}

func (o *SinkOptions[T]) fill() error {
	if o.URL == "" {
		o.URL = natsgo.DefaultURL
	}
	if o.Subject == "" && o.SubjectOf == nil {
		return optionError("Subject", "must not be empty (or set SubjectOf)")
	}
	if o.Serializer == nil {
		return optionError("Serializer", "must be set")
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.PublishTimeout == 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.MaxInFlight < 0 || o.PublishTimeout < 0 || o.DuplicateWindow < 0 {
		return optionError("MaxInFlight, PublishTimeout, DuplicateWindow", "must not be negative")
	}
	o.Logger = discard(o.Logger)
	return nil
}

// Sink publishes records to JetStream with a Nats-Msg-Id each; see the
// package documentation for the guarantee. Create it with NewSink and add
// it with Stream.SinkTo.
type Sink[T any] struct {
	opts    SinkOptions[T]
	optErr  error
	once    sync.Once
	mErr    error
	metrics sinkMetrics
	// run keeps the default message ids of this sink's jobs apart from
	// those of other sinks (replayid.NewRun).
	run string
}

type sinkMetrics struct {
	published, duplicates, retries, deadLetters, disconnects prometheus.Counter
}

// NewSink returns a sink with opts; options are checked when the job
// starts.
func NewSink[T any](opts SinkOptions[T]) *Sink[T] {
	s := &Sink[T]{opts: opts, run: replayid.NewRun()}
	s.optErr = s.opts.fill()
	s.registerMetrics() // its error is CreateWriter's
	return s
}

func (s *Sink[T]) registerMetrics() error {
	s.once.Do(func() {
		var errs []error
		c := func(name, help string) prometheus.Counter {
			m, err := counter(s.opts.Registry, "nats_sink", name, help)
			errs = append(errs, err)
			return m
		}
		s.metrics = sinkMetrics{
			published:   c("published_total", "Messages JetStream sinks published and the server acknowledged."),
			duplicates:  c("duplicates_total", "Publishes the server acknowledged as duplicates (Nats-Msg-Id seen within the duplicate window)."),
			retries:     c("retries_total", "Publishes sent again after a timeout or a lost connection."),
			deadLetters: c("dead_letters_total", "Records JetStream sinks could not write, sent to the dead-letter sink."),
			disconnects: c("disconnects_total", "Connections of JetStream sinks lost (the client reconnects with backoff)."),
		}
		s.mErr = errors.Join(errs...)
	})
	return s.mErr
}

// CreateWriter connects and creates the stream if asked to.
func (s *Sink[T]) CreateWriter(sc weir.SinkContext) (weir.SinkWriter[T], error) {
	if s.optErr != nil {
		return nil, s.optErr
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	o := &s.opts
	log := o.Logger.With("subtask", sc.Subtask)
	nc, err := connect(o.URL, fmt.Sprintf("weir sink %s #%d", sc.OperatorName, sc.Subtask), log, o.ConnectOptions, s.metrics.disconnects)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(o.PublishTimeout),
		jetstream.WithPublishAsyncMaxPending(o.MaxInFlight+1))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	if o.Stream != "" && len(o.Subjects) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := js.Stream(ctx, o.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: o.Stream, Subjects: o.Subjects,
				Storage: jetstream.FileStorage, Duplicates: o.DuplicateWindow})
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				err = nil
			}
		}
		cancel()
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("nats: stream %s: %w", o.Stream, err)
		}
	}
	prefix := o.IDPrefix
	if prefix == "" {
		prefix = sc.OperatorName
	}
	return &writer[T]{opts: o, m: &s.metrics, log: log, nc: nc, js: js,
		ids: replayid.New(prefix, sc.Subtask, sc.Parallelism, s.run)}, nil
}

// inflight is a publish awaiting its ack; f is nil if it must be sent
// (again).
type inflight[T any] struct {
	msg *natsgo.Msg
	f   jetstream.PubAckFuture
}

// writer is one subtask's writer; all its methods run on the task's
// goroutine.
type writer[T any] struct {
	opts *SinkOptions[T]
	m    *sinkMetrics
	log  *slog.Logger
	nc   *natsgo.Conn
	js   jetstream.JetStream
	// ids numbers the records for the default message ids.
	ids   *replayid.Seq
	fly   []inflight[T]
	idBuf []byte
}

// Write serializes v and publishes it asynchronously; when MaxInFlight
// publishes await their acks it waits for them.
func (w *writer[T]) Write(ctx context.Context, v T, _ int64) error {
	data, err := w.opts.Serializer.Serialize(v)
	if err != nil {
		return w.reject(ctx, fmt.Sprintf("record %.200v", v), "serializing: "+err.Error(), nil)
	}
	subject := w.opts.Subject
	if w.opts.SubjectOf != nil {
		subject = w.opts.SubjectOf(v)
	}
	var id string
	if w.opts.MsgID != nil {
		id = w.opts.MsgID(v)
	} else {
		w.idBuf = w.ids.Next(w.idBuf[:0])
		id = string(w.idBuf)
	}
	msg := &natsgo.Msg{Subject: subject, Data: data, Header: natsgo.Header{jetstream.MsgIDHeader: []string{id}}}
	w.fly = append(w.fly, inflight[T]{msg: msg})
	if err := w.send(&w.fly[len(w.fly)-1]); err != nil {
		w.fly = w.fly[:len(w.fly)-1]
		if err := w.reject(ctx, "subject "+subject+" msg id "+id, err.Error(), data); err != nil {
			return err
		}
	}
	if len(w.fly) >= w.opts.MaxInFlight {
		return w.await(ctx)
	}
	return nil
}

// send publishes p asynchronously. It returns the error of a message
// the client refuses because of the message itself (larger than the
// server's max payload); on other failures p.f stays nil and await sends
// it again.
func (w *writer[T]) send(p *inflight[T]) error {
	f, err := w.js.PublishMsgAsync(p.msg)
	if errors.Is(err, natsgo.ErrMaxPayload) {
		return err
	}
	if err == nil {
		p.f = f
	}
	return nil
}

// await waits for every publish in flight, sending again (same id) those
// that failed for want of a connection or ack, with backoff, until ctx is
// done; a message the server rejects goes to the dead letters.
func (w *writer[T]) await(ctx context.Context) error {
	for attempt := 0; len(w.fly) > 0; attempt++ {
		again := w.fly[:0]
		for i := range w.fly {
			p := w.fly[i]
			if p.f == nil {
				again = append(again, p)
				continue
			}
			select {
			case ack := <-p.f.Ok():
				w.m.published.Inc()
				if ack.Duplicate {
					w.m.duplicates.Inc()
				}
			case err := <-p.f.Err():
				var apiErr *jetstream.APIError
				if errors.As(err, &apiErr) && apiErr.Code != 503 {
					if err := w.reject(ctx, "subject "+p.msg.Subject+" msg id "+p.msg.Header.Get(jetstream.MsgIDHeader), err.Error(), p.msg.Data); err != nil {
						return err
					}
					continue
				}
				w.log.Warn("nats: publish failed, sending again", "subject", p.msg.Subject, "err", err)
				p.f = nil
				again = append(again, p)
			case <-ctx.Done():
				return fmt.Errorf("nats: awaiting publish acks: %w", ctx.Err())
			}
		}
		w.fly = again
		if len(again) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats: awaiting publish acks: %w", ctx.Err())
		case <-time.After(backoff(attempt)):
		}
		for i := range w.fly {
			w.m.retries.Inc()
			_ = w.send(&w.fly[i]) // it was not refused for its size before
		}
	}
	w.fly = w.fly[:0]
	return nil
}

// reject sends a record the sink cannot write to the dead letters, or
// fails with an error naming it.
func (w *writer[T]) reject(ctx context.Context, where, reason string, raw []byte) error {
	if w.opts.DeadLetters == nil {
		return fmt.Errorf("nats: %w: %s: %s", weir.ErrBadRecord, where, reason)
	}
	w.m.deadLetters.Inc()
	return w.opts.DeadLetters.Write(ctx, weir.DeadLetter{Source: where, Reason: reason, Raw: raw, Time: time.Now()}, weir.NoTimestamp)
}

// Flush waits for the acks of every publish.
func (w *writer[T]) Flush(ctx context.Context, endOfInput bool) error {
	if err := w.await(ctx); err != nil {
		return err
	}
	if w.opts.DeadLetters != nil {
		return w.opts.DeadLetters.Flush(ctx, endOfInput)
	}
	return nil
}

// PreCommit waits for the acks of every publish before the barrier: the
// checkpoint completes only with everything before it stored. The
// committable is the position of the default message ids at the barrier
// (replayid), so that a restored writer numbers the replayed records as
// the first run did.
func (w *writer[T]) PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error) {
	if err := w.Flush(ctx, false); err != nil {
		return nil, err
	}
	return [][]byte{w.ids.Committable(checkpointID)}, nil
}

// Commit has nothing to make visible (messages are stored when acked);
// after a restore it continues the default message ids from the restored
// checkpoint's position.
func (w *writer[T]) Commit(_ context.Context, items [][]byte) error {
	if err := w.ids.Restore(items); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Close closes the connection (and the dead-letter sink); publishes not
// acked are not waited for.
func (w *writer[T]) Close() error {
	w.nc.Close()
	if w.opts.DeadLetters != nil {
		return w.opts.DeadLetters.Close()
	}
	return nil
}
