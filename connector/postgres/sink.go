package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// Sink writes records to a PostgreSQL table. Create it with NewSink and
// add it with Stream.SinkTo.
type Sink[T any] struct {
	opts     SinkOptions[T]
	metrics  *sinkMetrics
	register sync.Once
	regErr   error
}

// NewSink returns a sink with opts; options are checked when the job
// starts.
func NewSink[T any](opts SinkOptions[T]) *Sink[T] {
	if opts.JobID == "" {
		opts.JobID = newNonce() + newNonce()
	}
	return &Sink[T]{opts: opts, metrics: newSinkMetrics()}
}

// sinkMetrics are the sink's Prometheus metrics, labelled by table.
type sinkMetrics struct {
	rows, deadLetters, reconnects, commits *prometheus.CounterVec
	flush                                  *prometheus.HistogramVec
}

func newSinkMetrics() *sinkMetrics {
	c := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weir", Subsystem: "postgres_sink", Name: name, Help: help}, []string{"table"})
	}
	return &sinkMetrics{
		rows:        c("rows_total", "Records written (inserted, upserted or deleted), including those of transactions later rolled back by a failure."),
		deadLetters: c("dead_letters_total", "Records the server rejected that went to the dead-letter table."),
		reconnects:  c("reconnects_total", "Connections re-established after losing one."),
		commits:     c("commits_total", "Transactions committed (prepared transactions committed, for exactly-once)."),
		flush: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "weir", Subsystem: "postgres_sink", Name: "flush_seconds",
			Help: "Time to write one batch to the server.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"table"}),
	}
}

// registerMetrics registers the metrics with opts.Registry once, sharing
// those another sink registered before under the same names.
func (s *Sink[T]) registerMetrics() error {
	s.register.Do(func() {
		if s.opts.Registry == nil {
			return
		}
		reg := func(c prometheus.Collector) prometheus.Collector {
			err := s.opts.Registry.Register(c)
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return are.ExistingCollector
			}
			if err != nil && s.regErr == nil {
				s.regErr = fmt.Errorf("postgres: registering sink metrics: %w", err)
			}
			return c
		}
		m := s.metrics
		for _, cv := range []**prometheus.CounterVec{&m.rows, &m.deadLetters, &m.reconnects, &m.commits} {
			if got, ok := reg(*cv).(*prometheus.CounterVec); ok {
				*cv = got
			}
		}
		if got, ok := reg(m.flush).(*prometheus.HistogramVec); ok {
			m.flush = got
		}
	})
	return s.regErr
}

// CreateWriter returns the writer of one subtask: a two-phase-commit
// writer for ExactlyOnce. It does no I/O: the writer connects on first
// use.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	o, err := s.opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(o.ConnString)
	if err != nil {
		return nil, optionError("ConnString", err.Error())
	}
	if o.Guarantee == ExactlyOnce {
		// Names the sessions of this sink's subtask, so that a restarted
		// writer can end those an earlier run left behind (see start).
		cfg.RuntimeParams["application_name"] = sessionName(o.TransactionPrefix, ctx.Subtask, jobTag(o.JobID))
	} else if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "weir postgres sink " + o.Table + " " + strconv.Itoa(ctx.Subtask)
	}
	w := &writer[T]{opts: o, cfg: cfg, subtask: ctx.Subtask, parallelism: max(ctx.Parallelism, 1)}
	w.prepareSQL()
	t := w.table
	w.m.rows, w.m.deadLetters = s.metrics.rows.WithLabelValues(t), s.metrics.deadLetters.WithLabelValues(t)
	w.m.reconnects, w.m.commits = s.metrics.reconnects.WithLabelValues(t), s.metrics.commits.WithLabelValues(t)
	w.m.flush = s.metrics.flush.WithLabelValues(t)
	if o.Guarantee == ExactlyOnce {
		tw := &txnWriter[T]{writer: w, nonce: newNonce(), codec: o.Codec, job: jobTag(o.JobID), restored: ctx.Restored}
		if tw.codec == nil {
			tw.codec, _ = codec.For[T]() // nil: no staging in checkpoints
		}
		return tw, nil
	}
	return &batchWriter[T]{writer: w}, nil
}

