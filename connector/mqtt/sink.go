package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// DefaultMaxRetryTime is how long a sink retries publishing while the
// broker is unreachable before it fails the job, by default.
const DefaultMaxRetryTime = time.Minute

// DefaultMaxInFlight is the number of publishes a sink writer leaves
// unacknowledged before it waits for the oldest, by default.
const DefaultMaxInFlight = 1000

// SinkOptions configure a Sink.
type SinkOptions[T any] struct {
	Connection
	// Topic receives the records, unless TopicOf gives each record's.
	Topic   string
	TopicOf func(v T) string
	// Serialize encodes a record as the payload (required).
	Serialize func(v T) ([]byte, error)
	// QoS0 publishes with QoS 0 (at-most-once: the broker does not
	// acknowledge) instead of QoS 1 (at-least-once).
	QoS0 bool
	// Retained publishes retained messages: the broker keeps each topic's
	// last one for new subscribers.
	Retained bool
	// MaxInFlight bounds the unacknowledged publishes of a writer
	// (default DefaultMaxInFlight).
	MaxInFlight int
	// MaxRetryTime is how long publishing is retried with backoff while
	// the broker is unreachable before the job fails (default
	// DefaultMaxRetryTime).
	MaxRetryTime time.Duration
	// MQTT 5 only (ProtocolVersion 5): UserPropertiesOf gives each
	// record's user properties; MessageExpiry, if set, is the Message
	// Expiry Interval (rounded down to seconds, at least 1s): the broker
	// drops the message if no subscriber got it in time; ContentType is
	// the Content Type property; UTF8 sets the Payload Format Indicator
	// to UTF-8 (a broker may refuse a payload that is not).
	UserPropertiesOf func(v T) []UserProperty
	MessageExpiry    time.Duration
	ContentType      string
	UTF8             bool
	// DeadLetters, if set, receives records that cannot be published
	// because of the record (Serialize fails, or the topic is empty or
	// holds a wildcard; with MQTT 5 also a record over the broker's
	// Maximum Packet Size or one the broker refuses with PUBACK 0x87 Not
	// authorized, 0x90, 0x95 or 0x99): each subtask writes them with a writer of its
	// own, flushed and closed with the sink's. If nil such a record fails
	// the job with a *weir.BadRecordError.
	DeadLetters weir.Sink[weir.DeadLetter]
	// Registry, if set, receives weir_mqtt_sink_published_total,
	// _retries_total and _dead_letters_total.
	Registry prometheus.Registerer
	// Logger receives retries (nil discards them).
	Logger *slog.Logger
}

// Sink publishes records to MQTT. Create it with NewSink and add it with
// Stream.SinkTo.
type Sink[T any] struct {
	opts                            SinkOptions[T]
	qos                             byte
	published, retries, deadLetters prometheus.Counter
}

