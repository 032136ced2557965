package cdc

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Review rev11 of the XA change (c002832): tests of what its tests did not
// try. Tables are in database rev11DB.

const rev11DB = "rev11_weircdc"

// rev11Table creates a table of kvCols in rev11DB, unique to the test,
// dropped when it ends.
func rev11Table(t testing.TB, db *sql.DB, suffix string) string {
	t.Helper()
	mustExec(t, db, "CREATE DATABASE IF NOT EXISTS "+rev11DB)
	name := strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	table := fmt.Sprintf("%s.r_%s%s_%06d", rev11DB, name, suffix, rand.IntN(1e6))
	mustExec(t, db, "CREATE TABLE "+table+" ("+kvCols+") ENGINE=InnoDB")
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + table) })
	return table
}

// TestRev11XIDFormats: XIDs with quotes, binary bytes, empty and long
// (64 bytes) gtrid and bqual, formatIDs 0 and 2^31-1, one reused after
// its commit and after its rollback: each transaction is emitted at its
// XA COMMIT, once, and none is left prepared.
func TestRev11XIDFormats(t *testing.T) {
	db := testDB(t)
	table := rev11Table(t, db, "")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil)
	d.next()
	tag := fmt.Sprintf("%06d", rand.IntN(1e6))
	long := strings.Repeat("g", 58) + tag // 64 bytes
	xids := []string{
		"'a''b" + tag + "','q\"x',2147483647",
		"0x0001ff00" + tag + ",'',0",
		"'" + long + "',0x" + strings.Repeat("ff00", 32) + ",1",
		"'" + long + "','" + strings.Repeat("b", 64) + "',7",
		"'A\\\\b" + tag + "'",
		"'é" + tag + "',' ',3",
	}
	var want []string
	for i, x := range xids {
		h := xaPrepare(t, db, x, fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 0)", table, i+1, i))
		mustExec(t, db, fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 0)", table, 100+i))
		h.commit()
		want = append(want, fmt.Sprintf("c%d", 100+i), fmt.Sprintf("c%d", i+1))
	}
	// One XID reused: committed, rolled back, committed.
	reuse := "'reuse" + tag + "'"
	for i, verb := range []string{"XA COMMIT", "XA ROLLBACK", "XA COMMIT"} {
		h := xaPrepare(t, db, reuse, fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 0)", table, 200+i))
		h.decide(verb)
		if verb == "XA COMMIT" {
			want = append(want, fmt.Sprintf("c%d", 200+i))
		}
	}
	file, pos := masterPos(t, db)
	var got []string
	m := newModel(t)
	st := d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)); m.apply(c) })
	if !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if len(st.XA) != 0 {
		t.Errorf("prepared transactions left: %+v", st.XA)
	}
	m.check(db, table)
}

// TestRev11ConsistentChunkMissesXACommit: MariaDB writes an XA COMMIT to
// the binlog before InnoDB commits the transaction (commit_by_xid, outside
// the binlog's commit order), so a consistent snapshot whose
// binlog_snapshot_position is after the XA COMMIT may not see its changes
// (MariaDB 10.11 here: 4 and 8 snapshots of 6686 and 8199 taken while a
// session ran 3000 XA PREPARE + XA COMMIT inserts saw one row fewer than
// the XA COMMITs before their position; none of 3926 with autocommit
// inserts). The chunk hook removes the XA
// transaction's changes from each chunk as read, as such a snapshot does:
// the reader read the XA COMMIT before the chunk's position, where the
// rows were not snapshotted yet, so it emitted nothing, and the chunks
// must have them. Chunk 1 has the transaction's update of its row 2 and
// chunk 3 its insert of 10 (XA COMMIT in the chunk's window), chunk 2 its
// update of row 4 (read before chunk 2 started: the pending rows).
func TestRev11ConsistentChunkMissesXACommit(t *testing.T) {
	db := testDB(t)
	table := rev11Table(t, db, "")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0)")
	file, pos := masterPos(t, db)
	tag := fmt.Sprintf("%06d", rand.IntN(1e6))
	x := xaPrepare(t, db, "'rev11gap"+tag+"'", "UPDATE "+table+" SET u = 1 WHERE id IN (2, 4)", "INSERT INTO "+table+" VALUES (10, 10, 1)")
	x.commit()
	st := state{File: file, Pos: pos, Table: 0, Tables: []string{table}}
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, ChunkSize: 2, SnapshotAlgorithm: ConsistentSnapshot}, &st)
	d.g.consistentHook = func(ch *chunk) {
		// The snapshot as it was before the XA COMMIT.
		ch.entries = slices.DeleteFunc(ch.entries, func(e entry) bool { return e.c.After[0].(int64) == 10 })
		for _, e := range ch.entries {
			if id := e.c.After[0].(int64); id == 2 || id == 4 {
				e.c.After[2] = int64(0)
			}
		}
	}
	m := newModel(t)
	d.until(func(s state) bool { return s.Table == 1 }, m.apply)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (11, 0, 0)")
	file, pos = masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
}
