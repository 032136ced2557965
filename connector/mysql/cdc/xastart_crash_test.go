package cdc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestXAPreparedBeforeStartCrash is TestXACrashRestore with the two XA
// transactions prepared before the crash job's fresh start (snapshot): the
// first run holds them from its start and checkpoints them; SIGKILLed,
// they are committed and rolled back while it is down: the committed
// output has the committed one's changes once, in order, never the rolled
// back one's, and replays to the table.
func TestXAPreparedBeforeStartCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the crash job")
	}
	bin := filepath.Join(t.TempDir(), "crashjob")
	crashtest.Build(t, bin, "./internal/crashjob")
	db := testDB(t)
	table := xaTable(t, db)
	fill(t, db, table, 10)
	dir := t.TempDir()
	out, chk, logPath := filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	args := []string{"-addr", addr, "-table", table, "-output", out, "-checkpoint-dir", chk, "-restore", "latest", "-chunk", "4"}
	committed := func() []string {
		var ops []string
		for _, o := range readCrashOutput(t, out) {
			vals := o.After
			if o.Op == "d" {
				vals = o.Before
			}
			ops = append(ops, fmt.Sprintf("%s%d", o.Op, vals[0]))
		}
		return ops
	}
	has := func(op string) func() bool { return func() bool { return slices.Contains(committed(), op) } }
	kill := func(c *crashtest.Child) {
		t.Helper()
		if exited, err := c.Kill(); exited {
			t.Fatalf("the crash job exited by itself: %v", err)
		}
	}

	// Prepared before the job's fresh start: their groups are before the
	// snapshot's start position.
	p := xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (1001, 0, 0)", "UPDATE "+table+" SET u = 1 WHERE id = 1", "DELETE FROM "+table+" WHERE id = 2")
	q := xaPrepare(t, db, xidOf(table, "q"), "INSERT INTO "+table+" VALUES (1002, 0, 0)")
	c := crashtest.Start(t, bin, logPath, args...)
	c.WaitUntil(t, "the snapshot", 60*time.Second, func() bool { return countReads(t, out) == 10 })
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2000, 0, 0)")
	// Committed output after the prepares: a checkpoint holds them.
	c.WaitUntil(t, "the insert after the prepares", 60*time.Second, has("c2000"))
	kill(c)
	if ops := committed(); slices.ContainsFunc(ops, func(op string) bool { return slices.Contains([]string{"c1001", "u1", "d2", "c1002"}, op) }) {
		t.Fatalf("prepared changes committed before their XA COMMIT: %v", ops)
	}

	p.commit()
	q.rollback()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2001, 0, 0)")
	c = crashtest.Start(t, bin, logPath, args...)
	c.WaitUntil(t, "the insert after the commit", 60*time.Second, has("c2001"))
	kill(c) // restored next from a checkpoint after the commit

	mustExec(t, db, "INSERT INTO "+table+" VALUES (2002, 0, 0)")
	c = crashtest.Start(t, bin, logPath, args...)
	c.WaitUntil(t, "the last insert", 60*time.Second, has("c2002"))
	if exited, err := c.Signal(syscall.SIGTERM); exited {
		t.Fatalf("the last run exited by itself: %v", err)
	}
	ops := committed()
	i := slices.Index(ops, "c2000")
	if want := []string{"c2000", "c1001", "u1", "d2", "c2001", "c2002"}; i < 0 || !slices.Equal(ops[i:], want) {
		t.Fatalf("committed output %v, want it to end with %v", ops, want)
	}
	m := newModel(t)
	for _, o := range readCrashOutput(t, out) {
		m.apply(Change{Op: Op(o.Op[0]), Before: anys(o.Before), After: anys(o.After), Position: Position{File: o.Pos}})
	}
	m.check(db, table)
}
