package cdc

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestWatermarkChangeBinloggedBeforeVisible pins the window between a
// transaction's binlog write and its commit in the engine. MariaDB (and
// MySQL) write a transaction to the binlog, let the binlog readers have it,
// and only then commit it in InnoDB, where reads see it: for that instant
// the binlog reader may have read a change that a SELECT started after it
// does not see. If the change is of a row of a chunk still to read and
// the reader passes it before that chunk's low watermark, the chunk's
// SELECT reads the row without it and the window, which starts at the low
// watermark, does not replay it: the change is lost.
//
// An ordinary commit stays in that state for microseconds; XA PREPARE
// (MariaDB 10.5 and later) writes the transaction to the binlog and keeps
// it invisible until XA COMMIT, which writes no row change: the test holds
// the state across a chunk boundary with it. Chunk 1 (keys 0-9) is read,
// then, before its high watermark, a prepared transaction updates key 15
// (chunk 2) and the reader reads that change while it reads chunk 1's
// window; chunk 2's SELECT does not see it; it is committed after chunk
// 2's SELECT. The emitted changes must replay to the table.
//
// Since XA transactions take effect at their XA COMMIT, not at XA PREPARE
// (xa.go), XA PREPARE no longer holds that state: the update comes with
// the commit, inside chunk 2's window, which applies it (the read of key
// 15 checked below).
func TestWatermarkChangeBinloggedBeforeVisible(t *testing.T) {
	db := testDB(t)
	table := newTablePrefix(t, db, "cdcwm", kvCols)
	fill(t, db, table, 40)
	// A table not captured: a commit to it after the prepared
	// transaction ends the transaction the reader is in (an XA
	// transaction's binlog group has no COMMIT).
	other := newTablePrefix(t, db, "cdcwm", kvCols)
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
	// The hook runs on the source's goroutine: errors, not Fatal.
	run := func(q string) bool {
		if _, err := xa.ExecContext(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
			return false
		}
		return true
	}
	n := 0
	chunks := 0
	hook := func(afterSelect bool) {
		if !afterSelect {
			return
		}
		chunks++
		switch chunks {
		case 1:
			for _, q := range []string{"XA START " + xid, "UPDATE " + table + " SET v = 5000, u = u + 1 WHERE id = 15", "XA END " + xid, "XA PREPARE " + xid} {
				if !run(q) {
					return
				}
			}
			prepared = true
		case 2:
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
	var read15 [2]int64
	d.until(func(st state) bool { return st.Table == 1 }, func(c Change) {
		if c.Op == OpRead {
			if id, r := rowOf(c.After); id == 15 {
				read15 = r
			}
		}
		m.apply(c)
	})
	if t.Failed() {
		return
	}
	if chunks < 3 {
		t.Fatalf("%d chunks", chunks)
	}
	if want := [2]int64{5000, 1}; read15 != want {
		t.Errorf("chunk 2 read key 15 as %v, want %v: the change binlogged before its low watermark, invisible to its SELECT, was lost", read15, want)
	}
	mustExec(t, db, "UPDATE "+table+" SET u = u + 1 WHERE id = 30")
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
}
