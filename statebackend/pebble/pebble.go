// Package pebble is the opt-in Pebble state backend: keyed state on local
// disk in Pebble (state larger than memory, incremental checkpoints that
// store each SST once). Select it with
//
//	opts.StateBackend = weir.StatePebble
//	opts.Pebble = pebble.New()
//
// The core engine links no Pebble code; a program links it only by
// importing this package. A heap job restoring a checkpoint a Pebble job
// took needs Options.Pebble too (that state is in Pebble's files);
// savepoints are in the canonical format and need nothing.
//
// An Engine holds no state; it is safe for concurrent use.
package pebble

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/weirstream/weir/internal/statebackend/kv"
)

// Name is the backend's name (weir.StatePebble) and the kind of its native
// snapshots.
const Name = "pebble"

// Engine opens the Pebble databases of the Pebble state backend. Make it
// with New.
type Engine struct{}

// New returns the Pebble engine, for weir.Options.Pebble.
func New() *Engine { return &Engine{} }

// Name returns "pebble".
func (*Engine) Name() string { return Name }

// Open opens the database in dir. It is an implementation detail of the
// state backend.
func (*Engine) Open(dir string, o kv.OpenOptions) (kv.DB, error) {
	return open(dir, o, nil)
}

// open opens the database; tune, if not nil, changes its options (tests).
func open(dir string, o kv.OpenOptions, tune func(*pebble.Options, *bgErrors)) (kv.DB, error) {
	var po *pebble.Options
	sched := newScheduler()
	bg := &bgErrors{log: quietLogger{o.Logger}, retry: retry{first: retryFirst, max: retryMax, closing: make(chan struct{})}}
	if o.Scan {
		po = &pebble.Options{ReadOnly: true, DisableWAL: true, Merger: pebble.DefaultMerger, Logger: quietLogger{o.Logger}, ErrorIfNotExists: true}
		po.Experimental.CompactionScheduler = sched
	} else {
		po = tuned(o)
		po.Experimental.CompactionScheduler = sched
		po.EventListener = &pebble.EventListener{BackgroundError: bg.report, FlushEnd: bg.flushEnd, CompactionEnd: bg.compactionEnd}
		po.FS = backoffFS{FS: vfs.Default, bg: bg} // slows down the retries of failing flushes and compactions
		if tune != nil {
			tune(po, bg)
		}
		po.EnsureDefaults()
		bg.room(po)
	}
	// Open may have registered the scheduler before it failed, and leaves
	// it registered (scheduler); or before it panicked (on a broken
	// invariant: Pebble's assertions, and its Logger.Fatalf, which
	// quietLogger turns into a panic). A task recovers such a panic and
	// fails like an error: the granter would stay behind, holding the
	// half-open database, at every restart of the job.
	opened := false
	defer func() {
		if !opened {
			sched.Unregister()
		}
	}()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, err
	}
	opened = true
	sched.start()
	return database{db: db, bg: bg}, nil
}

// bgErrors hands the errors of Pebble's failed flushes to a Flush waiting
// for its flush, and to writes. Pebble retries a failed flush (on a full
// disk: forever) and DB.Flush waits until one succeeds; a checkpoint's
// flush would hang the task instead of failing it with the error that says
// why. Only flush errors (EventListener.FlushEnd) count: Pebble reports
// other background errors too (a failed compaction, table statistics that
// could not be loaded), which say nothing of the flush and must not fail
// it.
type bgErrors struct {
	log quietLogger
	mu  sync.Mutex
	// failed is closed at the first failed flush while a Flush waits (nil
	// when none waits); err is that flush's error.
	failed chan struct{}
	err    error
	// stuck is the error of the last flush when it failed (nil once one
	// succeeds): writes fail with it rather than stall.
	stuck atomic.Pointer[error]
	// ended is closed (and replaced) at the end of every flush.
	ended chan struct{}
	// stallAt is the size of the memtables at which Pebble stalls the
	// write that rotates the memtable; written counts the bytes written
	// (with an overhead per entry) since the last look at their size,
	// which is taken every checkEvery bytes: at least once per memtable.
	stallAt    uint64
	checkEvery int64
	written    atomic.Int64
	// waiting, if not nil, is called when a write waits for a flush
	// (tests).
	waiting func()
	// retry paces Pebble's retries of a failing flush (backoffFS).
	retry retry
}

