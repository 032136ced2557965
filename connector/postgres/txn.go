package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// txnWriter is the ExactlyOnce writer. The records between two
// checkpoint barriers go into one transaction on the data connection;
// PreCommit writes a marker row into the commit table and prepares the
// transaction (PREPARE TRANSACTION gid), which makes it durable on the
// server and independent of the connection; Commit commits it (COMMIT
// PREPARED gid) on a second connection, once the checkpoint completed or
// after a restore. Before it writes anything, a writer rolls back every
// prepared transaction of its subtasks that the restored checkpoint did not
// commit.
type txnWriter[T any] struct {
	*writer[T]
	// ctl is the connection for COMMIT/ROLLBACK PREPARED and listing.
	ctl *pgx.Conn
	// nonce makes this writer's transaction ids unique.
	nonce string
	// started is set once leftovers were rolled back.
	started bool
	// inTx is set while a transaction is open on the data connection.
	inTx bool
	// codec encodes records staged in checkpoints (nil: T has none).
	codec codec.Codec[T]
	// failed is set once the open transaction was lost: the writer fails
	// every call until the job restores.
	failed error
	// awaiting holds the transactions this writer prepared that are not
	// committed yet. While there are any, an upsert writer buffers its
	// records instead of writing them: a row the prepared transaction
	// changed stays locked until COMMIT PREPARED, which comes from the
	// same goroutine (NotifyCheckpointComplete), so writing the same key
	// again would wait forever.
	awaiting map[string]bool
}

// newNonce returns 8 random hex digits.
func newNonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TransactionID is the gid an exactly-once sink's subtask gives the
// transaction of checkpoint ckpt: prefix-subtask-ckpt-nonce, the nonce
// being 8 hex digits drawn by each writer.
func TransactionID(prefix string, subtask int, ckpt int64, nonce string) string {
	return prefix + "-" + strconv.Itoa(subtask) + "-" + strconv.FormatInt(ckpt, 10) + "-" + nonce
}

