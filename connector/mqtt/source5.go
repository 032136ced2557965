package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mqtt/internal/mqtt5"
)

// reader5 is one subtask's MQTT 5 reader. Its connection goroutine
// (run) connects, subscribes and reconnects with backoff; the client's
// read goroutine calls receive; ackLoop sends the PUBACKs of completed
// checkpoints. Poll, SnapshotState and NotifyCheckpointComplete run on
// the subtask's goroutine and own inflight, unacked and staged.
type reader5[T any] struct {
	s       *Source[T]
	subtask int
	logger  *slog.Logger
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	msgs    chan *mqtt5.Publish
	avail   chan struct{}
	done    chan struct{}

	inflight map[uint16]struct{} // packet ids emitted, not yet acknowledged
	acks     ackStage[uint16]    // packet ids, in order

	ackWake chan struct{}
	mu      struct {
		sync.Mutex
		client   *mqtt5.Client // nil while disconnected
		ackQueue []uint16      // to acknowledge, in order
		// acking holds the ids of ackQueue and those being written: a
		// redelivery of one is dropped too, and acknowledged by the
		// queued PUBACK.
		acking map[uint16]struct{}
		fatal  error // a refused subscription: fails the job
	}
}

func (s *Source[T]) createReader5(subtask int) *reader5[T] {
	r := &reader5[T]{s: s, subtask: subtask, logger: s.opts.Logger.With("subtask", subtask),
		msgs: make(chan *mqtt5.Publish, s.opts.Buffer), avail: make(chan struct{}, 1), done: make(chan struct{}),
		inflight: map[uint16]struct{}{}, ackWake: make(chan struct{}, 1)}
	r.mu.acking = map[uint16]struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.run(ctx)
	}()
	go func() {
		defer r.wg.Done()
		r.ackLoop()
	}()
	return r
}

// sessionProps are the CONNECT properties: the session outlives the
// connection (Session Expiry), and the broker sends at most
// ReceiveMaximum unacknowledged messages.
func (r *reader5[T]) sessionProps() mqtt5.Properties {
	exp := uint32(0xFFFFFFFF)
	if r.s.opts.SessionExpiry > 0 {
		exp = uint32(r.s.opts.SessionExpiry / time.Second)
	}
	return mqtt5.Properties{SessionExpiry: exp, ReceiveMaximum: r.s.opts.ReceiveMaximum}
}

// run keeps the subtask connected until ctx is canceled.
func (r *reader5[T]) run(ctx context.Context) {
	var b backoff
	for {
		cl, err := r.connect(ctx)
		if err == nil {
			connected := time.Now()
			r.mu.Lock()
			r.mu.client = cl
			r.mu.Unlock()
			r.wakeAcks() // acknowledgements that waited for a connection
			select {
			case <-cl.Done():
				r.s.connectionLost.Inc()
				err = cl.Err()
			case <-ctx.Done():
			}
			r.mu.Lock()
			r.mu.client = nil
			r.mu.Unlock()
			if ctx.Err() != nil {
				// Keep the session: a normal disconnection.
				_ = cl.Disconnect(mqtt5.Success, nil)
				return
			}
			cl.Close()
			if time.Since(connected) > 10*maxBackoff {
				// A connection that lasted resets the backoff; one the
				// broker ends at once (another client with this id:
				// Session taken over) does not.
				b = backoff{}
			}
		}
		if ctx.Err() != nil {
			return
		}
		var refused *subscribeRefused
		if errors.As(err, &refused) {
			r.mu.Lock()
			r.mu.fatal = err
			r.mu.Unlock()
			r.wake()
			return
		}
		r.logger.Warn("mqtt source: connection lost, reconnecting", "err", err)
		if b.wait(ctx) != nil {
			return
		}
	}
}

// subscribeRefused is a SUBACK with a failure reason code.
type subscribeRefused struct {
	filter string
	code   mqtt5.ReasonCode
	reason string
}

func (e *subscribeRefused) Error() string {
	return fmt.Sprintf("mqtt: source: the broker refused the subscription to %q: %s %s", e.filter, e.code, e.reason)
}

// connect connects with clean start off (resuming the session) and
// subscribes to every filter; the session keeps the subscriptions, and
// subscribing again on every connect also covers a session that expired.
func (r *reader5[T]) connect(ctx context.Context) (*mqtt5.Client, error) {
	cl, err := r.s.opts.Connection.connect5(ctx, r.subtask, false, r.sessionProps(), r.receive)
	if err != nil {
		return nil, err
	}
	sub := &mqtt5.Subscribe{}
	for _, t := range r.s.opts.Topics {
		if r.s.opts.SharedGroup != "" {
			t = "$share/" + r.s.opts.SharedGroup + "/" + t
		}
		sub.Subscriptions = append(sub.Subscriptions, mqtt5.Subscription{Filter: t, QoS: 1})
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ack, err := cl.Subscribe(sctx, sub)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("mqtt: source: subscribing: %w", err)
	}
	for i, c := range ack.ReasonCodes {
		if c.Failed() && i < len(sub.Subscriptions) {
			cl.Close()
			return nil, &subscribeRefused{sub.Subscriptions[i].Filter, c, ack.Properties.ReasonString}
		}
	}
	return cl, nil
}