// entryOverhead is added to a write's key and value for the memtable
// space it takes (Pebble's skiplist node).
const entryOverhead = 64

// room sets the stall threshold of the options po (with defaults).
func (b *bgErrors) room(po *pebble.Options) {
	b.stallAt = uint64(po.MemTableStopWritesThreshold) * po.MemTableSize
	// Pebble's first memtable is the smallest: 256 KiB, or MemTableSize.
	b.checkEvery = int64(min(256<<10, po.MemTableSize) / 2)
}

// nextFlushEnd returns the channel closed at the end of the next flush.
func (b *bgErrors) nextFlushEnd() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended == nil {
		b.ended = make(chan struct{})
	}
	return b.ended
}

// flushError returns the error of a flush, nil when it succeeded. An empty
// flush (Pebble's unexported errEmptyTable, "pebble: empty table", which
// TestEmptyFlushSucceeds pins) is no failure.
func flushError(info pebble.FlushInfo) error {
	if info.Err == nil || info.Err.Error() == "pebble: empty table" {
		return nil
	}
	return info.Err
}

// flushEnd is Pebble's EventListener.FlushEnd: it notes whether the flush
// failed, and fails a waiting Flush if it did. While flushes fail (on a
// full disk Pebble retries them until one succeeds), memtables queue up,
// and once too many are queued Pebble stalls every write until a flush
// succeeds: the task would hang, with no error, instead of failing.
func (b *bgErrors) flushEnd(info pebble.FlushInfo) {
	err := flushError(info)
	if err == nil {
		b.stuck.Store(nil)
	} else {
		b.stuck.Store(&err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counted(err)
	if b.ended != nil {
		close(b.ended)
		b.ended = nil
	}
	if err != nil && b.failed != nil && b.err == nil {
		b.err = err
		close(b.failed)
	}
}

// check returns the error of the failed flush writes must not wait for.
func (b *bgErrors) check() error {
	if p := b.stuck.Load(); p != nil {
		return fmt.Errorf("pebble: a memtable flush failed (writes would stall until one succeeds): %w", *p)
	}
	return nil
}

// report is Pebble's EventListener.BackgroundError: it logs err, as
// Pebble's default does. A failed flush is also reported to flushEnd.
func (b *bgErrors) report(err error) {
	b.log.Errorf("background error: %s", err)
}

// wait returns the channel closed at the next failed flush.
func (b *bgErrors) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed, b.err = make(chan struct{}), nil
	return b.failed
}

// done ends a wait and returns the flush error it saw, if any.
func (b *bgErrors) done() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.err
	b.failed, b.err = nil, nil
	return err
}

// tuned are the options of a backend's working database.
func tuned(o kv.OpenOptions) *pebble.Options {
	po := &pebble.Options{
		DisableWAL:   true,
		MemTableSize: o.MemTableSize,
		CacheSize:    o.CacheSize,
		Merger:       pebble.DefaultMerger,
		Logger:       quietLogger{o.Logger},
	}
	// Bloom filters on every level: most reads of stream state look up
	// keys that are absent (a new key, a new window), which without
	// filters reads a block of every overlapping file.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// State is read back soon after it is written: no compression in the
	// upper levels (decompressing blocks of recently flushed files is
	// most of a read's cost otherwise), fast compression below.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	return po
}

// quietLogger drops Pebble's info messages and passes its errors on as
// warnings.
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Infof(string, ...any) {}
func (q quietLogger) Errorf(format string, args ...any) {
	if q.l != nil {
		q.l.Warn("pebble: " + fmt.Sprintf(format, args...))
	}
}
func (q quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// database is a Pebble database; writes need no sync (see package kv).
type database struct {
	db *pebble.DB
	bg *bgErrors
}

func (d database) Get(key []byte) ([]byte, io.Closer, error) {
	v, c, err := d.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, kv.ErrNotFound
	}
	return v, c, err
}

// The writes fail, rather than stall, while memtable flushes fail
// (bgErrors.flushEnd).

