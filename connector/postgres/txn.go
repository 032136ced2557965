package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
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
	// job is jobTag(SinkOptions.JobID), the last field of the sessions'
	// application_name.
	job string
	// restored is set when the job restored a checkpoint with state of
	// the sink (weir.SinkContext.Restored).
	restored bool
	// restoredPrefixes are the prefixes the restored checkpoint's
	// committables name (learned by Commit before start).
	restoredPrefixes []string
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
// sink's subtask: "weir-sink <hash of the prefix> <subtask> <job tag>"
// (hashes, as application_name is cut at 63 bytes). Weir versions before
// the job tag named them without it.
func sessionName(prefix string, subtask int, job string) string {
	return sessionBase(prefix) + strconv.Itoa(subtask) + " " + job
}

// sessionBase is what the names of the sessions of every subtask of a
// prefix start with.
func sessionBase(prefix string) string {
	h := fnv.New64a()
	h.Write([]byte(prefix))
	return "weir-sink " + strconv.FormatUint(h.Sum64(), 16) + " "
}

// jobTag is the job's part of the session names: 8 hex digits of a hash
// of the job id.
func jobTag(jobID string) string {
	h := fnv.New64a()
	h.Write([]byte(jobID))
	return fmt.Sprintf("%08x", uint32(h.Sum64()))
}

// parseSessionName returns the subtask and job tag of a session name that
// starts with base (the job tag is empty for names of older versions).
func parseSessionName(base, name string) (subtask int, job string, ok bool) {
	rest, ok := strings.CutPrefix(name, base)
	if !ok {
		return 0, "", false
	}
	sub, job, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(sub)
	if err != nil || n < 0 {
		return 0, "", false
	}
	return n, job, true
}

// gidPrefix returns the prefix of a gid TransactionID made.
func gidPrefix(gid string) (string, bool) {
	i := len(gid)
	for range 3 {
		i = strings.LastIndexByte(gid[:i], '-')
		if i <= 0 {
			return "", false
		}
	}
	p := gid[:i]
	if _, ok := parseTransactionID(p, gid); !ok {
		return "", false
	}
	return p, true
}

// committable is what a checkpoint stores for a prepared transaction, or
// (deferred) for records staged in the checkpoint itself, encoded with the
// sink's codec, that Commit writes in a transaction of its own, or (a
// prefix marker, gid holding the TransactionPrefix) the prefix the
// subtask prepares its transactions under: every checkpoint stores one,
// so that a restore knows which prefix's leftovers to roll back.
// Checkpoints of earlier versions have no markers.
type committable struct {
	gid                  string
	subtask, parallelism int
	checkpoint           int64
	deferred             bool
	marker               bool
	records              [][]byte
}

const (
	committablePrepared = 1
	committableDeferred = 2
	committableMarker   = 3
)

// prefix returns the transaction prefix the committable was made with.
func (c committable) prefix() (string, bool) {
	if c.marker {
		return c.gid, true
	}
	return gidPrefix(c.gid)
}

