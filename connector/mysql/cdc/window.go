package cdc

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// window is a snapshot chunk of the watermark algorithm while the binlog
// between its low and high watermarks is read: the rows its SELECT read,
// by primary key, to which the changes of rows in its key range are
// applied. It does no I/O.
type window struct {
	table  int    // index of the table in Options.Tables
	t      *Table //
	lo, hi any    // key range (lo, hi]; nil lo: from the first key, nil hi: to the last
	rows   []entry
	vals   [][]any // values of each row (nil for a dead letter without its key)
	live   []bool
	at     map[string]int // key → index in rows of its live row
	now    time.Time      // Time of the rows the binlog adds
	moved  bool           // rows were added after the SELECT's: sort again
}

// newWindow starts the window of a chunk read by its SELECT: the table
// (index idx) rows in the key range (lo, hi].
func newWindow(idx int, t *Table, lo, hi any, ch *chunk) *window {
	w := &window{table: idx, t: t, lo: lo, hi: hi, rows: ch.entries, vals: make([][]any, len(ch.entries)),
		live: make([]bool, len(ch.entries)), at: make(map[string]int, len(ch.entries)), now: time.Now()}
	for i, e := range ch.entries {
		w.live[i] = true
		vals := e.c.After
		if e.dead != nil {
			vals = ch.deadVals[i]
			if slices.ContainsFunc(t.Key, func(k int) bool { return t.Columns[k].Name == e.dead.Field }) {
				continue // kept as it is: its key did not decode, no change can name it
			}
		} else {
			w.now = e.c.Time
		}
		w.vals[i] = vals
		w.at[rowKey(t, vals)] = i
	}
	return w
}

// covers reports whether a row of the table falls in the chunk's range.
func (w *window) covers(vals []any) bool {
	if !w.t.chunked() {
		return true
	}
	k := vals[w.t.Key[0]]
	return (w.lo == nil || !keyLE(k, w.lo)) && (w.hi == nil || keyLE(k, w.hi))
}

// apply applies a binlog row change of the table (before nil for an
// insert, after nil for a delete) to the chunk's rows.
func (w *window) apply(before, after []any) {
	var kb, ka string
	inB := before != nil && w.covers(before)
	inA := after != nil && w.covers(after)
	if inB {
		kb = rowKey(w.t, before)
	}
	if inA {
		ka = rowKey(w.t, after)
	}
	if inB && (!inA || ka != kb) {
		if i, ok := w.at[kb]; ok {
			w.live[i] = false
			delete(w.at, kb)
		}
	}
	if inA {
		r := entry{c: Change{Op: OpRead, Table: w.t, After: slices.Clone(after), Time: w.now}}
		if i, ok := w.at[ka]; ok {
			w.rows[i], w.vals[i] = r, r.c.After
			return
		}
		w.at[ka] = len(w.rows)
		w.rows = append(w.rows, r)
		w.vals = append(w.vals, r.c.After)
		w.live = append(w.live, true)
		w.moved = true
	}
}

// result returns the chunk's rows at the high watermark, reads at pos, in
// key order for a chunked table.
func (w *window) result(pos Position) []entry {
	idx := make([]int, 0, len(w.at))
	for i := range w.rows {
		if w.live[i] {
			idx = append(idx, i)
		}
	}
	if w.moved && w.t.chunked() {
		k := w.t.Key[0]
		slices.SortFunc(idx, func(a, b int) int { return compareKeys(w.vals[a][k], w.vals[b][k]) })
	}
	out := make([]entry, len(idx))
	for j, i := range idx {
		out[j] = w.rows[i]
		if out[j].dead == nil {
			out[j].c.Position = pos
		}
	}
	return out
}

// compareKeys orders two integer keys of one column.
func compareKeys(a, b any) int {
	switch x := a.(type) {
	case int64:
		y, _ := b.(int64)
		return cmp.Compare(x, y)
	case uint64:
		y, _ := b.(uint64)
		return cmp.Compare(x, y)
	}
	return 0
}

// rowKey encodes a row's primary key for the window's map: values of the
// same key read by the SELECT and from the binlog have the same Go value.
func rowKey(t *Table, vals []any) string {
	if len(t.Key) == 1 {
		switch v := vals[t.Key[0]].(type) {
		case int64:
			return strconv.FormatInt(v, 10)
		case uint64:
			return strconv.FormatUint(v, 10)
		case string:
			return "s" + v
		}
	}
	var b []byte
	for _, k := range t.Key {
		switch v := vals[k].(type) {
		case time.Time:
			// Seconds and nanoseconds: UnixNano wraps around outside
			// 1677-2262 (keys 2^64 ns apart were one key).
			b = fmt.Appendf(b, "t%d.%09d\x00", v.Unix(), v.Nanosecond())
		default:
			b = fmt.Appendf(b, "%T:%v\x00", v, v)
		}
	}
	return string(b)
}
