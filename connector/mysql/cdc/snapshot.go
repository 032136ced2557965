package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/weirstream/weir"
)

// snapshotChunk reads the next chunk of the table being snapshotted with
// the algorithm resolved at setup, and hands it over whole with the
// position it is consistent with.
func (g *streamer) snapshotChunk(ctx context.Context, bs *replication.BinlogStreamer) error {
	if g.watermark {
		return g.watermarkChunk(ctx, bs)
	}
	return g.consistentChunk(ctx, bs)
}

// consistentChunk reads the next chunk in a transaction whose snapshot
// MariaDB ties to a binlog position S, reads the binlog up to S (emitting
// the changes of rows already snapshotted), then emits the chunk, whose
// rows are the table's state at S.
func (g *streamer) consistentChunk(ctx context.Context, bs *replication.BinlogStreamer) error {
	t := g.tables[g.cur.Table]
	conn, err := g.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mysql cdc: snapshot connection: %w", err)
	}
	defer conn.Close()
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mysql cdc: snapshot of %s: %s: %w", t.ID(), q, err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	var sFile string
	var sPos uint32
	rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS WHERE Variable_name IN ('binlog_snapshot_file', 'binlog_snapshot_position')")
	if err != nil {
		return fmt.Errorf("mysql cdc: snapshot of %s: binlog_snapshot_position: %w", t.ID(), err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("mysql cdc: snapshot of %s: %w", t.ID(), err)
		}
		switch strings.ToLower(k) {
		case "binlog_snapshot_file":
			sFile = v
		case "binlog_snapshot_position":
			p, _ := strconv.ParseUint(v, 10, 32)
			sPos = uint32(p)
		}
	}
	rows.Close()
	if sFile == "" {
		return permanent("mysql cdc: the server reports no binlog_snapshot_file: SnapshotAlgorithm %s needs MariaDB with log_bin on (use %s or %s with MySQL)",
			ConsistentSnapshot, AutoSnapshot, WatermarkSnapshot)
	}
	ch, err := g.readChunk(ctx, conn, t, fmt.Sprintf("binlog %s:%d", sFile, sPos), Position{File: sFile, Pos: sPos, Snapshot: true})
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("mysql cdc: snapshot of %s: COMMIT: %w", t.ID(), err)
	}
	if g.consistentHook != nil {
		g.consistentHook(ch)
	}

	// Read the binlog up to S: changes of rows snapshotted before are
	// emitted, the others are in this chunk or a later one. The chunk's
	// rows are corrected with the changes of its range up to S, as in a
	// watermark window, and with those read before (the pending rows):
	// MariaDB writes an XA COMMIT to the binlog before InnoDB commits the
	// transaction, outside the commit order the snapshot's position is
	// consistent with, so a snapshot whose position is after an XA
	// COMMIT may not see its changes. Applying a row's last change again
	// where the snapshot saw it gives the same row.
	var hi any
	if ch.full {
		hi = ch.last
	}
	g.window = newWindow(g.cur.Table, t, g.cur.Bound, hi, ch)
	defer func() { g.window = nil }()
	g.applyPending(g.window)
	if err := g.readTo(ctx, bs, gomysql.Position{Name: sFile, Pos: sPos}); err != nil {
		return err
	}
	if err := g.sendChunk(ctx, ch, g.window.result(Position{File: sFile, Pos: sPos, Snapshot: true})); err != nil {
		return err
	}
	g.forgetPending(g.window)
	return nil
}

// watermarkChunk is Flink CDC's incremental snapshot of one chunk. The low
// watermark L is where the binlog reader is: the previous chunk's high
// watermark, or the start. The chunk's SELECT runs after L, then the high
// watermark H is the server's current binlog position. The binlog is read
// from L to H: changes of rows already snapshotted are emitted as they
// come, changes of rows in the chunk's key range are applied to the
// chunk's rows (an insert or the after image of an update replaces the
// key's row, a delete or the before image of an update removes it), the
// others are left to later chunks, which keep their last change (the
// SELECT may miss a change read before L: see remember); the chunk's rows
// start from the last changes of its range kept so far. The chunk is then
// the table's rows of its range at H: its SELECT saw every change before
// the reader started and none after H, the last change of each row before
// L is applied, and re-applying a change the SELECT already saw gives the
// same row.
func (g *streamer) watermarkChunk(ctx context.Context, bs *replication.BinlogStreamer) error {
	t := g.tables[g.cur.Table]
	low := fmt.Sprintf("after low watermark %s:%d", g.nextFile, g.nextPos)
	if g.chunkHook != nil {
		g.chunkHook(false)
	}
	ch, err := g.readChunk(ctx, g.db, t, low, Position{Snapshot: true})
	if err != nil {
		return err
	}
	if g.chunkHook != nil {
		g.chunkHook(true)
	}
	hFile, hPos, _, err := g.binlogStatus(ctx)
	if err != nil {
		return err
	}
	var hi any
	if ch.full {
		hi = ch.last
	}
	g.window = newWindow(g.cur.Table, t, g.cur.Bound, hi, ch)
	defer func() { g.window = nil }()
	// The changes of the range read before L, which the SELECT may not
	// have seen (see remember).
	g.applyPending(g.window)
	if err := g.readTo(ctx, bs, gomysql.Position{Name: hFile, Pos: hPos}); err != nil {
		return err
	}
	if err := g.sendChunk(ctx, ch, g.window.result(Position{File: hFile, Pos: hPos, Snapshot: true})); err != nil {
		return err
	}
	g.forgetPending(g.window)
	return nil
}

