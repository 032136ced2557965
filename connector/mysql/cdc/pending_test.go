package cdc

import (
	"reflect"
	"testing"
)

// TestPendingRows drives the pending rows of the watermark algorithm by
// hand: changes of rows above the bound, read before a chunk's low
// watermark, start the chunk's window; a chunk read again (lost
// connection) starts from them again; once a chunk is emitted its rows are
// dropped and the bound's rows are no longer kept.
func TestPendingRows(t *testing.T) {
	tbl := &Table{Columns: []Column{{Name: "id", kind: kSigned}, {Name: "v", kind: kSigned}}, Key: []int{0}}
	tm := &tmap{t: tbl, idx: 0}
	row := func(id, v int64) []any { return []any{id, v} }
	g := &streamer{watermark: true, cur: state{Tables: []string{"d.t"}}}
	for _, c := range []struct{ before, after []any }{
		{nil, row(5, 1)},           // chunk 1
		{row(12, 0), row(12, 7)},   // chunk 2
		{row(12, 7), row(12, 8)},   // its last change counts
		{row(13, 0), nil},          // deleted
		{row(14, 0), row(40, 0)},   // moved to chunk 3
		{row(25, 0), row(11, 0)},   // moved into chunk 2
		{nil, row(35, 3)},          // chunk 3
		{row(36, 0), row(36, 1)},   // chunk 3
		{row(37, 0), row(37, 1)},   // chunk 3
		{row(38, 0), row(38, 1)},   // chunk 3
		{row(1<<40, 0), row(2, 0)}, // from the last chunk to chunk 1
	} {
		g.remember(tm, c.before, c.after)
	}
	read := func(lo, hi any, ids ...int64) *window {
		ch := &chunk{full: hi != nil, last: hi}
		for _, id := range ids {
			ch.entries = append(ch.entries, entry{c: Change{Op: OpRead, Table: tbl, After: row(id, 0)}})
		}
		w := newWindow(0, tbl, lo, hi, ch)
		g.applyPending(w)
		return w
	}
	rows := func(w *window) [][]any {
		var out [][]any
		for _, e := range w.result(Position{}) {
			out = append(out, e.c.After)
		}
		return out
	}
	emit := func(w *window) {
		g.cur.Bound = w.hi
		if w.hi == nil {
			g.cur.Table = 1
		}
		g.forgetPending(w)
	}
	// The SELECTs read the rows as they were before the changes.
	w := read(nil, int64(9), 2, 5)
	if want := [][]any{row(2, 0), row(5, 1)}; !reflect.DeepEqual(rows(w), want) {
		t.Fatalf("chunk 1: %v, want %v", rows(w), want)
	}
	emit(w)
	// Chunk 2 read, its connection lost, read again: the same rows.
	for range 2 {
		w = read(int64(9), int64(20), 12, 13, 14)
		// In the window, again: 14 moves to chunk 3.
		w.apply(row(14, 0), row(40, 0))
		if want := [][]any{row(11, 0), row(12, 8)}; !reflect.DeepEqual(rows(w), want) {
			t.Fatalf("chunk 2: %v, want %v", rows(w), want)
		}
	}
	emit(w)
	// A change of a row now below the bound is not kept.
	g.remember(tm, row(12, 8), row(12, 9))
	if n := len(g.pending[0].rows); n != 7 {
		t.Fatalf("%d rows pending, want 7 (35-38, 40, and 25 and 1<<40 deleted)", n)
	}
	w = read(int64(20), int64(38), 25, 36, 37, 38)
	if want := [][]any{row(35, 3), row(36, 1), row(37, 1), row(38, 1)}; !reflect.DeepEqual(rows(w), want) {
		t.Fatalf("chunk 3: %v, want %v", rows(w), want)
	}
	emit(w)
	w = read(int64(38), nil, 1<<40)
	if want := [][]any{row(40, 0)}; !reflect.DeepEqual(rows(w), want) {
		t.Fatalf("last chunk: %v, want %v", rows(w), want)
	}
	emit(w)
	if len(g.pending) != 0 {
		t.Fatalf("rows left pending after the snapshot: %v", g.pending)
	}
	g.remember(tm, nil, row(3, 3))
	if len(g.pending) != 0 {
		t.Fatal("a row kept after the snapshot")
	}
}
