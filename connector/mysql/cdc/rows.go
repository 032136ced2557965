package cdc

import (
	"context"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/weirstream/weir"
)

// rows turns a rows event into changes and hands them over with the
// position after them. Every row change of the transaction counts in
// rowIdx, captured or not, so that the count is the same when the
// transaction is read again after a restore, which skips the first Skip.
func (g *streamer) rows(ctx context.Context, h *replication.EventHeader, e *replication.RowsEvent) error {
	tm := g.byID[e.TableID]
	typ := e.Type()
	perChange := 1
	if typ == replication.EnumRowsEventTypeUpdate {
		perChange = 2
	}
	n := len(e.Rows) / perChange
	if tm == nil {
		g.rowIdx += n
		return nil
	}
	t := tm.t
	if err := checkRowsEvent(t, e, g.nextFile, h.LogPos); err != nil {
		return err
	}
	at := time.Unix(int64(h.Timestamp), 0).UTC()
	entries := make([]entry, 0, n)
	for i := 0; i < n; i++ {
		idx := g.rowIdx
		g.rowIdx++
		if idx < g.skip {
			continue
		}
		pos := Position{File: g.txFile, Pos: g.txPos, GTID: g.txGTID, Row: idx}
		before, after, dead, err := g.images(t, h, e, i, pos)
		if err != nil {
			return permanent("mysql cdc: %w at %s:%d", err, g.nextFile, h.LogPos)
		}
		if dead != nil {
			if g.xaCur != nil {
				g.xaCur.Changes = append(g.xaCur.Changes, xaChange{Table: tm.idx, Row: idx, Dead: dead})
				continue
			}
			entries = append(entries, entry{dead: dead})
			continue
		}
		// A prepared XA transaction's changes wait for its XA COMMIT
		// (see xa.go).
		if g.xaCur != nil {
			g.xaCur.Changes = append(g.xaCur.Changes, xaChange{Table: tm.idx, Row: idx, Before: before, After: after})
			continue
		}
		if e, ok := g.change(tm, before, after, at, pos); ok {
			entries = append(entries, e)
		}
	}
	if len(entries) > 0 {
		if !g.send(ctx, item{entries: entries, st: g.position()}) {
			return ctx.Err()
		}
	}
	return nil
}

// checkRowsEvent checks that a rows event of t (at file:pos) has the
// table's columns, every one of them.
func checkRowsEvent(t *Table, e *replication.RowsEvent, file string, pos uint32) error {
	if int(e.ColumnCount) != len(t.Columns) {
		return permanent("mysql cdc: table %s has %d columns in the binlog at %s:%d, %d when the source started: DDL while the source runs is not supported; restart the job without its checkpoint (new snapshot)",
			t.ID(), e.ColumnCount, file, pos, len(t.Columns))
	}
	for _, sk := range e.SkippedColumns {
		if len(sk) > 0 {
			return permanent("mysql cdc: table %s: binlog rows without every column: the source needs binlog_row_image FULL", t.ID())
		}
	}
	return nil
}

// images decodes the i-th row change of a rows event of t (at pos): the
// row before it (nil for an insert) and after it (nil for a delete), or
// the dead letter of a row that does not convert. err is an unknown rows
// event.
func (g *streamer) images(t *Table, h *replication.EventHeader, e *replication.RowsEvent, i int, pos Position) (before, after []any, dead *weir.DeadLetter, err error) {
	perChange := 1
	var bad string
	var cerr error
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		after, bad, cerr = g.convert(t, e.Rows[i])
	case replication.EnumRowsEventTypeDelete:
		before, bad, cerr = g.convert(t, e.Rows[i])
	case replication.EnumRowsEventTypeUpdate:
		perChange = 2
		before, bad, cerr = g.convert(t, e.Rows[2*i])
		if cerr == nil {
			after, bad, cerr = g.convert(t, e.Rows[2*i+1])
		}
	default:
		return nil, nil, nil, fmt.Errorf("unknown rows event %v", h.EventType)
	}
	if cerr != nil {
		return nil, nil, &weir.DeadLetter{
			Source: fmt.Sprintf("mysql %s %s", t.ID(), pos),
			Field:  bad, Reason: cerr.Error(), Raw: fmt.Appendf(nil, "%v", e.Rows[i*perChange:(i+1)*perChange]),
		}, nil
	}
	return before, after, nil, nil
}

// change makes a committed row change take effect: it corrects the chunk
// being read, is kept for the chunks still to read, and is returned as a
// change to emit (ok) if its row is snapshotted already.
func (g *streamer) change(tm *tmap, before, after []any, at time.Time, pos Position) (entry, bool) {
	t := tm.t
	// Between a chunk's watermarks (watermark algorithm), changes of
	// rows in the chunk's range correct the chunk.
	if w := g.window; w != nil && w.table == tm.idx {
		w.apply(before, after)
	}
	// Rows of chunks still to read: their last change, for the
	// windows of their chunks.
	g.remember(tm, before, after)
	// During the snapshot, only changes of rows already snapshotted
	// are emitted; the others are part of a chunk still to read.
	emitB := before != nil && g.captured(tm, t, before)
	emitA := after != nil && g.captured(tm, t, after)
	c := Change{Table: t, Time: at, Position: pos}
	switch {
	case emitB && emitA:
		c.Op, c.Before, c.After = OpUpdate, before, after
	case emitA:
		c.Op, c.After = OpCreate, after
	case emitB:
		c.Op, c.Before = OpDelete, before
	default:
		return entry{}, false
	}
	return entry{c: c}, true
}

// convert converts a binlog row; on failure it returns the column at
// fault. The converted values replace the decoded ones in the row's slice,
// which go-mysql allocated for this event alone (so a dead letter's raw
// values are converted up to the column at fault).
func (g *streamer) convert(t *Table, raw []any) ([]any, string, error) {
	if len(raw) != len(t.Columns) {
		return nil, "", fmt.Errorf("row of %d values, table has %d columns", len(raw), len(t.Columns))
	}
	for i := range raw {
		v, err := t.Columns[i].fromBinlog(raw[i])
		if err != nil {
			return nil, t.Columns[i].Name, err
		}
		raw[i] = v
	}
	return raw, "", nil
}

// captured reports whether a row with these values is covered by the
// snapshot chunks emitted so far.
func (g *streamer) captured(tm *tmap, t *Table, vals []any) bool {
	switch {
	case g.cur.Table > tm.idx:
		return true
	case g.cur.Table < tm.idx || g.cur.Bound == nil:
		return false
	}
	return keyLE(vals[t.Key[0]], g.cur.Bound)
}
