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
	if err := db.Flush(); err != nil {
		t.Fatalf("Flush after freeing the disk: %v", err)
	}
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