// admit lets a write of n bytes (key and value) go to Pebble, or returns
// the error of the failed flush it would wait for. Every checkEvery bytes
// it looks whether the memtables reached Pebble's stall threshold: the
// write that fills the current memtable would then stall in Pebble until
// a flush succeeds (forever on a full disk, and a write stalled there
// cannot fail). Instead it waits here for the flush to end, and fails if
// the flush did.
func (d database) admit(n int) error {
	if err := d.bg.check(); err != nil {
		return err
	}
	if d.bg.written.Add(int64(n)) < d.bg.checkEvery {
		return nil
	}
	d.bg.written.Store(0)
	return d.roomForRotation()
}

// roomForRotation waits until the memtable can be rotated without a
// stall, or returns the error of the flush that failed meanwhile.
func (d database) roomForRotation() error {
	for {
		ended := d.bg.nextFlushEnd()
		if d.db.Metrics().MemTable.Size < d.bg.stallAt {
			return nil
		}
		if d.bg.waiting != nil {
			d.bg.waiting()
		}
		<-ended
		if err := d.bg.check(); err != nil {
			return err
		}
	}
}

func (d database) Set(key, value []byte) error {
	if err := d.admit(len(key) + len(value) + entryOverhead); err != nil {
		return err
	}
	return d.db.Set(key, value, pebble.NoSync)
}

func (d database) Delete(key []byte) error {
	if err := d.admit(len(key) + entryOverhead); err != nil {
		return err
	}
	return d.db.Delete(key, pebble.NoSync)
}

func (d database) Merge(key, value []byte) error {
	if err := d.admit(len(key) + len(value) + entryOverhead); err != nil {
		return err
	}
	return d.db.Merge(key, value, pebble.NoSync)
}

func (d database) DeleteRange(start, end []byte) error {
	if err := d.admit(len(start) + len(end) + entryOverhead); err != nil {
		return err
	}
	return d.db.DeleteRange(start, end, pebble.NoSync)
}

func (d database) NewIter(lower, upper []byte) (kv.Iterator, error) {
	var o *pebble.IterOptions
	if lower != nil || upper != nil {
		o = &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
	}
	it, err := d.db.NewIter(o)
	if err != nil {
		return nil, err
	}
	return it, nil
}

func (d database) NewBatch() kv.Batch { return batch{b: d.db.NewBatch(), d: d} }

// Flush flushes the memtable and waits until it is stored. A flush that
// fails while it waits (on a full disk, say) ends the wait with that
// error: Pebble retries the flush, but the caller fails.
// Flushes are not concurrent (one task uses the database).
func (d database) Flush() error {
	// The flush rotates the memtable, and would stall as a write would.
	if err := d.roomForRotation(); err != nil {
		return err
	}
	failed := d.bg.wait()
	flushed, err := d.db.AsyncFlush()
	if err != nil {
		d.bg.done()
		return err
	}
	select {
	case <-flushed:
		d.bg.done()
		return nil
	case <-failed:
		err := d.bg.done()
		select {
		case <-flushed:
			// A retry flushed the memtable before this woke up.
			return nil
		default:
		}
		return fmt.Errorf("pebble: flush failed: %w", err)
	}
}

func (d database) Checkpoint(dir string) error { return d.db.Checkpoint(dir) }

// Close closes the database; a retry of a failing flush waiting to start
// (backoffFS) starts at once, and is the last.
func (d database) Close() error {
	d.bg.closed()
	return d.db.Close()
}

// DB returns the Pebble database under db, for tests that reach past the
// backend (compactions, metrics); nil if db is not one.
func DB(db kv.DB) *pebble.DB {
	if d, ok := db.(database); ok {
		return d.db
	}
	return nil
}

type batch struct {
	b *pebble.Batch
	d database
}

func (b batch) Set(key, value []byte) error   { return b.b.Set(key, value, nil) }
func (b batch) Merge(key, value []byte) error { return b.b.Merge(key, value, nil) }
func (b batch) Delete(key []byte) error       { return b.b.Delete(key, nil) }
func (b batch) DeleteRange(start, end []byte) error {
	return b.b.DeleteRange(start, end, nil)
}
func (b batch) Len() int { return b.b.Len() }
func (b batch) Commit() error {
	if err := b.d.admit(b.b.Len() + int(b.b.Count())*entryOverhead); err != nil {
		return err
	}
	return b.b.Commit(pebble.NoSync)
}
func (b batch) Close() error { return b.b.Close() }

var _ kv.Engine = (*Engine)(nil)
