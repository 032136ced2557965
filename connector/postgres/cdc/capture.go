package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirstream/weir"
)

// evKind says what an event handed from the capture goroutine to the
// reader is.
type evKind uint8

const (
	evChange    evKind = iota // a change (snapshot read or streamed)
	evBad                     // a change with a value that does not decode
	evStart                   // the slot was created at lsn
	evTable                   // the snapshot starts table
	evBoundary                // a region read from a later snapshot
	evSnapDone                // the snapshot is complete: streaming starts
	evCommit                  // the transaction lsn ended at end
	evKeepalive               // no transaction open; everything before end sent
	evErr                     // the capture failed for good
)

// event is what the capture goroutine hands to the reader, in order.
type event struct {
	kind   evKind
	change Change
	dl     weir.DeadLetter
	table  int
	key    []string // snapshot reads: the row's key
	lsn    pglogrepl.LSN
	end    pglogrepl.LSN
	walEnd pglogrepl.LSN
	idx    int
	bound  boundary
	err    error
}

// capture reads the snapshot and the slot in its own goroutine and hands
// events to the reader over out. Its fields are owned by that goroutine,
// except confirmed, which the reader sets.
type capture struct {
	opts   *Options
	log    *slog.Logger
	out    chan []event
	avail  chan struct{}
	batch  []event
	tables []*Table
	// pos is what the capture sent so far (ahead of what the reader
	// emitted): reconnections resume from it.
	pos position
	// confirmed is the LSN the last completed checkpoint covers: the
	// slot's confirmed_flush position the status updates report.
	confirmed atomic.Uint64
	// started is the consistent point of the slot a fresh start created,
	// once created: a checkpoint taken before the reader saw evStart
	// stores it (the slot then exists; a restore without it would drop
	// it and start over from a later point).
	started atomic.Uint64
	backoff time.Duration
}

// batchSize bounds the events of one hand-over.
const batchSize = 256

func (c *capture) emit(ctx context.Context, ev event) error {
	c.batch = append(c.batch, ev)
	if len(c.batch) >= batchSize {
		return c.flush(ctx)
	}
	return nil
}

func (c *capture) flush(ctx context.Context) error {
	if len(c.batch) == 0 {
		return nil
	}
	select {
	case c.out <- c.batch:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.batch = make([]event, 0, batchSize)
	select {
	case c.avail <- struct{}{}:
	default:
	}
	return nil
}

// run captures until ctx ends or an error that retrying cannot fix,
// which it hands to the reader.
func (c *capture) run(ctx context.Context) {
	err := c.runErr(ctx)
	if err == nil || ctx.Err() != nil {
		return
	}
	c.batch = append(c.batch, event{kind: evErr, err: err})
	_ = c.flush(ctx)
}

func (c *capture) runErr(ctx context.Context) error {
	if err := c.retry(ctx, "reading table metadata", c.setup); err != nil {
		return err
	}
	if c.pos.Phase == phaseSnapshot {
		if err := c.snapshot(ctx); err != nil {
			return err
		}
	}
	for {
		err := c.streamOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return err
		}
		c.log.Warn("cdc: replication connection lost; reconnecting", "slot", c.opts.Slot, "err", err, "backoff", c.backoff)
		if !c.sleep(ctx) {
			return nil
		}
	}
}

// fatal reports whether err is one that reconnecting does not fix: a
// server error about the request itself (authentication, a missing
// database, table or slot, a syntax or permission error).
func fatal(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "28"), pe.Code == "3D000", strings.HasPrefix(pe.Code, "42"), pe.Code == "55000":
			return true
		}
		return false
	}
	var fe *fatalError
	return errors.As(err, &fe)
}

// fatalError marks an error of the source's own that retrying cannot fix.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error { return &fatalError{fmt.Errorf(format, args...)} }

