package cep

import (
	"fmt"
	"math"
	"slices"
)

// matcher runs a compiled NFA over one key's buffer at a time. It is owned
// by one subtask; emit and timeout receive completed and timed-out matches
// while the buffer is still consistent (read them, do not keep node ids).
type matcher[T any] struct {
	n       *nfa[T]
	ctx     Context[T]
	outs    []move
	killed  bool
	err     error
	emit    func(b *buffer[T], pm partial, ts int64) error
	timeout func(b *buffer[T], pm partial, at int64) error
}

// move is a take or ignore edge chosen for the current event.
type move struct {
	kind   edgeKind
	to     int32
	origin int32
}

func newMatcher[T any](n *nfa[T]) *matcher[T] {
	m := &matcher[T]{n: n}
	m.ctx.c = n
	return m
}

// process feeds one event with timestamp ts to the key's partial matches:
// first it drops those that ts times out, then every partial match and a
// fresh one at the start state take their moves.
func (m *matcher[T]) process(b *buffer[T], v T, ts int64) error {
	if err := m.advance(b, ts); err != nil {
		return err
	}
	id := b.Seq
	b.Seq++
	ev := int32(-1)
	next := b.spare[:0]
	b.done = b.done[:0]
	m.ctx.b, m.ctx.ts = b, ts
	for i := range b.PMs {
		pm := b.PMs[i]
		if err := m.step(b, pm, v, ts, id, &ev, &next); err != nil {
			return err
		}
		b.release(pm.Last)
	}
	if err := m.step(b, partial{State: m.n.start, Last: -1}, v, ts, id, &ev, &next); err != nil {
		return err
	}
	b.spare = b.PMs[:0]
	b.PMs = next
	return m.complete(b, b.done, ts)
}

// step applies one event to one partial match, appending its successors
// to next and its completions to b.done.
func (m *matcher[T]) step(b *buffer[T], pm partial, v T, ts, id int64, ev *int32, next *[]partial) error {
	m.outs, m.killed = m.outs[:0], false
	m.ctx.last = pm.Last
	m.explore(pm.State, pm.Last >= 0, v, 0)
	if m.err != nil {
		err := m.err
		m.err = nil
		return err
	}
	if m.killed {
		return nil
	}
	for _, mv := range m.outs {
		switch mv.kind {
		case eIgnore:
			np := pm
			np.State = mv.to
			b.retain(np.Last)
			if m.n.states[mv.to].kind == stFinal {
				b.done = append(b.done, np)
			} else {
				*next = append(*next, np)
			}
		case eTake:
			if *ev < 0 {
				*ev = b.addEvent(v, ts, id)
			}
			nd := b.newNode(*ev, m.n.states[mv.origin].name, pm.Last)
			np := partial{State: mv.to, Last: nd, Start: pm.Start, StartID: pm.StartID}
			if pm.Last < 0 {
				np.Start, np.StartID = ts, id
			}
			b.retain(nd)
			if m.n.states[mv.to].kind == stFinal {
				b.done = append(b.done, np)
				continue
			}
			*next = append(*next, np)
			m.ctx.last = nd
			fin, err := m.reachesFinal(mv.to, v, 0)
			m.ctx.last = pm.Last
			if err != nil {
				return err
			}
			if fin {
				b.retain(nd)
				b.done = append(b.done, np)
			}
		}
	}
	return nil
}

// explore collects the take and ignore moves of state s and of the states
// its proceed edges lead to for event v. A proceed into a stop state
// discards the whole partial match.
func (m *matcher[T]) explore(s int32, hasEvents bool, v T, depth int) {
	st := &m.n.states[s]
	for i := range st.edges {
		e := &st.edges[i]
		if e.kind == eIgnore && !hasEvents {
			continue // a partial match without events is the start; it is re-created each event
		}
		ok, err := e.g.eval(v, &m.ctx)
		if err != nil {
			m.err = m.stepErr(s, err)
			return
		}
		if !ok {
			continue
		}
		switch e.kind {
		case eTake, eIgnore:
			m.outs = append(m.outs, move{kind: e.kind, to: e.to, origin: s})
		case eProceed:
			switch m.n.states[e.to].kind {
			case stStop:
				m.killed = true
				return
			case stFinal:
				// completing without this event was emitted when the
				// previous event was taken (see reachesFinal)
			default:
				if depth < len(m.n.states) {
					m.explore(e.to, hasEvents, v, depth+1)
				}
			}
		}
		if m.killed || m.err != nil {
			return
		}
	}
}

// stepErr names the step whose condition failed.
func (m *matcher[T]) stepErr(s int32, err error) error {
	if i := m.n.states[s].name; i >= 0 {
		return fmt.Errorf("cep: pattern %q: %w", m.n.names[i], err)
	}
	return err
}

// reachesFinal reports whether state s, just entered by taking v, can
// proceed to the final state: the match is complete right away.
func (m *matcher[T]) reachesFinal(s int32, v T, depth int) (bool, error) {
	st := &m.n.states[s]
	for i := range st.edges {
		e := &st.edges[i]
		if e.kind != eProceed || m.n.states[e.to].kind == stStop {
			continue
		}
		ok, err := e.g.eval(v, &m.ctx)
		if err != nil {
			return false, m.stepErr(s, err)
		}
		if !ok {
			continue
		}
		if m.n.states[e.to].kind == stFinal {
			return true, nil
		}
		if depth < len(m.n.states) {
			if fin, err := m.reachesFinal(e.to, v, depth+1); fin || err != nil {
				return fin, err
			}
		}
	}
	return false, nil
}

