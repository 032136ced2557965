package cdc

import (
	"database/sql"
	"slices"
	"testing"
)

// TestXAPreparedBeforePastOffset: a SpecificOffset in the past. An XA
// transaction prepared before the offset and committed after it (before
// the source starts, so XA RECOVER no longer lists it) has its XA COMMIT
// in the binlog the source reads: its changes must be emitted there, once.
// One rolled back after the offset emits nothing.
func TestXAPreparedBeforePastOffset(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	fill(t, db, table, 4)
	p := xaPrepare(t, db, xidOf(table, "p"), "UPDATE "+table+" SET v = 100 WHERE id = 1", "INSERT INTO "+table+" VALUES (20, 20, 0)")
	r := xaPrepare(t, db, xidOf(table, "r"), "DELETE FROM "+table+" WHERE id = 2")
	file, pos := masterPos(t, db)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (10, 10, 0)")
	p.commit()
	r.rollback()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (11, 11, 0)")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: SpecificOffset, StartFile: file, StartPos: pos}, nil)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (99, 99, 0)")
	endFile, endPos := masterPos(t, db)
	var got []string
	end := d.until(reached(endFile, endPos), func(c Change) { got = append(got, opID(c)) })
	if want := []string{"c10", "u1", "c20", "c11", "c99"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if len(end.XA) != 0 {
		t.Errorf("prepared transactions left after their decisions: %+v", end.XA)
	}
}

// TestXAPreparedAfterStartNoFullScan: an XA transaction prepared after the
// start position is read, before XA RECOVER is asked again, is listed by
// it but has nothing before the start position: the scan must not read the
// whole binlog for it (only the start position's file, here, where the
// binlog's end read first is too). Its changes come from the stream.
func TestXAPreparedAfterStartNoFullScan(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	var files []string
	var x *xaHandle
	others := 0
	d := startDirectWith(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil, func(g *streamer) {
		g.startHook = func() {
			// Other sessions' XA transactions on the shared server
			// would be looked for too.
			others = tableRowsQuery(t, db, "XA RECOVER")
			x = xaPrepare(t, db, xidOf(table, "x"), "INSERT INTO "+table+" VALUES (1, 1, 0)")
		}
		g.xaFileHook = func(file string) { files = append(files, file) }
	})
	first := d.next()
	if len(first.st.XA) != 0 {
		t.Fatalf("the resolved start holds %+v, want none (prepared after it)", first.st.XA)
	}
	if others > 0 {
		t.Logf("%d XA transactions of other sessions prepared: the scan's length is not checked", others)
	} else if len(files) > 1 {
		t.Errorf("the scan read %d binlog files (%v), want at most the start position's", len(files), files)
	}
	x.commit()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos := masterPos(t, db)
	var got []string
	d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if want := []string{"c1", "c2"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
}

// tableRowsQuery counts the rows a query returns.
func tableRowsQuery(t testing.TB, db *sql.DB, q string) int {
	t.Helper()
	rows, err := db.Query(q)
	must(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	must(t, rows.Err())
	return n
}
