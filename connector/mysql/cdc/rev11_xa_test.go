package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
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
	hide := func(ch *chunk) {
		// The snapshot as it was before the XA COMMIT.
		ch.entries = slices.DeleteFunc(ch.entries, func(e entry) bool { return e.c.After[0].(int64) == 10 })
		for _, e := range ch.entries {
			if id := e.c.After[0].(int64); id == 2 || id == 4 {
				e.c.After[2] = int64(0)
			}
		}
	}
	d := startDirectWith(t, Options{Addr: addr, Tables: []string{table}, ChunkSize: 2, SnapshotAlgorithm: ConsistentSnapshot}, &st, func(g *streamer) { g.consistentHook = hide })
	m := newModel(t)
	d.until(func(s state) bool { return s.Table == 1 }, m.apply)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (11, 0, 0)")
	file, pos = masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
}

// TestRev11ManyPreparedMixedTables: 40 XA transactions prepared at once,
// each changing a captured and an uncaptured table (rows of the uncaptured
// one first, so the captured change's index in the transaction is not 0),
// decided in random order, a quarter rolled back, ordinary transactions in
// between, with a restart through the checkpoint encoding in the middle,
// by GTID and by file and offset: each committed transaction's change is
// emitted once, at its XA COMMIT's position and time, in the binlog's
// order, and the table replays.
func TestRev11ManyPreparedMixedTables(t *testing.T) {
	for _, byPos := range []bool{false, true} {
		t.Run(fmt.Sprintf("byPosition=%v", byPos), func(t *testing.T) {
			db := testDB(t)
			table := rev11Table(t, db, "")
			other := rev11Table(t, db, "o")
			opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, ResumeByPosition: byPos}
			d := startDirect(t, opts, nil)
			d.next()
			const n = 40
			tag := fmt.Sprintf("%06d", rand.IntN(1e6))
			hs := make([]*xaHandle, n)
			for i := range hs {
				hs[i] = xaPrepare(t, db, fmt.Sprintf("'rev11m%s_%d'", tag, i),
					fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 0), (%d, 0, 0)", other, i, 1000+i),
					fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 0)", table, i, i))
			}
			order := rand.Perm(n)
			m := newModel(t)
			var got, want []string
			var last Position
			check := func(c Change) {
				got = append(got, opID(c))
				if comparePos(c.Position.File, c.Position.Pos, posOf(last)) < 0 {
					t.Errorf("change %s at %v, before the change before it (%v)", opID(c), c.Position, last)
				}
				if id := c.After[0].(int64); id < n && c.Position.Row != 2 {
					t.Errorf("change %s: row %d of its transaction, want 2", opID(c), c.Position.Row)
				}
				last = c.Position
				m.apply(c)
			}
			decide := func(from, to int) {
				for j, i := range order[from:to] {
					if j%4 == 3 {
						hs[i].rollback()
					} else {
						hs[i].commit()
						want = append(want, fmt.Sprintf("c%d", i))
					}
					if j%5 == 0 {
						mustExec(t, db, fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 0)", table, 500+from+j))
						want = append(want, fmt.Sprintf("c%d", 500+from+j))
					}
				}
			}
			decide(0, n/2)
			file, pos := masterPos(t, db)
			st := d.until(reached(file, pos), check)
			d.stop()
			if len(st.XA) != n/2 {
				t.Fatalf("%d prepared transactions in the position, want %d", len(st.XA), n/2)
			}
			st = checkpointed(t, st)
			decide(n/2, n)
			file, pos = masterPos(t, db)
			d2 := startDirect(t, opts, &st)
			st = d2.until(reached(file, pos), check)
			if !slices.Equal(got, want) {
				t.Errorf("emitted %v, want %v", got, want)
			}
			if len(st.XA) != 0 {
				t.Errorf("prepared transactions left: %d", len(st.XA))
			}
			m.check(db, table)
		})
	}
}

