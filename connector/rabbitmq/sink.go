package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/replayid"
)

// DefaultMaxInFlight bounds the publishes awaiting their confirm.
const DefaultMaxInFlight = 4096

// SinkOptions configure a Sink. Zero values take the defaults.
type SinkOptions[T any] struct {
	// URL is the broker (default DefaultURL).
	URL string
	// Exchange is published to ("" is the default exchange, which routes
	// by queue name).
	Exchange string
	// RoutingKey of every message; RoutingKeyOf, if set, picks one per
	// record instead.
	RoutingKey   string
	RoutingKeyOf func(v T) string
	// Queue, if set, is declared on demand (durable) when the sink
	// connects, and bound to Exchange with RoutingKey unless Exchange is
	// the default one.
	Queue string
	// Serializer turns records into bodies (required).
	Serializer Serializer[T]
	// MessageID, if set, derives the message-id property from the record,
	// so that a consumer deduplicating by message id (such as this
	// package's Source) drops the copies a restore or a resend writes.
	// Without it the id is IDPrefix/subtask/chain/seq (seq: the record's
	// position in the subtask's input, carried through checkpoints; see
	// internal/replayid), the same for a replay only if the job replays
	// the same records in the same order to the same subtask.
	MessageID func(v T) string
	// IDPrefix starts the default message ids (default the operator's
	// name).
	IDPrefix string
	// AllowUnroutable publishes without the mandatory flag: a message no
	// queue takes is dropped by the broker. By default messages are
	// mandatory, and one the broker returns as unroutable fails the job,
	// or goes to DeadLetters.
	AllowUnroutable bool
	// Transient publishes non-persistent messages (default persistent).
	Transient bool
	// ContentType is set on every message, if not empty.
	ContentType string
	// MaxInFlight bounds the publishes awaiting their confirm (default
	// DefaultMaxInFlight).
	MaxInFlight int
	// DeadLetters, if set, receives the records the sink cannot write
	// because of the record itself (the serializer fails, the broker
	// returns it as unroutable) as weir.DeadLetter; without it such a
	// record fails the job.
	DeadLetters weir.SinkWriter[weir.DeadLetter]
	// Config is passed to amqp.DialConfig.
	Config amqp.Config
	// Registry, if set, receives the sink's metrics
	// (weir_rabbitmq_sink_*_total).
	Registry prometheus.Registerer
	// Logger receives connection events and resends (nil discards).
	Logger *slog.Logger
}

func (o *SinkOptions[T]) fill() error {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Serializer == nil {
		return optionError("Serializer", "must be set")
	}
	if o.Exchange == "" && o.RoutingKey == "" && o.RoutingKeyOf == nil {
		return optionError("RoutingKey", "must be set with the default exchange (the queue's name)")
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxInFlight < 0 {
		return optionError("MaxInFlight", "must not be negative")
	}
	o.Logger = discard(o.Logger)
	return nil
}

// Sink publishes records to RabbitMQ with publisher confirms, at least
// once; see the package documentation. Create it with NewSink.
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
	published, resent, returned, deadLetters, reconnects prometheus.Counter
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
			m, err := counter(s.opts.Registry, "rabbitmq_sink", name, help)
			errs = append(errs, err)
			return m
		}
		s.metrics = sinkMetrics{
			published:   c("published_total", "Messages RabbitMQ sinks published and the broker confirmed."),
			resent:      c("resent_total", "Messages published again after a nack or a lost channel."),
			returned:    c("returned_total", "Mandatory messages the broker returned as unroutable."),
			deadLetters: c("dead_letters_total", "Records RabbitMQ sinks could not write, sent to the dead-letter sink."),
			reconnects:  c("reconnects_total", "Connections of RabbitMQ sinks re-established after a failure."),
		}
		s.mErr = errors.Join(errs...)
	})
	return s.mErr
}

