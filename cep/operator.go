package cep

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// PatternStream is a keyed stream matched against a pattern. Configure it
// with its methods, then turn matches into records with Select or
// FlatSelect.
type PatternStream[K comparable, T any] struct {
	ks       weir.KeyedStream[K, T]
	p        *Seq[T]
	procTime bool
	timeouts *weir.OutputTag[TimedOut[K, T]]
	late     *weir.OutputTag[T]
	cmp      func(a, b T) int
}

// TimedOut is a partial match dropped because the pattern's Within
// elapsed: the key, the events accepted so far by step name, and the time
// at which it timed out (first event + Within).
type TimedOut[K comparable, T any] struct {
	Key    K
	Events map[string][]T
	At     int64
}

// Pattern matches p against ks, per key. By default it runs in event
// time: records are buffered in keyed state and matched in timestamp order
// as the watermark passes them; records at or behind the watermark are
// late (see SideOutputLateData).
func Pattern[K comparable, T any](ks weir.KeyedStream[K, T], p *Seq[T]) PatternStream[K, T] {
	return PatternStream[K, T]{ks: ks, p: p}
}

// InProcessingTime matches records as they arrive, timing Within by the
// processing-time clock.
func (ps PatternStream[K, T]) InProcessingTime() PatternStream[K, T] {
	ps.procTime = true
	return ps
}

// WithComparator orders the events of equal timestamps (event time) by cmp
// (negative: a first) instead of by arrival, as Flink's CEP.pattern with an
// EventComparator does; events cmp finds equal keep their arrival order.
func (ps PatternStream[K, T]) WithComparator(cmp func(a, b T) int) PatternStream[K, T] {
	ps.cmp = cmp
	return ps
}

// SideOutputTimeouts sends partial matches that time out (Within) to tag.
func (ps PatternStream[K, T]) SideOutputTimeouts(tag weir.OutputTag[TimedOut[K, T]]) PatternStream[K, T] {
	ps.timeouts = &tag
	return ps
}

// SideOutputLateData sends event-time records that arrive at or behind the
// watermark to tag instead of dropping them. (A record without a timestamp
// is not late but a job without timestamps: it fails the job, see
// errNoTimestamp.)
func (ps PatternStream[K, T]) SideOutputLateData(tag weir.OutputTag[T]) PatternStream[K, T] {
	ps.late = &tag
	return ps
}

// Select emits fn's result for each match. The match maps each step name
// to the events it accepted, in order. A match's record has the timestamp
// of the event that completed it.
func Select[K comparable, T, O any](ps PatternStream[K, T], fn func(key K, match map[string][]T) (O, error)) weir.Stream[O] {
	return build(ps, func(c *weir.KeyedContext[K, O], key K, match map[string][]T, ts int64) error {
		o, err := fn(key, match)
		if err != nil {
			return err
		}
		c.CollectWithTimestamp(o, ts)
		return nil
	})
}

// FlatSelect calls fn for each match; fn emits any number of records with
// out.
func FlatSelect[K comparable, T, O any](ps PatternStream[K, T], fn func(key K, match map[string][]T, out func(O)) error) weir.Stream[O] {
	return build(ps, func(c *weir.KeyedContext[K, O], key K, match map[string][]T, ts int64) error {
		return fn(key, match, func(o O) { c.CollectWithTimestamp(o, ts) })
	})
}

func build[K comparable, T, O any](ps PatternStream[K, T], sel func(*weir.KeyedContext[K, O], K, map[string][]T, int64) error) weir.Stream[O] {
	f := &cepFunc[K, T, O]{sel: sel, procTime: ps.procTime, timeouts: ps.timeouts, late: ps.late, cmp: ps.cmp}
	f.nfa, f.err = compile(ps.p)
	return weir.ProcessKeyed[K, T, O](ps.ks, f).DefaultName("CEP")
}