// sleep waits the current backoff and doubles it; false if ctx ended.
func (c *capture) sleep(ctx context.Context) bool {
	t := time.NewTimer(c.backoff)
	defer t.Stop()
	c.backoff = min(2*c.backoff, c.opts.MaxBackoff)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retry runs f until it succeeds, fails for good, or ctx ends.
func (c *capture) retry(ctx context.Context, what string, f func(context.Context) error) error {
	for {
		err := f(ctx)
		if err == nil {
			c.backoff = c.opts.MinBackoff
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fatal(err) {
			return fmt.Errorf("cdc: %s: %w", what, err)
		}
		c.log.Warn("cdc: "+what+" failed; retrying", "err", err, "backoff", c.backoff)
		if !c.sleep(ctx) {
			return ctx.Err()
		}
	}
}

// sessionParams are set on every connection: the text forms of values
// then do not depend on the server's settings.
var sessionParams = map[string]string{
	"TimeZone": "UTC", "DateStyle": "ISO, YMD", "bytea_output": "hex", "extra_float_digits": "3",
	"IntervalStyle": "postgres", "application_name": "weir-postgres-cdc",
}

// connect opens an ordinary connection.
func (c *capture) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.opts.Conn)
	if err != nil {
		return nil, fatalf("cdc: connection string: %w", err)
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// connectRepl opens a replication connection.
func (c *capture) connectRepl(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(c.opts.Conn)
	if err != nil {
		return nil, fatalf("cdc: connection string: %w", err)
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["replication"] = "database"
	return pgconn.ConnectConfig(ctx, cfg)
}

// setup creates the publication if needed and reads the tables' columns
// and primary keys.
func (c *capture) setup(ctx context.Context) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var tables []*Table
	var quoted []string
	for _, name := range c.opts.Tables {
		schema, tname, _ := splitTable(name)
		t := &Table{Schema: schema, Name: tname}
		var oid *uint32
		if err := conn.QueryRow(ctx, `SELECT to_regclass(quote_ident($1)||'.'||quote_ident($2))::oid`, schema, tname).Scan(&oid); err != nil {
			return err
		}
		if oid == nil {
			return fatalf("cdc: table %s does not exist", t)
		}
		rows, err := conn.Query(ctx, `SELECT a.attname, t.typname, a.atttypid, array_position(i.indkey::int2[], a.attnum)
			FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
			LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
			WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
			ORDER BY a.attnum`, *oid)
		if err != nil {
			return err
		}
		keyPos := map[int]int{}
		for rows.Next() {
			var col Column
			var kp *int32
			if err := rows.Scan(&col.Name, &col.Type, &col.OID, &kp); err != nil {
				rows.Close()
				return err
			}
			if kp != nil {
				col.Key = true
				keyPos[int(*kp)] = len(t.Columns)
			}
			t.Columns = append(t.Columns, col)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(keyPos) == 0 {
			return fatalf("cdc: table %s has no primary key", t)
		}
		kps := slices.Sorted(maps.Keys(keyPos))
		for _, kp := range kps {
			ci := keyPos[kp]
			if !keyComparable(t.Columns[ci].OID) {
				return fatalf("cdc: table %s: primary key column %s has type %s; supported: integers, numeric, text, varchar, uuid, bool, date, timestamp(tz)",
					t, t.Columns[ci].Name, t.Columns[ci].Type)
			}
			t.Key = append(t.Key, ci)
		}
		tables = append(tables, t)
		quoted = append(quoted, pgx.Identifier{schema, tname}.Sanitize())
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, c.opts.Publication).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE PUBLICATION "+pgx.Identifier{c.opts.Publication}.Sanitize()+" FOR TABLE "+strings.Join(quoted, ", "))
		var pe *pgconn.PgError
		if err != nil && !(errors.As(err, &pe) && pe.Code == "42710") { // created concurrently
			return err
		}
	}
	for _, t := range tables {
		var in bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)`,
			c.opts.Publication, t.Schema, t.Name).Scan(&in); err != nil {
			return err
		}
		if !in {
			return fatalf("cdc: publication %s does not publish table %s", c.opts.Publication, t)
		}
	}
	c.tables = tables
	return nil
}

// dropSlot drops the slot if it exists, ending the session that holds it
// if it stays active (the process of an earlier run that was killed, whose
// connection the server has not noticed dead yet).
func (c *capture) dropSlot(ctx context.Context) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		var pid *int32
		err := conn.QueryRow(ctx, `SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, c.opts.Slot).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if pid != nil {
			// The session of a killed run ends as soon as the server
			// notices its connection closed; another job's session does
			// not, and is not ended: the source waits (and logs).
			if time.Now().Before(deadline) {
				if err := waitCtx(ctx, 50*time.Millisecond); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("cdc: replication slot %s is in use by server process %d", c.opts.Slot, *pid)
		}
		_, err = conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, c.opts.Slot)
		var pe *pgconn.PgError
		if err != nil && errors.As(err, &pe) && (pe.Code == "42704" || pe.Code == "55006") {
			continue // gone, or taken again meanwhile
		}
		return err
	}
}

