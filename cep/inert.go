package cep

// Pre-filtering of inert events. An event that, in every state a partial
// match can wait in, is only ignored (the partial match stays where it is)
// and that starts no partial match changes nothing but the time: the
// operator can drop it without touching the key's state or timers. Time
// alone times partial matches out by the same rule when the next event or
// timer comes, so the matches and timeouts are the same. The test needs
// conditions that see only the event (Where, Or, Until with plain
// functions): iterative ones depend on the partial match.

// prepareInert decides whether the pattern allows the test: conditions
// that see only the event, and an ignore edge in every normal state (else
// no event is ever inert).
func (n *nfa[T]) prepareInert() {
	n.inertOK = false
	for s := range n.states {
		st := &n.states[s]
		for _, e := range st.edges {
			for _, t := range e.g {
				if !t.c.plain() {
					return
				}
			}
			if (e.kind == eTake || e.kind == eIgnore) && e.to == n.start {
				n.startHeld = true
			}
		}
	}
	for s := range n.states {
		st := &n.states[s]
		if st.kind != stNormal || (int32(s) == n.start && !n.startHeld) {
			continue
		}
		ignores := false
		for _, e := range st.edges {
			ignores = ignores || (e.kind == eIgnore && e.to == int32(s))
		}
		if !ignores {
			return
		}
	}
	n.inertOK = true
}

// plain reports whether the condition sees only the event.
func (c *cnode[T]) plain() bool {
	switch c.op {
	case opAnd, opOr:
		return c.l.plain() && c.r.plain()
	case opNot:
		return c.l.plain()
	}
	return c.simple != nil
}

// inert reports whether v would leave every partial match where it is and
// start none.
func (m *matcher[T]) inert(v T) bool {
	n := m.n
	if !n.inertOK {
		return false
	}
	m.ctx.b, m.ctx.last = nil, -1
	for s := range n.states {
		st := &n.states[s]
		if st.kind != stNormal {
			continue
		}
		if int32(s) == n.start {
			// A fresh partial match at the start must take nothing.
			if !m.onlySelfIgnore(int32(s), false, v) {
				return false
			}
			if !n.startHeld {
				continue
			}
		}
		if !m.onlySelfIgnore(int32(s), true, v) {
			return false
		}
	}
	return true
}

// onlySelfIgnore reports whether the moves of state s for v are exactly
// an ignore back to s (with events) or none (without).
func (m *matcher[T]) onlySelfIgnore(s int32, hasEvents bool, v T) bool {
	m.outs, m.killed, m.err = m.outs[:0], false, nil
	m.explore(s, hasEvents, v, 0)
	ok := !m.killed && m.err == nil
	if hasEvents {
		ok = ok && len(m.outs) == 1 && m.outs[0].kind == eIgnore && m.outs[0].to == s
	} else {
		ok = ok && len(m.outs) == 0
	}
	m.outs, m.killed, m.err = m.outs[:0], false, nil
	return ok
}
