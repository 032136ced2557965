package cep

import (
	"fmt"
	"time"
)

// contiguity says which events may lie between two accepted events.
type contiguity uint8

const (
	// relaxed (skip till next match) ignores non-matching events in between.
	relaxed contiguity = iota
	// strict (next) allows no event in between.
	strict
	// nondeterministic (skip till any match) also branches on matching
	// events, trying every combination.
	nondeterministic
)

// negation marks the patterns that must not match.
type negation uint8

const (
	notNegated negation = iota
	negNotNext
	negNotFollowedBy
)

// Seq is one step of a pattern sequence, built with Begin and extended
// with Next, FollowedBy and the other combinators. Methods that configure a
// step (Where, Times, Optional, ...) modify it and return it, so calls
// chain; methods that append a step return the new step. A Seq value
// describes the whole sequence up to and including itself.
//
// Building never panics: a misuse (a quantifier on a step that cannot take
// one, Times(0), ...) is recorded and reported by Err, by Validate and when
// the job using the pattern starts.
type Seq[T any] struct {
	name  string
	prev  *Seq[T]
	group *Seq[T] // for a group step: the last step of the group's sequence
	seq   *seqConf

	cond  *cnode[T]
	until *cnode[T]

	outer contiguity // between the previous step and this one
	neg   negation

	looping  bool // OneOrMore / TimesOrMore
	from, to int  // Times: from..to; looping: from..∞
	optional bool
	greedy   bool
	inner    contiguity // between the events accepted by a looping/times step
	quantSet bool
	innerSet bool
}

// sequence holds what applies to a whole pattern sequence.
type seqConf struct {
	within time.Duration
	skip   SkipStrategy
	err    error
}

func (s *seqConf) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("cep: "+format, args...)
	}
}

func (s *seqConf) failErr(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Begin starts a pattern sequence whose first step is named name.
func Begin[T any](name string) *Seq[T] {
	p := &Seq[T]{name: name, seq: &seqConf{skip: NoSkip()}, from: 1, to: 1}
	if name == "" {
		p.seq.fail("a pattern needs a name")
	}
	return p
}

// BeginGroup starts a pattern sequence whose first step is the group
// pattern g: a whole sequence that quantifiers (Times, OneOrMore, Optional)
// then apply to as a unit. Consecutive and AllowCombinations on a group
// set the contiguity between its repetitions. The group's own Within and
// Skip are ignored: those of the enclosing sequence apply.
func BeginGroup[T any](g *Seq[T]) *Seq[T] {
	p := &Seq[T]{group: g, seq: &seqConf{skip: NoSkip()}, from: 1, to: 1}
	p.checkGroup(g)
	return p
}

func (p *Seq[T]) checkGroup(g *Seq[T]) {
	if g == nil {
		p.seq.fail("nil group pattern")
		return
	}
	if g.seq.err != nil {
		p.seq.fail("group: %w", g.seq.err)
	}
}

func (p *Seq[T]) append(name string, c contiguity, neg negation) *Seq[T] {
	n := &Seq[T]{name: name, prev: p, seq: p.seq, outer: c, neg: neg, from: 1, to: 1}
	if name == "" {
		p.seq.fail("a pattern needs a name")
	}
	return n
}

func (p *Seq[T]) appendGroup(g *Seq[T], c contiguity) *Seq[T] {
	n := &Seq[T]{prev: p, group: g, seq: p.seq, outer: c, from: 1, to: 1}
	n.checkGroup(g)
	return n
}

// Next appends a step that must match the event right after the previous
// step's last event (strict contiguity).
func (p *Seq[T]) Next(name string) *Seq[T] { return p.append(name, strict, notNegated) }

// FollowedBy appends a step that matches the first matching event after the
// previous step, ignoring non-matching events in between (relaxed
// contiguity, "skip till next match").
func (p *Seq[T]) FollowedBy(name string) *Seq[T] {
	return p.append(name, relaxed, notNegated)
}

// FollowedByAny appends a step that matches any later matching event:
// every matching event starts another branch (non-deterministic relaxed
// contiguity, "skip till any match").
func (p *Seq[T]) FollowedByAny(name string) *Seq[T] {
	return p.append(name, nondeterministic, notNegated)
}

// NotNext appends a negative step: the event right after the previous step
// must not match it, or the partial match is discarded. A sequence may end
// with NotNext: the match is then emitted when the next event arrives and
// does not match.
func (p *Seq[T]) NotNext(name string) *Seq[T] { return p.append(name, strict, negNotNext) }

// NotFollowedBy appends a negative step: no event matching it may occur
// between the previous step and the next one, or the partial match is
// discarded. A sequence may end with NotFollowedBy only if it has Within:
// a partial match that meets no excluded event before Within passes is
// then a match, emitted at first event + Within.
func (p *Seq[T]) NotFollowedBy(name string) *Seq[T] {
	return p.append(name, relaxed, negNotFollowedBy)
}

// NextGroup appends the group pattern g with strict contiguity.
func (p *Seq[T]) NextGroup(g *Seq[T]) *Seq[T] { return p.appendGroup(g, strict) }

// FollowedByGroup appends the group pattern g with relaxed contiguity.
func (p *Seq[T]) FollowedByGroup(g *Seq[T]) *Seq[T] { return p.appendGroup(g, relaxed) }

// FollowedByAnyGroup appends the group pattern g with non-deterministic
// relaxed contiguity.
func (p *Seq[T]) FollowedByAnyGroup(g *Seq[T]) *Seq[T] {
	return p.appendGroup(g, nondeterministic)
}

// Name returns the step's name ("" for a group step).
func (p *Seq[T]) Name() string { return p.name }

func (p *Seq[T]) addCond(c *cnode[T], or bool) *Seq[T] {
	if p.group != nil {
		p.seq.fail("a group pattern takes no condition")
		return p
	}
	switch {
	case p.cond == nil:
		p.cond = c
	case or:
		p.cond = &cnode[T]{op: opOr, l: p.cond, r: c}
	default:
		p.cond = &cnode[T]{op: opAnd, l: p.cond, r: c}
	}
	return p
}

// Where adds a condition an event must meet to be accepted by the step.
// Several Where calls are combined with AND.
func (p *Seq[T]) Where(cond func(T) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{simple: cond}, false)
}