// readTo reads the binlog up to target, which must be a transaction
// boundary at or after the reader's position.
func (g *streamer) readTo(ctx context.Context, bs *replication.BinlogStreamer, target gomysql.Position) error {
	for g.inTx || comparePos(g.nextFile, g.nextPos, target) < 0 {
		ev, err := g.next(ctx, bs)
		if err != nil {
			return err
		}
		if err := g.handle(ctx, ev); err != nil {
			return err
		}
	}
	if comparePos(g.nextFile, g.nextPos, target) > 0 {
		return fmt.Errorf("mysql cdc: binlog read past the snapshot position %s:%d to %s:%d; retrying", target.Name, target.Pos, g.nextFile, g.nextPos)
	}
	return nil
}

// sendChunk hands a chunk's rows over with the position reached and the
// snapshot progress after it: the chunk's last key, or the next table.
func (g *streamer) sendChunk(ctx context.Context, ch *chunk, entries []entry) error {
	st := g.position()
	if ch.full {
		st.Bound = ch.last
	} else {
		st.Table, st.Bound = g.cur.Table+1, nil
	}
	if !g.send(ctx, item{entries: entries, st: st}) {
		return ctx.Err()
	}
	return nil
}

// queryer is a *sql.DB or a *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// chunk is what a chunk's SELECT read.
type chunk struct {
	entries []entry // reads (Position as given) and dead letters, in key order
	n       int     // rows read
	last    any     // the last row's key (chunked tables)
	full    bool    // ChunkSize rows read: more may follow
	// deadVals holds the values of the dead letters' rows (by index in
	// entries), as far as they decoded: the watermark algorithm keys them.
	deadVals map[int][]any
}

// readChunk selects the rows of the table being snapshotted above the key
// bound, in key order, up to ChunkSize, or the whole table if it is not
// chunked. where names the snapshot's binlog position in dead letters.
func (g *streamer) readChunk(ctx context.Context, q queryer, t *Table, where string, pos Position) (*chunk, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	fmt.Fprintf(&b, " FROM %s.%s", quoteIdent(t.Database), quoteIdent(t.Name))
	limit := 0
	if t.chunked() {
		key := quoteIdent(t.Columns[t.Key[0]].Name)
		switch bound := g.cur.Bound.(type) {
		case int64:
			fmt.Fprintf(&b, " WHERE %s > %d", key, bound)
		case uint64:
			fmt.Fprintf(&b, " WHERE %s > %d", key, bound)
		}
		limit = g.opts.ChunkSize
		fmt.Fprintf(&b, " ORDER BY %s LIMIT %d", key, limit)
	}
	now := time.Now()
	rows, err := q.QueryContext(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: snapshot of %s: %w", t.ID(), err)
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	ch := &chunk{}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("mysql cdc: snapshot of %s: %w", t.ID(), err)
		}
		ch.n++
		vals := make([]any, len(t.Columns))
		var bad error
		var badCol string
		for i := range t.Columns {
			v, err := t.Columns[i].fromText(raw[i])
			if err != nil && bad == nil {
				bad, badCol = err, t.Columns[i].Name
			}
			vals[i] = v
		}
		if t.chunked() {
			kc := &t.Columns[t.Key[0]]
			k, err := kc.fromText(raw[t.Key[0]])
			if err != nil {
				return nil, permanent("mysql cdc: snapshot of %s: key %q: %w", t.ID(), raw[t.Key[0]], err)
			}
			ch.last = k
		}
		if bad != nil {
			ch.entries = append(ch.entries, entry{dead: &weir.DeadLetter{
				Source: fmt.Sprintf("mysql %s snapshot row %d (%s)", t.ID(), ch.n, where),
				Field:  badCol, Reason: bad.Error(), Raw: rawRow(raw),
			}})
			if ch.deadVals == nil {
				ch.deadVals = map[int][]any{}
			}
			ch.deadVals[len(ch.entries)-1] = vals
			continue
		}
		ch.entries = append(ch.entries, entry{c: Change{Op: OpRead, Table: t, After: vals, Time: now, Position: pos}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql cdc: snapshot of %s: %w", t.ID(), err)
	}
	ch.full = limit > 0 && ch.n == limit
	return ch, nil
}