// parseTransactionID returns the subtask of a gid TransactionID made with
// prefix; ok is false for any other gid.
func parseTransactionID(prefix, gid string) (subtask int, ok bool) {
	rest, ok := strings.CutPrefix(gid, prefix+"-")
	if !ok {
		return 0, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 || len(parts[2]) != 8 {
		return 0, false
	}
	s, err := strconv.Atoi(parts[0])
	c, err2 := strconv.ParseInt(parts[1], 10, 64)
	if _, err3 := hex.DecodeString(parts[2]); err != nil || err2 != nil || err3 != nil || s < 0 ||
		TransactionID(prefix, s, c, parts[2]) != gid {
		return 0, false
	}
	return s, true
}

// sessionName is the application_name of the sessions of an exactly-once
// sink's subtask: "weir-sink <hash of the prefix> <subtask>" (a hash, as
// application_name is cut at 63 bytes).
func sessionName(prefix string, subtask int) string {
	h := fnv.New64a()
	h.Write([]byte(prefix))
	return "weir-sink " + strconv.FormatUint(h.Sum64(), 16) + " " + strconv.Itoa(subtask)
}

// committable is what a checkpoint stores for a prepared transaction, or
// (deferred) for records staged in the checkpoint itself, encoded with the
// sink's codec, that Commit writes in a transaction of its own.
type committable struct {
	gid                  string
	subtask, parallelism int
	checkpoint           int64
	deferred             bool
	records              [][]byte
}

const (
	committablePrepared = 1
	committableDeferred = 2
)

func (c committable) encode() []byte {
	b := []byte{committablePrepared}
	if c.deferred {
		b[0] = committableDeferred
	}
	b = binary.AppendUvarint(b, uint64(c.subtask))
	b = binary.AppendUvarint(b, uint64(c.parallelism))
	b = binary.AppendVarint(b, c.checkpoint)
	b = binary.AppendUvarint(b, uint64(len(c.gid)))
	b = append(b, c.gid...)
	if c.deferred {
		b = binary.AppendUvarint(b, uint64(len(c.records)))
		for _, r := range c.records {
			b = binary.AppendUvarint(b, uint64(len(r)))
			b = append(b, r...)
		}
	}
	return b
}

func decodeCommittable(b []byte) (committable, error) {
	var c committable
	corrupt := fmt.Errorf("postgres: %w: committable %q", codec.ErrCorrupt, b)
	if len(b) == 0 || (b[0] != committablePrepared && b[0] != committableDeferred) {
		return c, corrupt
	}
	c.deferred = b[0] == committableDeferred
	b = b[1:]
	var vals [4]uint64
	for i := range vals {
		var n int
		if i == 2 {
			v, m := binary.Varint(b)
			vals[i], n = uint64(v), m
		} else {
			vals[i], n = binary.Uvarint(b)
		}
		if n <= 0 {
			return c, corrupt
		}
		b = b[n:]
	}
	if vals[3] > uint64(len(b)) || vals[0] >= vals[1] || vals[1] > 1<<15 || (!c.deferred && vals[3] != uint64(len(b))) {
		return c, corrupt
	}
	c.subtask, c.parallelism, c.checkpoint, c.gid = int(vals[0]), int(vals[1]), int64(vals[2]), string(b[:vals[3]])
	b = b[vals[3]:]
	if !c.deferred {
		return c, nil
	}
	n, m := binary.Uvarint(b)
	if m <= 0 || n > uint64(len(b)) {
		return c, corrupt
	}
	b = b[m:]
	for range n {
		l, m := binary.Uvarint(b)
		if m <= 0 || l > uint64(len(b)-m) {
			return c, corrupt
		}
		c.records = append(c.records, b[m:m+int(l)])
		b = b[m+int(l):]
	}
	if len(b) != 0 {
		return c, corrupt
	}
	return c, nil
}

// quoteLiteral quotes s as an SQL string literal (PREPARE TRANSACTION and
// COMMIT PREPARED take no parameters).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// check fails every call once the open transaction was lost.
func (w *txnWriter[T]) check() error { return w.failed }

// fail records that the open transaction is lost with err.
func (w *txnWriter[T]) fail(err error) error {
	if w.failed == nil {
		w.failed = weir.MarkError(fmt.Errorf("postgres: the open transaction of subtask %d on %s is lost (the server rolls it back); the job must restore its last checkpoint: %w",
			w.subtask, w.nameForMsg, err), weir.ErrRetriable)
		w.inTx = false
		w.closeConn()
	}
	return w.failed
}

// Write buffers v and writes the buffer into the open transaction once it
// is full.
func (w *txnWriter[T]) Write(ctx context.Context, v T, _ int64) error {
	if err := w.check(); err != nil {
		return err
	}
	if err := w.start(ctx); err != nil {
		return err
	}
	if err := w.add(v); err != nil {
		return err
	}
	if w.full() {
		return w.flush(ctx)
	}
	return nil
}

// WriteBatch buffers recs, writing the buffer whenever it is full.
func (w *txnWriter[T]) WriteBatch(ctx context.Context, recs []weir.Rec[T]) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	if err := w.start(ctx); err != nil {
		return 0, err
	}
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

// Flush writes the buffer into the open transaction (it commits nothing:
// the commit waits for the checkpoint).
func (w *txnWriter[T]) Flush(ctx context.Context, _ bool) error {
	if err := w.check(); err != nil {
		return err
	}
	return w.flush(ctx)
}

// flush writes the buffer into the transaction, beginning one if needed;
// an upsert writer keeps buffering while a transaction it prepared awaits
// its commit (see awaiting).
func (w *txnWriter[T]) flush(ctx context.Context) error {
	if len(w.recs) == 0 || (len(w.keyIdx) > 0 && len(w.awaiting) > 0) {
		return nil
	}
	return w.flushNow(ctx)
}

func (w *txnWriter[T]) flushNow(ctx context.Context) error {
	if len(w.recs) == 0 {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	err := w.writeBuffer(ctx)
	if err != nil {
		if weir.IsBadRecord(err) {
			return err // the job fails; the restore rolls the transaction back
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			err = fmt.Errorf("a record changes a row that the prepared transaction of an earlier checkpoint still locks "+
				"(the barrier of the next checkpoint came before that checkpoint completed): %w", err)
		}
		return w.fail(err)
	}
	w.reset()
	return nil
}

// begin opens a transaction on the data connection if none is open.
func (w *txnWriter[T]) begin(ctx context.Context) error {
	if w.inTx {
		return nil
	}
	if err := w.start(ctx); err != nil {
		return err
	}
	// No transaction is open: a connection found dead here loses nothing
	// and is replaced.
	for attempt := 0; ; attempt++ {
		if err := w.connect(ctx); err != nil {
			return err
		}
		_, err := w.conn.Exec(ctx, "BEGIN")
		if err == nil {
			break
		}
		if attempt > 0 || !w.connLost(ctx, err) || ctx.Err() != nil {
			return w.fail(err)
		}
		w.closeConn()
	}
	w.inTx = true
	return nil
}

// PreCommit writes the buffer, marks the transaction in the commit table
// and prepares it; the committable names it. A checkpoint that wrote
// nothing stages nothing.
func (w *txnWriter[T]) PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	if err := w.start(ctx); err != nil {
		return nil, err
	}
	if len(w.keyIdx) > 0 && len(w.awaiting) > 0 && len(w.recs) > 0 && !w.inTx && w.codec != nil {
		// An earlier checkpoint's transaction awaits its commit (the
		// completion has not reached the sink yet, or that checkpoint was
		// aborted): writing these records now could wait forever on the
		// rows it locks, so they are staged in the checkpoint and Commit
		// writes them, after the earlier ones.
		c := committable{gid: TransactionID(w.opts.TransactionPrefix, w.subtask, checkpointID, w.nonce),
			subtask: w.subtask, parallelism: w.parallelism, checkpoint: checkpointID, deferred: true}
		for _, r := range w.recs {
			c.records = append(c.records, w.codec.Append(nil, r))
		}
		w.reset()
		w.awaiting[c.gid] = true
		return [][]byte{c.encode()}, nil
	}
	if len(w.keyIdx) > 0 && len(w.awaiting) > 0 && len(w.recs) > 0 && !w.inTx {
		// No codec for T: write this checkpoint's records without waiting
		// on the locks of the earlier one, failing if they conflict.
		if err := w.begin(ctx); err != nil {
			return nil, err
		}
		if _, err := w.conn.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
			return nil, w.fail(err)
		}
	}
	if err := w.flushNow(ctx); err != nil {
		return nil, err
	}
	if !w.inTx {
		return nil, nil
	}
	c := committable{gid: TransactionID(w.opts.TransactionPrefix, w.subtask, checkpointID, w.nonce),
		subtask: w.subtask, parallelism: w.parallelism, checkpoint: checkpointID}
	if _, err := w.conn.Exec(ctx, "INSERT INTO "+w.commitTable()+" (gid, prefix, subtask, checkpoint) VALUES ($1, $2, $3, $4)",
		c.gid, w.opts.TransactionPrefix, w.subtask, checkpointID); err != nil {
		return nil, w.fail(err)
	}
	if _, err := w.conn.Exec(ctx, "PREPARE TRANSACTION "+quoteLiteral(c.gid)); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55000" {
			err = fmt.Errorf("%w (the exactly-once sink needs max_prepared_transactions > 0 on the server)", err)
		}
		return nil, w.fail(err)
	}
	w.inTx = false
	if w.awaiting == nil {
		w.awaiting = map[string]bool{}
	}
	w.awaiting[c.gid] = true
	return [][]byte{c.encode()}, nil
}

