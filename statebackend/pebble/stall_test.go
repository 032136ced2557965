package pebble

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/weirstream/weir/internal/statebackend/kv"
)

// stallFS fails the creation of tables with ENOSPC once a write stalled,
// until ok is set.
type stallFS struct {
	vfs.FS
	stalled chan struct{}
	ok      atomic.Bool
}

func (f *stallFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(name, ".sst") && !f.ok.Load() {
		<-f.stalled
		return nil, fmt.Errorf("create %s: %w", name, syscall.ENOSPC)
	}
	return f.FS.Create(name, c)
}

// TestWriteStalledBeforeFlushFails: a write that Pebble already stalls
// (a memtable is being flushed and the next one is full) when that flush
// fails on a full disk fails too, rather than wait for a flush to succeed.
func TestWriteStalledBeforeFlushFails(t *testing.T) {
	fs := &stallFS{FS: vfs.Default, stalled: make(chan struct{})}
	var once atomic.Bool
	stalled := func() {
		if once.CompareAndSwap(false, true) {
			close(fs.stalled)
		}
	}
	db, err := open(filepath.Join(t.TempDir(), "db"), kv.OpenOptions{MemTableSize: 1 << 20}, func(po *pebble.Options, bg *bgErrors) {
		po.FS = fs
		// The flush fails once the writer waits: in Pebble's stall, or
		// for the flush before it would stall.
		po.EventListener.WriteStallBegin = func(pebble.WriteStallBeginInfo) { stalled() }
		bg.waiting = stalled
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 100)
	res := make(chan error, 1)
	go func() {
		for i := range 200000 {
			if err := db.Set(fmt.Appendf(nil, "key-%06d", i), val); err != nil {
				res <- err
				return
			}
		}
		res <- nil
	}()
	select {
	case err = <-res:
	case <-time.After(10 * time.Second):
		fs.ok.Store(true) // the retried flush succeeds: the write goes on
		<-res
		t.Fatal("a write stalled before the flush failed still waits 10 s later")
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writes: %v, want the failed flush's error", err)
	}
	fs.ok.Store(true)
}