// NewSink returns a sink with opts, filling in defaults.
func NewSink[T any](opts SinkOptions[T]) (*Sink[T], error) {
	if err := opts.Connection.check(); err != nil {
		return nil, err
	}
	if opts.Serialize == nil {
		return nil, fmt.Errorf("mqtt: sink option Serialize: must be set")
	}
	if opts.Topic == "" && opts.TopicOf == nil {
		return nil, fmt.Errorf("mqtt: sink option Topic: must be set (or TopicOf)")
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.MaxRetryTime <= 0 {
		opts.MaxRetryTime = DefaultMaxRetryTime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MessageExpiry != 0 && (opts.MessageExpiry < time.Second || opts.MessageExpiry/time.Second > 0xFFFFFFFF) {
		return nil, fmt.Errorf("mqtt: sink option MessageExpiry: %v out of range (1s to 2^32-1 s)", opts.MessageExpiry)
	}
	if opts.ProtocolVersion != 5 && (opts.UserPropertiesOf != nil || opts.MessageExpiry != 0 || opts.ContentType != "" || opts.UTF8) {
		return nil, fmt.Errorf("mqtt: sink options UserPropertiesOf, MessageExpiry, ContentType and UTF8 need ProtocolVersion 5")
	}
	s := &Sink[T]{opts: opts, qos: 1}
	if opts.QoS0 {
		s.qos = 0
	}
	var err error
	for _, c := range []struct {
		p          *prometheus.Counter
		name, help string
	}{
		{&s.published, "published_total", "Messages the MQTT sink published (acknowledged by the broker at QoS 1)."},
		{&s.retries, "retries_total", "Publishes the MQTT sink sent again after a connection error."},
		{&s.deadLetters, "dead_letters_total", "Records the MQTT sink sent to its dead letters."},
	} {
		if *c.p, err = counter(opts.Registry, "mqtt_sink", c.name, c.help); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CreateWriter returns the writer of one subtask, connecting (with
// retries) in the background.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	var dead weir.SinkWriter[weir.DeadLetter]
	if s.opts.DeadLetters != nil {
		d, err := s.opts.DeadLetters.CreateWriter(ctx)
		if err != nil {
			return nil, fmt.Errorf("mqtt: sink: dead-letter writer: %w", err)
		}
		dead = d
	}
	if s.opts.ProtocolVersion == 5 {
		return &writer5[T]{s: s, subtask: ctx.Subtask, dead: dead}, nil
	}
	o := s.opts.Connection.clientOptions(ctx.Subtask)
	o.SetCleanSession(true).SetStore(copyingStore{paho.NewMemoryStore()})
	if s.opts.Configure != nil {
		s.opts.Configure(o)
	}
	w := &writer[T]{s: s, subtask: ctx.Subtask, dead: dead}
	w.client = paho.NewClient(o)
	w.connect = w.client.Connect()
	return w, nil
}

// reject sends a record that cannot be published to the dead letters, or
// fails with a *weir.BadRecordError naming its topic without them.
func (s *Sink[T]) reject(ctx context.Context, dead weir.SinkWriter[weir.DeadLetter], subtask int, topic string, payload []byte, err error) error {
	d := weir.DeadLetter{Source: fmt.Sprintf("mqtt sink subtask %d topic %s", subtask, topic), Reason: err.Error(),
		Raw: payload, Time: time.Now()}
	if dead == nil {
		return fmt.Errorf("mqtt: sink: %w", &weir.BadRecordError{DeadLetter: d})
	}
	s.deadLetters.Inc()
	if err := dead.Write(ctx, d, 0); err != nil {
		return fmt.Errorf("mqtt: sink: writing dead letter: %w", err)
	}
	return nil
}

// inflight is a publish awaiting the broker's acknowledgement.
type inflight struct {
	topic   string
	payload []byte
	token   paho.Token
}

// writer is one subtask's writer, used by its goroutine only.
type writer[T any] struct {
	s       *Sink[T]
	subtask int
	client  paho.Client
	connect paho.Token
	dead    weir.SinkWriter[weir.DeadLetter] // nil without DeadLetters
	pending []inflight
}

// Write publishes v; it waits for the oldest publish when MaxInFlight are
// unacknowledged.
func (w *writer[T]) Write(ctx context.Context, v T, _ int64) error {
	topic := w.s.opts.Topic
	if w.s.opts.TopicOf != nil {
		topic = w.s.opts.TopicOf(v)
	}
	payload, err := w.s.opts.Serialize(v)
	if err == nil && !validTopic(topic) {
		err = fmt.Errorf("topic %q cannot be published to", topic)
	}
	if err != nil {
		return w.s.reject(ctx, w.dead, w.subtask, topic, payload, err)
	}
	if w.connect != nil {
		// paho never completes a publish made while it first connects:
		// wait for the connection once.
		if err := wait(ctx, w.connect); err != nil {
			return fmt.Errorf("mqtt: sink: connecting to %s: %w", w.s.opts.Broker, err)
		}
		w.connect = nil
	}
	if len(w.pending) >= w.s.opts.MaxInFlight {
		if err := w.settle(ctx, len(w.pending)/2); err != nil {
			return err
		}
	}
	w.pending = append(w.pending, inflight{topic: topic, payload: payload,
		token: w.client.Publish(topic, w.s.qos, w.s.opts.Retained, payload)})
	return nil
}

// Flush waits until the broker acknowledged every publish (QoS 1).
func (w *writer[T]) Flush(ctx context.Context, _ bool) error {
	if err := w.settle(ctx, len(w.pending)); err != nil {
		return err
	}
	if w.dead != nil {
		if err := w.dead.Flush(ctx, false); err != nil {
			return fmt.Errorf("mqtt: sink: flushing dead letters: %w", err)
		}
	}
	return nil
}

// settle waits for the first n pending publishes, publishing again (with
// backoff) those that failed, for up to MaxRetryTime.
func (w *writer[T]) settle(ctx context.Context, n int) error {
	var (
		b     backoff
		start time.Time
	)
	for i := 0; i < n; i++ {
		p := &w.pending[i]
		for {
			tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := wait(tctx, p.token)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("mqtt: sink: %w", ctx.Err())
			}
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > w.s.opts.MaxRetryTime {
				return fmt.Errorf("mqtt: sink: publishing to %s failed for %v: %w", p.topic, w.s.opts.MaxRetryTime, err)
			}
			w.s.opts.Logger.Warn("mqtt sink: publishing again", "topic", p.topic, "err", err)
			if err := b.wait(ctx); err != nil {
				return fmt.Errorf("mqtt: sink: %w", err)
			}
			// Publish again, in order, every publish not acknowledged.
			for j := i; j < n; j++ {
				q := &w.pending[j]
				if j > i {
					select {
					case <-q.token.Done():
						if q.token.Error() == nil {
							continue
						}
					default:
					}
				}
				w.s.retries.Inc()
				q.token = w.client.Publish(q.topic, w.s.qos, w.s.opts.Retained, q.payload)
			}
		}
	}
	w.s.published.Add(float64(n))
	clear(w.pending[:n])
	w.pending = append(w.pending[:0], w.pending[n:]...)
	return nil
}

// Close disconnects and closes the dead-letter writer.
func (w *writer[T]) Close() error {
	w.client.Disconnect(250)
	if w.dead != nil {
		return w.dead.Close()
	}
	return nil
}
