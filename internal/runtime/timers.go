package runtime

// Timer is an event-time or processing-time timer of a key in a namespace
// (the window, for window operators; struct{} otherwise).
type Timer[K, N comparable] struct {
	TS       int64
	Key      K
	NS       N
	KeyGroup int
}

// timerKey identifies a timer within its time.
type timerKey[K, N comparable] struct {
	key K
	ns  N
}

// bucket holds the timers of one time, in the order they were registered.
// Small buckets (the common case when times are spread out) deduplicate by
// scanning; an index map is built only past smallBucket entries.
type bucket[K, N comparable] struct {
	entries []bucketEntry[K, N]
	inline  [2]bucketEntry[K, N]     // entries' first backing array
	index   map[timerKey[K, N]]int32 // nil while small
	live    int
	next    int // firing cursor: entries before it have fired
}

type bucketEntry[K, N comparable] struct {
	t    Timer[K, N]
	dead bool
}

const smallBucket = 8

// find returns the index of the live entry of k, or -1. The index may
// still map a fired timer's key to its (dead) entry: popDue does not
// delete from it (see fire).
func (b *bucket[K, N]) find(k timerKey[K, N]) int {
	if b.index != nil {
		if i, ok := b.index[k]; ok && !b.entries[i].dead {
			return int(i)
		}
		return -1
	}
	for i := b.next; i < len(b.entries); i++ {
		e := &b.entries[i]
		if !e.dead && e.t.Key == k.key && e.t.NS == k.ns {
			return i
		}
	}
	return -1
}

// fire marks entry i fired. Unlike kill it leaves the entry's key in the
// index: a bucket fires in one pass, and deleting each fired key from an
// index of many keys costs a cache miss per timer (the keys are visited in
// registration order, not the map's), for entries that find skips anyway
// and that release drops all at once. A timer registered again for the
// same key and time while the bucket fires gets a new entry, which
// overwrites the stale one in the index.
func (b *bucket[K, N]) fire(i int) {
	b.entries[i].dead = true
	b.live--
}

func (b *bucket[K, N]) kill(i int) {
	e := &b.entries[i]
	e.dead = true
	b.live--
	if b.index != nil {
		delete(b.index, timerKey[K, N]{e.t.Key, e.t.NS})
	}
}

// times is a binary min-heap of the distinct times that have a bucket.
type times []int64