// writer is what the writers of every guarantee share: the buffer of
// records not yet sent, the statements, the data connection and the
// handling of records the server rejects.
type writer[T any] struct {
	opts                 SinkOptions[T]
	cfg                  *pgx.ConnConfig
	subtask, parallelism int
	conn                 *pgx.Conn
	// setUp is set once the dead-letter and commit tables exist.
	setUp bool

	buffer[T]

	table                       string // quoted, for SQL
	nameForMsg                  string // as the user wrote it
	tableID                     pgx.Identifier
	columns                     []string
	insertSQL, deleteSQL, dlSQL string
	keyIdx                      []int

	m struct {
		rows, deadLetters, reconnects, commits prometheus.Counter
		flush                                  prometheus.Observer
	}
}

// buffer holds records not yet written: vals holds len(Columns) values
// per record.
type buffer[T any] struct {
	vals    []any
	recs    []T
	kinds   []row.Kind
	firstAt time.Time
}

// prepareSQL builds the statements from the options.
func (w *writer[T]) prepareSQL() {
	o := w.opts
	w.nameForMsg = o.Table
	w.tableID = pgx.Identifier(strings.Split(o.Table, "."))
	w.table = w.tableID.Sanitize()
	w.columns = o.Columns
	cols := make([]string, len(o.Columns))
	params := make([]string, len(o.Columns))
	for i, c := range o.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
		params[i] = "$" + strconv.Itoa(i+1)
	}
	w.insertSQL = "INSERT INTO " + w.table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	if len(o.Key) > 0 {
		var keys, sets, where []string
		for i, c := range o.Columns {
			for _, k := range o.Key {
				if k == c {
					w.keyIdx = append(w.keyIdx, i)
				}
			}
		}
		for j, i := range w.keyIdx {
			keys = append(keys, cols[i])
			where = append(where, cols[i]+" = $"+strconv.Itoa(j+1))
		}
		for i, c := range cols {
			if !contains(w.keyIdx, i) {
				sets = append(sets, c+" = EXCLUDED."+c)
			}
		}
		if len(sets) == 0 {
			w.insertSQL += " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO NOTHING"
		} else {
			w.insertSQL += " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
		}
		w.deleteSQL = "DELETE FROM " + w.table + " WHERE " + strings.Join(where, " AND ")
	}
	if o.DeadLetterTable != "" {
		w.dlSQL = "INSERT INTO " + pgx.Identifier(strings.Split(o.DeadLetterTable, ".")).Sanitize() +
			" (source, field, reason, raw, time) VALUES ($1, $2, $3, $4, $5)"
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// add buffers v.
func (w *writer[T]) add(v T) error {
	nc := len(w.columns)
	before := len(w.vals)
	w.vals = w.opts.Values(w.vals, v)
	if got := len(w.vals) - before; got != nc {
		w.vals = w.vals[:before]
		return fmt.Errorf("postgres: Values gave %d values for the %d Columns of %s (record %s)", got, nc, w.nameForMsg, w.opts.Describe(v))
	}
	if len(w.recs) == 0 {
		w.firstAt = time.Now()
	}
	w.recs = append(w.recs, v)
	if w.opts.Kind != nil {
		w.kinds = append(w.kinds, w.opts.Kind(v))
	}
	return nil
}

// full reports whether the buffer should be written now.
func (w *writer[T]) full() bool {
	n := len(w.recs)
	return n >= w.opts.BatchSize || (n > 0 && w.opts.FlushInterval > 0 && time.Since(w.firstAt) >= w.opts.FlushInterval)
}

// reset empties the buffer.
func (w *writer[T]) reset() {
	clear(w.vals)
	clear(w.recs)
	w.vals, w.recs, w.kinds = w.vals[:0], w.recs[:0], w.kinds[:0]
}

// connect opens the data connection if there is none, retrying with
// backoff for RetryTimeout, and creates the tables the sink keeps.
func (w *writer[T]) connect(ctx context.Context) error {
	if w.conn != nil && !w.conn.IsClosed() {
		return nil
	}
	reconnect := w.conn != nil
	w.conn = nil
	c, err := dial(ctx, w.cfg, w.opts.RetryTimeout)
	if err != nil {
		return err
	}
	if reconnect {
		w.m.reconnects.Inc()
		w.opts.Logger.Info("postgres: sink reconnected", "table", w.nameForMsg, "subtask", w.subtask)
	}
	w.conn = c
	if !w.setUp && w.dlSQL != "" {
		if err := createTable(ctx, c, "CREATE TABLE IF NOT EXISTS "+pgx.Identifier(strings.Split(w.opts.DeadLetterTable, ".")).Sanitize()+
			" (source text NOT NULL, field text NOT NULL, reason text NOT NULL, raw bytea, time timestamptz NOT NULL)"); err != nil {
			return err
		}
	}
	w.setUp = true
	return nil
}

// dial connects with exponential backoff (100ms doubling to 5s) until it
// succeeds, timeout passes or ctx is done.
func dial(ctx context.Context, cfg *pgx.ConnConfig, timeout time.Duration) (*pgx.Conn, error) {
	deadline := time.Now().Add(timeout)
	delay := 100 * time.Millisecond
	for {
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("postgres: connecting to %s:%d: %w", cfg.Host, cfg.Port, ctx.Err())
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000" || pe.Code == "3D000") {
			return nil, fmt.Errorf("postgres: connecting to %s:%d: %w", cfg.Host, cfg.Port, err) // not transient
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, weir.MarkError(fmt.Errorf("postgres: connecting to %s:%d (gave up after %v): %w", cfg.Host, cfg.Port, timeout, err), weir.ErrRetriable)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("postgres: connecting to %s:%d: %w", cfg.Host, cfg.Port, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// createTable runs a CREATE TABLE IF NOT EXISTS; a concurrent creation by
// another subtask is fine.
func createTable(ctx context.Context, c *pgx.Conn, sql string) error {
	_, err := c.Exec(ctx, sql)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", sql, err)
	}
	return nil
}

// connLost reports whether err means the connection is gone (or the job
// is cancelled), as opposed to an error of a statement.
func (w *writer[T]) connLost(ctx context.Context, err error) bool {
	if ctx.Err() != nil || w.conn == nil || w.conn.IsClosed() {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// recordFault reports whether err, of a statement that wrote one record on
// a live connection, is the record's fault: a data exception (class 22), an
// integrity constraint violation (class 23) or a value pgx could not
// encode (an error that is not the server's).
func recordFault(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")
	}
	return true
}

// writeBuffer writes the buffered records in the transaction open on the
// connection: all at once (COPY for appends, one pipelined batch of
// upserts and deletes otherwise) under a savepoint; if that fails for a
// reason other than the connection, it rolls back to the savepoint and
// writes record by record to find the rejected ones, which go to the
// dead-letter table in the same transaction or fail the job. The buffer
// is kept: the caller resets it.
func (w *writer[T]) writeBuffer(ctx context.Context) error {
	if len(w.recs) == 0 {
		return nil
	}
	start := time.Now()
	if _, err := w.conn.Exec(ctx, "SAVEPOINT weir_batch"); err != nil {
		return w.wrap(err)
	}
	err := w.writeAll(ctx)
	if err == nil {
		if _, err := w.conn.Exec(ctx, "RELEASE SAVEPOINT weir_batch"); err != nil {
			return w.wrap(err)
		}
		w.m.rows.Add(float64(len(w.recs)))
		w.m.flush.Observe(time.Since(start).Seconds())
		return nil
	}
	if w.connLost(ctx, err) {
		return w.wrap(err)
	}
	if _, err := w.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT weir_batch"); err != nil {
		return w.wrap(err)
	}
	nc := len(w.columns)
	for i := range w.recs {
		if _, err := w.conn.Exec(ctx, "SAVEPOINT weir_record"); err != nil {
			return w.wrap(err)
		}
		err := w.writeOne(ctx, i, w.vals[i*nc:(i+1)*nc])
		if err == nil {
			if _, err := w.conn.Exec(ctx, "RELEASE SAVEPOINT weir_record"); err != nil {
				return w.wrap(err)
			}
			w.m.rows.Inc()
			continue
		}
		if w.connLost(ctx, err) || !recordFault(err) {
			return w.wrap(err)
		}
		if _, err := w.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT weir_record"); err != nil {
			return w.wrap(err)
		}
		if err := w.reject(ctx, i, err); err != nil {
			return err
		}
	}
	w.m.flush.Observe(time.Since(start).Seconds())
	return nil
}

// writeAll writes the whole buffer.
func (w *writer[T]) writeAll(ctx context.Context) error {
	nc := len(w.columns)
	if len(w.keyIdx) == 0 {
		_, err := w.conn.CopyFrom(ctx, w.tableID, w.columns, pgx.CopyFromSlice(len(w.recs), func(i int) ([]any, error) {
			return w.vals[i*nc : (i+1)*nc], nil
		}))
		return err
	}
	var b pgx.Batch
	for i := range w.recs {
		vals := w.vals[i*nc : (i+1)*nc]
		switch w.kind(i) {
		case row.UpdateBefore:
		case row.Delete:
			b.Queue(w.deleteSQL, w.keyOf(vals)...)
		default:
			b.Queue(w.insertSQL, vals...)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return w.conn.SendBatch(ctx, &b).Close()
}

func (w *writer[T]) kind(i int) row.Kind {
	if w.kinds == nil || len(w.kinds) <= i {
		return row.Insert
	}
	return w.kinds[i]
}

func (w *writer[T]) keyOf(vals []any) []any {
	k := make([]any, len(w.keyIdx))
	for j, i := range w.keyIdx {
		k[j] = vals[i]
	}
	return k
}

// writeOne writes record i alone.
func (w *writer[T]) writeOne(ctx context.Context, i int, vals []any) error {
	var err error
	switch w.kind(i) {
	case row.UpdateBefore:
	case row.Delete:
		_, err = w.conn.Exec(ctx, w.deleteSQL, w.keyOf(vals)...)
	default:
		_, err = w.conn.Exec(ctx, w.insertSQL, vals...)
	}
	return err
}

// reject handles record i, which the server (or the encoder) rejected
// with cause: a row in the dead-letter table, or the job's failure.
func (w *writer[T]) reject(ctx context.Context, i int, cause error) error {
	d := w.deadLetter(i, cause)
	if w.dlSQL == "" {
		return fmt.Errorf("postgres: table %s rejected a record: %w", w.nameForMsg, &weir.BadRecordError{DeadLetter: d})
	}
	if _, err := w.conn.Exec(ctx, w.dlSQL, d.Source, d.Field, d.Reason, d.Raw, d.Time); err != nil {
		return w.wrap(fmt.Errorf("writing a dead letter to %s: %w", w.opts.DeadLetterTable, err))
	}
	w.m.deadLetters.Inc()
	w.opts.Logger.Warn("postgres: record rejected, written to the dead-letter table", "table", w.nameForMsg, "dead_letter", d.String())
	return nil
}

// deadLetter describes record i and why it was rejected. Raw holds the
// record's column values as a JSON object.
func (w *writer[T]) deadLetter(i int, cause error) weir.DeadLetter {
	nc := len(w.columns)
	vals := w.vals[i*nc : (i+1)*nc]
	var raw []byte
	raw = append(raw, '{')
	for j, c := range w.columns {
		if j > 0 {
			raw = append(raw, ',')
		}
		k, _ := json.Marshal(c)
		raw = append(raw, k...)
		raw = append(raw, ':')
		v, err := json.Marshal(vals[j])
		if err != nil {
			v, _ = json.Marshal(fmt.Sprint(vals[j]))
		}
		raw = append(raw, v...)
	}
	raw = append(raw, '}')
	d := weir.DeadLetter{
		Source: fmt.Sprintf("postgres table %s subtask %d record %s", w.nameForMsg, w.subtask, w.opts.Describe(w.recs[i])),
		Reason: cause.Error(),
		Raw:    raw,
		Time:   time.Now(),
	}
	var pe *pgconn.PgError
	if errors.As(cause, &pe) {
		d.Field = pe.ColumnName
		if d.Field == "" {
			d.Field = pe.ConstraintName
		}
	}
	return d
}

// wrap prefixes an error of the data connection; a lost connection is
// marked retriable.
func (w *writer[T]) wrap(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: writing to %s: %w", w.nameForMsg, err)
	}
	if w.conn == nil || w.conn.IsClosed() || pgconn.SafeToRetry(err) {
		return weir.MarkError(fmt.Errorf("postgres: writing to %s: connection lost: %w", w.nameForMsg, err), weir.ErrRetriable)
	}
	return fmt.Errorf("postgres: writing to %s: %w", w.nameForMsg, err)
}

// closeConn closes the data connection (the server rolls back a
// transaction still open on it).
func (w *writer[T]) closeConn() {
	if w.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = w.conn.Close(ctx)
	w.conn = nil
}

// batchWriter is the writer of AtLeastOnce and None: each batch is written
// in a transaction of its own, retried on a new connection after an
// outage.
type batchWriter[T any] struct {
	*writer[T]
}

// Write buffers v and writes the buffer once it is full.
func (w *batchWriter[T]) Write(ctx context.Context, v T, _ int64) error {
	if err := w.add(v); err != nil {
		return err
	}
	if w.full() {
		return w.flush(ctx)
	}
	return nil
}

// WriteBatch buffers recs and writes the buffer whenever it is full.
func (w *batchWriter[T]) WriteBatch(ctx context.Context, recs []weir.Rec[T]) (int, error) {
	for i := range recs {
		if err := w.add(recs[i].V); err != nil {
			return i + 1, err
		}
		if len(w.recs) >= w.opts.BatchSize {
			if err := w.flush(ctx); err != nil {
				return len(recs), err
			}
		}
	}
	if w.full() {
		return len(recs), w.flush(ctx)
	}
	return len(recs), nil
}

// Flush writes the buffer; under None only at the end of input.
func (w *batchWriter[T]) Flush(ctx context.Context, endOfInput bool) error {
	if w.opts.Guarantee == None && !endOfInput {
		return nil
	}
	return w.flush(ctx)
}

// flush writes the buffer in one transaction. If the connection is lost
// it reconnects and writes the whole buffer again, for up to RetryTimeout:
// a batch whose COMMIT was lost on the way back may so be written twice
// (at least once).
func (w *batchWriter[T]) flush(ctx context.Context) error {
	if len(w.recs) == 0 {
		return nil
	}
	deadline := time.Now().Add(w.opts.RetryTimeout)
	delay := 100 * time.Millisecond
	for {
		err := w.tryFlush(ctx)
		if err == nil {
			w.reset()
			return nil
		}
		if ctx.Err() != nil || !weir.IsRetriable(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		w.opts.Logger.Warn("postgres: batch failed, retrying on a new connection", "table", w.nameForMsg, "err", err, "delay", delay)
		w.closeConn()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: writing to %s: %w", w.nameForMsg, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (w *batchWriter[T]) tryFlush(ctx context.Context) error {
	if err := w.connect(ctx); err != nil {
		return err
	}
	if _, err := w.conn.Exec(ctx, "BEGIN"); err != nil {
		return w.wrap(err)
	}
	if err := w.writeBuffer(ctx); err != nil {
		if !w.conn.IsClosed() {
			_, _ = w.conn.Exec(ctx, "ROLLBACK")
		}
		return err
	}
	if _, err := w.conn.Exec(ctx, "COMMIT"); err != nil {
		return w.wrap(err)
	}
	w.m.commits.Inc()
	return nil
}

// Close closes the connection; buffered records are dropped (the job
// failed, or they were flushed).
func (w *batchWriter[T]) Close() error {
	w.closeConn()
	return nil
}