func (w *txnWriter[T]) commitTable() string {
	return pgx.Identifier(strings.Split(w.opts.CommitTable, ".")).Sanitize()
}

// control opens the control connection (and creates the commit table).
func (w *txnWriter[T]) control(ctx context.Context) error {
	if w.ctl != nil && !w.ctl.IsClosed() {
		return nil
	}
	c, err := dial(ctx, w.cfg, w.opts.RetryTimeout)
	if err != nil {
		return err
	}
	if err := createTable(ctx, c, "CREATE TABLE IF NOT EXISTS "+w.commitTable()+
		" (gid text PRIMARY KEY, prefix text NOT NULL, subtask int NOT NULL, checkpoint bigint NOT NULL, prepared_at timestamptz NOT NULL DEFAULT now())"); err != nil {
		_ = c.Close(ctx)
		return err
	}
	w.ctl = c
	return nil
}

// onControl runs fn on the control connection, reconnecting with backoff
// after a lost connection, for up to RetryTimeout.
func (w *txnWriter[T]) onControl(ctx context.Context, what string, fn func(c *pgx.Conn) error) error {
	deadline := time.Now().Add(w.opts.RetryTimeout)
	delay := 100 * time.Millisecond
	for {
		err := w.control(ctx)
		if err == nil {
			if err = fn(w.ctl); err == nil {
				return nil
			}
		}
		lost := ctx.Err() == nil && (w.ctl == nil || w.ctl.IsClosed() || pgconn.SafeToRetry(err) || weir.IsRetriable(err))
		if !lost || time.Now().Add(delay).After(deadline) {
			if ctx.Err() != nil {
				return fmt.Errorf("postgres: %s: %w", what, ctx.Err())
			}
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
		w.opts.Logger.Warn("postgres: retrying on a new connection", "what", what, "err", err, "delay", delay)
		if w.ctl != nil {
			_ = w.ctl.Close(ctx)
			w.ctl = nil
		}
		w.m.reconnects.Inc()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: %s: %w", what, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// start rolls back, once, what earlier runs left prepared for this
// subtask (and for subtasks of a larger earlier parallelism that map to
// it: s mod parallelism == subtask). It runs before the writer's first
// transaction, so after the restored checkpoint's transactions were
// committed (the engine commits them when it opens the sink): whatever of
// these subtasks is still prepared belongs to a checkpoint that did not
// complete, and its records are replayed from the restored positions.
func (w *txnWriter[T]) start(ctx context.Context) error {
	if w.started {
		return nil
	}
	var gids []string
	err := w.onControl(ctx, "listing prepared transactions", func(c *pgx.Conn) error {
		gids = gids[:0]
		rows, err := c.Query(ctx, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)", w.opts.TransactionPrefix+"-")
		if err != nil {
			return err
		}
		gids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return err
	}
	// Sessions of earlier runs of these subtasks that the server has not
	// noticed are gone (a network that failed silently) may still hold a
	// transaction open, and its row locks: end them.
	own := []uint32{w.ctl.PgConn().PID()}
	if w.conn != nil {
		own = append(own, w.conn.PgConn().PID())
	}
	base := strings.TrimSuffix(sessionName(w.opts.TransactionPrefix, 0), "0")
	err = w.onControl(ctx, "ending sessions of earlier runs", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT pid, application_name FROM pg_stat_activity WHERE starts_with(application_name, $1) AND NOT (pid = ANY($2))", base, own)
		if err != nil {
			return err
		}
		type session struct {
			PID  uint32
			Name string
		}
		sessions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[session])
		if err != nil {
			return err
		}
		for _, ss := range sessions {
			sub, err := strconv.Atoi(strings.TrimPrefix(ss.Name, base))
			if err != nil || sub%w.parallelism != w.subtask {
				continue
			}
			_, err = c.Exec(ctx, "SELECT pg_terminate_backend($1, 5000)", ss.PID)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42501" {
				w.opts.Logger.Warn("postgres: not allowed to end a session of an earlier run (needs pg_signal_backend)", "pid", ss.PID, "err", err)
				continue
			}
			if err != nil {
				return err
			}
			w.opts.Logger.Warn("postgres: ended a session an earlier run of the sink left open", "pid", ss.PID, "application_name", ss.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, gid := range gids {
		s, ok := parseTransactionID(w.opts.TransactionPrefix, gid)
		if !ok || s%w.parallelism != w.subtask {
			continue
		}
		err := w.onControl(ctx, "rolling back prepared transaction "+gid, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(gid))
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42704" {
				return nil // gone meanwhile
			}
			return err
		})
		if err != nil {
			return err
		}
		w.opts.Logger.Info("postgres: rolled back a prepared transaction of a checkpoint that did not complete", "gid", gid)
	}
	w.started = true
	return nil
}

// Commit commits the prepared transactions items name; it is idempotent.
// Before the writer started (the restore) it commits only the committables
// of subtasks that map to its own (s mod parallelism == subtask): every
// subtask is given all of them.
func (w *txnWriter[T]) Commit(ctx context.Context, items [][]byte) error {
	for _, it := range items {
		c, err := decodeCommittable(it)
		if err != nil {
			return err
		}
		if c.subtask%w.parallelism != w.subtask {
			continue
		}
		if c.deferred {
			err = w.applyDeferred(ctx, c)
		} else {
			err = w.commit(ctx, c)
		}
		if err != nil {
			return err
		}
		delete(w.awaiting, c.gid)
	}
	// Records buffered while the commit was awaited.
	if len(w.recs) >= w.opts.BatchSize {
		return w.flush(ctx)
	}
	return nil
}

// commit commits one prepared transaction. If it is no longer prepared,
// its marker in the commit table says whether it committed (fine) or not
// (its records are lost: ErrTransactionLost).
func (w *txnWriter[T]) commit(ctx context.Context, c committable) error {
	return w.onControl(ctx, "committing prepared transaction "+c.gid, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "COMMIT PREPARED "+quoteLiteral(c.gid))
		var pe *pgconn.PgError
		if err == nil {
			w.m.commits.Inc()
			// Markers 1000 checkpoints older than this one cannot be
			// named by a checkpoint a job restores any more. (Pruned
			// here, outside the prepared transactions, whose locks on
			// them would make the next prepared transaction wait.)
			_, err = conn.Exec(ctx, "DELETE FROM "+w.commitTable()+" WHERE prefix = $1 AND subtask = $2 AND checkpoint < $3",
				w.opts.TransactionPrefix, c.subtask, c.checkpoint-1000)
			return err
		}
		if !errors.As(err, &pe) || pe.Code != "42704" {
			return err
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+w.commitTable()+" WHERE gid = $1", c.gid).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %s of subtask %d, checkpoint %d, is neither prepared nor committed (rolled back by someone else?)",
				ErrTransactionLost, c.gid, c.subtask, c.checkpoint)
		}
		return nil // committed before
	})
}