// receive is the client's handler: it buffers p, blocking (which holds
// back the connection: backpressure) while the buffer is full. With
// AckOnReceive it acknowledges p once buffered.
func (r *reader5[T]) receive(cl *mqtt5.Client, p *mqtt5.Publish) {
	select {
	case r.msgs <- p:
	case <-r.done:
		return
	}
	if p.QoS > 0 && r.s.opts.AckMode == AckOnReceive {
		if cl.Ack(p.PacketID, mqtt5.Success) == nil {
			r.s.acked.Inc()
		}
	}
	r.wake()
}

func (r *reader5[T]) wake() {
	select {
	case r.avail <- struct{}{}:
	default:
	}
}

// Available signals that Poll has messages.
func (r *reader5[T]) Available() <-chan struct{} { return r.avail }

// Poll emits the buffered messages. A QoS 1 message whose packet id is
// that of a message emitted and not yet acknowledged is the broker's
// redelivery of it after a reconnect (spec 4.4: the broker resends
// unacknowledged messages with their packet ids, and does not reuse an
// id in flight) and is dropped.
func (r *reader5[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	for n := 0; n < 1024; n++ {
		var p *mqtt5.Publish
		select {
		case p = <-r.msgs:
		default:
			r.mu.Lock()
			fatal := r.mu.fatal
			r.mu.Unlock()
			if fatal != nil {
				return weir.NothingAvailable, fatal
			}
			if n == 0 {
				return weir.NothingAvailable, nil
			}
			return weir.MoreAvailable, nil
		}
		r.s.messages.Inc()
		if r.s.opts.AckMode == AckAfterCheckpoint && p.QoS > 0 {
			if r.redelivery(p.PacketID) {
				r.s.redeliveries.Inc()
				continue
			}
			r.inflight[p.PacketID] = struct{}{}
			r.acks.add(p.PacketID)
		}
		msg := Message{Topic: p.Topic, Payload: p.Payload, Retained: p.Retain, Duplicate: p.Dup,
			ContentType: p.Properties.ContentType, UTF8: p.Properties.PayloadFormat == 1}
		for _, u := range p.Properties.User {
			msg.UserProperties = append(msg.UserProperties, UserProperty(u))
		}
		v, err := r.s.opts.Deserializer(msg)
		if err != nil {
			r.s.deadLetters.Inc()
			if err := weir.RejectFromSource(out, r.s.opts.ErrorPolicy, weir.DeadLetter{
				Source: fmt.Sprintf("mqtt topic %s message id %d", p.Topic, p.PacketID),
				Reason: err.Error(), Raw: p.Payload}); err != nil {
				return weir.NothingAvailable, err
			}
			continue
		}
		out.Collect(v)
	}
	return weir.MoreAvailable, nil
}

// SnapshotState stages the messages emitted since the last checkpoint; it
// stores nothing (the broker's session is the position).
func (r *reader5[T]) SnapshotState(checkpointID int64) ([][]byte, error) {
	r.acks.snapshot(checkpointID)
	return nil, nil
}

// NotifyCheckpointComplete hands the packet ids of checkpoints up to id
// to the acknowledging goroutine, in the order they were received (MQTT
// 5 requires PUBACKs in the order of the PUBLISHes only for ordered
// topics, spec 4.6; in order satisfies it).
func (r *reader5[T]) NotifyCheckpointComplete(id int64) error {
	done := r.acks.complete(id)
	if len(done) == 0 {
		return nil
	}
	r.mu.Lock()
	for _, pid := range done {
		delete(r.inflight, pid)
		r.mu.ackQueue = append(r.mu.ackQueue, pid)
		r.mu.acking[pid] = struct{}{}
	}
	r.mu.Unlock()
	r.wakeAcks()
	return nil
}

func (r *reader5[T]) wakeAcks() {
	select {
	case r.ackWake <- struct{}{}:
	default:
	}
}

// redelivery reports whether packet id belongs to a message emitted and
// not yet acknowledged.
func (r *reader5[T]) redelivery(id uint16) bool {
	if _, ok := r.inflight[id]; ok {
		return true
	}
	r.mu.Lock()
	_, ok := r.mu.acking[id]
	r.mu.Unlock()
	return ok
}

// ackLoop sends the queued acknowledgements on the current connection.
// Those it cannot send wait for the next connection: the broker resends
// their messages then (dropped as redeliveries) and takes the PUBACKs on
// the new connection. A PUBACK written to a connection that then breaks
// may be lost: the broker resends that message, and if the PUBACK was
// already taken off acking by then, it is emitted again (a duplicate).
func (r *reader5[T]) ackLoop() {
	for {
		select {
		case <-r.done:
			return
		case <-r.ackWake:
		}
		r.mu.Lock()
		q, cl := r.mu.ackQueue, r.mu.client
		if r.s.noAcks { // a crash right after the checkpoint completed
			clear(r.mu.acking)
			r.mu.ackQueue = nil
		}
		r.mu.Unlock()
		if r.s.noAcks || cl == nil || len(q) == 0 {
			continue
		}
		n := 0
		for _, id := range q {
			if cl.Ack(id, mqtt5.Success) != nil {
				break
			}
			n++
		}
		r.mu.Lock()
		for _, id := range q[:n] {
			delete(r.mu.acking, id)
		}
		// Ids queued meanwhile follow the unsent ones.
		r.mu.ackQueue = append(q[n:len(q):len(q)], r.mu.ackQueue[len(q):]...)
		r.mu.Unlock()
		r.s.acked.Add(float64(n))
	}
}

// Close disconnects normally (the session is kept, with the messages not
// acknowledged, for the next connection with this client id) and waits
// for the reader's goroutines.
func (r *reader5[T]) Close() error {
	close(r.done)
	r.cancel()
	r.wg.Wait()
	return nil
}
