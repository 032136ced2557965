package cep

import (
	"fmt"
	"strings"
)

// The compiled form of a pattern is a non-deterministic automaton in the
// style of Flink's NFACompiler (after Agrawal et al., "Efficient Pattern
// Matching over Event Streams"): states joined by three kinds of edges.
//
//   - take: accept the event into the partial match and move to the target;
//   - ignore: drop the event and move to the target (often the same state);
//   - proceed: move to the target without consuming the event, which the
//     target then examines (an epsilon move, evaluated on the event).
//
// A partial match is a state plus the chain of accepted events. The
// compiler works from the last step back to the first, so every step knows
// the state that follows it (its sink).

type stateKind uint8

const (
	stNormal stateKind = iota
	stFinal
	stStop
)

type edgeKind uint8

const (
	eTake edgeKind = iota
	eIgnore
	eProceed
)

type edge[T any] struct {
	kind edgeKind
	to   int32
	g    guard[T]
}

type nstate[T any] struct {
	name  int16 // index into nfa.names of the step this state belongs to; -1 for none
	kind  stateKind
	edges []edge[T]
	// matchOnTimeout: a partial match waiting here when Within passes is a
	// match (the sequence ends with NotFollowedBy, which only time can
	// complete).
	matchOnTimeout bool
}

// nfa is an immutable compiled pattern, shared by all subtasks.
type nfa[T any] struct {
	states  []nstate[T]
	start   int32
	final   int32
	names   []string
	nameIdx map[string]int
	within  int64 // milliseconds; 0 = unbounded
	skip    SkipStrategy
	skipIdx int // name index for SkipToFirst/SkipToLast

	inertOK   bool // events may be tested for inertness (see inert.go)
	startHeld bool // an edge leads back to the start state
}

type compiler[T any] struct {
	n    *nfa[T]
	stop int32
	err  error
	yes  *cnode[T]
}

func (c *compiler[T]) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("cep: "+format, args...)
	}
}

func (c *compiler[T]) newState(name int16, kind stateKind) int32 {
	c.n.states = append(c.n.states, nstate[T]{name: name, kind: kind})
	return int32(len(c.n.states) - 1)
}

func (c *compiler[T]) add(s int32, k edgeKind, to int32, g guard[T]) {
	c.n.states[s].edges = append(c.n.states[s].edges, edge[T]{kind: k, to: to, g: g})
}

