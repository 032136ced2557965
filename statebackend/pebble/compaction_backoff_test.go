package pebble

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// failingCompactionDB leaves a database on a small disk with more tables
// in L0 than Pebble's compaction threshold, written with automatic
// compactions off, fills the disk but for a few KiB and opens the
// database again: its L0 compaction cannot write its output (some 2.5 MB),
// and fails. The room left (256 KiB) is for Open's own files (its OPTIONS
// file, the MANIFEST's growth): with 64 KiB Open itself could fail, most
// likely what the CI run of stop 39 hit (TestFailedOpenGrantsNoCompaction).
// failed receives the time of each failed compaction (Pebble retries
// them). tune, if not nil, changes the options of the second open.
func failingCompactionDB(t *testing.T, name string, tune func(*pebble.Options, *bgErrors)) (kv.DB, <-chan time.Time, *crashtest.SmallDisk) {
	t.Helper()
	disk := crashtest.NewSmallDisk(t, name, 8<<20)
	dir := filepath.Join(disk.Path(disk.Dir), "db")
	db, err := open(dir, kv.OpenOptions{}, func(po *pebble.Options, _ *bgErrors) {
		po.DisableAutomaticCompactions = true
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 100)
	for f := range 8 {
		for i := range 3000 {
			for j := range val {
				val[j] = byte(rng.Uint32())
			}
			if err := db.Set(fmt.Appendf(nil, "key-%06d-%d", i, f), val); err != nil {
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
	disk.FillLeaving(t, "filler", 256<<10)
	failed := make(chan time.Time, 1<<16)
	db, err = open(dir, kv.OpenOptions{}, func(po *pebble.Options, bg *bgErrors) {
		end := po.EventListener.CompactionEnd
		po.EventListener.CompactionEnd = func(info pebble.CompactionInfo) {
			if info.Err != nil {
				select {
				case failed <- time.Now():
				default:
				}
			}
			if end != nil {
				end(info)
			}
		}
		if tune != nil {
			tune(po, bg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, failed, disk
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFailingCompactionRetriesBackOff: Pebble retries a failed compaction
// at once (its compact reschedules compactions as it ends, and a failed
// compaction of L0 marks no problem span: "TODO: count consecutive
// compaction errors and backoff"), so on a full disk a database with a
// compaction to do spun, failing compactions as fast as it could create
// and remove their output, for as long as the disk stayed full. The
// retries now wait, longer after each failure, as those of a failed
// flush do: the sixth failure comes no sooner than the waits add up to.
// Once space is freed, the compaction succeeds.
func TestFailingCompactionRetriesBackOff(t *testing.T) {
	db, failed, disk := failingCompactionDB(t, "compaction-diskfull", nil)
	defer db.Close()
	first := <-failed
	cpu := cpuTime(t)
	var last time.Time
	for range 5 {
		select {
		case last = <-failed:
		case <-time.After(10 * time.Second):
			t.Fatal("Pebble stopped retrying the failed compaction")
		}
	}
	t.Logf("six failed compactions in %v, %v of CPU after the first", last.Sub(first), cpuTime(t)-cpu)
	// Waits before the 2nd to the 6th attempts: 10+20+40+80+160 ms.
	want := retryFirst * (1 + 2 + 4 + 8 + 16)
	if got := last.Sub(first); got < want {
		t.Fatalf("six failed compactions in %v: the retries do not back off (want at least %v)", got, want)
	}
	disk.Free(t, "filler")
	pdb := db.(database).db
	deadline := time.Now().Add(20 * time.Second)
	for pdb.Metrics().Levels[0].TablesCount > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("L0 still holds %d tables 20 s after space was freed", pdb.Metrics().Levels[0].TablesCount)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// TestMeasureFailingCompactions counts the compactions that fail in 2 s
// on a full disk and the CPU the process burns meanwhile (-v; a
// measurement, run with -run Measure).
func TestMeasureFailingCompactions(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("a measurement: run with -v -run TestMeasureFailingCompactions")
	}
	db, failed, _ := failingCompactionDB(t, "measure-diskfull", nil)
	defer db.Close()
	<-failed
	cpu, start := cpuTime(t), time.Now()
	n := 0
	for end := time.After(2 * time.Second); ; {
		select {
		case <-failed:
			n++
			continue
		case <-end:
		}
		break
	}
	t.Logf("%d failed compactions and %v of CPU in %v on a full disk", n, cpuTime(t)-cpu, time.Since(start))
}