// deadline returns the time a partial match started at start times out:
// start + within, saturated at MaxInt64 so that a timestamp near the end
// of time cannot wrap around into the past (where a timer for it would
// fire at once, forever).
func deadline(start, within int64) int64 {
	if start > math.MaxInt64-within {
		return math.MaxInt64
	}
	return start + within
}

// advance drops the partial matches that time t times out (t >= start +
// within, saturated), reporting each to timeout.
func (m *matcher[T]) advance(b *buffer[T], t int64) error {
	w := m.n.within
	if w <= 0 || len(b.PMs) == 0 {
		return nil
	}
	keep := b.PMs[:0]
	dropped := false
	var matched []partial
	at := int64(math.MinInt64)
	for _, pm := range b.PMs {
		d := deadline(pm.Start, w)
		if t < d {
			keep = append(keep, pm)
			continue
		}
		dropped = true
		if m.n.states[pm.State].matchOnTimeout {
			matched = append(matched, pm)
			at = max(at, d)
			continue
		}
		if m.timeout != nil {
			if err := m.timeout(b, pm, d); err != nil {
				return err
			}
		}
		b.release(pm.Last)
	}
	b.PMs = keep
	if len(matched) > 0 {
		return m.complete(b, matched, at)
	}
	if dropped && len(b.Pending) > 0 {
		return m.complete(b, nil, t)
	}
	return nil
}

// nextTimeout returns the earliest time a partial match times out.
func (m *matcher[T]) nextTimeout(b *buffer[T]) (int64, bool) {
	if m.n.within <= 0 || len(b.PMs) == 0 {
		return 0, false
	}
	t := b.PMs[0].Start
	for _, pm := range b.PMs[1:] {
		t = min(t, pm.Start)
	}
	return deadline(t, m.n.within), true
}

// complete emits completed matches as the skip strategy allows. With
// NoSkip every match goes out at once. Otherwise matches wait, in order of
// their first event, until no partial match started earlier; each emitted
// match prunes the partial and waiting matches its strategy discards.
func (m *matcher[T]) complete(b *buffer[T], done []partial, ts int64) error {
	if m.n.skip.kind == skipNone {
		for _, pm := range done {
			if err := m.emit(b, pm, ts); err != nil {
				return err
			}
			b.release(pm.Last)
		}
		return nil
	}
	b.Pending = append(b.Pending, done...)
	slices.SortStableFunc(b.Pending, func(x, y partial) int {
		switch {
		case x.StartID < y.StartID:
			return -1
		case x.StartID > y.StartID:
			return 1
		}
		return 0
	})
	for len(b.Pending) > 0 {
		mt := b.Pending[0]
		if len(b.PMs) > 0 {
			earliest := b.PMs[0].StartID
			for _, pm := range b.PMs[1:] {
				earliest = min(earliest, pm.StartID)
			}
			if mt.StartID > earliest {
				break
			}
		}
		b.Pending = append(b.Pending[:0], b.Pending[1:]...)
		if err := m.emit(b, mt, ts); err != nil {
			return err
		}
		prune, inclusive, ok := m.pruneID(b, mt)
		b.release(mt.Last)
		if !ok {
			continue
		}
		drop := func(pm partial) bool {
			if pm.StartID < prune || (inclusive && pm.StartID == prune) {
				b.release(pm.Last)
				return true
			}
			return false
		}
		b.PMs = slices.DeleteFunc(b.PMs, drop)
		b.Pending = slices.DeleteFunc(b.Pending, drop)
	}
	return nil
}

// pruneID returns the event id before which (or up to which, if
// inclusive) partial matches are discarded after emitting mt.
func (m *matcher[T]) pruneID(b *buffer[T], mt partial) (id int64, inclusive, ok bool) {
	first, last, nFirst, nLast := b.ids(mt.Last, m.n.skipIdx)
	switch m.n.skip.kind {
	case skipToNext:
		return first, true, true
	case skipPastLast:
		return last, true, true
	case skipToFirst:
		return nFirst, false, nFirst >= 0
	case skipToLast:
		return nLast, false, nLast >= 0
	}
	return 0, false, false
}

// materialize returns the events of the match ending at node n, by step
// name, each list in event order.
func materialize[T any](b *buffer[T], names []string, n int32) map[string][]T {
	cnt := 0
	for i := n; i >= 0; i = b.Nodes[i].Prev {
		cnt++
	}
	all := make([]T, cnt)
	var small [16]int16
	idx := small[:0]
	if cnt > len(small) {
		idx = make([]int16, cnt)
	}
	idx = idx[:cnt]
	for i, k := n, cnt-1; i >= 0; i, k = b.Nodes[i].Prev, k-1 {
		all[k] = b.Events[b.Nodes[i].Ev].V
		idx[k] = b.Nodes[i].Name
	}
	out := make(map[string][]T, 4)
	// Events of one step are contiguous in most matches; slice them out of
	// all without copying when they are.
	for k := 0; k < cnt; {
		j := k + 1
		for j < cnt && idx[j] == idx[k] {
			j++
		}
		name := names[idx[k]]
		if prev, ok := out[name]; ok {
			out[name] = append(prev[:len(prev):len(prev)], all[k:j]...)
		} else {
			out[name] = all[k:j:j]
		}
		k = j
	}
	return out
}
