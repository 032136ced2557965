package cdc

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestWatermarkInvisibleChangesAcrossChunks holds, as
// TestWatermarkChangeBinloggedBeforeVisible does, one transaction written
// to the binlog but invisible to reads (XA PREPARE) from chunk 1's window
// until after the last chunk's SELECT, so every chunk after the first
// reads its range without it and must take it from the reader's pending
// rows. The transaction moves a key from chunk 2 to chunk 4 (over a key
// it deletes there), deletes a key of chunk 3, inserts, deletes and
// inserts again a new key (last chunk), and inserts and deletes another
// new key (a delete of a row no SELECT returns). The emitted changes must
// replay to the table.
//
// Since XA transactions take effect at their XA COMMIT, not at XA PREPARE
// (xa.go), the prepared transaction no longer holds that state: its
// changes come at the commit, after chunk 5's SELECT, and the test checks
// that instead.
func TestWatermarkInvisibleChangesAcrossChunks(t *testing.T) {
	db := testDB(t)
	table := newTablePrefix(t, db, "rev8", kvCols)
	fill(t, db, table, 40)
	other := newTablePrefix(t, db, "rev8", kvCols)
	ctx := context.Background()
	xa, err := db.Conn(ctx)
	must(t, err)
	defer xa.Close()
	xid := fmt.Sprintf("'%s'", strings.TrimPrefix(table, "test."))
	prepared := false
	defer func() {
		if prepared {
			xa.ExecContext(ctx, "XA ROLLBACK "+xid)
		}
	}()
	run := func(q string) bool {
		if _, err := xa.ExecContext(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
			return false
		}
		return true
	}
	n, chunks := 0, 0
	hook := func(afterSelect bool) {
		if !afterSelect {
			return
		}
		chunks++
		switch chunks {
		case 1:
			for _, q := range []string{
				"XA START " + xid,
				"DELETE FROM " + table + " WHERE id = 35",
				"UPDATE " + table + " SET id = 35, v = 1500 WHERE id = 15",
				"DELETE FROM " + table + " WHERE id = 25",
				"INSERT INTO " + table + " VALUES (45, 1, 1)",
				"DELETE FROM " + table + " WHERE id = 45",
				"INSERT INTO " + table + " VALUES (45, 2, 2)",
				"INSERT INTO " + table + " VALUES (47, 3, 3)",
				"DELETE FROM " + table + " WHERE id = 47",
				"XA END " + xid, "XA PREPARE " + xid,
			} {
				if !run(q) {
					return
				}
			}
			prepared = true
		case 5:
			if !run("XA COMMIT " + xid) {
				return
			}
			prepared = false
		default:
			return
		}
		n++
		if _, err := db.Exec(fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 0)", other, n)); err != nil {
			t.Errorf("insert into %s: %v", other, err)
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
	if t.Failed() {
		return
	}
	if chunks != 5 {
		t.Fatalf("%d chunks, want 5 (the commit after the last one's SELECT)", chunks)
	}
	// XA transactions take effect at their XA COMMIT (see xa.go), here
	// after chunk 5's SELECT: chunks 2-4 read their keys without the
	// transaction (its changes of them are emitted as changes), chunk 5's
	// window applies it to its keys.
	for id, want := range map[int64][2]int64{15: {15, 0}, 25: {25, 0}, 35: {35, 0}, 45: {2, 2}} {
		if got, ok := reads[id]; !ok || got != want {
			t.Errorf("key %d read as %v (read: %v), want %v", id, got, ok, want)
		}
	}
	if got, ok := reads[47]; ok {
		t.Errorf("key 47 read as %v: inserted and deleted by the transaction", got)
	}
	mustExec(t, db, "UPDATE "+table+" SET u = u + 1 WHERE id = 30")
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
}