// applyDeferred writes the records a checkpoint staged, with a marker in
// the commit table, in one transaction on the data connection (which has
// none open: nothing is written while commits are awaited). A marker
// already there means they were written before. A lost connection is
// retried for up to RetryTimeout.
func (w *txnWriter[T]) applyDeferred(ctx context.Context, c committable) error {
	if w.inTx {
		return fmt.Errorf("postgres: internal error: staged records of checkpoint %d to write while a transaction is open", c.checkpoint)
	}
	if w.codec == nil {
		return fmt.Errorf("postgres: records of checkpoint %d were staged in the checkpoint, but the sink has no Codec to read them", c.checkpoint)
	}
	if err := w.control(ctx); err != nil { // creates the commit table
		return err
	}
	saved := w.buffer
	defer func() { w.buffer = saved }()
	deadline := time.Now().Add(w.opts.RetryTimeout)
	delay := 100 * time.Millisecond
	for {
		w.buffer = buffer[T]{}
		err := w.tryApplyDeferred(ctx, c)
		if err == nil || ctx.Err() != nil || !weir.IsRetriable(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		w.opts.Logger.Warn("postgres: writing staged records failed, retrying on a new connection", "err", err, "delay", delay)
		w.closeConn()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: writing staged records: %w", ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (w *txnWriter[T]) tryApplyDeferred(ctx context.Context, c committable) error {
	for _, b := range c.records {
		v, n, err := w.codec.Decode(b)
		if err == nil && n != len(b) {
			err = fmt.Errorf("%w: %d bytes left", codec.ErrCorrupt, len(b)-n)
		}
		if err != nil {
			return fmt.Errorf("postgres: staged record of checkpoint %d: %w", c.checkpoint, err)
		}
		if err := w.add(v); err != nil {
			return err
		}
	}
	if err := w.connect(ctx); err != nil {
		return err
	}
	if _, err := w.conn.Exec(ctx, "BEGIN"); err != nil {
		return w.wrap(err)
	}
	rollback := func() {
		if !w.conn.IsClosed() {
			_, _ = w.conn.Exec(ctx, "ROLLBACK")
		}
	}
	var n int
	if err := w.conn.QueryRow(ctx, "SELECT count(*) FROM "+w.commitTable()+" WHERE gid = $1", c.gid).Scan(&n); err != nil {
		rollback()
		return w.wrap(err)
	}
	if n > 0 {
		rollback()
		return nil // written before
	}
	if err := w.writeBuffer(ctx); err != nil {
		rollback()
		return err
	}
	if _, err := w.conn.Exec(ctx, "INSERT INTO "+w.commitTable()+" (gid, prefix, subtask, checkpoint) VALUES ($1, $2, $3, $4)",
		c.gid, w.opts.TransactionPrefix, c.subtask, c.checkpoint); err != nil {
		rollback()
		return w.wrap(err)
	}
	if _, err := w.conn.Exec(ctx, "COMMIT"); err != nil {
		return w.wrap(err)
	}
	w.m.commits.Inc()
	return nil
}

// Close closes the connections. A transaction still open (not prepared)
// is rolled back by the server; prepared ones stay for the restore.
func (w *txnWriter[T]) Close() error {
	w.closeConn()
	if w.ctl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = w.ctl.Close(ctx)
		cancel()
		w.ctl = nil
	}
	return nil
}
