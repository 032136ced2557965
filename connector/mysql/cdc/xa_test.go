package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// XA transactions against the real server (see xa.go): their changes take
// effect at XA COMMIT, in the binlog's order, and never at XA ROLLBACK,
// across restores and with both snapshot algorithms. The tables are in
// database xaDB.

const xaDB = "xa_weircdc"

// xaTable creates a table of kvCols in xaDB, unique to the test, dropped
// when it ends.
func xaTable(t testing.TB, db *sql.DB) string {
	t.Helper()
	mustExec(t, db, "CREATE DATABASE IF NOT EXISTS "+xaDB)
	name := strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	table := fmt.Sprintf("%s.xa_%s_%06d", xaDB, name, rand.IntN(1e6))
	mustExec(t, db, "CREATE TABLE "+table+" ("+kvCols+") ENGINE=InnoDB")
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + table) })
	return table
}

// xaPrepare runs stmts in XA transaction xid (a quoted XID) on a
// connection of its own and prepares it; the returned handle decides it on
// that connection (a session holding a prepared transaction runs nothing
// else). One still prepared when the test ends is rolled back.
func xaPrepare(t testing.TB, db *sql.DB, xid string, stmts ...string) *xaHandle {
	t.Helper()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	must(t, err)
	h := &xaHandle{t: t, c: c, xid: xid}
	t.Cleanup(func() {
		if !h.done {
			c.ExecContext(ctx, "XA ROLLBACK "+xid)
		}
		c.Close()
	})
	for _, q := range append(append([]string{"XA START " + xid}, stmts...), "XA END "+xid, "XA PREPARE "+xid) {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return h
}

type xaHandle struct {
	t    testing.TB
	c    *sql.Conn
	xid  string
	done bool
}

func (h *xaHandle) decide(verb string) {
	h.t.Helper()
	if _, err := h.c.ExecContext(context.Background(), verb+" "+h.xid); err != nil {
		h.t.Fatalf("%s %s: %v", verb, h.xid, err)
	}
	h.done = true
}

func (h *xaHandle) commit()   { h.t.Helper(); h.decide("XA COMMIT") }
func (h *xaHandle) rollback() { h.t.Helper(); h.decide("XA ROLLBACK") }

// xid returns an XID unique to the test and name, quoted.
func xidOf(table, name string) string {
	return fmt.Sprintf("'%s_%s'", table[strings.IndexByte(table, '.')+1:], name)
}

// opID names a change by its op and key: "c1", "u10", "d2".
func opID(c Change) string {
	vals := c.After
	if c.Op == OpDelete {
		vals = c.Before
	}
	return fmt.Sprintf("%c%d", c.Op, vals[0].(int64))
}

// TestXARollbackNotEmitted: an XA transaction prepared, then rolled back,
// emits nothing (it was emitted at XA PREPARE).
func TestXARollbackNotEmitted(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0), (2, 2, 0)")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil)
	d.next() // the resolved start
	x := xidOf(table, "r")
	xH := xaPrepare(t, db, x, "INSERT INTO "+table+" VALUES (3, 3, 0)", "UPDATE "+table+" SET u = 1 WHERE id = 1", "DELETE FROM "+table+" WHERE id = 2")
	xH.rollback()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (9, 9, 0)")
	file, pos := masterPos(t, db)
	var got []string
	st := d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if !slices.Equal(got, []string{"c9"}) {
		t.Errorf("emitted %v, want [c9]: a rolled back XA transaction was emitted", got)
	}
	if len(st.XA) != 0 {
		t.Errorf("prepared transactions left after the rollback: %+v", st.XA)
	}
}

