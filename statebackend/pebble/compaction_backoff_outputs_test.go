package pebble

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestCompactionBackoffOncePerFailure: the retry delay after failed
// compactions is paid once per failure, before the retry, not before each
// output file of the retry. A compaction splits its output in files of
// the level's target size; waiting before each of them made a compaction
// that retried once space was freed take the delay (up to 1 s) times its
// number of outputs, while writes stalled behind a full L0. Here the
// retried compaction writes dozens of files: from the moment space is
// freed until L0 is empty, the retries may wait once per failure (one
// for the failures before the space was freed), not once per file. The
// waits are counted, not timed: a loaded machine makes any time bound
// flaky (the earlier 3×delay bound failed under three parallel -race
// runs).
func TestCompactionBackoffOncePerFailure(t *testing.T) {
	const delay = 50 * time.Millisecond
	var bg *bgErrors
	db, failed, disk := failingCompactionDB(t, "compaction-outputs", func(po *pebble.Options, b *bgErrors) {
		for i := range po.TargetFileSizes {
			po.TargetFileSizes[i] = 32 << 10
		}
		b.retry.first, b.retry.max = delay, delay
		bg = b
	})
	defer db.Close()
	<-failed
	select {
	case <-failed:
	case <-time.After(30 * time.Second):
		t.Fatal("Pebble stopped retrying the failed compaction")
	}
	counts := func() (waits, failures int) {
		bg.mu.Lock()
		defer bg.mu.Unlock()
		return bg.retry.compactionWaits, bg.retry.compactionFailures + bg.retry.flushFailures
	}
	waits0, failures0 := counts()
	disk.Free(t, "filler")
	freed := time.Now()
	pdb := db.(database).db
	for pdb.Metrics().Levels[0].TablesCount > 0 {
		if time.Since(freed) > time.Minute {
			t.Fatalf("L0 still holds %d tables a minute after space was freed", pdb.Metrics().Levels[0].TablesCount)
		}
		<-time.After(5 * time.Millisecond)
	}
	waits, failures := counts()
	var files int64
	for _, l := range pdb.Metrics().Levels[1:] {
		files += l.TablesCount
	}
	t.Logf("L0 compacted %v after space was freed, into %d files; %d waits for %d failures since", time.Since(freed), files, waits-waits0, failures-failures0)
	if files < 8 {
		t.Fatalf("the compaction wrote %d files: too few to tell a wait per file from one per failure", files)
	}
	if waits-waits0 > failures-failures0+1 {
		t.Fatalf("the retries waited %d times for %d failures after space was freed (%d output files): they wait before each output file",
			waits-waits0, failures-failures0, files)
	}
}
