package pebble

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble retries a failed flush at once and forever (its DB.flush
// reschedules itself, with no backoff): on a full disk a database whose
// flush failed spins, creating, writing and removing a table file and
// logging a background error some thousand times a second, at most of a
// core, until space is freed or the database is closed. The task fails at
// its next write or checkpoint (bgErrors), but a task that writes nothing
// meanwhile (an idle input, a long checkpoint interval) would spin until
// then. backoffFS slows the retries down: while flushes fail, creating a
// table file waits first, twice longer after each failure in a row, up to
// a limit. Close ends the waits.
//
// Compactions are retried at once too: a compaction that fails is
// rescheduled as it ends (Pebble's compact; its handleCompactFailure
// reads "TODO: count consecutive compaction errors and backoff"), and the
// problem spans that keep a failed compaction's files out of the next
// picks for 30 s are not set on L0. On a full disk a database with an L0
// compaction to do failed some 400 compactions a second, at 40% of a core
// here (TestMeasureFailingCompactions: 830 in 2 s, 784 ms of CPU), for as
// long as the disk stayed full, flushes or not. Their retries wait the
// same way, counted apart: the creation of a compaction's output waits
// after failed compactions (or flushes), a flush's only after failed
// flushes, so that failing compactions never hold a flush back.

// Default retry delays of a failing flush.
const (
	retryFirst = 10 * time.Millisecond
	retryMax   = time.Second
)

// backoffFS is Pebble's file system with the creation of table files
// slowed down while flushes fail.
type backoffFS struct {
	vfs.FS
	bg *bgErrors
}

// Create waits, when the last flushes (or, for a compaction's output, the
// last compactions) failed, before creating a table (or blob) file: that
// is where a flush's or a compaction's retry starts.
func (fs backoffFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob") {
		fs.bg.backoff(isCompaction(category))
	}
	return fs.FS.Create(name, category)
}

// isCompaction reports whether Pebble writes a file of category for a
// compaction (its getDiskWriteCategoryForCompaction), not for a flush.
func isCompaction(category vfs.DiskWriteCategory) bool {
	return category == "pebble-compaction" || category == "pebble-blob-file-rewrite"
}

// retry are the retry delays of bgErrors and the end of its waits.
type retry struct {
	first, max time.Duration
	// failedInRow counts the flushes that failed since the last one that
	// succeeded, compactionsFailedInRow the compactions (under
	// bgErrors.mu).
	failedInRow, compactionsFailedInRow int
	// flushFailures and compactionFailures count every failure so far;
	// flushWaited and compactionWaited are the failures (flushes', or
	// flushes' and compactions') the last wait of a flush, of a
	// compaction, answered. A failure earns one wait, before the first
	// file of the retry: a flush or a compaction writes its output in
	// several files (split at the level's target size), and waiting
	// before each of them made a retry that succeeds once space is freed
	// wait up to max per file (a compaction of 75 files, 22 s at 300 ms)
	// while writes stalled behind L0.
	flushFailures, compactionFailures int
	flushWaited, compactionWaited     int
	// compactionWaits counts the waits of compactions' retries (tests).
	compactionWaits int
	closing         chan struct{}
	closeOnce       sync.Once
}

// backoff waits before a retry after flushes (with compaction, also
// compactions) failed: first after the first failure, twice that after
// each further one, at most max, once per failure (the retry's first
// file waits, not the next ones); it returns at once when the database
// closes.
func (b *bgErrors) backoff(compaction bool) {
	b.mu.Lock()
	n := b.retry.failedInRow
	if compaction {
		n = max(n, b.retry.compactionsFailedInRow)
	}
	d := b.retry.first
	for i := 1; i < n && d < b.retry.max; i++ {
		d *= 2
	}
	d = min(d, b.retry.max)
	closing := b.retry.closing
	seen, waited := b.retry.flushFailures, &b.retry.flushWaited
	if compaction {
		seen, waited = seen+b.retry.compactionFailures, &b.retry.compactionWaited
	}
	if n == 0 || d <= 0 || *waited == seen {
		b.mu.Unlock()
		return
	}
	*waited = seen
	if compaction {
		b.retry.compactionWaits++
	}
	b.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-closing:
	}
}

// counted notes a flush's outcome for backoff (under b.mu).
func (b *bgErrors) counted(err error) {
	if err == nil {
		b.retry.failedInRow = 0
	} else {
		b.retry.failedInRow++
		b.retry.flushFailures++
	}
}

// compactionEnd is Pebble's EventListener.CompactionEnd: it notes whether
// the compaction failed, for backoff. A canceled compaction (Pebble
// cancels some to run others, and all at Close) neither failed nor
// succeeded.
func (b *bgErrors) compactionEnd(info pebble.CompactionInfo) {
	if errors.Is(info.Err, pebble.ErrCancelledCompaction) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if info.Err == nil {
		b.retry.compactionsFailedInRow = 0
	} else {
		b.retry.compactionsFailedInRow++
		b.retry.compactionFailures++
	}
}

// closed ends the waits of backoff, for good.
func (b *bgErrors) closed() {
	b.retry.closeOnce.Do(func() { close(b.retry.closing) })
}
