package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// Defaults of PollOptions.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultPollMaxBody  = 64 << 20
)

// PollOptions configure a PollSource.
type PollOptions[T any] struct {
	// URL is fetched with GET, required.
	URL string
	// Interval is the wait between polls that bring nothing new (default
	// DefaultPollInterval). With a cursor, a poll that brings records is
	// followed at once by the next (the next page).
	Interval time.Duration
	// Client sends the requests (default: a client with a 30s timeout).
	Client *nethttp.Client
	// Header is added to every request (authorization, Accept).
	Header nethttp.Header
	// Deserializer turns one record (a JSON array element, a line, or the
	// whole body if it is one JSON value) into a value, required.
	Deserializer kafka.Deserializer[T]
	// ErrorPolicy handles records that do not decode (default: fail the
	// job; DeadLetterTo: dead letters naming the URL and element).
	ErrorPolicy weir.ErrorPolicy
	// CursorParam and Cursor, set together, make the source incremental:
	// every request carries CursorParam=Cursor(last record emitted) in its
	// query (InitialCursor, if set, before the first record), and the
	// cursor of the last record emitted is stored in checkpoints, so a
	// restored job asks for what follows it. The endpoint must return the
	// records after the cursor, in a stable order.
	CursorParam   string
	Cursor        func(T) string
	InitialCursor string
	// Backoff spaces the retries of failed polls (network errors, 408,
	// 429, 5xx). Other 4xx answers fail the job: the request is wrong.
	Backoff Backoff
	// MaxBodyBytes bounds a response body (default DefaultPollMaxBody).
	MaxBodyBytes int64
	// Registry, if set, receives weir_http_poll_requests_total{outcome}.
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// PollSource polls a REST endpoint with GET at an interval and emits the
// records of every response. Subtask 0 polls; other subtasks are idle.
type PollSource[T any] struct {
	opts        PollOptions[T]
	metricsOnce sync.Once
	metricsErr  error
	requests    *prometheus.CounterVec
}

// NewPollSource returns a polling source; options are checked when the
// job starts.
func NewPollSource[T any](opts PollOptions[T]) *PollSource[T] {
	return &PollSource[T]{opts: opts, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "weir", Subsystem: "http_poll", Name: "requests_total",
		Help: "Polls of HTTP polling sources, by outcome (ok, retry, fail).",
	}, []string{"outcome"})}
}

// cursorVersion prefixes a stored cursor.
const cursorVersion = 1

// CreateReader returns the reader of one subtask; subtask 0's starts a
// goroutine that polls.
func (s *PollSource[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	o := s.opts
	switch {
	case o.URL == "":
		return nil, optionError("URL", "must be set")
	case o.Deserializer == nil:
		return nil, optionError("Deserializer", "must be set (kafka.JSONSerde[T]{} for JSON)")
	case (o.CursorParam == "") != (o.Cursor == nil):
		return nil, optionError("CursorParam", "CursorParam and Cursor must be set together")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, optionError("URL", err.Error())
	}
	if o.Interval <= 0 {
		o.Interval = DefaultPollInterval
	}
	if o.Client == nil {
		o.Client = &nethttp.Client{Timeout: 30 * time.Second}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultPollMaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if ctx.Logger != nil && s.opts.Logger == nil {
		o.Logger = ctx.Logger
	}
	s.metricsOnce.Do(func() { s.requests, s.metricsErr = registerCounterVec(o.Registry, s.requests) })
	if s.metricsErr != nil {
		return nil, s.metricsErr
	}
	r := &pollReader[T]{opts: o, src: s, url: u, subtask: ctx.Subtask, cursor: o.InitialCursor,
		pages: make(chan pollPage[T], 1), avail: make(chan struct{}, 1)}
	for _, it := range ctx.Restored {
		if len(it) == 0 || it[0] != cursorVersion {
			return nil, fmt.Errorf("http: poll source: stored cursor of unknown version")
		}
		r.cursor = string(it[1:])
	}
	if ctx.Subtask != 0 {
		return r, nil
	}
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.fetchLoop(gctx, r.cursor)
	}()
	return r, nil
}

// pollItem is one record of a response: a value and its cursor, or a
// dead letter.
type pollItem[T any] struct {
	v      T
	cursor string
	dead   *weir.DeadLetter
}

// pollPage is one response's records, or the error that ends the source.
type pollPage[T any] struct {
	items []pollItem[T]
	err   error
}

// pollReader emits the pages its goroutine (fetchLoop) fetches.
type pollReader[T any] struct {
	opts    PollOptions[T]
	src     *PollSource[T]
	url     *url.URL
	subtask int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pages   chan pollPage[T]
	avail   chan struct{}

	// Owned by the subtask goroutine.
	cur    []pollItem[T]
	cursor string // of the last record emitted
	idle   bool
}

// Available signals a fetched page.
func (r *pollReader[T]) Available() <-chan struct{} { return r.avail }

// Poll emits the records fetched. It never blocks.
func (r *pollReader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	if r.subtask != 0 {
		if !r.idle {
			r.idle = true
			out.MarkIdle()
		}
		return weir.NothingAvailable, nil
	}
	n := 0
	for n < maxPerPoll {
		if len(r.cur) == 0 {
			select {
			case p := <-r.pages:
				if p.err != nil {
					return weir.NothingAvailable, p.err
				}
				r.cur = p.items
				continue
			default:
			}
			break
		}
		it := &r.cur[0]
		if it.dead != nil {
			if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, *it.dead); err != nil {
				return weir.NothingAvailable, fmt.Errorf("http: %w", err)
			}
		} else {
			out.Collect(it.v)
			if r.opts.Cursor != nil {
				r.cursor = it.cursor
			}
		}
		*it = pollItem[T]{}
		r.cur = r.cur[1:]
		n++
	}
	if len(r.cur) > 0 || len(r.pages) > 0 {
		return weir.MoreAvailable, nil
	}
	return weir.NothingAvailable, nil
}