// cepFunc is the CEP operator, a weir KeyedProcessFunction: keyed state
// (state.Value holding the key's buffer), event- and processing-time
// timers and side outputs are all it needs, so it lives in this package
// without runtime internals. The price is that a key with queued events
// needs its own event-time timer to learn that the watermark passed them
// (a function sees no watermark callback), as Flink's CepOperator also
// registers per-key timers. The compiled NFA is shared (immutable); the
// matcher, state handle and buffer pool are created per subtask in Open.
type cepFunc[K comparable, T, O any] struct {
	nfa      *nfa[T]
	err      error
	sel      func(*weir.KeyedContext[K, O], K, map[string][]T, int64) error
	selView  func(*weir.KeyedContext[K, O], K, *Match[T], int64) error // instead of sel
	procTime bool
	timeouts *weir.OutputTag[TimedOut[K, T]]
	late     *weir.OutputTag[T]
	cmp      func(a, b T) int // orders equal timestamps, nil for arrival order

	st          state.Value[*buffer[T]]
	lateDropped *int64
	m           *matcher[T]
	cur         *weir.KeyedContext[K, O]
	pool        []*buffer[T]
	view        Match[T]
}

// Open compiles nothing (the pattern was compiled when the job was built)
// but reports a pattern error, and prepares the subtask's matcher.
func (f *cepFunc[K, T, O]) Open(rc *weir.KeyedRuntimeContext[K]) error {
	if f.err != nil {
		return f.err
	}
	f.st = state.GetValue[K, *buffer[T]](rc.State(), state.Descriptor{Name: "cep-nfa"})
	f.lateDropped = &rc.Metrics().LateRecordsDropped
	f.pool = nil
	f.m = newMatcher(f.nfa)
	f.m.emit = f.emit
	if f.timeouts != nil {
		f.m.timeout = f.timeout
	}
	return nil
}

func (f *cepFunc[K, T, O]) emit(b *buffer[T], pm partial, ts int64) error {
	var err error
	if f.selView != nil {
		f.view.fill(b, f.nfa.names, pm.Last)
		f.view.ts, f.view.proc = ts, f.cur.CurrentProcessingTime()
		err = f.selView(f.cur, f.cur.Key(), &f.view, ts)
		f.view.clear()
	} else {
		err = f.sel(f.cur, f.cur.Key(), materialize(b, f.nfa.names, pm.Last), ts)
	}
	if err != nil {
		return fmt.Errorf("cep: select: %w", err)
	}
	return nil
}

func (f *cepFunc[K, T, O]) timeout(b *buffer[T], pm partial, at int64) error {
	weir.Output(f.cur, *f.timeouts, TimedOut[K, T]{Key: f.cur.Key(), Events: materialize(b, f.nfa.names, pm.Last), At: at})
	return nil
}

func (f *cepFunc[K, T, O]) load() (*buffer[T], bool, error) {
	if b, ok, err := f.stored(); ok || err != nil {
		return b, ok, err
	}
	if n := len(f.pool); n > 0 {
		b := f.pool[n-1]
		f.pool = f.pool[:n-1]
		return b, false, nil
	}
	return newBuffer[T](), false, nil
}

// stored returns the key's buffer in state, checked (once) when it was
// decoded from a checkpoint.
func (f *cepFunc[K, T, O]) stored() (*buffer[T], bool, error) {
	b, ok := f.st.Value()
	if ok && (b == nil || !b.checked) {
		if err := b.check(len(f.nfa.states), len(f.nfa.names)); err != nil {
			return nil, false, err
		}
	}
	return b, ok, nil
}

