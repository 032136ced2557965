package cep

import "github.com/weirstream/weir"

// Match is a read-only view of one match, handed to the function of
// SelectMatch: the events each step accepted, in order, without building a
// map. A Match and the slices it returns are valid only during that call
// (they are reused for the next match); copy what must outlive it.
type Match[T any] struct {
	names []string
	all   []T
	idx   []int16
	tmp   []T
	ts    int64
	proc  int64
}

// Step returns the name of the step that accepted Events()[i].
func (m *Match[T]) Step(i int) string { return m.names[m.idx[i]] }

// Timestamp returns the timestamp the match's record gets: the time of
// the event whose processing emitted the match (usually its last event;
// later when the skip strategy held the match back).
func (m *Match[T]) Timestamp() int64 { return m.ts }

// ProcessingTime returns the processing time at which the match was
// emitted.
func (m *Match[T]) ProcessingTime() int64 { return m.proc }

// fill loads the match ending at node n of b.
func (m *Match[T]) fill(b *buffer[T], names []string, n int32) {
	m.names = names
	cnt := 0
	for i := n; i >= 0; i = b.Nodes[i].Prev {
		cnt++
	}
	m.all = grow(m.all, cnt)
	m.idx = grow(m.idx, cnt)
	for i, k := n, cnt-1; i >= 0; i, k = b.Nodes[i].Prev, k-1 {
		m.all[k] = b.Events[b.Nodes[i].Ev].V
		m.idx[k] = b.Nodes[i].Name
	}
}

// clear drops the match's events so they can be collected.
func (m *Match[T]) clear() {
	clear(m.all)
	clear(m.tmp)
	m.all, m.tmp = m.all[:0], m.tmp[:0]
}

func grow[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}

// Events returns all events of the match in order.
func (m *Match[T]) Events() []T { return m.all[:len(m.all):len(m.all)] }

// Get returns the events step name accepted, in order (nil if none).
func (m *Match[T]) Get(name string) []T {
	id := int16(-1)
	for i, n := range m.names {
		if n == name {
			id = int16(i)
			break
		}
	}
	if id < 0 {
		return nil
	}
	first, last, count := -1, -1, 0
	for k, x := range m.idx {
		if x == id {
			if first < 0 {
				first = k
			}
			last = k
			count++
		}
	}
	switch {
	case count == 0:
		return nil
	case last-first+1 == count: // contiguous, the common case
		return m.all[first : last+1 : last+1]
	}
	m.tmp = m.tmp[:0]
	for k, x := range m.idx {
		if x == id {
			m.tmp = append(m.tmp, m.all[k])
		}
	}
	return m.tmp[:len(m.tmp):len(m.tmp)]
}

// SelectMatch is Select without the match map: fn reads the match through
// a Match view, which costs no allocation per match. A match's record has
// the timestamp of the event that completed it.
func SelectMatch[K comparable, T, O any](ps PatternStream[K, T], fn func(key K, m *Match[T]) (O, error)) weir.Stream[O] {
	f := &cepFunc[K, T, O]{procTime: ps.procTime, timeouts: ps.timeouts, late: ps.late, cmp: ps.cmp}
	f.selView = func(c *weir.KeyedContext[K, O], key K, m *Match[T], ts int64) error {
		o, err := fn(key, m)
		if err != nil {
			return err
		}
		c.CollectWithTimestamp(o, ts)
		return nil
	}
	f.nfa, f.err = compile(ps.p)
	return weir.ProcessKeyed[K, T, O](ps.ks, f).DefaultName("CEP")
}
