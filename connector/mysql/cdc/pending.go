package cdc

import (
	"container/heap"
	"slices"
)

// pendingRow is the last change the binlog reader met of a row not yet
// snapshotted (watermark algorithm): the row after it, or, deleted, the
// row it removed (its key is what counts).
type pendingRow struct {
	vals    []any
	deleted bool
}

// pendingTable holds a table's pending rows by row key and, for a chunked
// table, their keys in a min-heap: a chunk's range (bound, hi] covers the
// keys at or below hi, all of them above the bound, the top of the heap.
type pendingTable struct {
	rows map[string]pendingRow
	keys keyHeap
}

// keyHeap is a min-heap of the integer keys of a table's pending rows,
// each with its row key.
type keyHeap []pendingKey

type pendingKey struct {
	k  any // int64 or uint64
	rk string
}

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return compareKeys(h[i].k, h[j].k) < 0 }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(pendingKey)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
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
// The consistent snapshot (consistentChunk) keeps them too: its position
// is consistent with the ordinary commits, not with MariaDB's XA COMMIT,
// which is in the binlog before the engine commits it.
//
// A row is kept until the chunk covering it is emitted (forgetPending),
// also while it is in the current window, so that a chunk read again
// after a lost connection starts from it too. The memory is one row image
// per row changed during the snapshot and not yet snapshotted.
func (g *streamer) remember(tm *tmap, before, after []any) {
	if tm.idx < g.cur.Table {
		return
	}
	t := tm.t
	put := func(vals []any, deleted bool) {
		if g.captured(tm, t, vals) {
			return
		}
		if g.pending == nil {
			g.pending = map[int]*pendingTable{}
		}
		pt := g.pending[tm.idx]
		if pt == nil {
			pt = &pendingTable{rows: map[string]pendingRow{}}
			g.pending[tm.idx] = pt
		}
		rk := rowKey(t, vals)
		if _, ok := pt.rows[rk]; !ok && t.chunked() {
			heap.Push(&pt.keys, pendingKey{k: vals[t.Key[0]], rk: rk})
		}
		pt.rows[rk] = pendingRow{vals: slices.Clone(vals), deleted: deleted}
	}
	if before != nil {
		put(before, true)
	}
	if after != nil {
		put(after, false)
	}
}

// applyPending starts a chunk's window from the last change of each row
// of its range the reader met before the window's low watermark.
func (g *streamer) applyPending(w *window) {
	pt := g.pending[w.table]
	if pt == nil {
		return
	}
	apply := func(p pendingRow) {
		if p.deleted {
			w.apply(p.vals, nil)
		} else {
			w.apply(nil, p.vals)
		}
	}
	if !w.t.chunked() || w.hi == nil {
		for _, p := range pt.rows {
			apply(p)
		}
		return
	}
	// The heap's nodes at or below hi form a subtree at its root.
	var walk func(i int)
	walk = func(i int) {
		if i >= len(pt.keys) || !keyLE(pt.keys[i].k, w.hi) {
			return
		}
		apply(pt.rows[pt.keys[i].rk])
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
}

// forgetPending drops the rows of an emitted chunk's range: the bound
// covers them now, their changes are emitted.
func (g *streamer) forgetPending(w *window) {
	pt := g.pending[w.table]
	if pt == nil {
		return
	}
	if w.t.chunked() && w.hi != nil {
		for len(pt.keys) > 0 && keyLE(pt.keys[0].k, w.hi) {
			delete(pt.rows, heap.Pop(&pt.keys).(pendingKey).rk)
		}
	}
	if !w.t.chunked() || w.hi == nil || len(pt.rows) == 0 {
		delete(g.pending, w.table)
	}
}