// CreateWriter connects (failing if the broker is unreachable).
func (s *Sink[T]) CreateWriter(sc weir.SinkContext) (weir.SinkWriter[T], error) {
	if s.optErr != nil {
		return nil, s.optErr
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	prefix := s.opts.IDPrefix
	if prefix == "" {
		prefix = sc.OperatorName
	}
	w := &writer[T]{opts: &s.opts, m: &s.metrics, log: s.opts.Logger.With("subtask", sc.Subtask),
		ids: replayid.New(prefix, sc.Subtask, sc.Parallelism, s.run)}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// out is a publish awaiting its confirm; dc is nil if it must be sent
// (again).
type out struct {
	key string
	pub amqp.Publishing
	dc  *amqp.DeferredConfirmation
}

// writer is one subtask's writer, used by its task's goroutine only.
type writer[T any] struct {
	opts    *SinkOptions[T]
	m       *sinkMetrics
	log     *slog.Logger
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
	// ids numbers the records for the default message ids.
	ids   *replayid.Seq
	idBuf []byte
	fly   []out
}

// open connects, declares and binds the queue if asked, and puts the
// channel in confirm mode.
func (w *writer[T]) open() error {
	o := w.opts
	conn, err := dial(o.URL, o.Config)
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err == nil && o.Queue != "" {
		_, err = ch.QueueDeclare(o.Queue, true, false, false, false, nil)
		if err == nil && o.Exchange != "" {
			err = ch.QueueBind(o.Queue, o.RoutingKey, o.Exchange, false, nil)
		}
	}
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("rabbitmq: setting up the sink's channel: %w", err)
	}
	w.conn, w.ch = conn, ch
	w.returns = ch.NotifyReturn(make(chan amqp.Return, o.MaxInFlight+16))
	return nil
}

// Write serializes v and publishes it; when MaxInFlight publishes await
// their confirms it waits for them.
func (w *writer[T]) Write(ctx context.Context, v T, ts int64) error {
	body, err := w.opts.Serializer.Serialize(v)
	if err != nil {
		return w.reject(ctx, fmt.Sprintf("record %.200v", v), "serializing: "+err.Error(), nil)
	}
	key := w.opts.RoutingKey
	if w.opts.RoutingKeyOf != nil {
		key = w.opts.RoutingKeyOf(v)
	}
	var id string
	if w.opts.MessageID != nil {
		id = w.opts.MessageID(v)
	} else {
		w.idBuf = w.ids.Next(w.idBuf[:0])
		id = string(w.idBuf)
	}
	pub := amqp.Publishing{MessageId: id, Body: body, ContentType: w.opts.ContentType, DeliveryMode: amqp.Persistent}
	if w.opts.Transient {
		pub.DeliveryMode = amqp.Transient
	}
	if ts != weir.NoTimestamp {
		pub.Timestamp = time.UnixMilli(ts)
	}
	w.fly = append(w.fly, out{key: key, pub: pub})
	w.send(ctx, &w.fly[len(w.fly)-1])
	if len(w.fly) >= w.opts.MaxInFlight {
		return w.await(ctx)
	}
	return nil
}

func (w *writer[T]) send(ctx context.Context, p *out) {
	if w.ch == nil {
		return
	}
	dc, err := w.ch.PublishWithDeferredConfirmWithContext(ctx, w.opts.Exchange, p.key, !w.opts.AllowUnroutable, false, p.pub)
	if err == nil {
		p.dc = dc
	}
}

// await waits for the confirms of every publish; messages nacked or lost
// with a channel are published again (on a new connection, with backoff)
// until confirmed or ctx is done. Returned (unroutable) messages go to
// the dead letters.
func (w *writer[T]) await(ctx context.Context) error {
	for attempt := 0; len(w.fly) > 0; attempt++ {
		again := w.fly[:0]
		for _, p := range w.fly {
			if p.dc == nil {
				again = append(again, p)
				continue
			}
			ok, err := p.dc.WaitContext(ctx)
			if err != nil {
				return fmt.Errorf("rabbitmq: awaiting confirms: %w", err)
			}
			if !ok {
				p.dc = nil
				again = append(again, p)
				continue
			}
			w.m.published.Inc()
		}
		// The broker sends a return before the confirm of its message.
		if err := w.drainReturns(ctx); err != nil {
			return err
		}
		w.fly = again
		if len(again) == 0 {
			break
		}
		w.log.Warn("rabbitmq: messages not confirmed, publishing again", "count", len(again), "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("rabbitmq: awaiting confirms: %w", ctx.Err())
		case <-time.After(backoff(attempt)):
		}
		if w.ch == nil || w.ch.IsClosed() {
			if w.conn != nil {
				w.conn.Close()
			}
			w.ch = nil
			if err := w.open(); err != nil {
				w.log.Warn("rabbitmq: reconnect failed", "err", err)
				continue
			}
			w.m.reconnects.Inc()
		}
		for i := range w.fly {
			w.m.resent.Inc()
			w.send(ctx, &w.fly[i])
		}
	}
	w.fly = w.fly[:0]
	return nil
}

func (w *writer[T]) drainReturns(ctx context.Context) error {
	for {
		select {
		case r, ok := <-w.returns:
			if !ok {
				// The channel closed; its unconfirmed messages were
				// nacked and are sent again (and returned again if
				// unroutable).
				w.returns = nil
				return nil
			}
			w.m.returned.Inc()
			where := fmt.Sprintf("exchange %q routing key %q message-id %q", r.Exchange, r.RoutingKey, r.MessageId)
			if err := w.reject(ctx, where, fmt.Sprintf("returned by the broker: %d %s", r.ReplyCode, r.ReplyText), r.Body); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (w *writer[T]) reject(ctx context.Context, where, reason string, raw []byte) error {
	if w.opts.DeadLetters == nil {
		return fmt.Errorf("rabbitmq: %w: %s: %s", weir.ErrBadRecord, where, reason)
	}
	w.m.deadLetters.Inc()
	return w.opts.DeadLetters.Write(ctx, weir.DeadLetter{Source: where, Reason: reason, Raw: raw, Time: time.Now()}, weir.NoTimestamp)
}

// Flush waits for the confirms of every publish.
func (w *writer[T]) Flush(ctx context.Context, endOfInput bool) error {
	if err := w.await(ctx); err != nil {
		return err
	}
	if w.opts.DeadLetters != nil {
		return w.opts.DeadLetters.Flush(ctx, endOfInput)
	}
	return nil
}

// PreCommit waits for every confirm before the barrier; the committable
// is the position of the default message ids at the barrier (replayid).
func (w *writer[T]) PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error) {
	if err := w.Flush(ctx, false); err != nil {
		return nil, err
	}
	return [][]byte{w.ids.Committable(checkpointID)}, nil
}

// Commit has nothing to make visible; after a restore it continues the
// default message ids from the restored checkpoint's position.
func (w *writer[T]) Commit(_ context.Context, items [][]byte) error {
	if err := w.ids.Restore(items); err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	return nil
}

// Close closes the connection and the dead-letter sink.
func (w *writer[T]) Close() error {
	if w.conn != nil {
		w.conn.Close()
	}
	if w.opts.DeadLetters != nil {
		return w.opts.DeadLetters.Close()
	}
	return nil
}