// TestXACommitOrder interleaves XA transactions, prepared and decided in
// another order, with ordinary ones: the changes come in the order of the
// commits in the binlog (an XA transaction's at its XA COMMIT), a rolled
// back one's never, XA COMMIT ... ONE PHASE's as an ordinary commit, and
// they replay to the table.
func TestXACommitOrder(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil)
	d.next()
	a, b, r, one := xidOf(table, "a"), xidOf(table, "b"), xidOf(table, "r"), xidOf(table, "one")
	aH := xaPrepare(t, db, a, "INSERT INTO "+table+" VALUES (1, 1, 0), (2, 2, 0)")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (10, 10, 0)")
	bH := xaPrepare(t, db, b, "INSERT INTO "+table+" VALUES (3, 3, 0)", "UPDATE "+table+" SET u = 1 WHERE id = 10")
	rH := xaPrepare(t, db, r, "INSERT INTO "+table+" VALUES (4, 4, 0)")
	bH.commit()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (11, 11, 0)")
	rH.rollback()
	aH.commit()
	conn, err := db.Conn(context.Background())
	must(t, err)
	for _, q := range []string{"XA START " + one, "INSERT INTO " + table + " VALUES (5, 5, 0)", "XA END " + one, "XA COMMIT " + one + " ONE PHASE"} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	mustExec(t, db, "DELETE FROM "+table+" WHERE id = 1")
	file, pos := masterPos(t, db)
	m := newModel(t)
	var got []string
	var last Position
	d.until(reached(file, pos), func(c Change) {
		got = append(got, opID(c))
		if comparePos(c.Position.File, c.Position.Pos, posOf(last)) < 0 {
			t.Errorf("change %s at %v, before the change before it (%v)", opID(c), c.Position, last)
		}
		last = c.Position
		m.apply(c)
	})
	want := []string{"c10", "c3", "u10", "c11", "c1", "c2", "c5", "d1"}
	if !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	m.check(db, table)
}

func posOf(p Position) gomysql.Position { return gomysql.Position{Name: p.File, Pos: p.Pos} }

// TestXAPreparedAcrossRestore restarts the source from positions taken
// between XA PREPARE and the decision, through the checkpoint encoding:
// the prepared transactions are in the position, the committed one is
// emitted at its XA COMMIT, read after the restore, exactly once, and the
// rolled back one never; a restart from a position after the commit does
// not emit it again.
func TestXAPreparedAcrossRestore(t *testing.T) {
	for _, byPos := range []bool{false, true} {
		t.Run(fmt.Sprintf("byPosition=%v", byPos), func(t *testing.T) {
			db := testDB(t)
			table := xaTable(t, db)
			mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0), (2, 2, 0)")
			opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, ResumeByPosition: byPos}
			d := startDirect(t, opts, nil)
			d.next()
			p, q := xidOf(table, "p"), xidOf(table, "q")
			pH := xaPrepare(t, db, p, "INSERT INTO "+table+" VALUES (3, 3, 0)", "UPDATE "+table+" SET u = 1 WHERE id = 1", "DELETE FROM "+table+" WHERE id = 2")
			qH := xaPrepare(t, db, q, "INSERT INTO "+table+" VALUES (4, 4, 0)")
			mustExec(t, db, "INSERT INTO "+table+" VALUES (100, 0, 0)")
			file, pos := masterPos(t, db)
			m := newModel(t)
			m.rows[1], m.rows[2] = [2]int64{1, 0}, [2]int64{2, 0}
			var got []string
			collect := func(c Change) { got = append(got, opID(c)); m.apply(c) }
			st := d.until(reached(file, pos), collect)
			d.stop()
			if !slices.Equal(got, []string{"c100"}) {
				t.Fatalf("before the decisions: emitted %v, want [c100]", got)
			}
			if n := len(st.XA); n != 2 {
				t.Fatalf("the position holds %d prepared transactions, want 2", n)
			}
			st = checkpointed(t, st)

			pH.commit()
			qH.rollback()
			mustExec(t, db, "INSERT INTO "+table+" VALUES (101, 0, 0)")
			file, pos = masterPos(t, db)
			got = nil
			d2 := startDirect(t, opts, &st)
			st = d2.until(reached(file, pos), collect)
			d2.stop()
			if want := []string{"c3", "u1", "d2", "c101"}; !slices.Equal(got, want) {
				t.Fatalf("after the restore: emitted %v, want %v", got, want)
			}
			if len(st.XA) != 0 {
				t.Fatalf("prepared transactions left: %+v", st.XA)
			}

			st = checkpointed(t, st)
			mustExec(t, db, "INSERT INTO "+table+" VALUES (102, 0, 0)")
			file, pos = masterPos(t, db)
			got = nil
			d3 := startDirect(t, opts, &st)
			d3.until(reached(file, pos), collect)
			if !slices.Equal(got, []string{"c102"}) {
				t.Fatalf("restored after the commit: emitted %v, want [c102]", got)
			}
			m.check(db, table)
		})
	}
}

