package clickhouse

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

// ErrOptions is matched (errors.Is) by the errors of invalid options. It
// matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("clickhouse: invalid options"), weir.ErrInvalidOption)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "clickhouse", Option: option, Reason: reason, Kind: ErrOptions}
}

// Defaults of Options.
const (
	DefaultURL        = "http://127.0.0.1:8123"
	DefaultDatabase   = "default"
	DefaultBatchSize  = 10000
	DefaultBatchBytes = 16 << 20
)

// Options configure a Sink.
type Options[T any] struct {
	// URL is the server's HTTP interface (default DefaultURL).
	URL string
	// User and Password authenticate with HTTP basic authentication
	// (default: the server's default user without password).
	User, Password string
	// Database (default DefaultDatabase) and Table (required) name the
	// table written.
	Database, Table string
	// Serializer turns a value into one JSON object whose keys are column
	// names (JSONEachRow), required: kafka.JSONSerde[T]{} with json tags
	// naming the columns. ClickHouse 18.16 reads DateTime columns as
	// "YYYY-MM-DD hh:mm:ss" or a Unix time only (time.Time's RFC 3339 needs
	// the setting date_time_input_format=best_effort).
	Serializer kafka.Serializer[T]
	// BatchSize and BatchBytes bound an INSERT (defaults DefaultBatchSize
	// rows, DefaultBatchBytes bytes before compression). A batch is sent
	// when full, on every checkpoint and at the end of input. Keep
	// BatchSize at most the server's max_insert_block_size (1048576 by
	// default) so that each INSERT is one block: all its rows or none.
	BatchSize  int
	BatchBytes int
	// FlushInterval, if positive, also sends a batch whose first row has
	// waited that long, from a goroutine of the writer (default 0: batches
	// wait for the size bounds, a checkpoint or the end of input). Batches
	// cut by time are not repeated identically after a restore, so block
	// deduplication and tokens no longer catch their repeats.
	FlushInterval time.Duration
	// Gzip compresses the request bodies (Content-Encoding: gzip).
	Gzip bool
	// Settings are added to every INSERT's query string (ClickHouse
	// settings such as input_format_skip_unknown_fields=1).
	Settings map[string]string
	// DeduplicationToken sends each batch's key as the
	// insert_deduplication_token setting, which newer servers (22.x and
	// later) use to drop an INSERT repeated after a retry or a restore.
	// ClickHouse 18.16 does not know the setting and refuses every INSERT
	// that carries it (the job fails, naming it).
	DeduplicationToken bool
	// KeyPrefix starts every batch key (default: the sink operator's name).
	// Keys come from weirhttp.BatchKeys: KeyPrefix-subtask-epoch-offset+count,
	// the epoch naming the last checkpoint before the batch.
	KeyPrefix string
	// Backoff spaces the retries of network errors, 5xx answers without a
	// ClickHouse error and ClickHouse errors that pass (too many parts,
	// memory limit, timeouts, too many queries).
	Backoff weirhttp.Backoff
	// MaxAttempts bounds the attempts of one INSERT (default 0: retry until
	// the job is cancelled); when reached the job fails.
	MaxAttempts int
	// DeadLetters, if set, receives the rows the server refuses (a parse
	// or type error naming the row): each such row becomes a
	// weir.DeadLetter naming the table, batch and row, and the rest of the
	// batch is inserted again without it. Without it, such a row fails
	// the job with an error naming the batch, the row and the server's
	// reason. Rows the Serializer rejects are handled the same way.
	DeadLetters weir.Sink[weir.DeadLetter]
	// Client sends the requests (default: a client with a 60s timeout).
	Client *nethttp.Client
	// Registry, if set, receives weir_clickhouse_sink_inserts_total{outcome}
	// (ok, retried, rejected) and weir_clickhouse_sink_rows_total{outcome}
	// (inserted, dead_letter).
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// Sink inserts rows into a ClickHouse table over the HTTP interface
// (INSERT INTO t FORMAT JSONEachRow), at-least-once. Create it with
// NewSink and add it with Stream.SinkTo.
type Sink[T any] struct {
	opts        Options[T]
	metricsOnce sync.Once
	metricsErr  error
	inserts     *prometheus.CounterVec
	rows        *prometheus.CounterVec
}

// NewSink returns a sink; options are checked when the job starts.
func NewSink[T any](opts Options[T]) *Sink[T] {
	return &Sink[T]{opts: opts,
		inserts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "clickhouse_sink", Name: "inserts_total",
			Help: "INSERT requests of ClickHouse sinks, by outcome: ok, retried, rejected.",
		}, []string{"outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "clickhouse_sink", Name: "rows_total",
			Help: "Rows of ClickHouse sinks, by outcome: inserted, dead_letter.",
		}, []string{"outcome"}),
	}
}