func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exportSnapshot creates a slot (the source's, or a temporary one) on a
// new replication connection with EXPORT_SNAPSHOT: the snapshot it names
// is consistent with the slot's consistent point and stays usable while
// the connection stays open and idle.
func (c *capture) exportSnapshot(ctx context.Context, slot string, temporary bool) (*pgconn.PgConn, pglogrepl.LSN, string, error) {
	rc, err := c.connectRepl(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	// Creating a slot waits for the transactions running now to end; say
	// why if that takes long (an abandoned prepared transaction blocks it).
	slow := make(chan struct{})
	warned := make(chan struct{})
	go func() {
		defer close(warned)
		select {
		case <-slow:
		case <-time.After(10 * time.Second):
			c.log.Warn("cdc: creating the replication slot waits for transactions in progress to end (see pg_stat_activity and pg_prepared_xacts)", "slot", slot)
		}
	}()
	res, err := pglogrepl.CreateReplicationSlot(ctx, rc, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: temporary, SnapshotAction: "EXPORT_SNAPSHOT", Mode: pglogrepl.LogicalReplication})
	close(slow)
	<-warned
	if err != nil {
		rc.Close(context.Background())
		return nil, 0, "", err
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		rc.Close(context.Background())
		return nil, 0, "", fatalf("cdc: consistent point %q: %w", res.ConsistentPoint, err)
	}
	return rc, lsn, res.SnapshotName, nil
}

// snapshot reads the tables from where pos says, then hands over to the
// stream. A fresh start creates the slot and reads the snapshot it
// exports, consistent with the slot's start. After a restore or a lost
// connection the exported snapshot is gone: the rest is read from a new
// snapshot (exported by a temporary slot, so its LSN is exact), and a
// boundary records that LSN for the rest, so that the stream skips the
// changes that snapshot already holds (Flink CDC's incremental snapshot
// does the same per chunk with its high watermark).
func (c *capture) snapshot(ctx context.Context) error {
	var rc *pgconn.PgConn
	var snap string
	var at pglogrepl.LSN
	if c.pos.Start == 0 {
		err := c.retry(ctx, "creating the replication slot", func(ctx context.Context) error {
			if err := c.dropSlot(ctx); err != nil {
				return err
			}
			var err error
			rc, at, snap, err = c.exportSnapshot(ctx, c.opts.Slot, false)
			return err
		})
		if err != nil {
			return err
		}
		c.log.Info("cdc: created replication slot", "slot", c.opts.Slot, "consistent_point", at)
		c.pos.Start, c.pos.Done = at, at
		c.started.Store(uint64(at))
		if err := c.emit(ctx, event{kind: evStart, lsn: at}); err != nil {
			rc.Close(context.Background())
			return err
		}
		if c.opts.SkipSnapshot {
			c.pos.Table = len(c.tables)
		}
	}
	for c.pos.Table < len(c.tables) {
		if snap == "" {
			err := c.retry(ctx, "exporting a snapshot", func(ctx context.Context) error {
				var err error
				rc, at, snap, err = c.exportSnapshot(ctx, tempSlotName(c.opts.Slot), true)
				return err
			})
			if err != nil {
				return err
			}
			b := boundary{Table: c.pos.Table, After: c.pos.LastKey, LSN: at}
			c.pos.Bounds = append(c.pos.Bounds, b)
			if err := c.emit(ctx, event{kind: evBoundary, bound: b}); err != nil {
				rc.Close(context.Background())
				return err
			}
			c.log.Info("cdc: resuming the snapshot from a new snapshot", "table", c.tables[c.pos.Table], "after", c.pos.LastKey, "lsn", at)
		}
		err := c.readTables(ctx, snap, at)
		rc.Close(context.Background())
		rc, snap = nil, ""
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fatal(err) {
			return fmt.Errorf("cdc: snapshot: %w", err)
		}
		c.log.Warn("cdc: snapshot interrupted; resuming", "err", err, "backoff", c.backoff)
		if !c.sleep(ctx) {
			return ctx.Err()
		}
	}
	if rc != nil {
		rc.Close(context.Background())
	}
	c.pos.Phase = phaseStream
	if err := c.emit(ctx, event{kind: evSnapDone}); err != nil {
		return err
	}
	return c.flush(ctx)
}

// readTables reads the tables from pos in the exported snapshot snap,
// consistent with LSN at, in pages of primary-key order.
func (c *capture) readTables(ctx context.Context, snap string, at pglogrepl.LSN) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(snap)); err != nil {
		return err
	}
	for c.pos.Table < len(c.tables) {
		t := c.tables[c.pos.Table]
		if err := c.readTable(ctx, conn.PgConn(), t, at); err != nil {
			return err
		}
		c.pos.Table++
		c.pos.LastKey = nil
		if err := c.emit(ctx, event{kind: evTable, table: c.pos.Table}); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return err
}

