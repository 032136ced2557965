package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// AckMode says when an ingest source answers a request 200.
type AckMode uint8

const (
	// AckOnAccept answers 200 as soon as the request's records are in the
	// source's buffer: fast, but at-most-once across crashes — records
	// acknowledged and not yet covered by a completed checkpoint are lost
	// if the process dies, and the client will not send them again.
	AckOnAccept AckMode = iota
	// AckOnCheckpoint holds the request until a checkpoint that covers
	// all its records has completed, then answers 200: at-least-once —
	// a record acknowledged is in a completed checkpoint, and a client
	// that gets no answer (crash, timeout, 503, 504) sends it again, which
	// may duplicate records Weir had already taken. Needs checkpointing:
	// without it requests time out (AckTimeout) with 504.
	AckOnCheckpoint
)

// String names the mode.
func (m AckMode) String() string {
	switch m {
	case AckOnAccept:
		return "ack-on-accept"
	case AckOnCheckpoint:
		return "ack-on-checkpoint"
	}
	return "AckMode(" + strconv.Itoa(int(m)) + ")"
}

// Defaults of IngestOptions.
const (
	DefaultIngestBufferSize = 10000
	DefaultAcceptTimeout    = 5 * time.Second
	DefaultAckTimeout       = 2 * time.Minute
	DefaultMaxBodyBytes     = 16 << 20
	DefaultShutdownTimeout  = 5 * time.Second
)

// IngestOptions configure an IngestSource.
type IngestOptions[T any] struct {
	// Addr is the listen address (host:port), required. Subtask i of a
	// source with parallelism p listens on port+i: each subtask has its
	// own listener (put a load balancer in front for one address). With
	// port 0 every subtask takes a free port; IngestSource.Addr tells it.
	Addr string
	// Path is the endpoint's path (default "/"); other paths answer 404.
	Path string
	// Deserializer turns one JSON record (a line, an array element or the
	// whole body) into a value, required: kafka.JSONSerde[T]{} for JSON.
	// It is called from the request handlers' goroutines at the same
	// time, so it must be safe for concurrent use (the kafka package's
	// JSONSerde, BytesSerde and StringSerde are).
	Deserializer kafka.Deserializer[T]
	// ErrorPolicy handles records that do not decode. The default
	// (weir.FailOnError) refuses the whole request with 400, naming the
	// first bad line (or element) and field: nothing of it is taken, the
	// client is told, and the job goes on. weir.DeadLetterTo takes the
	// good records and emits the bad ones as weir.DeadLetters to the side
	// output; the answer counts both.
	ErrorPolicy weir.ErrorPolicy
	// Ack says when a request is answered 200 (default AckOnAccept).
	Ack AckMode
	// BufferSize bounds the records a subtask holds that its task has not
	// emitted yet (default DefaultIngestBufferSize). A request larger than
	// the whole buffer is taken when the buffer is empty.
	BufferSize int
	// AcceptTimeout is how long a request waits for room in a full buffer
	// before it is answered 429 Too Many Requests with Retry-After
	// (default DefaultAcceptTimeout).
	AcceptTimeout time.Duration
	// RetryAfter is the Retry-After of a 429 (default 1s, whole seconds).
	RetryAfter time.Duration
	// AckTimeout bounds the wait for a checkpoint under AckOnCheckpoint
	// (default DefaultAckTimeout); a request still waiting is answered 504:
	// its records were taken and may be delivered, so a retry may
	// duplicate them.
	AckTimeout time.Duration
	// MaxBodyBytes bounds a request's body (default DefaultMaxBodyBytes);
	// a larger one is answered 413.
	MaxBodyBytes int64
	// ShutdownTimeout bounds how long Close waits for requests in flight
	// (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// Registry, if set, receives the source's metrics:
	// weir_http_ingest_requests_total{code} and
	// weir_http_ingest_records_total{outcome="accepted"|"rejected"}.
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// IngestSource is an HTTP endpoint that takes records POSTed to it: JSON
// lines, a JSON array or one JSON value per request. Add it with
// weir.FromSource; create it with NewIngestSource.
type IngestSource[T any] struct {
	opts IngestOptions[T]

	metricsOnce sync.Once
	metricsErr  error
	requests    *prometheus.CounterVec
	records     *prometheus.CounterVec

	mu struct {
		sync.Mutex
		addrs map[int]string
	}
}

// NewIngestSource returns an ingest source; options are checked when the
// job starts.
func NewIngestSource[T any](opts IngestOptions[T]) *IngestSource[T] {
	s := &IngestSource[T]{opts: opts}
	s.mu.addrs = map[int]string{}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "weir", Subsystem: "http_ingest", Name: "requests_total",
		Help: "Requests answered by HTTP ingest sources, by status code.",
	}, []string{"code"})
	s.records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "weir", Subsystem: "http_ingest", Name: "records_total",
		Help: "Records received by HTTP ingest sources: accepted, or rejected (bad request or dead letter).",
	}, []string{"outcome"})
	return s
}

