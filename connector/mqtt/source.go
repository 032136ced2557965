package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// Message is a received MQTT message, for Deserializers that need the
// topic (a wildcard subscription) or the flags.
type Message struct {
	Topic     string
	Payload   []byte
	Retained  bool
	Duplicate bool
	// MQTT 5 only: the message's content type, user properties (in the
	// order sent) and whether its payload format indicator says UTF-8.
	ContentType    string
	UserProperties []UserProperty
	UTF8           bool
}

// UserProperty is an MQTT 5 user property: a name-value pair.
type UserProperty struct{ Key, Value string }

// Deserializer turns a message into a value of the source's type. An
// error sends the message to the source's ErrorPolicy.
type Deserializer[T any] func(m Message) (T, error)

// JSON decodes payloads as JSON documents of type T.
func JSON[T any](m Message) (T, error) {
	var v T
	err := json.Unmarshal(m.Payload, &v)
	return v, err
}

// AckMode says when a source acknowledges (PUBACK) a message.
type AckMode uint8

const (
	// AckAfterCheckpoint acknowledges the messages emitted before a
	// checkpoint's barrier once the checkpoint completed (the default):
	// at-least-once across failures. The broker has at most its in-flight
	// window of unacknowledged messages out per client (Mosquitto's
	// max_inflight_messages, 20 by default), so a subtask reads at most
	// that many messages per checkpoint interval: raise it on the broker
	// (0 is unlimited) or shorten the interval.
	AckAfterCheckpoint AckMode = iota
	// AckOnReceive acknowledges each message as soon as it is in the
	// source's buffer: at-most-once across failures (what was received
	// but not checkpointed is lost), not throttled by the window.
	AckOnReceive
)

// DefaultReceiveMaximum is the Receive Maximum an MQTT 5 source sends by
// default.
const DefaultReceiveMaximum = 1024

// DefaultBuffer is the number of received messages a reader buffers by
// default.
const DefaultBuffer = 1024

// SourceOptions configure a Source.
type SourceOptions[T any] struct {
	Connection
	// Topics are the topic filters subscribed to, with QoS 1; + and #
	// wildcards are allowed (required).
	Topics []string
	// SharedGroup, if set, subscribes to $share/SharedGroup/filter, so
	// the subtasks share the messages instead of each getting all of
	// them; required at parallelism > 1 (Mosquitto supports shared
	// subscriptions for MQTT 3.1.1 clients).
	SharedGroup string
	// Deserializer turns messages into values (required).
	Deserializer Deserializer[T]
	// ErrorPolicy handles messages the deserializer rejects (default:
	// fail the job).
	ErrorPolicy weir.ErrorPolicy
	// AckMode is AckAfterCheckpoint (default) or AckOnReceive.
	AckMode AckMode
	// Buffer is the number of received messages a reader holds before the
	// broker connection is held back (default DefaultBuffer).
	Buffer int
	// SessionExpiry is, with ProtocolVersion 5, the Session Expiry
	// Interval asked for: how long the broker keeps the session (its
	// subscriptions and unacknowledged messages) after the connection
	// ends (default 0: never expires; rounded down to seconds; at most
	// 0xFFFFFFFE seconds).
	SessionExpiry time.Duration
	// ReceiveMaximum is, with ProtocolVersion 5, the Receive Maximum
	// sent in CONNECT: the broker has at most that many QoS 1 messages
	// unacknowledged out to a subtask (default DefaultReceiveMaximum).
	// With AckAfterCheckpoint it bounds the messages a subtask reads per
	// checkpoint interval.
	ReceiveMaximum uint16
	// Registry, if set, receives weir_mqtt_source_messages_total,
	// _acked_total, _redeliveries_total, _dead_letters_total and
	// _connection_lost_total.
	Registry prometheus.Registerer
	// Logger receives connection losses (nil discards them).
	Logger *slog.Logger
}

// Source reads MQTT topics with QoS 1 in a persistent session (clean
// session off, client id ClientID-<subtask>). Add it with
// weir.FromSource.
type Source[T any] struct {
	opts                                                       SourceOptions[T]
	messages, acked, redeliveries, deadLetters, connectionLost prometheus.Counter
	// noAcks, for tests, drops the acknowledgements of completed
	// checkpoints: a crash right after a checkpoint completed.
	noAcks bool
}

