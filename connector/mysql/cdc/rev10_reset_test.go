package cdc

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"
)

// TestRev10PositionGoneFallsBackToGTID reconnects to a server with the
// same identity (server_id) whose binlog no longer has the file and offset
// the source read last, as after RESET MASTER or a rebuilt server: here
// the offset is past the end of the current file. The GTID position is
// still valid: the source must resume by GTID and read the change written
// since, not fail for good (error 1236 is permanent only where the
// position the source was told to use is gone).
func TestRev10PositionGoneFallsBackToGTID(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, MinBackoff: time.Millisecond}
	d := startDirect(t, opts, nil)
	start := d.next().st
	d.stop()
	if start.GTID == "" {
		t.Fatal("no GTID position on MariaDB")
	}
	var id string
	if err := db.QueryRow("SELECT CONCAT(@@server_id, '')").Scan(&id); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos := masterPos(t, db)

	// The reconnection's state: the file and offset were read from a
	// server with this identity, but its binlog is shorter now: past the
	// end of start's file (which need not be file: the binlog may have
	// rotated since).
	var size uint64
	for rows, i := showBinaryLogs(t, db), 0; i < len(rows); i++ {
		if rows[i].name == start.File {
			size = rows[i].size
		}
	}
	if size == 0 {
		t.Fatalf("binlog file %s of the start position is not listed", start.File)
	}
	bogus := start
	bogus.Pos = uint32(size) + 1<<20
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newMetrics(nil)
	d2 := &direct{t: t, items: make(chan item, o.Buffer), done: make(chan struct{})}
	d2.g = &streamer{opts: o, cur: bogus, m: m, log: o.Logger, items: d2.items, avail: make(chan struct{}, 1), posServer: id}
	ctx, cancel := context.WithCancel(context.Background())
	d2.cancel = cancel
	go func() {
		defer close(d2.done)
		d2.g.run(ctx)
	}()
	t.Cleanup(d2.stop)
	model := newModel(t)
	d2.until(reached(file, pos), model.apply)
	model.check(db, table)
	d2.stop()
	if d2.g.startedBy != "gtid" {
		t.Fatalf("resumed by %s, want gtid after the position failed", d2.g.startedBy)
	}
}

// TestRev10PositionOfAnotherBinlogFallsBackToGTID reconnects to a server
// with the same identity (server_id) whose binlog at the file and offset
// the source read last holds transactions the source already emitted, as
// on another Galera node sharing the server_id or a binlog reset and
// written again: the offset here is an earlier transaction boundary of
// the same binlog, the GTID position the later one. The source must
// notice, resume by GTID, and emit only the new change, not re-emit the
// old ones.
func TestRev10PositionOfAnotherBinlogFallsBackToGTID(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, MinBackoff: time.Millisecond}
	d := startDirect(t, opts, nil)
	start := d.next().st
	if start.GTID == "" {
		t.Fatal("no GTID position on MariaDB")
	}
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos := masterPos(t, db)
	model := newModel(t)
	last := d.until(reached(file, pos), model.apply)
	d.stop()
	var id string
	if err := db.QueryRow("SELECT CONCAT(@@server_id, '')").Scan(&id); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO "+table+" VALUES (3, 3, 0)")
	file, pos = masterPos(t, db)

	bogus := last
	bogus.File, bogus.Pos = start.File, start.Pos
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newMetrics(nil)
	d2 := &direct{t: t, items: make(chan item, o.Buffer), done: make(chan struct{})}
	d2.g = &streamer{opts: o, cur: bogus, m: m, log: o.Logger, items: d2.items, avail: make(chan struct{}, 1), posServer: id}
	ctx, cancel := context.WithCancel(context.Background())
	d2.cancel = cancel
	go func() {
		defer close(d2.done)
		d2.g.run(ctx)
	}()
	t.Cleanup(d2.stop)
	d2.until(reached(file, pos), model.apply)
	model.check(db, table)
	d2.stop()
	if d2.g.startedBy != "gtid" {
		t.Fatalf("resumed by %s, want gtid", d2.g.startedBy)
	}
}

type binlogFile struct {
	name string
	size uint64
}

// showBinaryLogs lists the server's binlog files and their sizes.
func showBinaryLogs(t testing.TB, db *sql.DB) []binlogFile {
	t.Helper()
	rows, err := db.Query("SHOW BINARY LOGS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []binlogFile
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		size, err := strconv.ParseUint(string(vals[1]), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, binlogFile{name: string(vals[0]), size: size})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
