package cdc

import "slices"

// pendingRow is the last change the binlog reader met of a row not yet
// snapshotted (watermark algorithm): the row after it, or, deleted, the
// row it removed (its key is what counts).
type pendingRow struct {
	vals    []any
	deleted bool
}

// remember records the change of a row of a table whose snapshot is not
// done, for the rows not covered by the chunks emitted so far (before nil
// for an insert, after nil for a delete).
//
// The watermark algorithm's window starts at the chunk's low watermark L,
// the reader's position, and assumes the chunk's SELECT sees every
// transaction the reader read before L. It does not: the server writes a
// transaction to the binlog and hands it to the binlog readers before it
// commits it in the engine, where reads see it (see
// TestWatermarkChangeBinloggedBeforeVisible; Flink CDC's low watermark has
// the same window). A change of a row of a later chunk, read before L, is
// then neither in the SELECT nor in the window. So the reader keeps the
// last change of each such row since it started, and a new chunk's window
// starts from them (applyPending) before the binlog from L: applying a
// row's last change again where the SELECT saw it gives the same row, so
// the chunk is exact as long as the SELECT sees the transactions read
// before the reader started (a restore or a fresh start), not only those
// read before L.
//
// A row is kept until the chunk covering it is emitted (forgetPending),
// also while it is in the current window, so that a chunk read again
// after a lost connection starts from it too. The memory is one row image
// per row changed during the snapshot and not yet snapshotted.
func (g *streamer) remember(tm *tmap, before, after []any) {
	if !g.watermark || tm.idx < g.cur.Table {
		return
	}
	t := tm.t
	var m map[string]pendingRow
	get := func() map[string]pendingRow {
		if m == nil {
			if g.pending == nil {
				g.pending = map[int]map[string]pendingRow{}
			}
			if m = g.pending[tm.idx]; m == nil {
				m = map[string]pendingRow{}
				g.pending[tm.idx] = m
			}
		}
		return m
	}
	if before != nil && !g.captured(tm, t, before) {
		get()[rowKey(t, before)] = pendingRow{vals: slices.Clone(before), deleted: true}
	}
	if after != nil && !g.captured(tm, t, after) {
		get()[rowKey(t, after)] = pendingRow{vals: slices.Clone(after)}
	}
}

// applyPending starts a chunk's window from the last change of each row
// of its range the reader met before the window's low watermark.
func (g *streamer) applyPending(w *window) {
	for _, p := range g.pending[w.table] {
		if !w.covers(p.vals) {
			continue
		}
		if p.deleted {
			w.apply(p.vals, nil)
		} else {
			w.apply(nil, p.vals)
		}
	}
}

// forgetPending drops the rows of an emitted chunk's range: the bound
// covers them now, their changes are emitted.
func (g *streamer) forgetPending(w *window) {
	m := g.pending[w.table]
	for k, p := range m {
		if w.covers(p.vals) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		delete(g.pending, w.table)
	}
}