// WhereCtx adds an iterative condition: it also sees the events the partial
// match has accepted so far (Context.Events), as Flink's
// IterativeCondition.
func (p *Seq[T]) WhereCtx(cond func(T, *Context[T]) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{iter: cond}, false)
}

// WhereCond adds a Condition, for example one compiled by Expr.
func (p *Seq[T]) WhereCond(cond Condition[T]) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{cond: cond}, false)
}

// WhereExpr adds a condition written as an expr-lang expression (see
// Expr). A compile error is recorded like other misuses: Err, Validate and
// job start report it, with the expression and position.
func (p *Seq[T]) WhereExpr(expression string) *Seq[T] {
	c, err := Expr[T](expression)
	if err != nil {
		p.seq.failErr(fmt.Errorf("%w (step %q)", err, p.name))
		return p
	}
	return p.WhereCond(c)
}

// OrExpr is Or with an expr-lang expression.
func (p *Seq[T]) OrExpr(expression string) *Seq[T] {
	c, err := Expr[T](expression)
	if err != nil {
		p.seq.failErr(fmt.Errorf("%w (step %q)", err, p.name))
		return p
	}
	return p.OrCond(c)
}

// Or combines the step's conditions so far with cond by OR.
func (p *Seq[T]) Or(cond func(T) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{simple: cond}, true)
}

// OrCtx is Or with an iterative condition.
func (p *Seq[T]) OrCtx(cond func(T, *Context[T]) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{iter: cond}, true)
}

// OrCond is Or with a Condition.
func (p *Seq[T]) OrCond(cond Condition[T]) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addCond(&cnode[T]{cond: cond}, true)
}

func (p *Seq[T]) addUntil(c *cnode[T]) *Seq[T] {
	if p.until != nil {
		p.until = &cnode[T]{op: opOr, l: p.until, r: c}
	} else {
		p.until = c
	}
	return p
}

// Until sets a stop condition on a looping step (OneOrMore, TimesOrMore):
// once an event meets it, the loop accepts no more events. The stopping
// event itself is not accepted by the loop but may be by the next step.
func (p *Seq[T]) Until(cond func(T) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addUntil(&cnode[T]{simple: cond})
}

// UntilCtx is Until with an iterative condition.
func (p *Seq[T]) UntilCtx(cond func(T, *Context[T]) bool) *Seq[T] {
	if cond == nil {
		p.seq.fail("nil condition")
		return p
	}
	return p.addUntil(&cnode[T]{iter: cond})
}

func (p *Seq[T]) quant(what string) bool {
	if p.neg != notNegated {
		p.seq.fail("%s on negative pattern %q", what, p.name)
		return false
	}
	if p.quantSet {
		p.seq.fail("%s: pattern %q already has a quantifier", what, p.name)
		return false
	}
	p.quantSet = true
	return true
}

// Times makes the step accept exactly n events.
func (p *Seq[T]) Times(n int) *Seq[T] { return p.TimesRange(n, n) }

