package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// Format is the body format of a webhook batch.
type Format uint8

const (
	// JSONArray sends a batch as one JSON array of the records (default).
	JSONArray Format = iota
	// JSONLines sends one record per line (application/x-ndjson).
	JSONLines
)

// Defaults of WebhookOptions.
const (
	DefaultWebhookBatchSize  = 500
	DefaultWebhookBatchBytes = 4 << 20
	DefaultIdempotencyHeader = "Idempotency-Key"
)

// WebhookOptions configure a WebhookSink.
type WebhookOptions[T any] struct {
	// URL receives the batches, required.
	URL string
	// Method is the request method (default POST).
	Method string
	// Header is added to every request.
	Header nethttp.Header
	// Client sends the requests (default: a client with a 30s timeout).
	Client *nethttp.Client
	// Serializer turns a value into one JSON document, required
	// (kafka.JSONSerde[T]{}); with JSONArray it must be a JSON value.
	Serializer kafka.Serializer[T]
	// Format is JSONArray (default) or JSONLines.
	Format Format
	// BatchSize and BatchBytes bound a batch (defaults
	// DefaultWebhookBatchSize records, DefaultWebhookBatchBytes bytes).
	// A batch is sent when full, on every checkpoint and at the end of
	// input.
	BatchSize  int
	BatchBytes int
	// FlushInterval, if positive, also sends a batch whose first record
	// has waited that long, from a goroutine of the writer (default 0:
	// batches wait for the size bounds, a checkpoint or the end of input).
	// Batches cut by time are not repeated identically after a restore,
	// so their keys no longer identify the same records.
	FlushInterval time.Duration
	// IdempotencyHeader names the header carrying each batch's key
	// (default DefaultIdempotencyHeader; "-" sends none). Keys come from
	// BatchKeys: KeyPrefix-subtask-epoch-offset+count, where the epoch
	// names the last checkpoint before the batch ("0" before the first),
	// offset counts the records sent since and count is the batch's size.
	// A batch of the same records sent again after a restore has the same
	// key; a batch of other records never does.
	IdempotencyHeader string
	// KeyPrefix starts every key (default: the sink operator's name).
	KeyPrefix string
	// Backoff spaces retries of network errors, 408, 429 and 5xx (a
	// Retry-After longer than the backoff is honoured).
	Backoff Backoff
	// MaxAttempts bounds the attempts of one batch (default 0: retry
	// until the job is cancelled); when reached, the job fails.
	MaxAttempts int
	// DeadLetters, if set, receives the records of a batch the receiver
	// refuses with a 4xx other than 408 and 429, and records the
	// Serializer rejects, one weir.DeadLetter each, written by a writer of
	// this sink's subtask and flushed with the batches. Without it such a
	// batch fails the job, with an error naming its key and the answer.
	DeadLetters weir.Sink[weir.DeadLetter]
	// Registry, if set, receives weir_http_webhook_batches_total{outcome}
	// (sent, retried, rejected) and weir_http_webhook_records_total.
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// WebhookSink POSTs batches of records to a URL, at-least-once. Each
// batch's Idempotency-Key names its records, so a receiver that drops keys
// it has seen removes most repeats after a restore, and never a record it
// did not get (see the package doc). Add it with Stream.SinkTo; create it
// with NewWebhookSink.
type WebhookSink[T any] struct {
	opts        WebhookOptions[T]
	metricsOnce sync.Once
	metricsErr  error
	batches     *prometheus.CounterVec
	records     *prometheus.CounterVec
}

// NewWebhookSink returns a webhook sink; options are checked when the job
// starts.
func NewWebhookSink[T any](opts WebhookOptions[T]) *WebhookSink[T] {
	return &WebhookSink[T]{opts: opts,
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "http_webhook", Name: "batches_total",
			Help: "Batch requests of webhook sinks, by outcome: sent, retried, rejected.",
		}, []string{"outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "http_webhook", Name: "records_total",
			Help: "Records of webhook sinks, by outcome: sent, dead_letter.",
		}, []string{"outcome"}),
	}
}

