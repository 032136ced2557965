package mqtt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mqtt/internal/mqtt5"
)

// ackTimeout is how long an MQTT 5 writer waits for a PUBACK before it
// takes the connection as broken, reconnects and publishes again.
const ackTimeout = 10 * time.Second

// pending5 is a record published (or to be published) awaiting its
// PUBACK.
type pending5 struct {
	pkt    *mqtt5.Publish
	client *mqtt5.Client  // the connection it was sent on; nil: not sent
	handle *mqtt5.Pending // nil at QoS 0
}

// writer5 is one subtask's MQTT 5 writer, used by its goroutine only. It
// connects with clean start (a sink needs no session: what is not
// acknowledged it publishes again itself) on the first record and again
// after a connection loss.
type writer5[T any] struct {
	s         *Sink[T]
	subtask   int
	dead      weir.SinkWriter[weir.DeadLetter] // nil without DeadLetters
	client    *mqtt5.Client
	maxPacket uint32 // the server's Maximum Packet Size (0: none known)
	pending   []pending5
	scratch   []byte
	// retrySince is when the current run of connection failures began.
	retrySince time.Time
	b          backoff
}

// Write publishes v (not waiting for its PUBACK); it waits for the oldest
// publishes when MaxInFlight are unacknowledged. A record that cannot be
// encoded (bad topic, too large for the server's Maximum Packet Size, an
// invalid user property) goes to the dead letters.
func (w *writer5[T]) Write(ctx context.Context, v T, _ int64) error {
	opts := &w.s.opts
	topic := opts.Topic
	if opts.TopicOf != nil {
		topic = opts.TopicOf(v)
	}
	payload, err := opts.Serialize(v)
	if err == nil && !validTopic(topic) {
		err = fmt.Errorf("topic %q cannot be published to", topic)
	}
	if err != nil {
		return w.s.reject(ctx, w.dead, w.subtask, topic, payload, err)
	}
	p := &mqtt5.Publish{Topic: topic, QoS: w.s.qos, Retain: opts.Retained, Payload: payload}
	p.Properties.ContentType = opts.ContentType
	if opts.UTF8 {
		p.Properties.PayloadFormat = 1
	}
	if opts.MessageExpiry > 0 {
		e := uint32(opts.MessageExpiry / time.Second)
		p.Properties.MessageExpiry = &e
	}
	if opts.UserPropertiesOf != nil {
		for _, u := range opts.UserPropertiesOf(v) {
			p.Properties.User = append(p.Properties.User, mqtt5.UserProperty(u))
		}
	}
	if len(w.pending) >= opts.MaxInFlight {
		if err := w.settle(ctx, len(w.pending)/2); err != nil {
			return err
		}
	}
	// Connected, the broker's Maximum Packet Size is known.
	if err := w.ensure(ctx); err != nil {
		return err
	}
	if p.QoS > 0 {
		p.PacketID = 1 // assigned when sent; set so that the size check counts it
	}
	if w.scratch, err = mqtt5.Append(w.scratch[:0], p, w.maxPacket); err != nil {
		return w.s.reject(ctx, w.dead, w.subtask, topic, payload, err)
	}
	w.pending = append(w.pending, pending5{pkt: p})
	return w.send(ctx, len(w.pending)-1)
}

// ensure connects if there is no live connection, with backoff, failing
// once connecting has failed for MaxRetryTime.
//
// The backoff and the retry time are reset only by a successful PUBACK
// (settle), so a broker that accepts connections and ends them at once
// (another client with this id: Session taken over) fails the job after
// MaxRetryTime instead of reconnecting forever.
func (w *writer5[T]) ensure(ctx context.Context) error {
	var err error
	if w.client != nil {
		select {
		case <-w.client.Done():
			err = w.client.Err()
			w.s.opts.Logger.Warn("mqtt sink: connection lost, reconnecting", "err", err)
			w.client.Close()
			w.client = nil
		default:
			return nil
		}
	}
	for {
		if err != nil {
			if w.retrySince.IsZero() {
				w.retrySince = time.Now()
			} else if time.Since(w.retrySince) > w.s.opts.MaxRetryTime {
				return fmt.Errorf("mqtt: sink: no publish acknowledged for %v: %w", w.s.opts.MaxRetryTime, err)
			}
			if err := w.b.wait(ctx); err != nil {
				return fmt.Errorf("mqtt: sink: %w", err)
			}
		}
		var cl *mqtt5.Client
		cl, err = w.s.opts.Connection.connect5(ctx, w.subtask, true, mqtt5.Properties{}, nil)
		if err == nil {
			w.client, w.maxPacket = cl, cl.Connack().Properties.MaximumPacketSize
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("mqtt: sink: %w", ctx.Err())
		}
		w.s.opts.Logger.Warn("mqtt sink: connecting again", "err", err)
	}
}

