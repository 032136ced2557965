package cep

import "fmt"

// Condition decides whether an event is accepted by a pattern step. ctx
// gives the events the partial match has accepted so far. An error fails
// the job, naming the pattern.
type Condition[T any] interface {
	Filter(ev T, ctx *Context[T]) (bool, error)
}

// Context is given to iterative conditions: the partial match the event
// is being tested against. It is valid only during the call.
type Context[T any] struct {
	b    *buffer[T]
	last int32 // last node of the partial match, or -1
	ts   int64
	c    *nfa[T]
}

// Timestamp returns the timestamp of the event under test.
func (c *Context[T]) Timestamp() int64 { return c.ts }

// Events returns the events the partial match accepted for the step named
// name, in order. The slice is newly allocated.
func (c *Context[T]) Events(name string) []T {
	idx, ok := c.c.nameIdx[name]
	if !ok {
		return nil
	}
	var out []T
	for n := c.last; n >= 0; n = c.b.Nodes[n].Prev {
		nd := &c.b.Nodes[n]
		if int(nd.Name) == idx {
			out = append(out, c.b.Events[nd.Ev].V)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Each calls fn for the events the partial match accepted for the step
// named name, newest first, until fn returns false. It does not allocate.
func (c *Context[T]) Each(name string, fn func(T) bool) {
	idx, ok := c.c.nameIdx[name]
	if !ok {
		return
	}
	for n := c.last; n >= 0; n = c.b.Nodes[n].Prev {
		nd := &c.b.Nodes[n]
		if int(nd.Name) == idx && !fn(c.b.Events[nd.Ev].V) {
			return
		}
	}
}

// EachEvent calls fn for every event the partial match accepted so far,
// newest first, with the name of the step that accepted it, until fn
// returns false. It does not allocate.
func (c *Context[T]) EachEvent(fn func(step string, ev T) bool) {
	if c.b == nil {
		return
	}
	for n := c.last; n >= 0; n = c.b.Nodes[n].Prev {
		nd := &c.b.Nodes[n]
		if !fn(c.c.names[nd.Name], c.b.Events[nd.Ev].V) {
			return
		}
	}
}

type condOp uint8

const (
	opLeaf condOp = iota
	opAnd
	opOr
	opNot
)

// cnode is a condition tree: a leaf (one of simple, iter, cond) or AND/OR.
type cnode[T any] struct {
	op     condOp
	simple func(T) bool
	iter   func(T, *Context[T]) bool
	cond   Condition[T]
	l, r   *cnode[T]
}

func (c *cnode[T]) eval(ev T, ctx *Context[T]) (bool, error) {
	switch c.op {
	case opAnd:
		ok, err := c.l.eval(ev, ctx)
		if err != nil || !ok {
			return false, err
		}
		return c.r.eval(ev, ctx)
	case opNot:
		ok, err := c.l.eval(ev, ctx)
		return !ok, err
	case opOr:
		ok, err := c.l.eval(ev, ctx)
		if err != nil || ok {
			return ok, err
		}
		return c.r.eval(ev, ctx)
	}
	switch {
	case c.simple != nil:
		return c.simple(ev), nil
	case c.iter != nil:
		return c.iter(ev, ctx), nil
	default:
		ok, err := c.cond.Filter(ev, ctx)
		if err != nil {
			return false, fmt.Errorf("condition: %w", err)
		}
		return ok, nil
	}
}

// term is one conjunct of an edge condition: c must evaluate to want.
type term[T any] struct {
	c    *cnode[T]
	want bool
}

// guard is an edge condition: the AND of its terms (true when empty).
type guard[T any] []term[T]

func (g guard[T]) eval(ev T, ctx *Context[T]) (bool, error) {
	for _, t := range g {
		ok, err := t.c.eval(ev, ctx)
		if err != nil {
			return false, err
		}
		if ok != t.want {
			return false, nil
		}
	}
	return true, nil
}
