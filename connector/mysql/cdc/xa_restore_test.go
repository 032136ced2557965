package cdc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestRestoreStateV1 restores the positions main encoded before prepared
// XA transactions were kept (stateV1Fixture): each decodes to the position
// it encoded, with no prepared transaction, through the source's restore
// (CreateReader), and is checkpointed again in the current version.
func TestRestoreStateV1(t *testing.T) {
	b, err := os.ReadFile(stateV1Fixture)
	must(t, err)
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != len(stateV1FixtureStates) {
		t.Fatalf("%d positions in %s, want %d", len(lines), stateV1Fixture, len(stateV1FixtureStates))
	}
	for i, line := range lines {
		want := stateV1FixtureStates[i]
		if !bytes.HasPrefix(line, []byte(`{"v":1,`)) {
			t.Fatalf("fixture line %d is not version 1: %s", i, line)
		}
		st, err := decodeState(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("line %d decoded as %+v, want %+v", i, st, want)
		}
		again := checkpointed(t, st)
		if !reflect.DeepEqual(again, want) {
			t.Errorf("line %d checkpointed again: %+v, want %+v", i, again, want)
		}
		// The engine's restore: the reader's checkpoint before anything
		// is polled is the restored position, in version 2.
		r, err := NewSource(Options{Addr: "127.0.0.1:1", Tables: want.Tables, MinBackoff: time.Hour}).CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{line}})
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		snap, err := r.(weir.CheckpointedReader).SnapshotState(1)
		r.Close()
		must(t, err)
		var v struct{ V int }
		must(t, json.Unmarshal(snap[0], &v))
		got, err := decodeState(snap[0])
		must(t, err)
		if v.V != stateVersion || !reflect.DeepEqual(got, want) {
			t.Errorf("line %d: restored reader checkpoints %s, want %+v in version %d", i, snap[0], want, stateVersion)
		}
	}
}

// TestRestoreStateV1AfterPrepare restores a version 1 position taken
// between an XA transaction's PREPARE and its COMMIT: the source that
// wrote it had emitted the transaction's changes at XA PREPARE, so its
// XA COMMIT, read after the restore, emits nothing again; transactions
// prepared after the restore wait for their commit.
func TestRestoreStateV1AfterPrepare(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	p := xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos := masterPos(t, db)
	// A position of the version 1 layout (the fixture's last line),
	// moved to the server's binlog after the prepare.
	b, err := os.ReadFile(stateV1Fixture)
	must(t, err)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	var v1 map[string]any
	must(t, json.Unmarshal(lines[len(lines)-1], &v1))
	v1["file"], v1["pos"], v1["gtid"], v1["tables"] = file, pos, "", []string{table}
	enc, err := json.Marshal(v1)
	must(t, err)
	st, err := decodeState(enc)
	must(t, err)
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}}, &st)
	p.commit()
	q := xaPrepare(t, db, xidOf(table, "q"), "INSERT INTO "+table+" VALUES (2, 2, 0)")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (3, 3, 0)")
	q.commit()
	file, pos = masterPos(t, db)
	var got []string
	d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if want := []string{"c3", "c2"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
}

// TestXACrashRestore SIGKILLs the crash job (source → exactly-once file
// sink) between an XA transaction's PREPARE and its COMMIT, once a
// checkpoint after the PREPARE committed output, and again after the
// COMMIT: the committed output has the committed transaction's changes
// once, after the changes committed before its XA COMMIT, and never the
// rolled back one's; it replays to the table.
func TestXACrashRestore(t *testing.T) { testXACrash(t, false) }

// testXACrash is TestXACrashRestore, or with prepareBeforeStart
// TestXAPreparedBeforeStartCrash: the two XA transactions are prepared
// once the first run has read the snapshot, or before its fresh start.
func testXACrash(t *testing.T, prepareBeforeStart bool) {
	if testing.Short() {
		t.Skip("builds and runs the crash job")
	}
	bin := binaries.Path(t, "crashjob", "./internal/crashjob")
	db := testDB(t)
	table := xaTable(t, db)
	fill(t, db, table, 10)
	out, chk, logPath := crashFiles(t)
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

	var p, q *xaHandle
	prepare := func() {
		p = xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (1001, 0, 0)", "UPDATE "+table+" SET u = 1 WHERE id = 1", "DELETE FROM "+table+" WHERE id = 2")
		q = xaPrepare(t, db, xidOf(table, "q"), "INSERT INTO "+table+" VALUES (1002, 0, 0)")
	}
	if prepareBeforeStart {
		// Prepared before the job's fresh start: their groups are before
		// the snapshot's start position.
		prepare()
	}
	c := crashtest.Start(t, bin, logPath, args...)
	c.WaitUntil(t, "the snapshot", 60*time.Second, func() bool { return countReads(t, out) == 10 })
	if !prepareBeforeStart {
		prepare()
	}
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
	replayCrashOutput(t, out).check(db, table)
}
