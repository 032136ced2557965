package pebble

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/internal/statebackend/kv"
)

// TestBackgroundErrorKeepsFlush: a background error that is no flush's (a
// failed compaction, table statistics that could not be loaded) does not
// fail a Flush waiting for its flush; a failed flush does. Failing it
// failed the checkpoint's synchronous part, and with it the task, for an
// error that said nothing of the state the checkpoint needs.
func TestBackgroundErrorKeepsFlush(t *testing.T) {
	b := &bgErrors{}
	failed := b.wait()
	b.report(fmt.Errorf("pebble: compaction: %w", syscall.ENOSPC))
	select {
	case <-failed:
		t.Fatalf("a compaction's error failed the waiting flush: %v", b.done())
	default:
	}
	if err := b.check(); err != nil {
		t.Fatalf("writes fail after a compaction's error: %v", err)
	}
	flushErr := fmt.Errorf("pebble: flush: %w", syscall.ENOSPC)
	b.flushEnd(pebble.FlushInfo{Err: flushErr, Done: true})
	select {
	case <-failed:
	default:
		t.Fatal("a failed flush did not end the wait")
	}
	if err := b.done(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the wait's error: %v, want the flush's", err)
	}
	if err := b.check(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writes after a failed flush: %v, want the flush's error", err)
	}
}

// TestEmptyFlushSucceeds: the flush of an empty memtable, which Pebble
// ends with its unexported "pebble: empty table" error, counts as a flush
// that succeeded: writes that failed since a flush failed go on. This pins
// the error's text that flushError compares with.
func TestEmptyFlushSucceeds(t *testing.T) {
	db, err := New().Open(filepath.Join(t.TempDir(), "db"), kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := db.(database)
	stuck := fmt.Errorf("pebble: flush: %w", syscall.ENOSPC)
	d.bg.stuck.Store(&stuck)
	if err := db.Set([]byte("k"), []byte("v")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Set after a failed flush: %v, want its error", err)
	}
	if err := db.Flush(); err != nil {
		t.Fatalf("Flush of an empty memtable: %v", err)
	}
	if err := db.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatalf("Set after an empty flush succeeded: %v", err)
	}
}