// tempSlotName names a temporary slot for a snapshot, within PostgreSQL's
// 63 bytes.
func tempSlotName(slot string) string {
	suffix := "_snap_" + strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	return slot[:min(len(slot), 63-len(suffix))] + suffix
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// readTable reads table t from after pos.LastKey.
func (c *capture) readTable(ctx context.Context, conn *pgconn.PgConn, t *Table, at pglogrepl.LSN) error {
	cols := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = pgx.Identifier{col.Name}.Sanitize()
	}
	keys := make([]string, len(t.Key))
	params := make([]string, len(t.Key))
	for i, ci := range t.Key {
		keys[i] = cols[ci]
		if isString(t.Columns[ci].OID) {
			keys[i] += ` COLLATE "C"`
		}
		params[i] = "$" + strconv.Itoa(i+1)
	}
	from := "SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{t.Schema, t.Name}.Sanitize()
	order := " ORDER BY " + strings.Join(keys, ", ") + " LIMIT " + strconv.Itoa(c.opts.SnapshotFetchSize)
	after := " WHERE (" + strings.Join(keys, ", ") + ") > (" + strings.Join(params, ", ") + ")"
	if len(t.Key) == 1 {
		after = " WHERE " + keys[0] + " > $1"
	}
	for {
		q := from + order
		var args [][]byte
		if c.pos.LastKey != nil {
			q = from + after + order
			for _, k := range c.pos.LastKey {
				args = append(args, []byte(k))
			}
		}
		res := conn.ExecParams(ctx, q, args, nil, nil, nil).Read()
		if res.Err != nil {
			return res.Err
		}
		for _, r := range res.Rows {
			ev := c.decodeRow(t, r, at)
			c.pos.LastKey = ev.key
			if err := c.emit(ctx, ev); err != nil {
				return err
			}
		}
		if err := c.flush(ctx); err != nil {
			return err
		}
		if len(res.Rows) < c.opts.SnapshotFetchSize {
			return nil
		}
	}
}

// decodeRow decodes a snapshot row (text form values).
func (c *capture) decodeRow(t *Table, r [][]byte, at pglogrepl.LSN) event {
	key := make([]string, len(t.Key))
	for i, ci := range t.Key {
		key[i] = string(r[ci])
	}
	ev := event{kind: evChange, table: c.pos.Table, key: key, lsn: at}
	vals := make([]any, len(t.Columns))
	for i, b := range r {
		if b == nil {
			continue
		}
		v, err := decodeText(t.Columns[i].OID, b)
		if err != nil {
			ev.kind = evBad
			ev.dl = weir.DeadLetter{Source: fmt.Sprintf("table %s snapshot key (%s)", t, strings.Join(key, ", ")),
				Field: t.Columns[i].Name, Reason: err.Error(), Raw: b}
			return ev
		}
		vals[i] = v
	}
	ev.change = Change{Op: OpRead, Table: t, After: vals, LSN: at}
	return ev
}

// relation is a relation of the stream: its table and, per column of the
// relation message, the column's index in the table.
type relation struct {
	ti    int
	table *Table
	cols  []int
}

// txState is the transaction the stream is in.
type txState struct {
	open       bool
	commit     pglogrepl.LSN
	xid        uint32
	time       time.Time
	idx        int
	skip       bool // already emitted before
	skipN      int  // its first skipN changes were emitted before
	walEnd     pglogrepl.LSN
	relations  map[uint32]*relation
	lastStatus time.Time
}