// Addr returns the address subtask listens on ("" until its reader was
// created).
func (s *IngestSource[T]) Addr(subtask int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.addrs[subtask]
}

func (s *IngestSource[T]) setAddr(subtask int, a string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a == "" {
		delete(s.mu.addrs, subtask)
		return
	}
	s.mu.addrs[subtask] = a
}

// options checks the options and fills in defaults.
func (s *IngestSource[T]) options() (IngestOptions[T], error) {
	o := s.opts
	switch {
	case o.Addr == "":
		return o, optionError("Addr", "must be set")
	case o.Deserializer == nil:
		return o, optionError("Deserializer", "must be set (kafka.JSONSerde[T]{} for JSON)")
	case o.Ack > AckOnCheckpoint:
		return o, optionError("Ack", fmt.Sprintf("unknown mode %d", o.Ack))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return o, optionError("Addr", err.Error())
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultIngestBufferSize
	}
	if o.AcceptTimeout <= 0 {
		o.AcceptTimeout = DefaultAcceptTimeout
	}
	if o.RetryAfter < time.Second {
		o.RetryAfter = time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// subtaskAddr is the listen address of subtask i: Addr's port plus i.
func subtaskAddr(addr string, subtask int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", err
	}
	if p == 0 {
		return addr, nil
	}
	if p+subtask > 65535 {
		return "", fmt.Errorf("port %d + subtask %d is out of range", p, subtask)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+subtask)), nil
}

// CreateReader starts the subtask's listener and HTTP server; the listen
// address is taken at once, so a port in use fails the job's start.
func (s *IngestSource[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	o, err := s.options()
	if err != nil {
		return nil, err
	}
	s.metricsOnce.Do(func() {
		if s.requests, s.metricsErr = registerCounterVec(o.Registry, s.requests); s.metricsErr != nil {
			return
		}
		s.records, s.metricsErr = registerCounterVec(o.Registry, s.records)
	})
	if s.metricsErr != nil {
		return nil, s.metricsErr
	}
	addr, err := subtaskAddr(o.Addr, ctx.Subtask)
	if err != nil {
		return nil, optionError("Addr", err.Error())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: ingest source subtask %d: %w", ctx.Subtask, err)
	}
	r := &ingestReader[T]{
		src: s, opts: o, subtask: ctx.Subtask, addr: ln.Addr().String(),
		avail: make(chan struct{}, 1), closing: make(chan struct{}),
	}
	r.mu.space = make(chan struct{})
	mux := nethttp.NewServeMux()
	mux.HandleFunc(o.Path, r.serve)
	r.srv = &nethttp.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			o.Logger.Error("http: ingest server stopped", "addr", r.addr, "err", err)
		}
	}()
	s.setAddr(ctx.Subtask, r.addr)
	return r, nil
}

// ingestBatch is the records of one request.
type ingestBatch[T any] struct {
	recs []T
	dead []weir.DeadLetter
	// done receives nil when a checkpoint covering the batch completed
	// (AckOnCheckpoint only; buffered, so the reader never blocks).
	done chan struct{}
}

// ingestReader serves one subtask's listener. Request handlers decode
// records and queue them (mu); the subtask goroutine emits them in Poll.
type ingestReader[T any] struct {
	src     *IngestSource[T]
	opts    IngestOptions[T]
	subtask int
	addr    string
	srv     *nethttp.Server
	wg      sync.WaitGroup
	avail   chan struct{}
	closing chan struct{}
	reqSeq  atomic.Int64

	mu struct {
		sync.Mutex
		queue  []*ingestBatch[T]
		queued int // records in queue and in cur
		// space is closed (and replaced) when records leave the buffer.
		space  chan struct{}
		closed bool
	}

	// Owned by the subtask goroutine.
	cur     *ingestBatch[T]
	idx     int
	emitted []*ingestBatch[T] // fully emitted since the last snapshot
	snaps   []ingestSnap[T]   // emitted before checkpoint id, not yet complete
}

