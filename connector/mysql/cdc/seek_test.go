package cdc

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// seekBallast is how much of the current binlog file TestGTIDSeekSlowerThanReadTimeout
// wants before its start position: MariaDB scans that much to find a GTID.
const seekBallast = 64 << 20

// TestGTIDSeekSlowerThanReadTimeout resumes by GTID with a ReadTimeout far
// shorter than MariaDB's scan of the binlog file to the GTID (the server
// sends nothing meanwhile): the source must not take the quiet seek for a
// dead connection (it reconnected forever, restarting the scan, and never
// progressed), and must still read the change after the position without
// any reconnection.
func TestGTIDSeekSlowerThanReadTimeout(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	if _, pos := masterPos(t, db); pos < seekBallast {
		// Make the seek long: 1 MiB rows up to seekBallast into the file.
		ballast := newTablePrefix(t, db, "gtid", "id BIGINT PRIMARY KEY, b LONGBLOB NOT NULL")
		mustExec(t, db, "INSERT INTO "+ballast+" SELECT seq, REPEAT('x', 1 << 20) FROM seq_1_to_64")
	}
	file, pos := masterPos(t, db)
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, HeartbeatPeriod: 2 * time.Millisecond, ReadTimeout: 10 * time.Millisecond, Buffer: 1}
	d := startDirect(t, opts, nil)
	start := d.next().st
	if start.GTID == "" {
		t.Fatal("no GTID position on MariaDB")
	}
	d.stop()
	t.Logf("resuming from gtid %q (%s:%d, %d MB into the file)", start.GTID, start.File, start.Pos, start.Pos>>20)
	if start.File != file || start.Pos < pos {
		t.Logf("the binlog rotated meanwhile: the seek may be short")
	}
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos = masterPos(t, db)

	m := newModel(t)
	begin := time.Now()
	d2 := startDirect(t, opts, &start)
	d2.until(reached(file, pos), m.apply)
	took := time.Since(begin)
	m.check(db, table)
	if m.n != 1 {
		t.Fatalf("%d changes, want 1", m.n)
	}
	if n := testutil.ToFloat64(d2.g.m.reconnects); n != 0 {
		t.Fatalf("%v reconnections during the seek", n)
	}
	t.Logf("seek and first change after %v (ReadTimeout %v)", took, opts.ReadTimeout)
	if took < opts.ReadTimeout {
		t.Logf("the seek was shorter than ReadTimeout: this run did not exercise it")
	}
}
