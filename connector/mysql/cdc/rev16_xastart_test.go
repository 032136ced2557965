package cdc

import (
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