func register(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if ex, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return ex, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("clickhouse: registering metrics: %w", err)
	}
	return c, nil
}

// quoteIdent quotes a ClickHouse identifier with backquotes.
func quoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// CreateWriter returns the writer of one subtask. It does no I/O.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	o := s.opts
	switch {
	case o.Table == "":
		return nil, optionError("Table", "must be set")
	case o.Serializer == nil:
		return nil, optionError("Serializer", "must be set (kafka.JSONSerde[T]{} for JSONEachRow)")
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = ctx.OperatorName
	}
	if o.Client == nil {
		o.Client = &nethttp.Client{Timeout: 60 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, optionError("URL", err.Error())
	}
	s.metricsOnce.Do(func() {
		if s.inserts, s.metricsErr = register(o.Registry, s.inserts); s.metricsErr == nil {
			s.rows, s.metricsErr = register(o.Registry, s.rows)
		}
	})
	if s.metricsErr != nil {
		return nil, s.metricsErr
	}
	q := u.Query()
	for k, v := range o.Settings {
		q.Set(k, v)
	}
	table := quoteIdent(o.Database) + "." + quoteIdent(o.Table)
	q.Set("query", "INSERT INTO "+table+" FORMAT JSONEachRow")
	w := &writer[T]{opts: o, sink: s, subtask: ctx.Subtask, base: *u, query: q, table: o.Database + "." + o.Table,
		keys: weirhttp.NewBatchKeys(o.KeyPrefix, ctx.Subtask, ctx.Parallelism)}
	if o.DeadLetters != nil {
		dl, err := o.DeadLetters.CreateWriter(ctx)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: dead letters: %w", err)
		}
		w.dead = dl
	}
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
func (w *writer[T]) flusher(ctx context.Context) {
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

// writer batches one subtask's rows. The subtask's goroutine uses it and,
// with FlushInterval, its flusher goroutine: mu guards the batch and
// every request.
type writer[T any] struct {
	opts    Options[T]
	sink    *Sink[T]
	subtask int
	base    url.URL
	query   url.Values
	table   string
	cancel  context.CancelFunc // stops the flusher
	wg      sync.WaitGroup

	mu    sync.Mutex
	bgErr error     // the flusher's failure, returned by the next call
	first time.Time // when the batch's first row came
	dead  weir.SinkWriter[weir.DeadLetter]

	body bytes.Buffer // the batch's rows, one JSON object a line
	ends []int        // end of each row in body (after its '\n')
	ts   []int64      // each row's timestamp
	zbuf bytes.Buffer // compressed body
	zw   *gzip.Writer // reused compressor
	keys *weirhttp.BatchKeys
}

// Write adds v to the batch, sending it when full.
func (w *writer[T]) Write(ctx context.Context, v T, ts int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bgErr != nil {
		return w.bgErr
	}
	b, err := w.opts.Serializer.Serialize(v)
	if err != nil {
		d := weir.DeadLetter{Source: fmt.Sprintf("clickhouse table %s subtask %d", w.table, w.subtask), Reason: "serializing: " + err.Error(), Time: time.Now()}
		if w.dead == nil {
			return fmt.Errorf("clickhouse: %w", &weir.BadRecordError{DeadLetter: d})
		}
		w.sink.rows.WithLabelValues("dead_letter").Inc()
		return w.dead.Write(ctx, d, ts)
	}
	if len(w.ends) > 0 && w.body.Len()+len(b)+1 > w.opts.BatchBytes {
		if err := w.send(ctx); err != nil {
			return err
		}
	}
	if len(w.ends) == 0 && w.opts.FlushInterval > 0 {
		w.first = time.Now()
	}
	w.body.Write(b)
	w.body.WriteByte('\n')
	w.ends = append(w.ends, w.body.Len())
	w.ts = append(w.ts, ts)
	if len(w.ends) >= w.opts.BatchSize {
		return w.send(ctx)
	}
	return nil
}

// Flush sends the batch (at the end of input; on checkpoints PreCommit
// does).
func (w *writer[T]) Flush(ctx context.Context, _ bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked(ctx)
}

func (w *writer[T]) flushLocked(ctx context.Context) error {
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
// key epoch of the next batches; the committable tells a writer restored
// from this checkpoint where its keys start (weirhttp.BatchKeys).
func (w *writer[T]) PreCommit(ctx context.Context, id int64) ([][]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(ctx); err != nil {
		return nil, err
	}
	return [][]byte{w.keys.PreCommit(id)}, nil
}

// Commit makes nothing visible (rows are inserted before the checkpoint
// completes); after a restore it sets the key epoch.
func (w *writer[T]) Commit(_ context.Context, items [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.keys.Commit(items); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}

// Close stops the flusher and closes the dead-letter writer.
func (w *writer[T]) Close() error {
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
	}
	if w.dead != nil {
		return w.dead.Close()
	}
	return nil
}

// send inserts the batch and starts the next.
func (w *writer[T]) send(ctx context.Context) error {
	if len(w.ends) == 0 {
		return nil
	}
	key := w.keys.Next(len(w.ends))
	rows := make([]int, len(w.ends))
	for i := range rows {
		rows[i] = i
	}
	err := w.insertRows(ctx, key, rows)
	w.body.Reset()
	w.ends = w.ends[:0]
	w.ts = w.ts[:0]
	return err
}

// row returns row i of the batch, without its newline.
func (w *writer[T]) row(i int) []byte {
	start := 0
	if i > 0 {
		start = w.ends[i-1]
	}
	return w.body.Bytes()[start : w.ends[i]-1]
}

// insertRows inserts the given rows of the batch (all of them, in the
// common case), dead-lettering the rows the server refuses.
func (w *writer[T]) insertRows(ctx context.Context, key string, rows []int) error {
	for len(rows) > 0 {
		var body []byte
		if len(rows) == len(w.ends) {
			body = w.body.Bytes()
		} else {
			var b bytes.Buffer
			for _, i := range rows {
				b.Write(w.row(i))
				b.WriteByte('\n')
			}
			body = b.Bytes()
		}
		err := w.post(ctx, key, body)
		var re *RowError
		if !errors.As(err, &re) {
			if err == nil {
				w.sink.inserts.WithLabelValues("ok").Inc()
				w.sink.rows.WithLabelValues("inserted").Add(float64(len(rows)))
			}
			return err
		}
		w.sink.inserts.WithLabelValues("rejected").Inc()
		if re.Row < 1 || re.Row > len(rows) {
			// The server did not say which row: find it alone.
			if len(rows) == 1 {
				re.Row = 1
			} else {
				for _, i := range rows {
					// Each row its own token: they are different inserts.
					if err := w.insertRows(ctx, key+"/"+strconv.Itoa(i+1), []int{i}); err != nil {
						return err
					}
				}
				return nil
			}
		}
		pos := re.Row - 1
		bad := rows[pos]
		re.Key, re.Row, re.Raw = key, bad+1, string(w.row(bad))
		if w.dead == nil {
			return re
		}
		d := weir.DeadLetter{Source: fmt.Sprintf("clickhouse table %s batch %s row %d", w.table, key, bad+1),
			Reason: re.Reason, Raw: bytes.Clone(w.row(bad)), Time: time.Now()}
		if err := w.dead.Write(ctx, d, w.ts[bad]); err != nil {
			return err
		}
		w.sink.rows.WithLabelValues("dead_letter").Inc()
		rows = slices.Delete(rows, pos, pos+1)
	}
	return nil
}

// RowError is the error of a row the server refused (a parse or type
// error), which fails the job unless Options.DeadLetters is set.
type RowError struct {
	// Table, Key (the batch's key) and Row (1-based in the batch) say
	// where; Raw is the row's JSON.
	Table, Key string
	Row        int
	Raw        string
	// Code is ClickHouse's error code, Reason its message.
	Code   int
	Reason string
}

// Error names the table, batch, row and the server's reason.
func (e *RowError) Error() string {
	return fmt.Sprintf("clickhouse: table %s: batch %s row %d refused: %s: %s", e.Table, e.Key, e.Row, e.Reason, clip(e.Raw, 200))
}

// ServerError is an error ClickHouse answered that retrying cannot fix
// and that is not about a row: a missing table, an unknown setting, a
// refused user.
type ServerError struct {
	Table        string
	Status, Code int
	Message      string
}

// Error reads "clickhouse: table db.t: HTTP 404: Code: 60, ...".
func (e *ServerError) Error() string {
	return fmt.Sprintf("clickhouse: table %s: HTTP %d: %s", e.Table, e.Status, e.Message)
}

var (
	codeRe = regexp.MustCompile(`Code: (\d+)`)
	rowRe  = regexp.MustCompile(`\(at row (\d+)\)`)
)

// Error codes of bad data, as ClickHouse numbers them.
var dataErrors = map[int]bool{
	6: true, 26: true, 27: true, 33: true, 36: true, 38: true, 41: true, 53: true, 69: true, 70: true,
	72: true, 117: true, 131: true, 349: true, 691: true,
}

// Error codes that pass: timeouts, overload, too many parts, network.
var transientErrors = map[int]bool{
	159: true, 202: true, 203: true, 209: true, 210: true, 241: true, 242: true, 252: true,
	285: true, 319: true, 425: true, 999: true, 1000: true,
}

// post sends body until the server takes it, refuses it for good,
// MaxAttempts is reached or ctx ends.
func (w *writer[T]) post(ctx context.Context, key string, body []byte) error {
	q := w.query
	if w.opts.DeduplicationToken {
		q = url.Values{}
		for k, v := range w.query {
			q[k] = v
		}
		q.Set("insert_deduplication_token", key)
	}
	u := w.base
	u.RawQuery = q.Encode()
	if w.opts.Gzip {
		w.zbuf.Reset()
		if w.zw == nil {
			w.zw = gzip.NewWriter(&w.zbuf)
		} else {
			w.zw.Reset(&w.zbuf)
		}
		_, _ = w.zw.Write(body)
		if err := w.zw.Close(); err != nil {
			return fmt.Errorf("clickhouse: compressing: %w", err)
		}
		body = w.zbuf.Bytes()
	}
	for attempt := 1; ; attempt++ {
		req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("clickhouse: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if w.opts.Gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		if w.opts.User != "" || w.opts.Password != "" {
			req.SetBasicAuth(w.opts.User, w.opts.Password)
		}
		resp, err := w.opts.Client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == nethttp.StatusOK {
				return nil
			}
			text := strings.TrimSpace(string(msg))
			code := 0
			if m := codeRe.FindStringSubmatch(text); m != nil {
				code, _ = strconv.Atoi(m[1])
			}
			switch {
			case dataErrors[code]:
				re := &RowError{Table: w.table, Code: code, Reason: text}
				if m := rowRe.FindStringSubmatch(text); m != nil {
					re.Row, _ = strconv.Atoi(m[1])
				}
				return re
			case transientErrors[code], code == 0 && (resp.StatusCode >= 500 || resp.StatusCode == 429 || resp.StatusCode == 408):
				err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(text, 300))
			default:
				return &ServerError{Table: w.table, Status: resp.StatusCode, Code: code, Message: clip(text, 1000)}
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("clickhouse: batch %s: %w", key, ctx.Err())
		}
		if w.opts.MaxAttempts > 0 && attempt >= w.opts.MaxAttempts {
			return fmt.Errorf("clickhouse: table %s: batch %s: giving up after %d attempts: %w", w.table, key, attempt, err)
		}
		w.sink.inserts.WithLabelValues("retried").Inc()
		d := w.opts.Backoff.Delay(attempt)
		w.opts.Logger.Warn("clickhouse: insert failed; retrying", "table", w.table, "batch", key, "attempt", attempt, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("clickhouse: batch %s: %w", key, ctx.Err())
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
