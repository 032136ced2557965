package cdc

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestWindow drives a chunk's window by hand: the SELECT read keys 11-15
// of the range (10, 15]; binlog changes inside, below and above the range
// and key moves across it give the rows at the high watermark.
func TestWindow(t *testing.T) {
	tbl := &Table{Database: "d", Name: "t", Columns: []Column{{Name: "id", kind: kSigned}, {Name: "v", kind: kSigned}}, Key: []int{0}}
	row := func(id, v int64) []any { return []any{id, v} }
	type change struct{ before, after []any }
	for _, tc := range []struct {
		name    string
		changes []change
		want    [][]any
	}{
		{"no change", nil, [][]any{row(11, 0), row(12, 0), row(13, 0), row(14, 0), row(15, 0)}},
		{"update in range", []change{{row(12, 0), row(12, 7)}, {row(12, 7), row(12, 8)}},
			[][]any{row(11, 0), row(12, 8), row(13, 0), row(14, 0), row(15, 0)}},
		{"delete, then insert again", []change{{row(13, 0), nil}, {row(14, 0), nil}, {nil, row(13, 5)}},
			[][]any{row(11, 0), row(12, 0), row(13, 5), row(15, 0)}},
		{"an insert the SELECT saw is the same row", []change{{nil, row(11, 0)}},
			[][]any{row(11, 0), row(12, 0), row(13, 0), row(14, 0), row(15, 0)}},
		{"a delete the SELECT saw", []change{{row(16, 0), nil}, {row(15, 0), nil}, {row(15, 0), nil}},
			[][]any{row(11, 0), row(12, 0), row(13, 0), row(14, 0)}},
		{"changes outside the range", []change{{row(10, 0), row(10, 1)}, {nil, row(16, 0)}, {row(3, 0), nil}, {nil, row(-1, 0)}},
			[][]any{row(11, 0), row(12, 0), row(13, 0), row(14, 0), row(15, 0)}},
		{"key moves out of the range", []change{{row(12, 0), row(99, 0)}, {row(13, 0), row(4, 0)}},
			[][]any{row(11, 0), row(14, 0), row(15, 0)}},
		{"key moves into the range, in key order", []change{{row(99, 1), row(12, 1)}, {row(14, 0), nil}, {row(4, 2), row(14, 2)}, {row(11, 0), row(15, 0)}},
			[][]any{row(12, 1), row(13, 0), row(14, 2), row(15, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &chunk{full: true, last: int64(15), n: 5}
			for id := int64(11); id <= 15; id++ {
				ch.entries = append(ch.entries, entry{c: Change{Op: OpRead, Table: tbl, After: row(id, 0)}})
			}
			w := newWindow(0, tbl, int64(10), int64(15), ch)
			for _, c := range tc.changes {
				w.apply(c.before, c.after)
			}
			pos := Position{File: "b.000001", Pos: 42, Snapshot: true}
			var got [][]any
			for _, e := range w.result(pos) {
				if e.c.Op != OpRead || e.c.Position != pos || e.c.Table != tbl {
					t.Fatalf("entry %+v", e)
				}
				got = append(got, e.c.After)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rows %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWindowUnbounded: the last chunk of a table (fewer rows than the
// chunk size) takes every key above the bound, and a table read in one
// chunk every key; a dead letter whose key decoded is replaced by a later
// image of its row.
func TestWindowUnbounded(t *testing.T) {
	tbl := &Table{Columns: []Column{{Name: "id", kind: kSigned}, {Name: "v", kind: kSigned}}, Key: []int{0}}
	ch := &chunk{entries: []entry{
		{c: Change{Op: OpRead, Table: tbl, After: []any{int64(20), int64(0)}}},
		{dead: &weir.DeadLetter{Field: "v"}},
	}, deadVals: map[int][]any{1: {int64(21), nil}}}
	w := newWindow(0, tbl, int64(19), nil, ch)
	w.apply(nil, []any{int64(1 << 40), int64(1)})
	w.apply([]any{int64(21), int64(-1)}, []any{int64(21), int64(2)})
	w.apply(nil, []any{int64(19), int64(3)})
	var got []any
	for _, e := range w.result(Position{}) {
		if e.dead != nil {
			t.Fatalf("dead letter left: %+v", e.dead)
		}
		got = append(got, e.c.After[0])
	}
	if want := []any{int64(20), int64(21), int64(1 << 40)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}

	str := &Table{Columns: []Column{{Name: "a"}, {Name: "b"}, {Name: "v"}}, Key: []int{0, 1}}
	ch = &chunk{entries: []entry{{c: Change{Op: OpRead, Table: str, After: []any{"x", "y", int64(1)}}}}}
	w = newWindow(0, str, nil, nil, ch)
	w.apply([]any{"x", "y", int64(1)}, []any{"x", "y", int64(2)})
	w.apply(nil, []any{"x", "z", int64(3)})
	w.apply([]any{"x", "y", int64(2)}, []any{"xy", "", int64(2)})
	var rows [][]any
	for _, e := range w.result(Position{}) {
		rows = append(rows, e.c.After)
	}
	if want := [][]any{{"x", "z", int64(3)}, {"xy", "", int64(2)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
}

func TestParseSnapshotAlgorithm(t *testing.T) {
	for a := AutoSnapshot; a <= WatermarkSnapshot; a++ {
		if got, err := ParseSnapshotAlgorithm(a.String()); err != nil || got != a {
			t.Fatalf("%v: %v, %v", a, got, err)
		}
	}
	if _, err := ParseSnapshotAlgorithm("lock"); err == nil {
		t.Fatal("lock parsed")
	}
	if _, err := (Options{Tables: []string{"a.b"}, SnapshotAlgorithm: 7}).withDefaults(); err == nil {
		t.Fatal("algorithm 7 accepted")
	}
}

// snapshotReads reads a fresh source's snapshot of tables and returns its
// rows per table in the order emitted, and the algorithm it used.
func snapshotReads(t *testing.T, opts Options) (map[string][][]any, bool) {
	t.Helper()
	d := startDirect(t, opts, nil)
	defer d.stop()
	reads := map[string][][]any{}
	d.until(func(st state) bool { return st.Table == len(opts.Tables) }, func(c Change) {
		if c.Op != OpRead || !c.Position.Snapshot || c.Position.File == "" {
			t.Fatalf("change %+v during a snapshot without writers", c)
		}
		reads[c.Table.ID()] = append(reads[c.Table.ID()], c.After)
	})
	return reads, d.g.watermark
}

// TestSnapshotAlgorithmsSameAnswer snapshots the same tables (chunked, a
// last chunk shorter than the others, a composite key, an empty table)
// with each algorithm: the same rows in the same order.
func TestSnapshotAlgorithmsSameAnswer(t *testing.T) {
	db := testDB(t)
	ints := newTablePrefix(t, db, "mysqlwm", kvCols)
	fill(t, db, ints, 1003)
	comp := newTablePrefix(t, db, "mysqlwm", "a VARCHAR(10), b INT, v DOUBLE, PRIMARY KEY (a, b)")
	mustExec(t, db, "INSERT INTO "+comp+" VALUES ('x', 1, 0.5), ('x', 2, 1.5), ('y', 1, NULL)")
	empty := newTablePrefix(t, db, "mysqlwm", kvCols)
	tables := []string{ints, comp, empty}
	want, wm := snapshotReads(t, Options{Addr: addr, Tables: tables, ChunkSize: 100, SnapshotAlgorithm: ConsistentSnapshot})
	if wm {
		t.Fatal("ConsistentSnapshot used the watermarks")
	}
	got, wm := snapshotReads(t, Options{Addr: addr, Tables: tables, ChunkSize: 100, SnapshotAlgorithm: WatermarkSnapshot})
	if !wm {
		t.Fatal("WatermarkSnapshot did not use the watermarks")
	}
	if len(want[ints]) != 1003 || len(want[comp]) != 3 || len(want[empty]) != 0 {
		t.Fatalf("consistent snapshot read %d, %d, %d rows", len(want[ints]), len(want[comp]), len(want[empty]))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the algorithms read different rows")
	}
	if _, wm := snapshotReads(t, Options{Addr: addr, Tables: []string{comp}}); wm {
		t.Fatal("auto chose the watermarks on MariaDB")
	}
}

// TestWatermarkChangesInWindow changes a chunk's rows after its low
// watermark, before and after its SELECT (so before its high watermark):
// updates and deletes of rows the SELECT read, inserts into its range,
// keys moved out of the chunk to a later one, into the chunk from a later
// one and from an emitted chunk, out of an emitted chunk; and rows of
// emitted chunks updated and deleted. The emitted changes replay to the
// table, each in order.
func TestWatermarkChangesInWindow(t *testing.T) {
	db := testDB(t)
	table := newTablePrefix(t, db, "mysqlwm", kvCols)
	fill(t, db, table, 100)
	mustExec(t, db, "DELETE FROM "+table+" WHERE id IN (21, 22, 23)")
	chunks := 0
	// The hook runs on the source's goroutine: errors, not Fatal.
	exec := func(q string) {
		if _, err := db.Exec(q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	hook := func(afterSelect bool) {
		// Chunk 2 is (19, 32]: its SELECT reads 20, 21 and 25-32.
		if chunks == 2 && !afterSelect {
			exec("UPDATE " + table + " SET v = 2000 WHERE id = 26")
			exec("INSERT INTO " + table + " VALUES (21, 21, 0)")
			exec("DELETE FROM " + table + " WHERE id = 24")
		}
		if chunks == 2 && afterSelect {
			tx, err := db.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			for _, q := range []string{
				"UPDATE %s SET v = 1000 WHERE id = 25",  // read by the SELECT
				"DELETE FROM %s WHERE id = 27",          // read by the SELECT
				"INSERT INTO %s VALUES (22, 22, 0)",     // into the range
				"UPDATE %s SET id = 950 WHERE id = 28",  // to a later chunk
				"UPDATE %s SET id = 23 WHERE id = 70",   // from a later chunk
				"UPDATE %s SET id = -5 WHERE id = 29",   // to an emitted chunk
				"UPDATE %s SET id = 24 WHERE id = 5",    // from an emitted chunk
				"UPDATE %s SET id = 500 WHERE id = 6",   // from an emitted chunk past this one
				"DELETE FROM %s WHERE id = 10",          // emitted already
				"UPDATE %s SET u = u + 1 WHERE id = 11", // emitted already
				"UPDATE %s SET u = u + 1 WHERE id = 25", // twice in the window
			} {
				if _, err := tx.Exec(fmt.Sprintf(q, table)); err != nil {
					t.Error(err)
					tx.Rollback()
					return
				}
			}
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		}
		if afterSelect {
			chunks++
		}
	}
	d := startDirectHook(t, Options{Addr: addr, Tables: []string{table}, ChunkSize: 10, SnapshotAlgorithm: WatermarkSnapshot}, nil, hook)
	m := newModel(t)
	reads := map[int64][2]int64{}
	d.until(func(st state) bool { return st.Table == 1 }, func(c Change) {
		if c.Op == OpRead {
			id, r := rowOf(c.After)
			reads[id] = r
		}
		m.apply(c)
	})
	// The corrected chunk has the rows as they were at its high watermark.
	want := map[int64][2]int64{21: {21, 0}, 22: {22, 0}, 23: {70, 0}, 24: {5, 0}, 25: {1000, 1}, 26: {2000, 0}}
	for id, r := range want {
		if got, ok := reads[id]; !ok || got != r {
			t.Fatalf("read of key %d in chunk 2: %v (%v), want %v", id, got, ok, r)
		}
	}
	for _, id := range []int64{27, 28, 29} {
		if _, ok := reads[id]; ok {
			t.Fatalf("key %d, gone before the high watermark, was read", id)
		}
	}
	mustExec(t, db, "UPDATE "+table+" SET u = u + 1 WHERE id = 50")
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
	if chunks < 10 {
		t.Fatalf("%d chunks", chunks)
	}
}

// TestRestoreInsideWatermarkSnapshot stops the watermark snapshot at
// random items while writers run, some between a chunk's watermarks, and
// restarts from the last position handed over, every other time with the
// consistent snapshot: every change arrives once.
func TestRestoreInsideWatermarkSnapshot(t *testing.T) {
	db := testDB(t)
	table := newTablePrefix(t, db, "mysqlwm", kvCols)
	fill(t, db, table, 2000)
	stop := make(chan struct{})
	var wg syncGroup
	writer(t, db, table, 7, 1999, stop, &wg.WaitGroup)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	opts := Options{Addr: addr, Tables: []string{table}, ChunkSize: 40, Buffer: 1, SnapshotAlgorithm: WatermarkSnapshot}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 9))
	m := newModel(t)
	var st *state
	midWindow := 0
	for i := range 6 {
		// Every other run is restored with the consistent snapshot: the
		// checkpoint means the same to both.
		o := opts
		if i%2 == 1 {
			o.SnapshotAlgorithm = ConsistentSnapshot
		}
		d := startDirect(t, o, st)
		chunks, lastChunk := 0, false
		var prev any
		if st != nil {
			prev = st.Bound
		}
		s := d.until(func(s state) bool {
			lastChunk = !reflect.DeepEqual(s.Bound, prev)
			if lastChunk {
				chunks++
				prev = s.Bound
			}
			// Stop after a chunk or, more often, after a change
			// read between two chunks' watermarks.
			return s.Table == 1 || chunks >= 1 && rng.IntN(map[bool]int{true: 5, false: 2}[lastChunk]) == 0
		}, m.apply)
		d.stop()
		st = &s
		if s.Table == 1 {
			break
		}
		if !lastChunk {
			midWindow++ // stopped after a binlog change, before a chunk
		}
	}
	if st == nil || st.Table == 1 {
		t.Fatalf("the snapshot ended before the restarts (seed %d): make the table bigger", seed)
	}
	d := startDirect(t, opts, st)
	d.until(func(s state) bool { return s.Table == 1 }, m.apply)
	close(stop)
	wg.Wait()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)") // one change after the snapshot at least
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
	t.Logf("seed %d: %d of the restarts from between a chunk's watermarks", seed, midWindow)
}
