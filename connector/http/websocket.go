package http

import (
	"context"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// Defaults of WebSocketOptions.
const (
	DefaultWebSocketBuffer    = 1024
	DefaultWebSocketReadLimit = 1 << 20
)

// WebSocketOptions configure a WebSocketSource.
type WebSocketOptions[T any] struct {
	// URL is the feed, ws:// or wss://, required.
	URL string
	// Header is sent with the opening handshake.
	Header nethttp.Header
	// Subscribe, if set, is sent as a text message after every connect,
	// including reconnects.
	Subscribe []byte
	// Deserializer turns one message into a value, required.
	Deserializer kafka.Deserializer[T]
	// ErrorPolicy handles messages that do not decode (default: fail the
	// job; DeadLetterTo: dead letters naming the URL, connection and
	// message).
	ErrorPolicy weir.ErrorPolicy
	// Backoff spaces reconnects; it starts over after a connection that
	// delivered a message.
	Backoff Backoff
	// BufferSize bounds the messages read and not yet emitted (default
	// DefaultWebSocketBuffer); while it is full the source stops reading,
	// and the feed's server sees TCP backpressure (and may disconnect).
	BufferSize int
	// ReadLimit bounds a message's size (default
	// DefaultWebSocketReadLimit); a larger message closes the connection,
	// which is then reopened.
	ReadLimit int64
	// Registry, if set, receives weir_http_websocket_events_total{event}
	// (connect, disconnect, message).
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// WebSocketSource reads a WebSocket feed: each message is a record.
// Subtask 0 connects; other subtasks are idle. A feed cannot be replayed,
// so the guarantee is at-most-once: messages sent while disconnected, and
// messages read but not covered by a completed checkpoint when the process
// dies, are lost.
type WebSocketSource[T any] struct {
	opts        WebSocketOptions[T]
	metricsOnce sync.Once
	metricsErr  error
	events      *prometheus.CounterVec
}

// NewWebSocketSource returns a WebSocket source; options are checked when
// the job starts.
func NewWebSocketSource[T any](opts WebSocketOptions[T]) *WebSocketSource[T] {
	return &WebSocketSource[T]{opts: opts, events: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "weir", Subsystem: "http_websocket", Name: "events_total",
		Help: "Events of WebSocket sources: connect, disconnect, message.",
	}, []string{"event"})}
}

// wsMessage is one message read, with where it came from.
type wsMessage struct {
	data      []byte
	conn, seq int64
}

// CreateReader returns the reader of one subtask; subtask 0's starts the
// goroutine that connects and reads.
func (s *WebSocketSource[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	o := s.opts
	switch {
	case o.URL == "":
		return nil, optionError("URL", "must be set")
	case o.Deserializer == nil:
		return nil, optionError("Deserializer", "must be set (kafka.JSONSerde[T]{} for JSON)")
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultWebSocketBuffer
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultWebSocketReadLimit
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s.metricsOnce.Do(func() { s.events, s.metricsErr = registerCounterVec(o.Registry, s.events) })
	if s.metricsErr != nil {
		return nil, s.metricsErr
	}
	r := &wsReader[T]{opts: o, src: s, subtask: ctx.Subtask,
		msgs: make(chan wsMessage, o.BufferSize), avail: make(chan struct{}, 1)}
	if ctx.Subtask != 0 {
		return r, nil
	}
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readLoop(gctx)
	}()
	return r, nil
}

// wsReader emits the messages its goroutine (readLoop) reads.
type wsReader[T any] struct {
	opts    WebSocketOptions[T]
	src     *WebSocketSource[T]
	subtask int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	msgs    chan wsMessage
	avail   chan struct{}
	idle    bool
	rec     kgo.Record
}

// Available signals messages read.
func (r *wsReader[T]) Available() <-chan struct{} { return r.avail }

// Poll decodes and emits the messages read. It never blocks.
func (r *wsReader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	if r.subtask != 0 {
		if !r.idle {
			r.idle = true
			out.MarkIdle()
		}
		return weir.NothingAvailable, nil
	}
	for n := 0; n < maxPerPoll; n++ {
		var m wsMessage
		select {
		case m = <-r.msgs:
		default:
			return weir.NothingAvailable, nil
		}
		r.rec.Value = m.data
		v, err := r.opts.Deserializer.Deserialize(&r.rec)
		if err != nil {
			d := weir.DeadLetter{Source: fmt.Sprintf("websocket %s connection %d message %d", r.opts.URL, m.conn, m.seq), Raw: m.data}
			d.Field, d.Reason = rejection(err)
			if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, d); err != nil {
				return weir.NothingAvailable, fmt.Errorf("http: %w", err)
			}
			continue
		}
		out.Collect(v)
	}
	return weir.MoreAvailable, nil
}

// SnapshotState stores nothing: a feed cannot be read again from a
// position, so a restored job starts with what the feed sends then.
func (r *wsReader[T]) SnapshotState(int64) ([][]byte, error) { return nil, nil }

// Close stops the reading goroutine and closes the connection.
func (r *wsReader[T]) Close() error {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
	return nil
}

// readLoop connects, subscribes and reads until ctx is done, reconnecting
// with backoff.
func (r *wsReader[T]) readLoop(ctx context.Context) {
	var connN int64
	failures := 0
	for ctx.Err() == nil {
		connN++
		got, err := r.session(ctx, connN)
		if ctx.Err() != nil {
			return
		}
		r.src.events.WithLabelValues("disconnect").Inc()
		if got {
			failures = 0
		}
		failures++
		d := r.opts.Backoff.Delay(failures)
		r.opts.Logger.Warn("http: websocket disconnected; reconnecting", "url", r.opts.URL, "in", d, "err", err)
		sleep(ctx, d)
	}
}

// session runs one connection; it reports whether a message was read.
func (r *wsReader[T]) session(ctx context.Context, connN int64) (bool, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, _, err := websocket.Dial(dctx, r.opts.URL, &websocket.DialOptions{HTTPHeader: r.opts.Header})
	cancel()
	if err != nil {
		return false, err
	}
	defer c.CloseNow()
	c.SetReadLimit(r.opts.ReadLimit)
	r.src.events.WithLabelValues("connect").Inc()
	if len(r.opts.Subscribe) > 0 {
		if err := c.Write(ctx, websocket.MessageText, r.opts.Subscribe); err != nil {
			return false, fmt.Errorf("subscribing: %w", err)
		}
	}
	var seq int64
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return seq > 0, err
		}
		seq++
		r.src.events.WithLabelValues("message").Inc()
		select {
		case r.msgs <- wsMessage{data: data, conn: connN, seq: seq}:
		case <-ctx.Done():
			c.Close(websocket.StatusGoingAway, "source closing")
			return true, ctx.Err()
		}
		select {
		case r.avail <- struct{}{}:
		default:
		}
	}
}