// streamOnce streams from the slot on one replication connection, until
// it fails or ctx ends.
func (c *capture) streamOnce(ctx context.Context) error {
	if err := c.checkSlot(ctx); err != nil {
		return err
	}
	rc, err := c.connectRepl(ctx)
	if err != nil {
		return err
	}
	defer rc.Close(context.Background())
	args := []string{"proto_version '1'", "publication_names " + quoteLiteral(c.opts.Publication)}
	if err := pglogrepl.StartReplication(ctx, rc, c.opts.Slot, c.pos.Done,
		pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args}); err != nil {
		return err
	}
	c.log.Info("cdc: streaming", "slot", c.opts.Slot, "from", c.pos.Done)
	c.backoff = c.opts.MinBackoff
	tx := &txState{relations: map[uint32]*relation{}}
	var hb *pgx.Conn
	defer func() {
		if hb != nil {
			hb.Close(context.Background())
		}
	}()
	next := time.Now()
	for {
		if !time.Now().Before(next) {
			if err := c.status(ctx, rc); err != nil {
				return err
			}
			next = time.Now().Add(c.opts.StatusInterval)
			if c.opts.HeartbeatQuery != "" {
				if hb == nil {
					hb, err = c.connect(ctx)
					if err != nil {
						c.log.Warn("cdc: heartbeat connection failed", "err", err)
						hb = nil
					}
				}
				if hb != nil {
					if _, err := hb.Exec(ctx, c.opts.HeartbeatQuery); err != nil {
						c.log.Warn("cdc: heartbeat query failed", "err", err)
						hb.Close(context.Background())
						hb = nil
					}
				}
			}
		}
		rctx, cancel := context.WithDeadline(ctx, next)
		msg, err := rc.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && pgconn.Timeout(err) {
				continue
			}
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(m)
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fatalf("cdc: keepalive: %w", err)
				}
				if !tx.open && ka.ServerWALEnd > c.pos.Done {
					c.pos.Done, c.pos.PartCommit, c.pos.PartN = ka.ServerWALEnd, 0, 0
					if err := c.emit(ctx, event{kind: evKeepalive, end: ka.ServerWALEnd, walEnd: ka.ServerWALEnd}); err != nil {
						return err
					}
					if err := c.flush(ctx); err != nil {
						return err
					}
				}
				if ka.ReplyRequested {
					next = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fatalf("cdc: xlogdata: %w", err)
				}
				tx.walEnd = xld.ServerWALEnd
				if err := c.handle(ctx, tx, xld.WALData); err != nil {
					return err
				}
			}
		}
	}
}

// checkSlot fails if the slot is gone or ahead of pos.Done: the changes
// in between were confirmed by a checkpoint later than the one restored
// (or the slot was advanced by someone else) and are lost to the source.
func (c *capture) checkSlot(ctx context.Context) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var confirmed *string
	err = conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, c.opts.Slot).Scan(&confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return fatalf("cdc: replication slot %s does not exist: the changes since the restored checkpoint are lost (start the job fresh)", c.opts.Slot)
	}
	if err != nil {
		return err
	}
	if confirmed != nil {
		lsn, err := pglogrepl.ParseLSN(*confirmed)
		if err == nil && lsn > c.pos.Done {
			return fatalf("cdc: replication slot %s confirmed %s, past the restored position %s: restore the latest checkpoint, or start fresh", c.opts.Slot, lsn, c.pos.Done)
		}
	}
	return nil
}

// status sends a standby status update confirming what the last completed
// checkpoint covers.
func (c *capture) status(ctx context.Context, rc *pgconn.PgConn) error {
	lsn := pglogrepl.LSN(c.confirmed.Load())
	return pglogrepl.SendStandbyStatusUpdate(ctx, rc, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: lsn, WALFlushPosition: lsn, WALApplyPosition: lsn})
}