// TestRev11CheckpointCache: the reader's checkpoints reuse the encoding of
// a prepared transaction already checkpointed, give the bytes encode
// gives, restore to the position, and forget a transaction once decided.
func TestRev11CheckpointCache(t *testing.T) {
	st := preparedState(3)
	other := &xaTx{XID: "2:71:", Changes: []xaChange{{Table: 0, Row: 1, Before: []any{int64(1), nil, nil, "x"}}}}
	st.XA = append(st.XA, other)
	r := &reader{st: st}
	for range 2 {
		enc, err := r.SnapshotState(1)
		must(t, err)
		want, err := st.encode()
		must(t, err)
		if string(enc[0]) != string(want) {
			t.Fatalf("checkpoint %s, encode gives %s", enc[0], want)
		}
		if got := checkpointed(t, st); !reflect.DeepEqual(got, st) {
			t.Fatalf("restored %+v, want %+v", got, st)
		}
		if len(r.xaEnc) != 2 || r.xaEnc[st.XA[0]] == nil {
			t.Fatalf("cache of %d transactions after the checkpoint, want 2", len(r.xaEnc))
		}
	}
	// The cache is used: a change to a cached transaction (never done
	// outside this test) does not show.
	cached := string(r.xaEnc[st.XA[0]])
	st.XA[0].Changes[0].After[3] = "changed"
	enc, err := r.SnapshotState(1)
	must(t, err)
	if !strings.Contains(string(enc[0]), cached) {
		t.Errorf("checkpoint %s does not reuse %s", enc[0], cached)
	}
	r.st.XA = r.st.XA[1:] // the first decided
	_, err = r.SnapshotState(1)
	must(t, err)
	if len(r.xaEnc) != 1 || r.xaEnc[other] == nil {
		t.Errorf("cache of %d transactions after the decision, want only the one still prepared", len(r.xaEnc))
	}
	if got := checkpointed(t, r.st); len(got.XA) != 1 || got.XA[0].XID != other.XID {
		t.Errorf("restored %+v", got.XA)
	}
}