// TimesRange makes the step accept between from and to events.
func (p *Seq[T]) TimesRange(from, to int) *Seq[T] {
	if !p.quant("Times") {
		return p
	}
	if from < 1 || to < from {
		p.seq.fail("Times(%d, %d) on %q: need 1 <= from <= to", from, to, p.name)
		return p
	}
	p.from, p.to = from, to
	return p
}

// TimesOrMore makes the step accept n or more events.
func (p *Seq[T]) TimesOrMore(n int) *Seq[T] {
	if !p.quant("TimesOrMore") {
		return p
	}
	if n < 1 {
		p.seq.fail("TimesOrMore(%d) on %q: need n >= 1", n, p.name)
		return p
	}
	p.from, p.to, p.looping = n, -1, true
	return p
}

// OneOrMore makes the step accept one or more events.
func (p *Seq[T]) OneOrMore() *Seq[T] { return p.TimesOrMore(1) }

// Optional lets the step be skipped.
func (p *Seq[T]) Optional() *Seq[T] {
	if p.neg != notNegated {
		p.seq.fail("Optional on negative pattern %q", p.name)
		return p
	}
	p.optional = true
	return p
}

// Greedy makes a looping or ranged step accept as many events as it can:
// an event the step accepts is not offered to the following step.
func (p *Seq[T]) Greedy() *Seq[T] {
	p.greedy = true
	return p
}

// Consecutive requires the events accepted by a looping or times step to
// be strictly consecutive (default: relaxed).
func (p *Seq[T]) Consecutive() *Seq[T] {
	if p.innerSet {
		p.seq.fail("Consecutive: pattern %q already has an inner contiguity", p.name)
	}
	p.inner, p.innerSet = strict, true
	return p
}

// AllowCombinations makes the events accepted by a looping or times step
// non-deterministically relaxed: every combination is tried.
func (p *Seq[T]) AllowCombinations() *Seq[T] {
	if p.innerSet {
		p.seq.fail("AllowCombinations: pattern %q already has an inner contiguity", p.name)
	}
	p.inner, p.innerSet = nondeterministic, true
	return p
}

// Within bounds the whole sequence: a match must end less than d after its
// first event (in event or processing time, as the pattern stream runs).
// Partial matches that outlive d are dropped, or emitted as timed out.
// Called several times, the smallest d holds.
func (p *Seq[T]) Within(d time.Duration) *Seq[T] {
	if d <= 0 {
		p.seq.fail("Within(%v): need a positive duration", d)
		return p
	}
	if d < time.Millisecond {
		p.seq.fail("Within(%v): below the millisecond resolution of timestamps", d)
		return p
	}
	if p.seq.within == 0 || d < p.seq.within {
		p.seq.within = d
	}
	return p
}

// Skip sets the sequence's after-match skip strategy (default NoSkip).
func (p *Seq[T]) Skip(s SkipStrategy) *Seq[T] {
	p.seq.skip = s
	return p
}

// Err returns the first misuse recorded while building the sequence.
func (p *Seq[T]) Err() error { return p.seq.err }

// Validate compiles the sequence and reports any error, as starting a job
// with it would.
func (p *Seq[T]) Validate() error {
	_, err := compile(p)
	return err
}

// SkipStrategy is an after-match skip strategy: which partial matches are
// discarded once a match is emitted.
type SkipStrategy struct {
	kind skipKind
	name string
}

type skipKind uint8

const (
	skipNone skipKind = iota
	skipToNext
	skipPastLast
	skipToFirst
	skipToLast
)

// NoSkip emits every match.
func NoSkip() SkipStrategy { return SkipStrategy{kind: skipNone} }

// SkipToNext discards the partial matches that started with the same event
// as the emitted match.
func SkipToNext() SkipStrategy { return SkipStrategy{kind: skipToNext} }

// SkipPastLastEvent discards every partial match that started before the
// emitted match's last event.
func SkipPastLastEvent() SkipStrategy { return SkipStrategy{kind: skipPastLast} }

// SkipToFirst discards the partial matches that started before the first
// event the emitted match accepted for the step named name.
func SkipToFirst(name string) SkipStrategy { return SkipStrategy{kind: skipToFirst, name: name} }

// SkipToLast discards the partial matches that started before the last
// event the emitted match accepted for the step named name.
func SkipToLast(name string) SkipStrategy { return SkipStrategy{kind: skipToLast, name: name} }

// String names the strategy.
func (s SkipStrategy) String() string {
	switch s.kind {
	case skipToNext:
		return "SkipToNext"
	case skipPastLast:
		return "SkipPastLastEvent"
	case skipToFirst:
		return "SkipToFirst(" + s.name + ")"
	case skipToLast:
		return "SkipToLast(" + s.name + ")"
	}
	return "NoSkip"
}