// flatten lists the steps of the sequence ending at p, first step first.
func flatten[T any](p *Seq[T]) []*Seq[T] {
	var out []*Seq[T]
	for ; p != nil; p = p.prev {
		out = append(out, p)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func compile[T any](p *Seq[T]) (*nfa[T], error) {
	if p == nil {
		return nil, fmt.Errorf("cep: nil pattern")
	}
	if p.seq.err != nil {
		return nil, p.seq.err
	}
	c := &compiler[T]{n: &nfa[T]{nameIdx: map[string]int{}, skip: p.seq.skip, skipIdx: -1}}
	c.yes = &cnode[T]{simple: func(T) bool { return true }}
	c.n.within = p.seq.within.Milliseconds()
	stages := flatten(p)
	c.register(stages, true)
	if c.err != nil {
		return nil, c.err
	}
	if last := stages[len(stages)-1]; last.neg == negNotFollowedBy && c.n.within == 0 {
		return nil, fmt.Errorf("cep: a pattern sequence can end with NotFollowedBy (%q) only with Within", last.name)
	}
	switch c.n.skip.kind {
	case skipToFirst, skipToLast:
		idx, ok := c.n.nameIdx[c.n.skip.name]
		if !ok {
			return nil, fmt.Errorf("cep: skip strategy %v names no pattern", c.n.skip)
		}
		c.n.skipIdx = idx
	}
	c.n.final = c.newState(-1, stFinal)
	c.stop = c.newState(-1, stStop)
	c.n.start = c.seq(stages, c.n.final, relaxed)
	if c.err != nil {
		return nil, c.err
	}
	c.markMatchOnTimeout()
	c.n.prepareInert()
	return c.n, nil
}

// markMatchOnTimeout flags the states that proceed, without consuming an
// event, to a state waiting out a trailing NotFollowedBy: a partial match
// there has nothing left to wait for but the end of Within.
func (c *compiler[T]) markMatchOnTimeout() {
	for changed := true; changed; {
		changed = false
		for i := range c.n.states {
			st := &c.n.states[i]
			if st.matchOnTimeout {
				continue
			}
			for _, e := range st.edges {
				if e.kind == eProceed && c.n.states[e.to].matchOnTimeout {
					st.matchOnTimeout, changed = true, true
					break
				}
			}
		}
	}
}

// register checks names and the placement of negations and records the
// step names.
func (c *compiler[T]) register(stages []*Seq[T], top bool) {
	for i, st := range stages {
		if i == 0 && st.neg != notNegated {
			c.fail("a pattern sequence cannot begin with a negative pattern (%q)", st.name)
		}
		if st.neg == negNotFollowedBy && i+1 < len(stages) && stages[i+1].optional {
			c.fail("NotFollowedBy(%q) before an optional pattern is not supported", st.name)
		}
		if st.neg == negNotFollowedBy && !top && i == len(stages)-1 {
			c.fail("a group cannot end with NotFollowedBy (%q)", st.name)
		}
		if st.group != nil {
			if st.greedy {
				c.fail("Greedy is not supported on group patterns")
			}
			if st.until != nil {
				c.fail("Until is not supported on group patterns")
			}
			c.register(flatten(st.group), false)
			continue
		}
		if st.greedy && st.from == st.to && !st.looping {
			c.fail("Greedy on %q needs a looping or ranged quantifier", st.name)
		}
		if st.until != nil && !st.looping {
			c.fail("Until on %q needs a looping quantifier (OneOrMore, TimesOrMore)", st.name)
		}
		if _, dup := c.n.nameIdx[st.name]; dup {
			c.fail("duplicate pattern name %q", st.name)
			continue
		}
		if strings.HasPrefix(st.name, "$") {
			c.fail("pattern names starting with $ are reserved (%q)", st.name)
		}
		c.n.nameIdx[st.name] = len(c.n.names)
		c.n.names = append(c.n.names, st.name)
	}
}

// seq compiles a sequence of steps leading to sink and returns its entry
// state. first overrides the contiguity of the first step.
func (c *compiler[T]) seq(stages []*Seq[T], sink int32, first contiguity) int32 {
	for i := len(stages) - 1; i >= 0; i-- {
		st := stages[i]
		outer := st.outer
		if i == 0 {
			outer = first
		}
		switch st.neg {
		case negNotFollowedBy:
			if c.n.states[sink].kind == stFinal {
				sink = c.notFollowedAtEnd(st)
			}
			continue // otherwise it becomes stop edges of its neighbours
		case negNotNext:
			sink = c.notNext(st, sink)
			continue
		}
		var before, after []*cnode[T]
		for j := i - 1; j >= 0 && stages[j].neg == negNotFollowedBy; j-- {
			before = append(before, c.condOf(stages[j]))
		}
		for j := i + 1; j < len(stages) && stages[j].neg == negNotFollowedBy; j++ {
			after = append(after, c.condOf(stages[j]))
		}
		if st.group != nil {
			sink = c.group(st, sink, outer, before)
		} else {
			sink = c.step(st, sink, outer, before, after)
		}
	}
	return sink
}

func (c *compiler[T]) condOf(p *Seq[T]) *cnode[T] {
	if p.cond == nil {
		return c.yes
	}
	return p.cond
}

func (c *compiler[T]) addStops(s int32, nots []*cnode[T]) {
	for _, n := range nots {
		c.add(s, eProceed, c.stop, guard[T]{{c: n, want: true}})
	}
}

func (c *compiler[T]) notNext(st *Seq[T], sink int32) int32 {
	cond := c.condOf(st)
	s := c.newState(int16(c.n.nameIdx[st.name]), stNormal)
	c.add(s, eProceed, c.stop, guard[T]{{c: cond, want: true}})
	if c.n.states[sink].kind == stFinal {
		// At the end: the next event that is not excluded completes the
		// match without being part of it.
		c.add(s, eIgnore, sink, guard[T]{{c: cond, want: false}})
	} else {
		c.add(s, eProceed, sink, guard[T]{{c: cond, want: false}})
	}
	return s
}

// notFollowedAtEnd compiles a trailing NotFollowedBy: the partial match
// waits, ignoring other events, until an excluded event discards it or
// Within passes and completes it.
func (c *compiler[T]) notFollowedAtEnd(st *Seq[T]) int32 {
	cond := c.condOf(st)
	s := c.newState(int16(c.n.nameIdx[st.name]), stNormal)
	c.add(s, eProceed, c.stop, guard[T]{{c: cond, want: true}})
	c.add(s, eIgnore, s, guard[T]{{c: cond, want: false}})
	c.n.states[s].matchOnTimeout = true
	return s
}

// ignoreGuard is the condition under which a state drops an event, for the
// contiguity k; nil means the state never ignores (strict).
func (c *compiler[T]) ignoreGuard(k contiguity, cond, until *cnode[T]) (guard[T], bool) {
	var g guard[T]
	switch k {
	case strict:
		return nil, false
	case relaxed:
		g = append(g, term[T]{c: cond, want: false})
	}
	if until != nil {
		g = append(g, term[T]{c: until, want: false})
	}
	return g, true
}

// step compiles a plain (non-group) step.
func (c *compiler[T]) step(st *Seq[T], sink int32, outer contiguity, before, after []*cnode[T]) int32 {
	name := int16(c.n.nameIdx[st.name])
	cond := c.condOf(st)
	take := guard[T]{{c: cond, want: true}}
	takeNode := cond
	if st.until != nil {
		take = append(take, term[T]{c: st.until, want: false})
		takeNode = &cnode[T]{op: opAnd, l: cond, r: &cnode[T]{op: opNot, l: st.until}}
	}
	var proceed guard[T]
	if st.greedy {
		proceed = guard[T]{{c: takeNode, want: false}}
	}
	innerIgn, innerOK := c.ignoreGuard(st.inner, cond, st.until)
	outerIgn, outerOK := c.ignoreGuard(outer, cond, nil)

	last := sink
	if st.looping {
		loop := c.newState(name, stNormal)
		c.add(loop, eTake, loop, take)
		if innerOK {
			ign := c.newState(name, stNormal)
			c.add(ign, eTake, loop, take)
			c.add(ign, eIgnore, ign, innerIgn)
			c.add(loop, eIgnore, ign, innerIgn)
			c.addStops(ign, after)
		}
		c.add(loop, eProceed, sink, proceed)
		c.addStops(loop, after)
		last = loop
	} else {
		for i := st.from; i < st.to; i++ {
			s, ign := c.singleton(name, last, sink, take, proceed, innerIgn, innerOK, true)
			c.addStops(s, after)
			if ign >= 0 {
				c.addStops(ign, after)
			}
			last = s
		}
	}
	for i := 0; i < st.from-1; i++ {
		s, _ := c.singleton(name, last, sink, take, nil, innerIgn, innerOK, false)
		c.addStops(s, after)
		last = s
	}
	s, ign := c.singleton(name, last, sink, take, nil, outerIgn, outerOK, st.optional)
	c.addStops(s, before)
	if ign >= 0 {
		c.addStops(ign, before)
	}
	return s
}

// singleton creates a state accepting one event into sink. An optional
// state may proceed to skip; when it can also ignore events, it ignores
// into a copy without the proceed edge (so that skipping is decided once).
func (c *compiler[T]) singleton(name int16, sink, skip int32, take, proceed, ign guard[T], canIgnore, optional bool) (int32, int32) {
	s := c.newState(name, stNormal)
	c.add(s, eTake, sink, take)
	ignState := int32(-1)
	if canIgnore {
		if optional {
			ignState = c.newState(name, stNormal)
			c.add(ignState, eTake, sink, take)
			c.add(ignState, eIgnore, ignState, ign)
			c.add(s, eIgnore, ignState, ign)
		} else {
			c.add(s, eIgnore, s, ign)
		}
	}
	if optional {
		c.add(s, eProceed, skip, proceed)
	}
	return s, ignState
}

// group compiles a group step: its sequence repeated as the quantifier
// says. A looping group goes through a junction state that proceeds either
// to another repetition or to the sink.
func (c *compiler[T]) group(st *Seq[T], sink int32, outer contiguity, before []*cnode[T]) int32 {
	inner := flatten(st.group)
	last := sink
	if st.looping {
		j := c.newState(-1, stNormal)
		again := c.seq(inner, j, st.inner)
		c.add(j, eProceed, again, nil)
		c.add(j, eProceed, sink, nil)
		last = j
	} else {
		for i := st.from; i < st.to; i++ {
			e := c.seq(inner, last, st.inner)
			c.add(e, eProceed, sink, nil)
			last = e
		}
	}
	for i := 0; i < st.from-1; i++ {
		last = c.seq(inner, last, st.inner)
	}
	e := c.seq(inner, last, outer)
	if st.optional {
		c.add(e, eProceed, sink, nil)
	}
	c.addStops(e, before)
	return e
}
