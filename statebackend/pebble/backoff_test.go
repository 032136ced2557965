package pebble

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// failingFlushDB opens a database on a small disk, fills it with a
// memtable's worth of state, fills the disk and starts a flush, which
// fails; failed receives the time of each failed flush (Pebble retries
// them). tune, if not nil, changes the options as open's does.
func failingFlushDB(t *testing.T, name string, tune func(*bgErrors)) (kv.DB, <-chan time.Time, *crashtest.SmallDisk) {
	t.Helper()
	disk := crashtest.NewSmallDisk(t, name, 8<<20)
	failed := make(chan time.Time, 1<<16)
	db, err := open(filepath.Join(disk.Path(disk.Dir), "db"), kv.OpenOptions{}, func(po *pebble.Options, bg *bgErrors) {
		end := po.EventListener.FlushEnd
		po.EventListener.FlushEnd = func(info pebble.FlushInfo) {
			if flushError(info) != nil {
				select {
				case failed <- time.Now():
				default:
				}
			}
			end(info)
		}
		if tune != nil {
			tune(bg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 100)
	for i := range 20000 {
		if err := db.Set(fmt.Appendf(nil, "key-%06d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	disk.Fill(t, "filler")
	if err := db.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush on a full disk: %v, want an error wrapping ENOSPC", err)
	}
	return db, failed, disk
}

// TestFailingFlushRetriesBackOff: Pebble retries a failed flush at once,
// and on a full disk failed some thousand flushes a second (most of a
// core, and as many logged errors) for as long as the database stayed
// open. The retries now wait, longer after each failure: the sixth
// failure comes no sooner than the waits before the retries add up to.
// Once space is freed, a retry succeeds.
func TestFailingFlushRetriesBackOff(t *testing.T) {
	db, failed, disk := failingFlushDB(t, "retry-diskfull", nil)
	defer db.Close()
	first := <-failed
	var last time.Time
	for range 5 {
		select {
		case last = <-failed:
		case <-time.After(10 * time.Second):
			t.Fatal("Pebble stopped retrying the failed flush")
		}
	}
	// Waits before the 2nd to the 6th attempts: 10+20+40+80+160 ms.
	want := retryFirst * (1 + 2 + 4 + 8 + 16)
	if got := last.Sub(first); got < want {
		t.Fatalf("six failed flushes in %v: the retries do not back off (want at least %v)", got, want)
	}
	t.Logf("six failed flushes in %v", last.Sub(first))
	disk.Free(t, "filler")
	flushAfterFree(t, db)
}

// TestCloseEndsRetryBackoff: closing a database whose flush retry waits
// (backoffFS) ends the wait: Close does not wait for it.
func TestCloseEndsRetryBackoff(t *testing.T) {
	var bgs *bgErrors
	var mu sync.Mutex
	db, failed, _ := failingFlushDB(t, "close-diskfull", func(bg *bgErrors) {
		mu.Lock()
		defer mu.Unlock()
		bgs = bg
		bg.retry.first, bg.retry.max = time.Hour, time.Hour
	})
	<-failed // the first failure: the retry now waits an hour
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		mu.Lock()
		bgs.closed() // lets the retry and Close end
		mu.Unlock()
		<-closed
		t.Fatal("Close waited for the retry of the failed flush")
	}
}
