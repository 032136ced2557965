package cdc

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRev10SnapshotSelectOnDeadConnection freezes every connection (the
// binlog's and the SQL handle's) just before a snapshot chunk's SELECT: the
// server's answer never arrives. The source must take the connection for
// dead after about ReadTimeout, reconnect and finish the snapshot. With
// SeekTimeout (10 minutes by default) as the SQL driver's read timeout the
// SELECT waited that long on a dead connection.
func TestRev10SnapshotSelectOnDeadConnection(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	mustExec(t, db, "INSERT INTO "+table+" SELECT seq, seq, 0 FROM seq_1_to_20")
	p := newFreezeProxy(t, addr)
	calls := 0
	hook := func(afterSelect bool) {
		if afterSelect {
			return
		}
		if calls++; calls == 2 {
			p.freeze()
		}
	}
	opts := Options{Addr: p.addr(), Tables: []string{table}, ChunkSize: 5, SnapshotAlgorithm: WatermarkSnapshot, HeartbeatPeriod: 20 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, MinBackoff: time.Millisecond}
	d := startDirectHook(t, opts, nil, hook)
	m := newModel(t)
	d.until(func(st state) bool { return !st.Fresh && st.Table == 1 }, m.apply)
	m.check(db, table)
	if n := testutil.ToFloat64(d.g.m.reconnects); n < 1 {
		t.Fatalf("%v reconnections, want at least 1", n)
	}
}