func (c committable) encode() []byte {
	b := []byte{committablePrepared}
	if c.deferred {
		b[0] = committableDeferred
	} else if c.marker {
		b[0] = committableMarker
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
	if len(b) == 0 || b[0] < committablePrepared || b[0] > committableMarker {
		return c, corrupt
	}
	c.deferred = b[0] == committableDeferred
	c.marker = b[0] == committableMarker
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
// nothing stages no transaction. Each checkpoint also gets a prefix
// marker.
func (w *txnWriter[T]) PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error) {
	items, err := w.preCommit(ctx, checkpointID)
	if err != nil {
		return nil, err
	}
	m := committable{gid: w.opts.TransactionPrefix, subtask: w.subtask, parallelism: w.parallelism, checkpoint: checkpointID, marker: true}
	return append(items, m.encode()), nil
}

func (w *txnWriter[T]) preCommit(ctx context.Context, checkpointID int64) ([][]byte, error) {
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

// prefixGrace is how long a writer waits for the sessions of another job
// using its prefix to go away (a run of the job that just ended, whose
// sessions the server has not yet ended) before it fails with
// ErrPrefixInUse.
const prefixGrace = 10 * time.Second

// start rolls back, once, what earlier runs left prepared for this
// subtask (and for subtasks of a larger earlier parallelism that map to
// it: s mod parallelism == subtask), under TransactionPrefix and under the
// prefix the restored checkpoint was taken with (its markers, or for a
// checkpoint of an earlier version LegacyTransactionPrefix). It runs
// before the writer's first transaction, so after the restored
// checkpoint's transactions were committed (the engine commits them when
// it opens the sink): whatever of these subtasks is still prepared belongs
// to a checkpoint that did not complete, and its records are replayed
// from the restored positions. First it checks that no live session of
// another job uses these prefixes (ErrPrefixInUse).
func (w *txnWriter[T]) start(ctx context.Context) error {
	if w.started {
		return nil
	}
	prefixes := []string{w.opts.TransactionPrefix}
	restored := w.restoredPrefixes
	if w.restored && len(restored) == 0 && w.opts.LegacyTransactionPrefix != "" {
		restored = []string{w.opts.LegacyTransactionPrefix}
	}
	for _, p := range restored {
		if !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	for _, p := range prefixes {
		if err := w.claim(ctx, p); err != nil {
			return err
		}
	}
	for _, p := range prefixes {
		if err := w.rollBackLeftovers(ctx, p); err != nil {
			return err
		}
	}
	w.started = true
	return nil
}

// prefixSession is a session of pg_stat_activity named by sessionName.
type prefixSession struct {
	PID     uint32
	Name    string
	Started string
}

// claim checks that no session of another job uses prefix: such a job
// prepares transactions under it that rolling back would lose. A session
// of another job that does not go away within prefixGrace fails the
// writer with ErrPrefixInUse. Sessions of earlier runs of this job's
// subtasks that map to this one (a network that failed silently, whose
// open transaction may hold row locks) are ended.
//
// Every writer's control connection is open, under its session name,
// from before its check until it closes: of two jobs that start together
// on one prefix, the one that checks second sees the other's session.
func (w *txnWriter[T]) claim(ctx context.Context, prefix string) error {
	base := sessionBase(prefix)
	deadline := time.Now().Add(prefixGrace)
	for {
		var foreign []prefixSession
		err := w.onControl(ctx, "listing the sessions of transaction prefix "+prefix, func(c *pgx.Conn) error {
			foreign = foreign[:0]
			own := []uint32{c.PgConn().PID()}
			if w.conn != nil && !w.conn.IsClosed() {
				own = append(own, w.conn.PgConn().PID())
			}
			rows, err := c.Query(ctx, "SELECT pid, application_name, backend_start::text FROM pg_stat_activity WHERE starts_with(application_name, $1) AND NOT (pid = ANY($2))", base, own)
			if err != nil {
				return err
			}
			sessions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[prefixSession])
			if err != nil {
				return err
			}
			for _, ss := range sessions {
				sub, job, ok := parseSessionName(base, ss.Name)
				if !ok {
					continue
				}
				if job != w.job {
					foreign = append(foreign, ss)
					continue
				}
				if sub%w.parallelism != w.subtask {
					continue // a sibling subtask's
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
		if len(foreign) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			f := foreign[0]
			return fmt.Errorf("%w: the transaction prefix %q of the exactly-once sink on %s (subtask %d) is used by %d live session(s) of another job, "+
				"for example pid %d (application_name %q, connected at %s); this job would roll back that job's prepared transactions and lose its records. "+
				"Give each job its own prefix (SinkOptions.TransactionPrefix; in SQL the jdbc option 'sink.transactional-id-prefix', "+
				"or a distinct 'pipeline.name' for the default prefix); if that session belongs to a run of this job that is gone, end it: SELECT pg_terminate_backend(%d)",
				ErrPrefixInUse, prefix, w.nameForMsg, w.subtask, len(foreign), f.PID, f.Name, f.Started, f.PID)
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: waiting for the sessions of another job using transaction prefix %q to end: %w", prefix, ctx.Err())
		case <-t.C:
		}
	}
}

// rollBackLeftovers rolls back the transactions of prefix prepared by
// the subtasks that map to this one.
func (w *txnWriter[T]) rollBackLeftovers(ctx context.Context, prefix string) error {
	var gids []string
	err := w.onControl(ctx, "listing prepared transactions", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)", prefix+"-")
		if err != nil {
			return err
		}
		gids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return err
	}
	for _, gid := range gids {
		s, ok := parseTransactionID(prefix, gid)
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
		if !w.started {
			// The restore: note the prefix of the checkpoint.
			if p, ok := c.prefix(); ok && !slices.Contains(w.restoredPrefixes, p) {
				w.restoredPrefixes = append(w.restoredPrefixes, p)
			}
		}
		if c.marker || c.subtask%w.parallelism != w.subtask {
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
			// Markers 1000 checkpoints older than this one go: a
			// restore of a checkpoint or savepoint that old finds this
			// newer marker instead (see below). (Pruned
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
		if n > 0 {
			return nil // committed before
		}
		// Its marker may have been pruned: after a commit, the markers of
		// checkpoints more than 1000 older go, while the newest marker of
		// the prefix and subtask stays. A marker that much newer means
		// the sink committed this checkpoint's (a savepoint restored long
		// after it was taken).
		if p, ok := c.prefix(); ok {
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+w.commitTable()+" WHERE prefix = $1 AND subtask = $2 AND checkpoint > $3",
				p, c.subtask, c.checkpoint+1000).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				w.opts.Logger.Info("postgres: a restored checkpoint's transaction was committed before (its marker is pruned)", "gid", c.gid)
				return nil
			}
		}
		return fmt.Errorf("%w: %s of subtask %d, checkpoint %d, is neither prepared nor committed (rolled back by someone else?)",
			ErrTransactionLost, c.gid, c.subtask, c.checkpoint)
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
