package runtime

// Timer is an event-time or processing-time timer of a key in a namespace
// (the window, for window operators; struct{} otherwise).
type Timer[K, N comparable] struct {
	TS       int64
	Key      K
	NS       N
	KeyGroup int
}

type timerID[K, N comparable] struct {
	ts  int64
	key K
	ns  N
}

// timerHeap is a binary min-heap of timers by time. It is typed (no
// container/heap), so pushing and popping a timer allocates nothing.
type timerHeap[K, N comparable] []Timer[K, N]

func (h *timerHeap[K, N]) push(t Timer[K, N]) {
	*h = append(*h, t)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].TS <= a[i].TS {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *timerHeap[K, N]) pop() Timer[K, N] {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a[n] = Timer[K, N]{}
	a = a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a[r].TS < a[l].TS {
			m = r
		}
		if a[i].TS <= a[m].TS {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

type timerQueue[K, N comparable] struct {
	h   timerHeap[K, N]
	set map[timerID[K, N]]struct{}
}

func (q *timerQueue[K, N]) add(t Timer[K, N]) bool {
	id := timerID[K, N]{t.TS, t.Key, t.NS}
	if _, ok := q.set[id]; ok {
		return false
	}
	q.set[id] = struct{}{}
	q.h.push(t)
	return true
}

func (q *timerQueue[K, N]) remove(t Timer[K, N]) {
	delete(q.set, timerID[K, N]{t.TS, t.Key, t.NS})
}

// popDue returns the next live timer at or before ts.
func (q *timerQueue[K, N]) popDue(ts int64) (Timer[K, N], bool) {
	for len(q.h) > 0 && q.h[0].TS <= ts {
		t := q.h.pop()
		id := timerID[K, N]{t.TS, t.Key, t.NS}
		if _, ok := q.set[id]; ok {
			delete(q.set, id)
			return t, true
		}
	}
	return Timer[K, N]{}, false
}

// peek returns the earliest live timer's time.
func (q *timerQueue[K, N]) peek() (int64, bool) {
	for len(q.h) > 0 {
		t := q.h[0]
		if _, ok := q.set[timerID[K, N]{t.TS, t.Key, t.NS}]; ok {
			return t.TS, true
		}
		q.h.pop()
	}
	return 0, false
}

// TimerService keeps the event-time and processing-time timers of a keyed
// operator, deduplicated per (time, key, namespace), and fires them through
// the callbacks. Deleted timers are dropped lazily when they reach the top.
type TimerService[K, N comparable] struct {
	event, proc timerQueue[K, N]
	pts         ProcessingTimeService
	scheduled   int64 // earliest processing time a wake-up is scheduled for
	watermark   int64
	onEvent     func(Timer[K, N]) error
	onProc      func(Timer[K, N]) error
}

// NewTimerService returns a timer service. onEvent runs for due event-time
// timers as the watermark advances, onProc for due processing-time timers.
func NewTimerService[K, N comparable](pts ProcessingTimeService, onEvent, onProc func(Timer[K, N]) error) *TimerService[K, N] {
	return &TimerService[K, N]{
		event:     timerQueue[K, N]{set: map[timerID[K, N]]struct{}{}},
		proc:      timerQueue[K, N]{set: map[timerID[K, N]]struct{}{}},
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
func (s *TimerService[K, N]) NumEventTimers() int { return len(s.event.set) }

// NumProcessingTimers returns the number of live processing-time timers.
func (s *TimerService[K, N]) NumProcessingTimers() int { return len(s.proc.set) }

// AdvanceWatermark fires every event-time timer at or before wm, in time
// order, including timers the callbacks register at or before wm.
func (s *TimerService[K, N]) AdvanceWatermark(wm int64) error {
	s.watermark = wm
	for {
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
	for {
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

// ForEachTimer calls fn for every live timer, event-time ones with
// processing false; the order is unspecified.
func (s *TimerService[K, N]) ForEachTimer(fn func(processing bool, ts int64, key K, ns N)) {
	for id := range s.event.set {
		fn(false, id.ts, id.key, id.ns)
	}
	for id := range s.proc.set {
		fn(true, id.ts, id.key, id.ns)
	}
}

// ForEachEventTimer calls fn for every live event-time timer.
func (s *TimerService[K, N]) ForEachEventTimer(fn func(Timer[K, N])) {
	for _, t := range s.event.h {
		if _, ok := s.event.set[timerID[K, N]{t.TS, t.Key, t.NS}]; ok {
			fn(t)
		}
	}
}