// send publishes pending[i] on the current connection. A connection
// error leaves it to be sent again after a reconnect.
func (w *writer5[T]) send(ctx context.Context, i int) error {
	p := &w.pending[i]
	if p.client != nil {
		w.s.retries.Inc()
	}
	p.client, p.handle = w.client, nil
	pkt := *p.pkt
	h, err := w.client.Publish(ctx, &pkt)
	switch {
	case err == nil:
		p.handle = h
		if h == nil { // QoS 0: written is done
			p.client = nil
		}
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("mqtt: sink: %w", ctx.Err())
	case errors.Is(err, mqtt5.ErrInvalid) || errors.Is(err, mqtt5.ErrTooLarge):
		// The server's limits changed on a reconnect.
		return fmt.Errorf("mqtt: sink: publishing to %s: %w", p.pkt.Topic, err)
	}
	return nil // the connection ended: settle reconnects and sends it again
}

// settle waits for the PUBACKs of the first n pending publishes,
// reconnecting and publishing again (in order) those whose connection
// ended, for up to MaxRetryTime. A PUBACK with a failure reason code
// fails the job naming the topic and the record, except for the codes
// that concern the record itself (Not authorized: the broker's access
// control refused its topic; Topic Name invalid; Packet too large;
// Payload format invalid), which send it to the dead letters if set
// (else fail the job with a *weir.BadRecordError).
func (w *writer5[T]) settle(ctx context.Context, n int) error {
	for i := 0; i < n; i++ {
		p := &w.pending[i]
		for p.handle != nil || p.client != nil {
			// A PUBACK that came before its connection ended counts.
			if !acked(p.handle) && (p.handle == nil || p.client != w.client || w.client == nil) {
				if err := w.resend(ctx, i, n); err != nil {
					return err
				}
				continue
			}
			t := time.NewTimer(ackTimeout)
			select {
			case <-p.handle.Done():
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("mqtt: sink: %w", ctx.Err())
			case <-t.C:
				w.s.opts.Logger.Warn("mqtt sink: no PUBACK in time, reconnecting", "topic", p.pkt.Topic, "timeout", ackTimeout)
				w.client.Close()
				continue
			}
			t.Stop()
			code, reason, err := p.handle.Result()
			if err != nil {
				p.handle = nil // the connection ended: send it again
				continue
			}
			p.handle, p.client = nil, nil
			w.retrySince, w.b = time.Time{}, backoff{}
			if code.Failed() {
				if err := w.refused(ctx, p.pkt, code, reason); err != nil {
					return err
				}
			}
		}
	}
	w.s.published.Add(float64(n))
	clear(w.pending[:n])
	w.pending = append(w.pending[:0], w.pending[n:]...)
	return nil
}

// resend reconnects and publishes again, in order, the publishes among
// pending[i:n] not acknowledged on a live connection.
func (w *writer5[T]) resend(ctx context.Context, i, n int) error {
	if err := w.ensure(ctx); err != nil {
		return err
	}
	for j := i; j < n; j++ {
		q := &w.pending[j]
		if q.client == nil && q.handle == nil && j != i {
			continue // acknowledged
		}
		if q.client == w.client && q.handle != nil || acked(q.handle) {
			continue // in flight on this connection, or acknowledged
		}
		if err := w.send(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// acked reports whether h's PUBACK came.
func acked(h *mqtt5.Pending) bool {
	if h == nil {
		return false
	}
	select {
	case <-h.Done():
		_, _, err := h.Result()
		return err == nil
	default:
		return false
	}
}

// refused handles a PUBACK with a failure reason code.
func (w *writer5[T]) refused(ctx context.Context, p *mqtt5.Publish, code mqtt5.ReasonCode, reason string) error {
	err := fmt.Errorf("the broker refused the publish with %s", code)
	if reason != "" {
		err = fmt.Errorf("%w (%s)", err, reason)
	}
	switch code {
	case mqtt5.NotAuthorized, mqtt5.TopicNameInvalid, mqtt5.PacketTooLarge, mqtt5.PayloadFormatInvalid:
		return w.s.reject(ctx, w.dead, w.subtask, p.Topic, p.Payload, err)
	}
	return fmt.Errorf("mqtt: sink: publishing to topic %s (payload %s): %w", p.Topic, excerpt(p.Payload), err)
}

// excerpt quotes the start of a payload for an error message.
func excerpt(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// Flush waits until the broker acknowledged every publish.
func (w *writer5[T]) Flush(ctx context.Context, _ bool) error {
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

// Close disconnects normally and closes the dead-letter writer.
func (w *writer5[T]) Close() error {
	if w.client != nil {
		_ = w.client.Disconnect(mqtt5.Success, nil)
	}
	if w.dead != nil {
		return w.dead.Close()
	}
	return nil
}
