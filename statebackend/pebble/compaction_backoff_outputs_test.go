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
// delay is 300 ms after any failure and the retried compaction writes
// dozens of files: it must be done well before it could have waited
// before three of them.
func TestCompactionBackoffOncePerFailure(t *testing.T) {
	const delay = 300 * time.Millisecond
	db, failed, disk := failingCompactionDB(t, "compaction-outputs", func(po *pebble.Options, bg *bgErrors) {
		for i := range po.TargetFileSizes {
			po.TargetFileSizes[i] = 32 << 10
		}
		bg.retry.first, bg.retry.max = delay, delay
	})
	defer db.Close()
	<-failed
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("Pebble stopped retrying the failed compaction")
	}
	disk.Free(t, "filler")
	freed := time.Now()
	pdb := db.(database).db
	limit := freed.Add(3 * delay)
	for pdb.Metrics().Levels[0].TablesCount > 0 {
		if time.Now().After(limit) {
			var files int64
			for _, l := range pdb.Metrics().Levels[1:] {
				files += l.TablesCount
			}
			t.Fatalf("L0 still holds %d tables %v after space was freed (%d files below L0 so far): the retry waits before each output file",
				pdb.Metrics().Levels[0].TablesCount, time.Since(freed), files)
		}
		<-time.After(5 * time.Millisecond)
	}
	var files int64
	for _, l := range pdb.Metrics().Levels[1:] {
		files += l.TablesCount
	}
	t.Logf("L0 compacted %v after space was freed, into %d files", time.Since(freed), files)
	if files < 8 {
		t.Fatalf("the compaction wrote %d files: too few to tell a wait per file from one per failure", files)
	}
}
