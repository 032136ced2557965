package pebble

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// scheduler grants one database's compactions, as Pebble's default
// (ConcurrencyLimitScheduler) does: as many at once as the database allows
// without permission (its GetAllowedWithoutPermission, which grows with
// its compaction debt), looked at again when a compaction ends, when the
// database says the allowance may have grown, and every grantEvery.
//
// It replaces Pebble's default because Pebble registers the scheduler of a
// database midway through Open and does not unregister it when Open fails
// after that (on a full disk, writing the OPTIONS file or the new WAL
// fails there): the default's granter goroutine then went on offering
// compactions every 100 ms to the database that never opened, whose file
// cache Open had closed, and the first one it started panicked the
// process in the file cache (the CI run of stop 39 died so in this
// package's tests). This one grants nothing until Open has returned the
// database (start), and open unregisters it when Open fails.
type scheduler struct {
	mu   sync.Mutex
	cond *sync.Cond // broadcast when granting ends
	db   pebble.DBForCompaction
	// running counts the compactions granted and not done.
	running int
	// ready is set once Open returned the database; closed by
	// Unregister, for good. granting is set while a grant round calls
	// the database (outside mu).
	ready, closed, granting bool
	// poke asks the granter for a round; stop ends it, done is closed
	// when it has ended (nil until Register starts it).
	poke chan struct{}
	stop chan struct{}
	done chan struct{}
	// grants counts the compactions granted so far (tests).
	grants int
	// every is the period of the granter's rounds (grantEvery; tests
	// lengthen it).
	every time.Duration
}

// grantEvery is how often the granter looks for a compaction to grant
// when nothing else asks it to (Pebble's default does it every 100 ms).
const grantEvery = 100 * time.Millisecond

var (
	_ pebble.CompactionScheduler   = (*scheduler)(nil)
	_ pebble.CompactionGrantHandle = (*scheduler)(nil)
)

func newScheduler() *scheduler {
	s := &scheduler{poke: make(chan struct{}, 1), stop: make(chan struct{}), every: grantEvery}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Register is called by Pebble's Open: it starts the granter, which
// grants nothing before start.
func (s *scheduler) Register(_ int, db pebble.DBForCompaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.done != nil {
		return
	}
	s.db = db
	s.done = make(chan struct{})
	go s.granter(s.done)
}

// start lets the scheduler grant compactions, once Open has returned the
// database; a compaction Open asked for meanwhile is granted now.
func (s *scheduler) start() {
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	s.UpdateGetAllowedWithoutPermission()
}

// Unregister is called by Pebble's Close, and by open when Open failed
// (Register may or may not have been called): no compaction is granted
// after it returns, and the granter has ended.
func (s *scheduler) Unregister() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for s.granting {
		s.cond.Wait()
	}
	done := s.done
	s.mu.Unlock()
	close(s.stop)
	if done != nil {
		<-done
	}
}

// TrySchedule is called by the database, under its mutex, when it has a
// compaction to run.
func (s *scheduler) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready || s.closed || s.db.GetAllowedWithoutPermission() <= s.running {
		return false, nil
	}
	s.running++
	s.grants++
	return true, s
}

// UpdateGetAllowedWithoutPermission asks the granter for a round: the
// database may allow more compactions (a flush added to its debt).
func (s *scheduler) UpdateGetAllowedWithoutPermission() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Started, MeasureCPU and CumulativeStats are the grant handle's reports
// of a compaction's progress, which this scheduler does not use.
func (s *scheduler) Started()                                          {}
func (s *scheduler) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (s *scheduler) CumulativeStats(pebble.CompactionGrantHandleStats) {}

// Done ends a granted compaction (called without the database's mutex):
// the room it leaves goes to a waiting compaction at once.
func (s *scheduler) Done() {
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	s.grant()
}

// granter runs grant rounds when poked and every grantEvery, until stop.
func (s *scheduler) granter(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.poke:
		}
		s.grant()
	}
}

// grant offers the database as many compactions as it allows beyond those
// running, while it has one waiting. One round runs at a time; the
// database's methods are called without s.mu (the database calls
// TrySchedule under its own mutex).
func (s *scheduler) grant() {
	s.mu.Lock()
	for s.granting && !s.closed {
		s.cond.Wait()
	}
	if s.closed || !s.ready {
		s.mu.Unlock()
		return
	}
	n := s.db.GetAllowedWithoutPermission() - s.running
	if n <= 0 {
		s.mu.Unlock()
		return
	}
	s.granting = true
	s.mu.Unlock()
	for ; n > 0; n-- {
		if waiting, _ := s.db.GetWaitingCompaction(); !waiting {
			break
		}
		if !s.db.Schedule(s) {
			break
		}
		s.mu.Lock()
		s.running++
		s.grants++
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.granting = false
	s.cond.Broadcast()
	s.mu.Unlock()
}
