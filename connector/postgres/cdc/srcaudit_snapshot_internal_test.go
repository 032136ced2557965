package cdc

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir"
)

// A restored reader's snapshot before its first poll is the restored
// position, whatever its capture goroutine is doing (connecting, failing,
// retrying) meanwhile.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	addr := cmp.Or(os.Getenv("WEIR_TEST_PG_ADDR"), "127.0.0.1:5432")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("PostgreSQL at %s unreachable: %v; run scripts/test-services.sh", addr, err)
	}
	c.Close()
	name := fmt.Sprintf("srcaudit_%06d", rand.IntN(1000000))
	tables := []string{"public." + name + "_a", "public." + name + "_b"}
	for _, pos := range []position{
		{Phase: phaseSnapshot, Start: 0x1000, Tables: tables, Table: 1, LastKey: []string{"42"},
			Bounds: []boundary{{Table: 0, After: []string{"7"}, LSN: 0x1100}}, Done: 0x1000},
		{Phase: phaseStream, Start: 0x1000, Tables: tables, Table: 2, Done: 0x2000, PartCommit: 0x2100, PartN: 3},
	} {
		item := pos.encode()
		src := NewSource(Options{Conn: "postgres://postgres@" + addr + "/test?sslmode=disable", Tables: tables,
			Slot: name, Publication: name, MinBackoff: time.Hour, MaxBackoff: time.Hour})
		r, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: [][]byte{bytes.Clone(item)}, RestoredFrom: 5})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.(weir.CheckpointedReader).SnapshotState(6)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !bytes.Equal(got[0], item) {
			t.Fatalf("phase %s: snapshot before the first poll %q, want %q", pos.Phase, got, item)
		}
	}
}

// A fresh start creates the slot, then hands evStart over (with the first
// rows, or with evSnapDone under SkipSnapshot). A checkpoint taken before
// Poll took it stored no start: the restore dropped the slot and created
// another, later one, and under SkipSnapshot the changes in between were
// lost. It stores what the reader holds once it took those events.
func TestSnapshotHoldsSlotCreatedNotYetPolled(t *testing.T) {
	tables := []string{"public.a"}
	for _, skip := range []bool{false, true} {
		r := &reader{opts: Options{SkipSnapshot: skip}, capture: &capture{}, pos: position{Phase: phaseSnapshot, Tables: tables},
			snaps: map[int64]pglogrepl.LSN{}}
		items, err := r.SnapshotState(1)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := decodePosition(items[0]); err != nil || p.Start != 0 {
			t.Fatalf("skip %v: before the slot exists: %+v, %v", skip, p, err)
		}
		r.capture.started.Store(0x5000) // as capture.snapshot does once the slot exists
		items, err = r.SnapshotState(2)
		if err != nil {
			t.Fatal(err)
		}
		want := position{Phase: phaseSnapshot, Tables: tables, Start: 0x5000, Done: 0x5000}
		if skip {
			want.Phase = phaseStream
		}
		if !bytes.Equal(items[0], want.encode()) {
			t.Fatalf("skip %v: snapshot with the slot created, evStart not polled: %s, want %s", skip, items[0], want.encode())
		}
		if r.snaps[2] != 0x5000 {
			t.Fatalf("skip %v: checkpoint 2 confirms %v, want 0/5000", skip, r.snaps[2])
		}
	}
}