// NewSource returns a source with opts, filling in defaults.
func NewSource[T any](opts SourceOptions[T]) (*Source[T], error) {
	if err := opts.Connection.check(); err != nil {
		return nil, err
	}
	switch {
	case len(opts.Topics) == 0:
		return nil, errors.New("mqtt: source option Topics: must not be empty")
	case opts.Deserializer == nil:
		return nil, errors.New("mqtt: source option Deserializer: must be set")
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.ProtocolVersion == 5 {
		// A filter the broker cannot parse would make it close the
		// connection, and the reader reconnect forever.
		for _, f := range opts.Topics {
			if !validFilter(f) {
				return nil, fmt.Errorf("mqtt: source option Topics: %q is not a valid topic filter", f)
			}
		}
		if strings.ContainsAny(opts.SharedGroup, "/+#\x00") {
			return nil, fmt.Errorf("mqtt: source option SharedGroup: %q holds /, + or #", opts.SharedGroup)
		}
	}
	if opts.ProtocolVersion != 5 && (opts.ReceiveMaximum != 0 || opts.SessionExpiry != 0) {
		return nil, errors.New("mqtt: source options ReceiveMaximum and SessionExpiry need ProtocolVersion 5")
	}
	if opts.ReceiveMaximum == 0 {
		opts.ReceiveMaximum = DefaultReceiveMaximum
	}
	if opts.SessionExpiry < 0 || opts.SessionExpiry/time.Second >= 0xFFFFFFFF {
		return nil, fmt.Errorf("mqtt: source option SessionExpiry: %v out of range", opts.SessionExpiry)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source[T]{opts: opts}
	var err error
	for _, c := range []struct {
		p          *prometheus.Counter
		name, help string
	}{
		{&s.messages, "messages_total", "Messages the MQTT source received."},
		{&s.acked, "acked_total", "Messages the MQTT source acknowledged."},
		{&s.redeliveries, "redeliveries_total", "Redeliveries of messages the MQTT source had emitted and not yet acknowledged, dropped."},
		{&s.deadLetters, "dead_letters_total", "Messages the MQTT source sent to its dead letters."},
		{&s.connectionLost, "connection_lost_total", "Times the MQTT source lost its connection (it reconnects)."},
	} {
		if *c.p, err = counter(opts.Registry, "mqtt_source", c.name, c.help); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CreateReader returns the reader of one subtask; it starts connecting in
// the background (paho's goroutines, stopped by Close).
func (s *Source[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	if ctx.Parallelism > 1 && s.opts.SharedGroup == "" {
		return nil, errors.New("mqtt: source at parallelism > 1 needs SharedGroup, or every subtask reads every message")
	}
	if s.opts.ProtocolVersion == 5 {
		return s.createReader5(ctx.Subtask), nil
	}
	r := &reader[T]{s: s, msgs: make(chan paho.Message, s.opts.Buffer), avail: make(chan struct{}, 1),
		done: make(chan struct{}), inflight: map[uint16]*slot{},
		ackWake: make(chan struct{}, 1)}
	r.logger = s.opts.Logger.With("subtask", ctx.Subtask)
	o := s.opts.Connection.clientOptions(ctx.Subtask)
	o.SetCleanSession(false).SetOrderMatters(true).SetResumeSubs(true)
	o.SetAutoAckDisabled(s.opts.AckMode == AckAfterCheckpoint)
	o.SetDefaultPublishHandler(r.receive)
	filters := map[string]byte{}
	for _, t := range s.opts.Topics {
		if s.opts.SharedGroup != "" {
			t = "$share/" + s.opts.SharedGroup + "/" + t
		}
		filters[t] = 1
	}
	o.SetOnConnectHandler(func(c paho.Client) {
		// The session keeps the subscriptions; subscribing again on every
		// connect also covers a session the broker lost.
		c.SubscribeMultiple(filters, r.receive)
	})
	o.SetConnectionLostHandler(func(_ paho.Client, err error) {
		s.connectionLost.Inc()
		r.logger.Warn("mqtt source: connection lost, reconnecting", "err", err)
	})
	if s.opts.Configure != nil {
		s.opts.Configure(o)
	}
	r.client = paho.NewClient(o)
	r.client.Connect() // with ConnectRetry it retries until it succeeds or Close
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.ackLoop()
	}()
	return r, nil
}

// reader is one subtask's reader. paho's router goroutine calls receive;
// ackLoop acknowledges; Poll, SnapshotState and NotifyCheckpointComplete
// run on the subtask's goroutine and own inflight, unacked and staged.
type reader[T any] struct {
	s      *Source[T]
	client paho.Client
	logger *slog.Logger
	wg     sync.WaitGroup
	msgs   chan paho.Message
	avail  chan struct{}
	done   chan struct{}

	inflight map[uint16]*slot // by packet id: emitted, not yet acknowledged
	acks     ackStage[*slot]

	ackWake chan struct{}
	ackMu   struct {
		sync.Mutex
		queue []paho.Message
	}
}

// slot holds the latest delivery of an emitted message: paho drops an
// acknowledgement made through a delivery of an earlier connection, so a
// redelivery's handle replaces it.
type slot struct{ m paho.Message }

// receive is paho's handler: it buffers m, blocking (which holds back the
// connection: backpressure) while the buffer is full.
func (r *reader[T]) receive(_ paho.Client, m paho.Message) {
	select {
	case r.msgs <- m:
	case <-r.done:
		return
	}
	select {
	case r.avail <- struct{}{}:
	default:
	}
}

// Available signals that Poll has messages.
func (r *reader[T]) Available() <-chan struct{} { return r.avail }

// Poll emits the buffered messages. A message whose packet id is that of
// a message emitted and not yet acknowledged is the broker's redelivery
// of it after a reconnect and is dropped: the broker does not reuse the
// id of a message in flight.
func (r *reader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	for n := 0; n < 1024; n++ {
		var m paho.Message
		select {
		case m = <-r.msgs:
		default:
			if n == 0 {
				return weir.NothingAvailable, nil
			}
			return weir.MoreAvailable, nil
		}
		r.s.messages.Inc()
		manual := r.s.opts.AckMode == AckAfterCheckpoint && m.Qos() > 0
		if manual {
			if sl := r.inflight[m.MessageID()]; sl != nil {
				sl.m = m
				r.s.redeliveries.Inc()
				continue
			}
			sl := &slot{m}
			r.inflight[m.MessageID()] = sl
			r.acks.add(sl)
		}
		msg := Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained(), Duplicate: m.Duplicate()}
		v, err := r.s.opts.Deserializer(msg)
		if err != nil {
			r.s.deadLetters.Inc()
			if err := weir.RejectFromSource(out, r.s.opts.ErrorPolicy, weir.DeadLetter{
				Source: fmt.Sprintf("mqtt topic %s message id %d", m.Topic(), m.MessageID()),
				Reason: err.Error(), Raw: m.Payload()}); err != nil {
				return weir.NothingAvailable, err
			}
			continue
		}
		out.Collect(v)
	}
	return weir.MoreAvailable, nil
}

// SnapshotState stages the messages emitted since the last checkpoint; it
// stores nothing (MQTT has no positions to resume from).
func (r *reader[T]) SnapshotState(checkpointID int64) ([][]byte, error) {
	r.acks.snapshot(checkpointID)
	return nil, nil
}

// NotifyCheckpointComplete hands the messages of checkpoints up to id to
// the acknowledging goroutine, in the order they were received.
func (r *reader[T]) NotifyCheckpointComplete(id int64) error {
	done := r.acks.complete(id)
	if len(done) == 0 {
		return nil
	}
	r.ackMu.Lock()
	for _, sl := range done {
		delete(r.inflight, sl.m.MessageID())
		r.ackMu.queue = append(r.ackMu.queue, sl.m)
	}
	r.ackMu.Unlock()
	select {
	case r.ackWake <- struct{}{}:
	default:
	}
	return nil
}

// ackLoop sends the queued acknowledgements.
func (r *reader[T]) ackLoop() {
	for {
		select {
		case <-r.done:
			return
		case <-r.ackWake:
		}
		r.ackMu.Lock()
		q := r.ackMu.queue
		r.ackMu.queue = nil
		r.ackMu.Unlock()
		if r.s.noAcks {
			continue
		}
		for _, m := range q {
			m.Ack()
		}
		r.s.acked.Add(float64(len(q)))
	}
}

// Close disconnects. Messages not acknowledged stay in the broker's
// session for this client id and are redelivered when it reconnects.
func (r *reader[T]) Close() error {
	close(r.done)
	r.client.Disconnect(250)
	r.wg.Wait()
	return nil
}

// validTopic reports whether name can be published to.
func validTopic(name string) bool {
	return name != "" && !strings.ContainsAny(name, "+#\x00")
}

// validFilter reports whether f is a topic filter (spec 4.7): not empty,
// valid UTF-8 without U+0000, # only as the whole last level and + only
// as a whole level.
func validFilter(f string) bool {
	if f == "" || len(f) > 0xffff || !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
		return false
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) != 1 || l == "#" && i != len(levels)-1 {
			return false
		}
	}
	return true
}
