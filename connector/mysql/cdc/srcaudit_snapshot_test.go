package cdc

import (
	"bytes"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// A restored reader's snapshot before its first poll is the restored
// position, also once its goroutine handed over what follows it (the rest
// of the table's snapshot, or the error of a server without a binlog),
// which no poll took yet.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	db := testDB(t)
	tbl := newTable(t, db, "id INT PRIMARY KEY, v INT")
	for i := 1; i <= 10; i++ {
		mustExec(t, db, "INSERT INTO "+tbl+" VALUES (?, ?)", i, i)
	}
	tables := []string{tbl}
	st := state{File: "srcaudit-bin.000001", Pos: 4, Table: 0, Bound: int64(3), Tables: tables}
	item, err := st.encode()
	if err != nil {
		t.Fatal(err)
	}
	src := NewSource(Options{Addr: addr, Tables: tables})
	r, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: [][]byte{bytes.Clone(item)}, RestoredFrom: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.(weir.CheckpointedReader).SnapshotState(9)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], item) {
		t.Fatalf("snapshot right after the restore %q, want %q", got, item)
	}
	select {
	case <-r.(weir.Availability).Available():
	case <-time.After(30 * time.Second):
		t.Fatal("nothing handed over in 30s")
	}
	if got, err = r.(weir.CheckpointedReader).SnapshotState(10); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], item) {
		t.Fatalf("snapshot with an item handed over, not taken %q, want %q", got, item)
	}
}

// A fresh reader's goroutine resolves the start position and hands it over
// before anything else, "so that a checkpoint taken now restarts from it";
// a checkpoint taken before Poll took it must hold it too. It held the
// fresh state: the restore resolved the start again, and with Startup
// Latest the changes between the two resolutions were lost. (Latest needs
// a binlog; SpecificOffset resolves without one and shows the same.)
func TestSnapshotHoldsResolvedStartNotYetPolled(t *testing.T) {
	db := testDB(t)
	tbl := newTable(t, db, "id INT PRIMARY KEY, v INT")
	tables := []string{tbl}
	src := NewSource(Options{Addr: addr, Tables: tables, Startup: SpecificOffset, StartFile: "srcaudit-bin.000002", StartPos: 1234,
		MinBackoff: time.Hour, MaxBackoff: time.Hour})
	r, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	select {
	case <-r.(weir.Availability).Available():
	case <-time.After(30 * time.Second):
		t.Fatal("nothing handed over in 30s")
	}
	got, err := r.(weir.CheckpointedReader).SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := state{File: "srcaudit-bin.000002", Pos: 1234, Table: 1, Tables: tables}.encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("snapshot with the resolved start handed over, not polled: %s, want %s", got, want)
	}
}