// save keeps the key's buffer in state, or clears the state and recycles
// the buffer once it holds nothing and no timer is due, and makes sure a timer will wake the
// key for its next queued event or timeout.
func (f *cepFunc[K, T, O]) save(c *weir.KeyedContext[K, O], b *buffer[T], stored bool) {
	// An empty buffer whose key still has a timer registered stays in
	// state until that timer fires (which clears it if it is still
	// empty): a key with steady traffic keeps its buffer instead of
	// clearing and re-inserting it, and state stays bounded.
	if b.empty() && (!stored || (b.QTimer == noTimer && b.ToTimer == noTimer)) {
		if stored {
			f.st.Clear()
		}
		b.reset()
		f.pool = append(f.pool, b)
		return
	}
	// Two wake-ups at most are registered per key: one for the earliest
	// queued event (event time), one for the earliest timeout; neither
	// when the other's timer fires no later (OnTimer handles both, then
	// registers what is left). A timer that fires early (its reason gone)
	// finds nothing to do.
	if !f.procTime && len(b.Queue) > 0 {
		if q := b.Queue[0].TS; (b.QTimer == noTimer || q < b.QTimer) && (b.ToTimer == noTimer || q < b.ToTimer) {
			b.QTimer = q
			c.RegisterEventTimeTimer(q)
		}
	}
	if w, ok := f.m.nextTimeout(b); ok && (b.ToTimer == noTimer || w < b.ToTimer) && (f.procTime || b.QTimer == noTimer || w < b.QTimer) {
		b.ToTimer = w
		if f.procTime {
			c.RegisterProcessingTimeTimer(w)
		} else {
			c.RegisterEventTimeTimer(w)
		}
	}
	// Written back every time, not only when new: a backend that encodes
	// values (Pebble) keeps a copy, so changes made to the buffer read
	// from it would otherwise be lost; on the heap this stores the same
	// pointer again.
	f.st.Update(b)
}

// errNoTimestamp fails an event-time pattern on a record without a
// timestamp, as windows and interval joins do: such a record can never be
// ordered or matched, and dropping it would lose data silently.
var errNoTimestamp = errors.New("cep: record has no event timestamp; patterns match in event time unless InProcessingTime is set, so the sources need a timestamp assigner")

// ProcessElement matches a record (processing time) or queues it until the
// watermark passes it (event time).
func (f *cepFunc[K, T, O]) ProcessElement(c *weir.KeyedContext[K, O], v T) error {
	f.cur = c
	if f.procTime {
		if f.m.inert(v) {
			return nil
		}
		b, stored, err := f.load()
		if err != nil {
			return err
		}
		if err := f.m.process(b, v, c.CurrentProcessingTime()); err != nil {
			return err
		}
		f.save(c, b, stored)
		return nil
	}
	ts := c.Timestamp()
	if ts == weir.NoTimestamp {
		return errNoTimestamp
	}
	if ts <= c.CurrentWatermark() {
		if f.late != nil {
			weir.Output(c, *f.late, v)
		} else {
			// Counted as Flink's CepOperator counts numLateRecordsDropped.
			atomic.AddInt64(f.lateDropped, 1)
		}
		return nil
	}
	if f.m.inert(v) {
		return nil // it would leave every partial match as it is
	}
	b, stored, err := f.load()
	if err != nil {
		return err
	}
	b.enqueue(v, ts, f.cmp)
	f.save(c, b, stored)
	return nil
}

// OnTimer matches the key's queued records the watermark passed, in
// timestamp order, and times out partial matches.
func (f *cepFunc[K, T, O]) OnTimer(c *weir.KeyedContext[K, O], t int64) error {
	f.cur = c
	b, stored, err := f.stored()
	if err != nil || !stored {
		return err
	}
	if b.QTimer != noTimer && b.QTimer <= t {
		b.QTimer = noTimer
	}
	if b.ToTimer != noTimer && b.ToTimer <= t {
		b.ToTimer = noTimer
	}
	if f.procTime {
		if err := f.m.advance(b, c.CurrentProcessingTime()); err != nil {
			return err
		}
	} else {
		wm := c.CurrentWatermark()
		n := 0
		for n < len(b.Queue) && b.Queue[n].TS <= wm {
			q := b.Queue[n]
			n++
			if err := f.m.process(b, q.V, q.TS); err != nil {
				return err
			}
		}
		if n > 0 {
			var zero queued[T]
			rest := copy(b.Queue, b.Queue[n:])
			for i := rest; i < len(b.Queue); i++ {
				b.Queue[i] = zero
			}
			b.Queue = b.Queue[:rest]
		}
		if err := f.m.advance(b, wm); err != nil {
			return err
		}
	}
	f.save(c, b, true)
	return nil
}