// handle decodes one pgoutput message.
func (c *capture) handle(ctx context.Context, tx *txState, data []byte) error {
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return fatalf("cdc: pgoutput message: %w", err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		tx.relations[m.RelationID] = c.relation(m)
	case *pglogrepl.BeginMessage:
		*tx = txState{open: true, commit: m.FinalLSN, xid: m.Xid, time: m.CommitTime.UTC(), relations: tx.relations, walEnd: tx.walEnd}
		tx.skip = m.FinalLSN < c.pos.Done
		if m.FinalLSN == c.pos.PartCommit {
			tx.skipN = c.pos.PartN
		}
	case *pglogrepl.CommitMessage:
		tx.open = false
		if tx.skip {
			return nil
		}
		c.pos.Done, c.pos.PartCommit, c.pos.PartN = m.TransactionEndLSN, 0, 0
		if err := c.emit(ctx, event{kind: evCommit, lsn: m.CommitLSN, end: m.TransactionEndLSN, walEnd: tx.walEnd}); err != nil {
			return err
		}
		return c.flush(ctx)
	case *pglogrepl.InsertMessage:
		return c.change(ctx, tx, m.RelationID, OpInsert, 0, nil, m.Tuple)
	case *pglogrepl.UpdateMessage:
		return c.change(ctx, tx, m.RelationID, OpUpdate, m.OldTupleType, m.OldTuple, m.NewTuple)
	case *pglogrepl.DeleteMessage:
		return c.change(ctx, tx, m.RelationID, OpDelete, m.OldTupleType, m.OldTuple, nil)
	case *pglogrepl.TruncateMessage:
		c.log.Warn("cdc: TRUNCATE is not emitted", "lsn", tx.commit)
	}
	return nil
}

// relation maps a relation message to the captured table of the same
// name (the snapshot's Table if the columns are the same).
func (c *capture) relation(m *pglogrepl.RelationMessage) *relation {
	for ti, t := range c.tables {
		if t.Schema != m.Namespace || t.Name != m.RelationName {
			continue
		}
		same := len(m.Columns) == len(t.Columns)
		for i, col := range m.Columns {
			if same && (col.Name != t.Columns[i].Name || col.DataType != t.Columns[i].OID) {
				same = false
			}
		}
		r := &relation{ti: ti, table: t, cols: make([]int, len(m.Columns))}
		if same {
			for i := range r.cols {
				r.cols[i] = i
			}
			return r
		}
		// The table changed since the snapshot: a new Table with the
		// relation's columns; the key stays the primary key's columns.
		nt := &Table{Schema: t.Schema, Name: t.Name}
		for i, col := range m.Columns {
			typ := strconv.FormatUint(uint64(col.DataType), 10)
			isKey := false
			for _, oc := range t.Columns {
				if oc.Name == col.Name {
					isKey = oc.Key
					if oc.OID == col.DataType {
						typ = oc.Type
					}
				}
			}
			nt.Columns = append(nt.Columns, Column{Name: col.Name, OID: col.DataType, Type: typ, Key: isKey})
			r.cols[i] = i
		}
		for _, ki := range t.Key {
			for i, col := range nt.Columns {
				if col.Name == t.Columns[ki].Name {
					nt.Key = append(nt.Key, i)
				}
			}
		}
		r.table = nt
		return r
	}
	return nil // not captured
}

// decodeTuple decodes a tuple of relation r.
func decodeTuple(r *relation, td *pglogrepl.TupleData) (vals []any, field string, raw []byte, err error) {
	t := r.table
	vals = make([]any, len(t.Columns))
	for i := range vals {
		vals[i] = Unavailable{}
	}
	for i, col := range td.Columns {
		if i >= len(r.cols) {
			break
		}
		ci := r.cols[i]
		switch col.DataType {
		case pglogrepl.TupleDataTypeNull:
			vals[ci] = nil
		case pglogrepl.TupleDataTypeToast:
			vals[ci] = Unavailable{}
		case pglogrepl.TupleDataTypeText:
			v, err := decodeText(t.Columns[ci].OID, col.Data)
			if err != nil {
				return nil, t.Columns[ci].Name, col.Data, err
			}
			vals[ci] = v
		default:
			return nil, t.Columns[ci].Name, col.Data, fmt.Errorf("cdc: tuple column in format %q", col.DataType)
		}
	}
	return vals, "", nil, nil
}