// checkpointed returns st after the checkpoint encoding.
func checkpointed(t testing.TB, st state) state {
	t.Helper()
	b, err := st.encode()
	must(t, err)
	st, err = decodeState(b)
	must(t, err)
	return st
}

// TestXASnapshotRestoredBeforePrepare starts the snapshot from a position
// before XA transactions were prepared (a restore of a checkpoint taken
// before the snapshot's first chunk), with each algorithm: the reader
// reads the prepared groups before or in the first chunk; their changes
// are neither visible to the chunks' reads nor committed. The one
// committed after the snapshot must be emitted then (the consistent
// snapshot lost it: its rows were not snapshotted when read), the one
// rolled back never (the watermark snapshot applied it to its chunks).
func TestXASnapshotRestoredBeforePrepare(t *testing.T) {
	for _, alg := range []SnapshotAlgorithm{ConsistentSnapshot, WatermarkSnapshot} {
		t.Run(alg.String(), func(t *testing.T) {
			db := testDB(t)
			table := xaTable(t, db)
			fill(t, db, table, 40)
			file, pos := masterPos(t, db)
			a, b := xidOf(table, "a"), xidOf(table, "b")
			aH := xaPrepare(t, db, a, "UPDATE "+table+" SET v = 999, u = 1 WHERE id = 25", "DELETE FROM "+table+" WHERE id = 35", "INSERT INTO "+table+" VALUES (45, 45, 0)")
			bH := xaPrepare(t, db, b, "UPDATE "+table+" SET v = 777, u = 1 WHERE id = 15", "INSERT INTO "+table+" VALUES (46, 46, 0)")
			st := state{File: file, Pos: pos, Table: 0, Tables: []string{table}}
			d := startDirect(t, Options{Addr: addr, Tables: []string{table}, ChunkSize: 10, SnapshotAlgorithm: alg}, &st)
			m := newModel(t)
			done := d.until(func(s state) bool { return s.Table == 1 }, m.apply)
			if len(done.XA) != 2 {
				t.Errorf("%d prepared transactions in the position after the snapshot, want 2", len(done.XA))
			}
			aH.commit()
			bH.rollback()
			mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)")
			file, pos = masterPos(t, db)
			d.until(reached(file, pos), m.apply)
			m.check(db, table)
		})
	}
}