type ingestSnap[T any] struct {
	id      int64
	batches []*ingestBatch[T]
}

// Available signals that a request queued records.
func (r *ingestReader[T]) Available() <-chan struct{} { return r.avail }

// maxPerPoll bounds the records one Poll emits.
const maxPerPoll = 2048

// Poll emits queued records. It never blocks.
func (r *ingestReader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	n := 0
	for n < maxPerPoll {
		if r.cur == nil {
			r.mu.Lock()
			if len(r.mu.queue) > 0 {
				r.cur = r.mu.queue[0]
				r.mu.queue[0] = nil
				r.mu.queue = r.mu.queue[1:]
			}
			r.mu.Unlock()
			if r.cur == nil {
				break
			}
			r.idx = 0
			for _, d := range r.cur.dead {
				if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, d); err != nil {
					return weir.NothingAvailable, fmt.Errorf("http: %w", err)
				}
			}
		}
		b := r.cur
		k := min(len(b.recs)-r.idx, maxPerPoll-n)
		for _, v := range b.recs[r.idx : r.idx+k] {
			out.Collect(v)
		}
		r.idx += k
		n += k
		if r.idx == len(b.recs) {
			r.release(len(b.recs))
			if b.done != nil {
				r.emitted = append(r.emitted, b)
			}
			r.cur = nil
		}
	}
	r.mu.Lock()
	more := r.cur != nil || len(r.mu.queue) > 0
	r.mu.Unlock()
	if more {
		return weir.MoreAvailable, nil
	}
	return weir.NothingAvailable, nil
}

// release frees n records of buffer space and wakes waiting requests.
func (r *ingestReader[T]) release(n int) {
	r.mu.Lock()
	r.mu.queued -= n
	close(r.mu.space)
	r.mu.space = make(chan struct{})
	r.mu.Unlock()
}

// SnapshotState stores nothing (a request cannot be read again); under
// AckOnCheckpoint it notes which requests the checkpoint covers.
func (r *ingestReader[T]) SnapshotState(id int64) ([][]byte, error) {
	if len(r.emitted) > 0 {
		r.snaps = append(r.snaps, ingestSnap[T]{id: id, batches: r.emitted})
		r.emitted = nil
	}
	return nil, nil
}

// NotifyCheckpointComplete answers the requests whose records checkpoint
// id (or an earlier one) covers.
func (r *ingestReader[T]) NotifyCheckpointComplete(id int64) error {
	kept := r.snaps[:0]
	for _, s := range r.snaps {
		if s.id > id {
			kept = append(kept, s)
			continue
		}
		for _, b := range s.batches {
			close(b.done)
		}
	}
	clear(r.snaps[len(kept):])
	r.snaps = kept
	return nil
}

// Close refuses new requests, answers waiting ones 503, stops the server
// (waiting up to ShutdownTimeout for requests in flight) and its
// goroutine. Records taken and not emitted are dropped.
func (r *ingestReader[T]) Close() error {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return nil
	}
	r.mu.closed = true
	r.mu.Unlock()
	close(r.closing)
	r.src.setAddr(r.subtask, "")
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.ShutdownTimeout)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if err != nil {
		r.srv.Close()
	}
	r.wg.Wait()
	if err != nil {
		return fmt.Errorf("http: ingest source %s: shutdown: %w", r.addr, err)
	}
	return nil
}

// ingestReply is the JSON body of every answer.
type ingestReply struct {
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
	Error    string `json:"error,omitempty"`
}

func (r *ingestReader[T]) reply(w nethttp.ResponseWriter, code int, rep ingestReply) {
	w.Header().Set("Content-Type", "application/json")
	if code == nethttp.StatusTooManyRequests || code == nethttp.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(r.opts.RetryAfter/time.Second)))
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(rep)
	r.src.requests.WithLabelValues(strconv.Itoa(code)).Inc()
}