// tupleKey returns the text form of the key of a tuple of relation r (nil
// for no tuple).
func tupleKey(r *relation, td *pglogrepl.TupleData) []string {
	if td == nil {
		return nil
	}
	t := r.table
	key := make([]string, len(t.Key))
	for i, ki := range t.Key {
		for j, ci := range r.cols {
			if ci == ki && j < len(td.Columns) {
				key[i] = string(td.Columns[j].Data)
			}
		}
	}
	return key
}

// change handles an insert, update or delete.
func (c *capture) change(ctx context.Context, tx *txState, relID uint32, op Op, oldType uint8, oldTup, newTup *pglogrepl.TupleData) error {
	idx := tx.idx
	tx.idx++
	if tx.skip || idx < tx.skipN {
		return nil
	}
	r := tx.relations[relID]
	if r == nil {
		if _, ok := tx.relations[relID]; !ok {
			return fatalf("cdc: change of relation %d before its relation message", relID)
		}
		return nil // a table of the publication not captured
	}
	ch := Change{Op: op, Table: r.table, LSN: tx.commit, Index: idx, XID: tx.xid, CommitTime: tx.time}
	bad := func(field string, raw []byte, err error) error {
		c.pos.PartCommit, c.pos.PartN = tx.commit, idx+1
		return c.emit(ctx, event{kind: evBad, lsn: tx.commit, idx: idx, dl: weir.DeadLetter{
			Source: fmt.Sprintf("table %s lsn %s change %d", r.table, tx.commit, idx), Field: field, Reason: err.Error(), Raw: raw}})
	}
	if oldTup != nil {
		vals, field, raw, err := decodeTuple(r, oldTup)
		if err != nil {
			return bad(field, raw, err)
		}
		ch.Before = vals
		if oldType == 'K' {
			// The old key: the other columns are sent as NULLs.
			ch.BeforeKeyOnly = true
			for i, col := range r.table.Columns {
				if !col.Key {
					vals[i] = Unavailable{}
				}
			}
		}
	}
	if newTup != nil {
		vals, field, raw, err := decodeTuple(r, newTup)
		if err != nil {
			return bad(field, raw, err)
		}
		// Unchanged TOASTed values are in the full old row.
		for i, v := range vals {
			if _, ok := v.(Unavailable); ok && ch.Before != nil && !ch.BeforeKeyOnly {
				vals[i] = ch.Before[i]
			}
		}
		ch.After = vals
	}
	if op == OpDelete && ch.Before == nil {
		return fatalf("cdc: delete without old key in table %s (REPLICA IDENTITY NOTHING?)", r.table)
	}
	if len(c.pos.Bounds) > 0 {
		// Drop what a later snapshot already read (see boundary).
		beforeKey, afterKey := tupleKey(r, oldTup), tupleKey(r, newTup)
		k := beforeKey
		if k == nil {
			k = afterKey
		}
		covered := func(key []string) bool {
			return inSnapshot(tx.commit, readAt(c.pos.Start, c.pos.Bounds, r.table, r.ti, key))
		}
		switch op {
		case OpInsert:
			if covered(afterKey) {
				return nil
			}
		case OpDelete:
			if covered(beforeKey) {
				return nil
			}
		case OpUpdate:
			oldCov := covered(k)
			newCov := covered(afterKey)
			switch {
			case oldCov && newCov:
				return nil
			case oldCov:
				ch.Op, ch.Before, ch.BeforeKeyOnly = OpInsert, nil, false
			case newCov:
				if ch.Before == nil { // unchanged key: the old key is the new one
					ch.Before, ch.BeforeKeyOnly = keyOnly(r.table, ch.After, afterKey), true
				}
				ch.Op, ch.After = OpDelete, nil
			}
		}
	}
	c.pos.PartCommit, c.pos.PartN = tx.commit, idx+1
	return c.emit(ctx, event{kind: evChange, change: ch, lsn: tx.commit, idx: idx})
}

// keyOnly returns a row with the key values of after (or decoded from
// key) and Unavailable elsewhere.
func keyOnly(t *Table, after []any, key []string) []any {
	row := make([]any, len(t.Columns))
	for i := range row {
		row[i] = Unavailable{}
	}
	for i, ci := range t.Key {
		if after != nil {
			row[ci] = after[ci]
		} else if v, err := decodeText(t.Columns[ci].OID, []byte(key[i])); err == nil {
			row[ci] = v
		}
	}
	return row
}
