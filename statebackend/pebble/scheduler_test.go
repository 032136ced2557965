package pebble

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/weirstream/weir/internal/statebackend/kv"
)

// l0DebtDB leaves in dir a database with more tables in L0 than Pebble's
// compaction threshold, written with automatic compactions off: the next
// open has a compaction to run at once.
func l0DebtDB(t *testing.T, dir string) {
	t.Helper()
	db, err := open(dir, kv.OpenOptions{}, func(po *pebble.Options, _ *bgErrors) {
		po.DisableAutomaticCompactions = true
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range 8 {
		for i := range 200 {
			if err := db.Set(fmt.Appendf(nil, "key-%04d-%d", i, f), []byte("value")); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// optionsFailFS fails the rename that installs a database's OPTIONS file,
// one of the last steps of Pebble's Open (as a full disk fails it); with
// panics set, it panics there instead.
type optionsFailFS struct {
	vfs.FS
	panics bool
}

func (fs optionsFailFS) Rename(from, to string) error {
	if strings.HasPrefix(filepath.Base(to), "OPTIONS-") {
		err := fmt.Errorf("rename %s: %w", to, syscall.ENOSPC)
		if fs.panics {
			panic(err)
		}
		return err
	}
	return fs.FS.Rename(from, to)
}

// TestFailedOpenGrantsNoCompaction: Pebble registers a database's
// compaction scheduler midway through Open and leaves it registered when
// Open fails later. Its default scheduler then offered compactions every
// 100 ms to the database that never opened, and the first one panicked in
// its closed file cache, killing the process (the CI run of stop 39). Here
// Open fails after registering, with an L0 compaction waiting: the
// scheduler's granter has ended when open returns, and a grant round
// starts no compaction.
func TestFailedOpenGrantsNoCompaction(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l0DebtDB(t, dir)
	var sched *scheduler
	var began atomic.Int32
	_, err := open(dir, kv.OpenOptions{}, func(po *pebble.Options, _ *bgErrors) {
		po.FS = optionsFailFS{FS: po.FS}
		po.EventListener.CompactionBegin = func(pebble.CompactionInfo) { began.Add(1) }
		sched = po.Experimental.CompactionScheduler.(*scheduler)
	})
	if err == nil {
		t.Fatal("open succeeded though the OPTIONS file could not be installed")
	}
	if sched.db == nil {
		t.Fatalf("Open failed (%v) before it registered the scheduler: the test no longer shows the case", err)
	}
	select {
	case <-sched.done:
	default:
		t.Fatal("the scheduler's granter still runs after Open failed")
	}
	if waiting, _ := sched.db.GetWaitingCompaction(); !waiting {
		t.Fatal("the database that failed to open has no compaction waiting: the test no longer shows the case")
	}
	sched.grant()
	sched.mu.Lock()
	grants := sched.grants
	sched.mu.Unlock()
	if grants != 0 || began.Load() != 0 {
		t.Fatalf("%d compactions granted, %d begun on a database that failed to open", grants, began.Load())
	}
}

// TestOpenGrantsWaitingCompaction: a compaction a database has to run when
// it opens (Open asks before the scheduler may grant) is granted once open
// returns, with no write to prompt it, and runs. The granter's periodic
// round is an hour here: start itself must hand the compaction over.
func TestOpenGrantsWaitingCompaction(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l0DebtDB(t, dir)
	ended := make(chan error, 64)
	db, err := open(dir, kv.OpenOptions{}, func(po *pebble.Options, _ *bgErrors) {
		po.Experimental.CompactionScheduler.(*scheduler).every = time.Hour
		end := po.EventListener.CompactionEnd
		po.EventListener.CompactionEnd = func(info pebble.CompactionInfo) {
			select {
			case ended <- info.Err:
			default:
			}
			end(info)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("the compaction granted at open failed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no compaction ran within 30 s of opening a database with 8 tables in L0")
	}
	if n := DB(db).Metrics().Levels[0].TablesCount; n >= 8 {
		t.Fatalf("L0 holds %d tables after the compaction", n)
	}
}

// TestPanickedOpenEndsScheduler: Pebble's Open may panic after it
// registered the scheduler (a broken invariant: an assertion, or its
// Logger.Fatalf, which quietLogger turns into a panic; Open re-panics
// what it recovers); a task recovers the panic and fails like an error,
// and the job restarts. The scheduler's granter must have ended when the
// panic leaves open, as when Open returns an error: else one granter,
// holding the half-open database, stays behind per restart. The panic is
// injected where the OPTIONS file is installed.
func TestPanickedOpenEndsScheduler(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l0DebtDB(t, dir)
	var sched *scheduler
	var err error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, err = open(dir, kv.OpenOptions{}, func(po *pebble.Options, _ *bgErrors) {
			po.FS = optionsFailFS{FS: po.FS, panics: true}
			sched = po.Experimental.CompactionScheduler.(*scheduler)
		})
		return nil
	}()
	if panicked == nil {
		t.Fatalf("open returned (%v) though the OPTIONS rename panicked", err)
	}
	if sched.db == nil {
		t.Fatal("Open panicked before it registered the scheduler: the test no longer shows the case")
	}
	select {
	case <-sched.done:
	default:
		t.Fatal("the scheduler's granter still runs after Open panicked")
	}
}

// granters counts the goroutines a scheduler started (its granter): by
// their "created by" line, which a goroutine that has not run yet shows
// too (its own frame is then a wrapper's).
func granters() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "pebble.(*scheduler).Register in goroutine")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// grantersBecome waits until want granters run, as goleak does: a granter
// that closed its done channel (Unregister returned) may not have exited
// yet. It reports the last count.
func grantersBecome(want int) int {
	n := granters()
	for deadline := time.Now().Add(10 * time.Second); n != want && time.Now().Before(deadline); n = granters() {
		runtime.Gosched()
		<-time.After(time.Millisecond)
	}
	return n
}

// TestCloseEndsGranter: every open starts a granter goroutine (Pebble
// registers the scheduler in read-only opens too); Close ends it, for a
// database opened to write and one opened to scan, and a scan of a
// database that does not exist leaves none.
func TestCloseEndsGranter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l0DebtDB(t, dir)
	before := grantersBecome(0)
	for _, o := range []kv.OpenOptions{{}, {Scan: true}} {
		db, err := open(dir, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		running := granters()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if running != before+1 {
			t.Fatalf("scan %v: %d granters while open, want %d", o.Scan, running, before+1)
		}
		if n := grantersBecome(before); n != before {
			t.Fatalf("scan %v: %d granters after Close, want %d", o.Scan, n, before)
		}
	}
	if _, err := open(filepath.Join(t.TempDir(), "missing"), kv.OpenOptions{Scan: true}, nil); err == nil {
		t.Fatal("a scan opened a database that does not exist")
	}
	if n := grantersBecome(before); n != before {
		t.Fatalf("%d granters after a failed scan, want %d", n, before)
	}
}