// SnapshotState stores the cursor of the last record emitted (subtask 0).
func (r *pollReader[T]) SnapshotState(int64) ([][]byte, error) {
	if r.subtask != 0 || r.opts.Cursor == nil {
		return nil, nil
	}
	return [][]byte{append([]byte{cursorVersion}, r.cursor...)}, nil
}

// Close stops the polling goroutine.
func (r *pollReader[T]) Close() error {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
	return nil
}

// fetchLoop polls until ctx is done, handing pages to Poll.
func (r *pollReader[T]) fetchLoop(ctx context.Context, cursor string) {
	failures := 0
	for ctx.Err() == nil {
		items, err := r.fetch(ctx, cursor)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var fatal *fatalError
			if errors.As(err, &fatal) {
				r.src.requests.WithLabelValues("fail").Inc()
				r.send(ctx, pollPage[T]{err: fatal.err})
				return
			}
			r.src.requests.WithLabelValues("retry").Inc()
			failures++
			d := r.opts.Backoff.Delay(failures)
			if ra := retryAfterOf(err); ra > d {
				d = ra
			}
			r.opts.Logger.Warn("http: poll failed; retrying", "url", r.opts.URL, "attempt", failures, "in", d, "err", err)
			sleep(ctx, d)
			continue
		}
		r.src.requests.WithLabelValues("ok").Inc()
		failures = 0
		next := cursor
		for i := len(items) - 1; i >= 0 && r.opts.Cursor != nil; i-- {
			if items[i].dead == nil {
				next = items[i].cursor
				break
			}
		}
		if len(items) > 0 && !r.send(ctx, pollPage[T]{items: items}) {
			return
		}
		if r.opts.Cursor != nil && next != cursor {
			cursor = next // more may follow: ask at once
			continue
		}
		sleep(ctx, r.opts.Interval)
	}
}

// send hands p to Poll; false if ctx ended first.
func (r *pollReader[T]) send(ctx context.Context, p pollPage[T]) bool {
	select {
	case r.pages <- p:
	case <-ctx.Done():
		return false
	}
	select {
	case r.avail <- struct{}{}:
	default:
	}
	return true
}

// fatalError is a poll error retrying cannot fix.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// statusError is a retriable HTTP answer.
type statusError struct {
	code  int
	after time.Duration
	body  string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func retryAfterOf(err error) time.Duration {
	var se *statusError
	if errors.As(err, &se) {
		return se.after
	}
	return 0
}

// fetch GETs the URL with cursor and decodes the response.
func (r *pollReader[T]) fetch(ctx context.Context, cursor string) ([]pollItem[T], error) {
	u := *r.url
	if r.opts.CursorParam != "" && cursor != "" {
		q := u.Query()
		q.Set(r.opts.CursorParam, cursor)
		u.RawQuery = q.Encode()
	}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &fatalError{fmt.Errorf("http: poll source: %w", err)}
	}
	for k, vs := range r.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := r.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if retriableStatus(resp.StatusCode) {
			return nil, &statusError{code: resp.StatusCode, after: retryAfter(resp.Header), body: clip(string(body), 200)}
		}
		return nil, &fatalError{fmt.Errorf("http: poll source: GET %s: HTTP %d: %s", u.Redacted(), resp.StatusCode, clip(string(body), 200))}
	}
	if int64(len(body)) > r.opts.MaxBodyBytes {
		return nil, &fatalError{fmt.Errorf("http: poll source: GET %s: response larger than %d bytes", u.Redacted(), r.opts.MaxBodyBytes)}
	}
	var items []pollItem[T]
	var rec kgo.Record
	where := "GET " + u.Redacted()
	err = splitBody(body, func(unit string, n int, raw []byte) error {
		rec.Value = raw
		v, err := r.opts.Deserializer.Deserialize(&rec)
		if err != nil {
			d := &weir.DeadLetter{Source: where + " " + unit + " " + strconv.Itoa(n), Raw: raw}
			d.Field, d.Reason = rejection(err)
			items = append(items, pollItem[T]{dead: d})
			return nil
		}
		it := pollItem[T]{v: v}
		if r.opts.Cursor != nil {
			it.cursor = r.opts.Cursor(v)
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, &fatalError{fmt.Errorf("http: poll source: %s: %w", where, err)}
	}
	return items, nil
}