// TestRev11XAReconnectByPosition: the binlog connection freezes (the
// watchdog's ReadTimeout) between an XA transaction's PREPARE, read, and
// its COMMIT; another is prepared and committed meanwhile: the
// reconnection to the same server resumes from the file and offset (the
// first transaction's GTID checked), with the prepared transaction held,
// and each commit is emitted once.
func TestRev11XAReconnectByPosition(t *testing.T) {
	db := testDB(t)
	table := rev11Table(t, db, "")
	p := newFreezeProxy(t, addr)
	opts := Options{Addr: p.addr(), Tables: []string{table}, Startup: Latest, HeartbeatPeriod: 20 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, MinBackoff: time.Millisecond}
	d := startDirect(t, opts, nil)
	d.next()
	tag := fmt.Sprintf("%06d", rand.IntN(1e6))
	a := xaPrepare(t, db, "'rev11ra"+tag+"'", "INSERT INTO "+table+" VALUES (1, 1, 0)", "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos := masterPos(t, db)
	m := newModel(t)
	var got []string
	collect := func(c Change) { got = append(got, opID(c)); m.apply(c) }
	if st := d.until(reached(file, pos), collect); len(st.XA) != 1 {
		t.Fatalf("%d prepared transactions held, want 1", len(st.XA))
	}
	p.freeze()
	a.commit()
	b := xaPrepare(t, db, "'rev11rb"+tag+"'", "INSERT INTO "+table+" VALUES (3, 3, 0)")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (4, 4, 0)")
	b.commit()
	file, pos = masterPos(t, db)
	st := d.until(reached(file, pos), collect)
	if want := []string{"c1", "c2", "c4", "c3"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if len(st.XA) != 0 {
		t.Errorf("prepared transactions left: %+v", st.XA)
	}
	m.check(db, table)
	if n := testutil.ToFloat64(d.g.m.reconnects); n < 1 {
		t.Fatalf("%v reconnections, want at least 1", n)
	}
	d.stop()
	if d.g.startedBy != "position" {
		t.Errorf("the reconnection resumed by %s, want position", d.g.startedBy)
	}
}

// TestRev11XARestoredMidSnapshot: a checkpoint between snapshot chunks
// holds three prepared transactions (their PREPAREs read in chunk 1);
// after the restore, during the first chunk's binlog reading, one
// (changing rows of later chunks: an update, an insert, a key moved) is
// committed and a row it changed updated again by an ordinary transaction,
// one of the chunk's range committed, one of a row snapshotted already
// rolled back: with each algorithm, the chunks and the changes emitted
// replay to the table, each row once.
func TestRev11XARestoredMidSnapshot(t *testing.T) {
	for _, alg := range []SnapshotAlgorithm{ConsistentSnapshot, WatermarkSnapshot} {
		t.Run(alg.String(), func(t *testing.T) {
			db := testDB(t)
			table := rev11Table(t, db, "")
			fill(t, db, table, 40)
			file, pos := masterPos(t, db)
			tag := fmt.Sprintf("%06d", rand.IntN(1e6))
			x := xaPrepare(t, db, "'rev11x"+tag+"'", "UPDATE "+table+" SET v = 999, u = 1 WHERE id = 25", "INSERT INTO "+table+" VALUES (45, 45, 0)", "UPDATE "+table+" SET id = 47 WHERE id = 33")
			y := xaPrepare(t, db, "'rev11y"+tag+"'", "UPDATE "+table+" SET u = 1 WHERE id = 5")
			z := xaPrepare(t, db, "'rev11z"+tag+"'", "UPDATE "+table+" SET u = 1 WHERE id = 15")
			opts := Options{Addr: addr, Tables: []string{table}, ChunkSize: 10, SnapshotAlgorithm: alg}
			st := state{File: file, Pos: pos, Table: 0, Tables: []string{table}}
			d := startDirect(t, opts, &st)
			m := newModel(t)
			st = d.until(func(s state) bool { return s.Table == 0 && s.Bound == int64(9) }, m.apply)
			d.stop()
			if len(st.XA) != 3 {
				t.Fatalf("%d prepared transactions in the position after chunk 1, want 3", len(st.XA))
			}
			st = checkpointed(t, st)

			// On the source's goroutine: errors, not Fatal.
			ctx := context.Background()
			decided := false
			decide := func() {
				if decided {
					return
				}
				decided = true
				for _, s := range []struct {
					c *sql.Conn
					q string
				}{{x.c, "XA COMMIT " + x.xid}, {nil, "UPDATE " + table + " SET u = 5 WHERE id = 47"}, {z.c, "XA COMMIT " + z.xid}, {y.c, "XA ROLLBACK " + y.xid}} {
					var err error
					if s.c == nil {
						_, err = db.ExecContext(ctx, s.q)
					} else {
						_, err = s.c.ExecContext(ctx, s.q)
					}
					if err != nil {
						t.Errorf("%s: %v", s.q, err)
					}
				}
				x.done, y.done, z.done = true, true, true
			}
			d2 := startDirectWith(t, opts, &st, func(g *streamer) {
				g.chunkHook = func(afterSelect bool) {
					if afterSelect {
						decide()
					}
				}
				g.consistentHook = func(*chunk) { decide() }
			})
			st = d2.until(func(s state) bool { return s.Table == 1 }, m.apply)
			if !decided {
				t.Fatal("no chunk after the restore")
			}
			mustExec(t, db, "INSERT INTO "+table+" VALUES (100, 0, 0)")
			file, pos = masterPos(t, db)
			st = d2.until(reached(file, pos), m.apply)
			if len(st.XA) != 0 {
				t.Errorf("prepared transactions left: %+v", st.XA)
			}
			m.check(db, table)
		})
	}
}
