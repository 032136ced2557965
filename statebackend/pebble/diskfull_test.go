package pebble

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// TestFlushOnFullDisk: a flush that cannot write its table on a full disk
// fails with the error that says so. Pebble retries a failed flush in the
// background (forever, while the disk stays full) and its DB.Flush waited
// for one to succeed: a checkpoint's flush hung the task.
func TestFlushOnFullDisk(t *testing.T) {
	disk := crashtest.NewSmallDisk(t, "pebble-diskfull", 8<<20)
	db, err := New().Open(filepath.Join(disk.Path(disk.Dir), "db"), kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
	}()
	val := make([]byte, 100)
	for i := range 20000 {
		if err := db.Set(fmt.Appendf(nil, "key-%06d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	disk.Fill(t, "filler")
	res := make(chan error, 1)
	go func() { res <- db.Flush() }()
	select {
	case err = <-res:
	case <-time.After(10 * time.Second):
		disk.Free(t, "filler") // lets the flush end, and the goroutine with it
		t.Fatal("Flush still waits 10 s after the disk filled")
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush on a full disk: %v, want an error wrapping ENOSPC", err)
	}
	// Space again: the flush Pebble retries succeeds, and so does the next.
	disk.Free(t, "filler")
	flushAfterFree(t, db)
	v, c, err := db.Get([]byte("key-012345"))
	if err != nil || len(v) != len(val) {
		t.Fatalf("Get after the flush: %d bytes, %v", len(v), err)
	}
	c.Close()
	closed = true
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWritesOnFullDisk: once a background flush failed on a full disk,
// writes fail with its error. Pebble retries the flush while memtables
// queue up, and stalled every write once too many were queued: a task
// writing state hung, with no error, until space was freed.
func TestWritesOnFullDisk(t *testing.T) {
	disk := crashtest.NewSmallDisk(t, "pebblew-diskfull", 8<<20)
	db, err := New().Open(filepath.Join(disk.Path(disk.Dir), "db"), kv.OpenOptions{MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	disk.Fill(t, "filler")
	val := make([]byte, 100)
	res := make(chan error, 1)
	go func() {
		// 20 MB: many memtables of 1 MB.
		for i := range 200000 {
			b := db.NewBatch()
			err := b.Set(fmt.Appendf(nil, "key-%06d", i), val)
			if err == nil {
				err = b.Commit()
			}
			b.Close()
			if err == nil {
				err = db.Set(fmt.Appendf(nil, "other-%06d", i), val)
			}
			if err != nil {
				res <- err
				return
			}
		}
		res <- nil
	}()
	select {
	case err = <-res:
	case <-time.After(10 * time.Second):
		disk.Free(t, "filler") // lets the writes go on, and the goroutine end
		<-res
		t.Fatal("writes still stall 10 s after the disk filled")
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writes on a full disk: %v, want an error wrapping ENOSPC", err)
	}
	// Space again: Pebble's retried flushes succeed, and writes go on.
	disk.Free(t, "filler")
	flushAfterFree(t, db)
	if err := db.Set([]byte("after"), val); err != nil {
		t.Fatalf("a write after freeing the disk: %v", err)
	}
}

// flushAfterFree flushes once space was freed: a flush Pebble retried
// before may still fail with the full disk's error, the next ones not.
func flushAfterFree(t *testing.T, db kv.DB) {
	t.Helper()
	var err error
	for range 100 {
		if err = db.Flush(); err == nil {
			return
		}
	}
	t.Fatalf("Flush after freeing the disk: %v", err)
}