// serve handles one request: read, decode, queue, answer.
func (r *ingestReader[T]) serve(w nethttp.ResponseWriter, req *nethttp.Request) {
	if req.Method != nethttp.MethodPost {
		w.Header().Set("Allow", "POST")
		r.reply(w, nethttp.StatusMethodNotAllowed, ingestReply{Error: "http: use POST"})
		return
	}
	body, err := io.ReadAll(nethttp.MaxBytesReader(w, req.Body, r.opts.MaxBodyBytes))
	if err != nil {
		var mbe *nethttp.MaxBytesError
		if errors.As(err, &mbe) {
			r.reply(w, nethttp.StatusRequestEntityTooLarge, ingestReply{Error: fmt.Sprintf("http: body larger than %d bytes", mbe.Limit)})
			return
		}
		r.reply(w, nethttp.StatusBadRequest, ingestReply{Error: "http: reading the body: " + err.Error()})
		return
	}
	reqID := r.reqSeq.Add(1)
	_, deadLetters := r.opts.ErrorPolicy.DeadLetters()
	b := &ingestBatch[T]{}
	var rec kgo.Record
	var bad error
	err = splitBody(body, func(unit string, n int, raw []byte) error {
		rec.Value = raw
		v, err := r.opts.Deserializer.Deserialize(&rec)
		if err == nil {
			b.recs = append(b.recs, v)
			return nil
		}
		field, reason := rejection(err)
		if !deadLetters {
			msg := fmt.Sprintf("%s %d", unit, n)
			if field != "" {
				msg += fmt.Sprintf(": field %q", field)
			}
			bad = fmt.Errorf("%s: %s", msg, reason)
			return bad
		}
		b.dead = append(b.dead, weir.DeadLetter{
			Source: fmt.Sprintf("http %s request %d from %s %s %d", r.addr, reqID, req.RemoteAddr, unit, n),
			Field:  field, Reason: reason, Raw: raw,
		})
		return nil
	})
	if err != nil {
		r.src.records.WithLabelValues("rejected").Inc()
		r.reply(w, nethttp.StatusBadRequest, ingestReply{Error: err.Error()})
		return
	}
	r.src.records.WithLabelValues("rejected").Add(float64(len(b.dead)))
	if len(b.recs) == 0 && len(b.dead) == 0 {
		r.reply(w, nethttp.StatusOK, ingestReply{})
		return
	}
	if r.opts.Ack == AckOnCheckpoint {
		b.done = make(chan struct{})
	}
	switch code := r.push(req.Context(), b); code {
	case nethttp.StatusOK:
	case nethttp.StatusTooManyRequests:
		r.reply(w, code, ingestReply{Error: fmt.Sprintf("http: buffer full for %v", r.opts.AcceptTimeout)})
		return
	default:
		r.reply(w, code, ingestReply{Error: "http: source is shutting down"})
		return
	}
	r.src.records.WithLabelValues("accepted").Add(float64(len(b.recs)))
	rep := ingestReply{Accepted: len(b.recs), Rejected: len(b.dead)}
	if b.done == nil {
		r.reply(w, nethttp.StatusOK, rep)
		return
	}
	t := time.NewTimer(r.opts.AckTimeout)
	defer t.Stop()
	select {
	case <-b.done:
		r.reply(w, nethttp.StatusOK, rep)
	case <-t.C:
		r.reply(w, nethttp.StatusGatewayTimeout, ingestReply{Error: fmt.Sprintf(
			"http: records taken but no checkpoint completed within %v; a retry may duplicate them", r.opts.AckTimeout)})
	case <-r.closing:
		r.reply(w, nethttp.StatusServiceUnavailable, ingestReply{Error: "http: source shut down before a checkpoint covered the records; a retry may duplicate them"})
	case <-req.Context().Done():
	}
}

// push queues b, waiting up to AcceptTimeout for room. It returns 200
// when queued, 429 when the buffer stayed full, 503 when closing.
func (r *ingestReader[T]) push(ctx context.Context, b *ingestBatch[T]) int {
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		if r.mu.closed {
			r.mu.Unlock()
			return nethttp.StatusServiceUnavailable
		}
		if r.mu.queued == 0 || r.mu.queued+len(b.recs) <= r.opts.BufferSize {
			r.mu.queue = append(r.mu.queue, b)
			r.mu.queued += len(b.recs)
			r.mu.Unlock()
			select {
			case r.avail <- struct{}{}:
			default:
			}
			return nethttp.StatusOK
		}
		space := r.mu.space
		r.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(r.opts.AcceptTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-space:
		case <-timeout:
			return nethttp.StatusTooManyRequests
		case <-r.closing:
			return nethttp.StatusServiceUnavailable
		case <-ctx.Done():
			return nethttp.StatusServiceUnavailable
		}
	}
}
