package cdc

import (
	"fmt"
	"testing"
)

// TestMidTransactionRestore stops the source inside a big transaction and
// restarts it from the position it handed over last (the transaction's
// start and the rows emitted): the rows of the transaction arrive exactly
// once overall, resuming by GTID and by file and offset.
func TestMidTransactionRestore(t *testing.T) {
	for _, byPos := range []bool{false, true} {
		t.Run(fmt.Sprintf("byPosition=%v", byPos), func(t *testing.T) {
			db := testDB(t)
			table := newTable(t, db, kvCols)
			opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, ResumeByPosition: byPos, Buffer: 1}
			d := startDirect(t, opts, nil)
			first := d.next().st // the resolved start
			if first.Fresh || first.Table != 1 {
				t.Fatalf("start position %+v", first)
			}
			if !byPos && first.GTID == "" {
				t.Fatal("no GTID position on MariaDB")
			}
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			const n = 3000
			for i := 0; i < n; i += 300 {
				q := "INSERT INTO " + table + " VALUES "
				for j := i; j < i+300; j++ {
					if j > i {
						q += ","
					}
					q += fmt.Sprintf("(%d, %d, 0)", j, j)
				}
				if _, err := tx.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, "UPDATE "+table+" SET u = 1 WHERE id < 10")
			m := newModel(t)
			mid := d.until(func(st state) bool { return st.Skip > 0 }, m.apply)
			if mid.Skip >= n || m.n != mid.Skip {
				t.Fatalf("stopped at %+v after %d changes", mid, m.n)
			}
			d.stop()
			d2 := startDirect(t, opts, &mid)
			file, pos := masterPos(t, db)
			d2.until(reached(file, pos), m.apply)
			m.check(db, table)
			if m.n != n+10 {
				t.Fatalf("%d changes, want %d", m.n, n+10)
			}
			t.Logf("restarted at %s:%d gtid %q skipping %d rows", mid.File, mid.Pos, mid.GTID, mid.Skip)
		})
	}
}

// TestRestoreDuringSnapshot stops the source between snapshot chunks while
// a writer runs, and restarts it from its last position: the snapshot
// goes on from the chunk after, and the changes still arrive once each.
func TestRestoreDuringSnapshot(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	fill(t, db, table, 2000)
	stop := make(chan struct{})
	var wg syncGroup
	writer(t, db, table, 5, 1999, stop, &wg.WaitGroup)
	opts := Options{Addr: addr, Tables: []string{table}, ChunkSize: 50, Buffer: 1}
	m := newModel(t)
	var st *state
	for range 4 {
		d := startDirect(t, opts, st)
		chunks := 0
		s := d.until(func(s state) bool {
			if s.Bound != nil {
				chunks++
			}
			return chunks == 5 || s.Table == 1
		}, m.apply)
		d.stop()
		st = &s
	}
	if st.Table == 1 {
		t.Fatal("the snapshot ended before the restarts: make the table bigger")
	}
	d := startDirect(t, opts, st)
	d.until(func(s state) bool { return s.Table == 1 }, m.apply)
	close(stop)
	wg.Wait()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)") // a change after the snapshot for until to see
	file, pos := masterPos(t, db)
	d.until(reached(file, pos), m.apply)
	m.check(db, table)
}