// TestXAWatermarkChunks prepares XA transactions inside chunk 1's window
// (watermark snapshot) and decides them in chunk 2's window and after the
// snapshot: a transaction rolled back changes no chunk; one committed in
// chunk 2's window is in chunk 2 (its commit is after the chunk's SELECT,
// before its high watermark) and in the later chunks it changes; one
// committed after the snapshot is emitted then.
func TestXAWatermarkChunks(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	fill(t, db, table, 40)
	r, c, l := xidOf(table, "r"), xidOf(table, "c"), xidOf(table, "l")
	// Connections that hold each transaction (a session holding a
	// prepared transaction runs nothing else), opened before the source.
	ctx := context.Background()
	conns := map[string]*sql.Conn{}
	for _, x := range []string{r, c, l} {
		conn, err := db.Conn(ctx)
		must(t, err)
		conns[x] = conn
		t.Cleanup(func() {
			conn.ExecContext(ctx, "XA ROLLBACK "+x)
			conn.Close()
		})
	}
	// The hook runs on the source's goroutine: errors, not Fatal.
	exec := func(x, q string) {
		if _, err := conns[x].ExecContext(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	chunks := 0
	hook := func(afterSelect bool) {
		if !afterSelect {
			return
		}
		chunks++
		switch chunks {
		case 1:
			for _, x := range []struct {
				xid   string
				stmts []string
			}{
				{r, []string{"UPDATE " + table + " SET v = 999, u = 1 WHERE id = 25", "DELETE FROM " + table + " WHERE id = 35", "INSERT INTO " + table + " VALUES (45, 45, 0)"}},
				{c, []string{"UPDATE " + table + " SET v = 777, u = 1 WHERE id = 15", "UPDATE " + table + " SET id = 47 WHERE id = 33"}},
				{l, []string{"UPDATE " + table + " SET v = 555, u = 1 WHERE id = 5", "DELETE FROM " + table + " WHERE id = 36"}},
			} {
				for _, q := range append(append([]string{"XA START " + x.xid}, x.stmts...), "XA END "+x.xid, "XA PREPARE "+x.xid) {
					exec(x.xid, q)
				}
			}
		case 2:
			exec(r, "XA ROLLBACK "+r)
			exec(c, "XA COMMIT "+c)
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
	if chunks < 4 {
		t.Fatalf("%d chunks", chunks)
	}
	for id, want := range map[int64][2]int64{5: {5, 0}, 15: {777, 1}, 25: {25, 0}, 35: {35, 0}, 36: {36, 0}, 47: {33, 0}} {
		if got, ok := reads[id]; !ok || got != want {
			t.Errorf("key %d read as %v (read: %v), want %v", id, got, ok, want)
		}
	}
	for _, id := range []int64{33, 45} {
		if got, ok := reads[id]; ok {
			t.Errorf("key %d read as %v", id, got)
		}
	}
	if _, err := conns[l].ExecContext(ctx, "XA COMMIT "+l); err != nil {
		t.Fatal(err)
	}
	file, pos := masterPos(t, db)
	var after []string
	d.until(reached(file, pos), func(c Change) { after = append(after, opID(c)); m.apply(c) })
	if want := []string{"u5", "d36"}; !slices.Equal(after, want) {
		t.Errorf("after the snapshot: emitted %v, want %v", after, want)
	}
	m.check(db, table)
}

// logBuffer is a slog handler's output, safe for the source's goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestXAPreparedBeforeStartLogged: a fresh start with an XA transaction
// prepared on the server before the start position logs its XID as held
// (it warned that it would be lost, and its XA COMMIT emitted nothing,
// until the prepare groups before the start were read: see xastart.go),
// and its XA COMMIT emits its changes.
func TestXAPreparedBeforeStartLogged(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	p := xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (1, 1, 0)")
	var log logBuffer
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest, Logger: slog.New(slog.NewTextHandler(&log, nil))}, nil)
	d.next()
	if !strings.Contains(log.String(), "XA transactions prepared before the start position are held") || !strings.Contains(log.String(), hexOf(xidOf(table, "p"))) {
		t.Errorf("no log of the prepared transaction held at the start; log:\n%s", log.String())
	}
	p.commit()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos := masterPos(t, db)
	var got []string
	d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if !slices.Equal(got, []string{"c1", "c2"}) {
		t.Errorf("emitted %v, want [c1 c2]", got)
	}
}

// TestXARestoredOtherColumns: a restored prepared transaction whose
// changes do not have the table's columns fails the source at its
// XA COMMIT, clearly, rather than emitting them.
func TestXARestoredOtherColumns(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest}
	d := startDirect(t, opts, nil)
	d.next()
	p := xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (1, 1, 0)")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos := masterPos(t, db)
	st := d.until(reached(file, pos), func(Change) {})
	d.stop()
	if len(st.XA) != 1 {
		t.Fatalf("%d prepared transactions held, want 1", len(st.XA))
	}
	tx := *st.XA[0]
	tx.Changes = []xaChange{{Table: 0, After: []any{int64(1), int64(1)}}}
	st.XA = []*xaTx{&tx}
	p.commit()
	d2 := startDirect(t, opts, &st)
	for {
		select {
		case it := <-d2.items:
			if it.err == nil {
				if len(it.entries) > 0 {
					t.Fatalf("emitted %+v", it.entries)
				}
				continue
			}
			if !strings.Contains(it.err.Error(), "other columns than the table") {
				t.Fatalf("error %v", it.err)
			}
			return
		case <-time.After(30 * time.Second):
			t.Fatal("no error within 30s")
		}
	}
}