func (h *times) push(t int64) {
	*h = append(*h, t)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *times) pop() int64 {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a[r] < a[l] {
			m = r
		}
		if a[i] <= a[m] {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// timerQueue keeps timers bucketed by time: a heap of distinct times and,
// per time, the timers in registration order with a set that deduplicates
// (key, namespace). Keyed operators register many timers at few distinct
// times (window ends, record time plus a timeout), so the heap stays small
// and a bucket's set stays hot in cache; timers of one time fire in the
// order they were registered.
type timerQueue[K, N comparable] struct {
	buckets map[int64]*bucket[K, N]
	times   times
	n       int             // live timers
	firing  *bucket[K, N]   // the bucket being fired (popped from times)
	firingT int64           // its time
	free    []*bucket[K, N] // recycled buckets
}

func newTimerQueue[K, N comparable]() timerQueue[K, N] {
	return timerQueue[K, N]{buckets: map[int64]*bucket[K, N]{}}
}

func (q *timerQueue[K, N]) add(t Timer[K, N]) bool {
	b := q.buckets[t.TS]
	if b == nil {
		if n := len(q.free); n > 0 {
			b, q.free = q.free[n-1], q.free[:n-1]
		} else {
			b = &bucket[K, N]{}
			b.entries = b.inline[:0]
		}
		q.buckets[t.TS] = b
		q.times.push(t.TS)
	}
	k := timerKey[K, N]{t.Key, t.NS}
	if b.find(k) >= 0 {
		return false
	}
	b.entries = append(b.entries, bucketEntry[K, N]{t: t})
	b.live++
	q.n++
	switch {
	case b.index != nil:
		b.index[k] = int32(len(b.entries) - 1)
	case len(b.entries)-b.next > smallBucket:
		b.index = make(map[timerKey[K, N]]int32, 2*smallBucket)
		for i := b.next; i < len(b.entries); i++ {
			if e := b.entries[i]; !e.dead {
				b.index[timerKey[K, N]{e.t.Key, e.t.NS}] = int32(i)
			}
		}
	}
	return true
}

func (q *timerQueue[K, N]) remove(t Timer[K, N]) {
	b := q.buckets[t.TS]
	if b == nil {
		return
	}
	if i := b.find(timerKey[K, N]{t.Key, t.NS}); i >= 0 {
		b.kill(i)
		q.n--
		if b.live == 0 && b != q.firing {
			// Its time stays in the heap and is skipped when it comes.
			q.release(t.TS, b)
		}
	}
}

// release drops an exhausted bucket and keeps it for reuse (small ones:
// a big one's memory goes with it).
func (q *timerQueue[K, N]) release(ts int64, b *bucket[K, N]) {
	delete(q.buckets, ts)
	if cap(b.entries) > 64 {
		return
	}
	clear(b.entries)
	b.entries, b.next, b.live, b.index = b.entries[:0], 0, 0, nil
	if len(q.free) < 1024 {
		q.free = append(q.free, b)
	}
}

// popDue returns the next live timer at or before ts: the earliest time's
// timers in registration order, including timers registered at that time
// while it fires.
func (q *timerQueue[K, N]) popDue(ts int64) (Timer[K, N], bool) {
	for {
		if b := q.firing; b != nil {
			for b.next < len(b.entries) {
				i := b.next
				b.next++
				if e := b.entries[i]; !e.dead {
					b.fire(i)
					q.n--
					return e.t, true
				}
			}
			q.firing = nil
			q.release(q.firingT, b)
		}
		if len(q.times) == 0 || q.times[0] > ts {
			return Timer[K, N]{}, false
		}
		t := q.times.pop()
		// A time whose bucket was released (all its timers deleted) has
		// none: skip it.
		q.firing, q.firingT = q.buckets[t], t
	}
}

// peek returns the earliest live timer's time.
func (q *timerQueue[K, N]) peek() (int64, bool) {
	if b := q.firing; b != nil && b.live > 0 {
		return q.firingT, true
	}
	for len(q.times) > 0 {
		t := q.times[0]
		b := q.buckets[t]
		if b != nil && b.live > 0 {
			return t, true
		}
		if b != nil {
			q.release(t, b)
		}
		q.times.pop()
	}
	return 0, false
}

// each calls fn for every live timer.
func (q *timerQueue[K, N]) each(fn func(Timer[K, N])) {
	for _, b := range q.buckets {
		for _, e := range b.entries[b.next:] {
			if !e.dead {
				fn(e.t)
			}
		}
	}
}

// TimerService keeps the event-time and processing-time timers of a keyed
// operator, deduplicated per (time, key, namespace), and fires them through
// the callbacks in time order (registration order within one time).
type TimerService[K, N comparable] struct {
	event, proc timerQueue[K, N]
	pts         ProcessingTimeService
	scheduled   int64 // earliest processing time a wake-up is scheduled for
	watermark   int64
	onEvent     func(Timer[K, N]) error
	onProc      func(Timer[K, N]) error
	// implicit holds event-time timers the owner keeps outside the
	// service (see SetImplicitEventTimers); nil when there are none.
	implicit ImplicitTimers[K, N]
}

// NewTimerService returns a timer service. onEvent runs for due event-time
// timers as the watermark advances, onProc for due processing-time timers.
func NewTimerService[K, N comparable](pts ProcessingTimeService, onEvent, onProc func(Timer[K, N]) error) *TimerService[K, N] {
	return &TimerService[K, N]{
		event:     newTimerQueue[K, N](),
		proc:      newTimerQueue[K, N](),
		pts:       pts,
		scheduled: MaxWatermark,
		watermark: MinWatermark,
		onEvent:   onEvent,
		onProc:    onProc,
	}
}

// CurrentWatermark is the last watermark passed to AdvanceWatermark.
func (s *TimerService[K, N]) CurrentWatermark() int64 { return s.watermark }

// RegisterEventTime adds an event-time timer.
func (s *TimerService[K, N]) RegisterEventTime(t Timer[K, N]) { s.event.add(t) }

// DeleteEventTime removes an event-time timer.
func (s *TimerService[K, N]) DeleteEventTime(t Timer[K, N]) { s.event.remove(t) }

// RegisterProcessingTime adds a processing-time timer.
func (s *TimerService[K, N]) RegisterProcessingTime(t Timer[K, N]) {
	if s.proc.add(t) && t.TS < s.scheduled {
		s.scheduled = t.TS
		s.pts.Schedule(t.TS, s.fireProc)
	}
}

// DeleteProcessingTime removes a processing-time timer.
func (s *TimerService[K, N]) DeleteProcessingTime(t Timer[K, N]) { s.proc.remove(t) }

// NumEventTimers returns the number of live event-time timers.
func (s *TimerService[K, N]) NumEventTimers() int { return s.event.n }

// NumProcessingTimers returns the number of live processing-time timers.
func (s *TimerService[K, N]) NumProcessingTimers() int { return s.proc.n }

// AdvanceWatermark fires every event-time timer at or before wm, in time
// order, including timers the callbacks register at or before wm. It stops
// with ErrCanceled when the task is cancelled (see TimerQueue.SetDone).
func (s *TimerService[K, N]) AdvanceWatermark(wm int64) error {
	s.watermark = wm
	for n := 1; ; n++ {
		if n%cancelCheckEvery == 0 {
			if err := canceled(s.pts); err != nil {
				return err
			}
		}
		t, ok := s.event.popDue(wm)
		if !ok {
			return nil
		}
		if err := s.onEvent(t); err != nil {
			return err
		}
	}
}

func (s *TimerService[K, N]) fireProc(now int64) error {
	if s.scheduled <= now {
		s.scheduled = MaxWatermark
	}
	for n := 1; ; n++ {
		if n%cancelCheckEvery == 0 {
			if err := canceled(s.pts); err != nil {
				return err
			}
		}
		t, ok := s.proc.popDue(now)
		if !ok {
			break
		}
		if err := s.onProc(t); err != nil {
			return err
		}
	}
	if next, ok := s.proc.peek(); ok && next < s.scheduled {
		s.scheduled = next
		s.pts.Schedule(next, s.fireProc)
	}
	return nil
}

// ImplicitTimers is an index of event-time timers that a timer service's
// owner keeps itself, equivalent to registered timers (a window operator's
// windows by end on the heap), and fires itself when the watermark passes
// them. A timer it holds should not also be registered in the service (if
// it is, the registered one fires first and the owner must find nothing
// left to fire; a snapshot then lists it twice, which a restore
// deduplicates).
type ImplicitTimers[K, N comparable] interface {
	// Each calls fn for every timer the index holds.
	Each(fn func(Timer[K, N]))
	// Freeze captures the index for a snapshot; it is called while the
	// keyed backend takes one (copy-on-write, as the backend's state). The
	// function it returns lists the timers of key group idx (relative to
	// the subtask's range), for ascending idx, possibly on another
	// goroutine.
	Freeze() func(idx int, fn func(Timer[K, N]))
}

// SetImplicitEventTimers declares the owner's implicit event-time timers.
// ForEachTimer includes them, and snapshots hold them as timers (so a
// snapshot holds the same timers as if they had been registered, and
// restores into a service that registers them).
func (s *TimerService[K, N]) SetImplicitEventTimers(x ImplicitTimers[K, N]) { s.implicit = x }

// Implicit returns the implicit event-time timers, or nil.
func (s *TimerService[K, N]) Implicit() ImplicitTimers[K, N] { return s.implicit }

// ForEachTimer calls fn for every live timer, event-time ones with
// processing false, implicit ones included; the order is unspecified.
func (s *TimerService[K, N]) ForEachTimer(fn func(processing bool, ts int64, key K, ns N)) {
	s.ForEachRegisteredTimer(fn)
	if s.implicit != nil {
		s.implicit.Each(func(t Timer[K, N]) { fn(false, t.TS, t.Key, t.NS) })
	}
}

// ForEachRegisteredTimer calls fn for every live timer registered in the
// service (implicit ones excluded); the order is unspecified.
func (s *TimerService[K, N]) ForEachRegisteredTimer(fn func(processing bool, ts int64, key K, ns N)) {
	s.event.each(func(t Timer[K, N]) { fn(false, t.TS, t.Key, t.NS) })
	s.proc.each(func(t Timer[K, N]) { fn(true, t.TS, t.Key, t.NS) })
}

// DeleteEventTimersIf deletes the registered event-time timers for which
// drop returns true (an owner taking restored timers into its implicit
// index).
func (s *TimerService[K, N]) DeleteEventTimersIf(drop func(Timer[K, N]) bool) {
	var del []Timer[K, N]
	s.event.each(func(t Timer[K, N]) {
		if drop(t) {
			del = append(del, t)
		}
	})
	for _, t := range del {
		s.event.remove(t)
	}
}
