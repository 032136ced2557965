package cdc

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRev10NoGoroutineLeft stops a source whose binlog stream is
// positioned, and one stopped by a watchdog-driven reconnection: no
// goroutine of the source (watchdog, binlog client, SQL handles) is left.
func TestRev10NoGoroutineLeft(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	ignore := goleak.IgnoreCurrent()
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, HeartbeatPeriod: 20 * time.Millisecond, ReadTimeout: 200 * time.Millisecond}
	d := startDirect(t, opts, nil)
	d.next()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), func(Change) {})
	d.stop()
	goleak.VerifyNone(t, ignore)
}