// CreateWriter returns the writer of one subtask. It does no I/O.
func (s *WebhookSink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	o := s.opts
	switch {
	case o.URL == "":
		return nil, optionError("URL", "must be set")
	case o.Serializer == nil:
		return nil, optionError("Serializer", "must be set (kafka.JSONSerde[T]{} for JSON)")
	case o.Format > JSONLines:
		return nil, optionError("Format", fmt.Sprintf("unknown format %d", o.Format))
	}
	if o.Method == "" {
		o.Method = nethttp.MethodPost
	}
	if o.Client == nil {
		o.Client = &nethttp.Client{Timeout: 30 * time.Second}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultWebhookBatchSize
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultWebhookBatchBytes
	}
	if o.IdempotencyHeader == "" {
		o.IdempotencyHeader = DefaultIdempotencyHeader
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = ctx.OperatorName
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s.metricsOnce.Do(func() {
		if s.batches, s.metricsErr = registerCounterVec(o.Registry, s.batches); s.metricsErr == nil {
			s.records, s.metricsErr = registerCounterVec(o.Registry, s.records)
		}
	})
	if s.metricsErr != nil {
		return nil, s.metricsErr
	}
	w := &webhookWriter[T]{opts: o, sink: s, subtask: ctx.Subtask, keys: NewBatchKeys(o.KeyPrefix, ctx.Subtask, ctx.Parallelism)}
	if o.DeadLetters != nil {
		dl, err := o.DeadLetters.CreateWriter(ctx)
		if err != nil {
			return nil, fmt.Errorf("http: webhook dead letters: %w", err)
		}
		w.dead = dl
	}
	w.startBatch()
	if o.FlushInterval > 0 {
		bg, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.flusher(bg)
		}()
	}
	return w, nil
}

// flusher sends batches older than FlushInterval until ctx ends.
func (w *webhookWriter[T]) flusher(ctx context.Context) {
	t := time.NewTicker(max(w.opts.FlushInterval/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		if w.bgErr == nil && len(w.ends) > 0 && time.Since(w.first) >= w.opts.FlushInterval {
			w.bgErr = w.send(ctx)
		}
		w.mu.Unlock()
	}
}

// webhookWriter batches one subtask's records. It is used by the
// subtask's goroutine and, with FlushInterval, by its flusher goroutine:
// mu guards the batch and every request.
type webhookWriter[T any] struct {
	opts    WebhookOptions[T]
	sink    *WebhookSink[T]
	subtask int
	cancel  context.CancelFunc // stops the flusher
	wg      sync.WaitGroup

	mu    sync.Mutex
	bgErr error     // the flusher's failure, returned by the next call
	first time.Time // when the batch's first record came
	dead  weir.SinkWriter[weir.DeadLetter]
	body  bytes.Buffer
	ends  []int   // end offset of each record in body
	ts    []int64 // each record's timestamp
	keys  *BatchKeys
}

func (w *webhookWriter[T]) startBatch() {
	w.body.Reset()
	w.ends = w.ends[:0]
	w.ts = w.ts[:0]
	if w.opts.Format == JSONArray {
		w.body.WriteByte('[')
	}
}

// Write adds v to the batch, sending it when full.
func (w *webhookWriter[T]) Write(ctx context.Context, v T, ts int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bgErr != nil {
		return w.bgErr
	}
	b, err := w.opts.Serializer.Serialize(v)
	if err != nil {
		d := weir.DeadLetter{Source: fmt.Sprintf("webhook %s subtask %d", w.opts.URL, w.subtask), Reason: "serializing: " + err.Error(), Time: time.Now()}
		if w.dead == nil {
			return fmt.Errorf("http: webhook: %w", &weir.BadRecordError{DeadLetter: d})
		}
		w.sink.records.WithLabelValues("dead_letter").Inc()
		return w.dead.Write(ctx, d, ts)
	}
	if len(w.ends) > 0 && w.body.Len()+len(b)+2 > w.opts.BatchBytes {
		if err := w.send(ctx); err != nil {
			return err
		}
	}
	if len(w.ends) > 0 {
		if w.opts.Format == JSONArray {
			w.body.WriteByte(',')
		}
	}
	if len(w.ends) == 0 && w.opts.FlushInterval > 0 {
		w.first = time.Now()
	}
	w.body.Write(b)
	if w.opts.Format == JSONLines {
		w.body.WriteByte('\n')
	}
	w.ends = append(w.ends, w.body.Len())
	w.ts = append(w.ts, ts)
	if len(w.ends) >= w.opts.BatchSize {
		return w.send(ctx)
	}
	return nil
}

// Flush sends the batch (on a checkpoint without PreCommit, and at the
// end of input).
func (w *webhookWriter[T]) Flush(ctx context.Context, _ bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked(ctx)
}

func (w *webhookWriter[T]) flushLocked(ctx context.Context) error {
	if w.bgErr != nil {
		return w.bgErr
	}
	if err := w.send(ctx); err != nil {
		return err
	}
	if w.dead != nil {
		return w.dead.Flush(ctx, false)
	}
	return nil
}

// PreCommit sends the batch on checkpoint id's barrier and starts the
// keys of the next batches at id. The committable is id, so that a writer
// restored from this checkpoint learns it (Commit) and numbers its batches
// as the first run did.
func (w *webhookWriter[T]) PreCommit(ctx context.Context, id int64) ([][]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(ctx); err != nil {
		return nil, err
	}
	return [][]byte{w.keys.PreCommit(id)}, nil
}

// Commit has nothing to make visible (batches are sent before the
// checkpoint completes); after a restore it sets the key epoch to the
// restored checkpoint.
func (w *webhookWriter[T]) Commit(_ context.Context, items [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keys.Commit(items)
}

// Close stops the flusher and closes the dead-letter writer.
func (w *webhookWriter[T]) Close() error {
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
	}
	if w.dead != nil {
		return w.dead.Close()
	}
	return nil
}

// send posts the batch, retrying, and starts the next.
func (w *webhookWriter[T]) send(ctx context.Context) error {
	if len(w.ends) == 0 {
		return nil
	}
	if w.opts.Format == JSONArray {
		w.body.WriteByte(']')
	}
	key := w.keys.Next(len(w.ends))
	err := w.post(ctx, key)
	var rej *RejectedError
	if errors.As(err, &rej) && w.dead != nil {
		w.sink.batches.WithLabelValues("rejected").Inc()
		w.sink.records.WithLabelValues("dead_letter").Add(float64(len(w.ends)))
		start := 0
		if w.opts.Format == JSONArray {
			start = 1
		}
		for i, end := range w.ends {
			raw := bytes.TrimRight(w.body.Bytes()[start:end], "\n")
			d := weir.DeadLetter{Source: fmt.Sprintf("webhook %s batch %s record %d", w.opts.URL, key, i+1),
				Reason: rej.Error(), Raw: bytes.Clone(raw), Time: time.Now()}
			if err := w.dead.Write(ctx, d, w.ts[i]); err != nil {
				return err
			}
			start = end + 1
		}
		err = nil
	} else if err == nil {
		w.sink.batches.WithLabelValues("sent").Inc()
		w.sink.records.WithLabelValues("sent").Add(float64(len(w.ends)))
	}
	w.startBatch()
	return err
}

// RejectedError is the error of a batch the receiver refused with a 4xx
// status other than 408 and 429: retrying cannot help.
type RejectedError struct {
	// Key is the batch's idempotency key, Records its size.
	Key     string
	Records int
	// Status and Body are the answer's (the body clipped).
	Status int
	Body   string
}

// Error names the batch and the answer.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("http: webhook batch %s (%d records) refused: HTTP %d: %s", e.Key, e.Records, e.Status, e.Body)
}

// post sends the body until it is taken, refused, MaxAttempts is reached
// or ctx ends.
func (w *webhookWriter[T]) post(ctx context.Context, key string) error {
	ctype := "application/json"
	if w.opts.Format == JSONLines {
		ctype = "application/x-ndjson"
	}
	for attempt := 1; ; attempt++ {
		req, err := nethttp.NewRequestWithContext(ctx, w.opts.Method, w.opts.URL, bytes.NewReader(w.body.Bytes()))
		if err != nil {
			return fmt.Errorf("http: webhook: %w", err)
		}
		for k, vs := range w.opts.Header {
			req.Header[k] = vs
		}
		req.Header.Set("Content-Type", ctype)
		if w.opts.IdempotencyHeader != "-" {
			req.Header.Set(w.opts.IdempotencyHeader, key)
		}
		var wait time.Duration
		resp, err := w.opts.Client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode <= 299:
				return nil
			case !retriableStatus(resp.StatusCode):
				return &RejectedError{Key: key, Records: len(w.ends), Status: resp.StatusCode, Body: clip(string(msg), 512)}
			}
			wait = retryAfter(resp.Header)
			err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(string(msg), 200))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("http: webhook batch %s: %w", key, ctx.Err())
		}
		if w.opts.MaxAttempts > 0 && attempt >= w.opts.MaxAttempts {
			return fmt.Errorf("http: webhook batch %s: giving up after %d attempts: %w", key, attempt, err)
		}
		w.sink.batches.WithLabelValues("retried").Inc()
		wait = max(wait, w.opts.Backoff.Delay(attempt))
		w.opts.Logger.Warn("http: webhook batch failed; retrying", "key", key, "attempt", attempt, "in", wait, "err", err)
		if !sleep(ctx, wait) {
			return fmt.Errorf("http: webhook batch %s: %w", key, ctx.Err())
		}
	}
}
