package cep

import "math"

// noTimer marks a buffer with no wake-up timer registered.
const noTimer = math.MinInt64

// buffer is one key's matching state: the shared buffer of accepted
// events, the partial matches pointing into it, completed matches waiting
// for the skip strategy, and (in event time) the events waiting for the
// watermark. It lives in keyed state.
//
// The shared buffer is a forest of nodes: each node is one accepted event
// (by index into events, which stores each event once however many
// branches accepted it) under a step name, linked to the node before it in
// the same partial match. Branches that share a prefix share its nodes.
// Nodes and events are reference counted and their slots reused.
type buffer[T any] struct {
	seq     int64 // id of the next event; ids order events as processed
	events  []evEntry[T]
	freeEv  []int32
	nodes   []node
	freeN   []int32
	pms     []partial
	spare   []partial
	pending []partial
	done    []partial
	queue   []queued[T]
	qTimer  int64 // queue timer registered and not yet fired, or noTimer
	toTimer int64 // timeout timer registered and not yet fired, or noTimer

	// first backing arrays of the slices above: a new buffer is one
	// allocation for the common small case.
	evArr   [3]evEntry[T]
	nodeArr [3]node
	pmArr   [2][2]partial
	qArr    [1]queued[T]
}

type evEntry[T any] struct {
	v    T
	ts   int64
	id   int64
	refs int32
}

type node struct {
	ev   int32
	name int16
	prev int32
	refs int32
}

// partial is a partial (or completed) match: the NFA state it waits in,
// its last node, and when and with which event it started.
type partial struct {
	state   int32
	last    int32
	start   int64
	startID int64
}

type queued[T any] struct {
	v  T
	ts int64
}

func newBuffer[T any]() *buffer[T] {
	b := &buffer[T]{qTimer: noTimer, toTimer: noTimer}
	b.events, b.nodes = b.evArr[:0], b.nodeArr[:0]
	b.pms, b.spare = b.pmArr[0][:0], b.pmArr[1][:0]
	b.queue = b.qArr[:0]
	return b
}

// empty reports whether the buffer holds nothing worth keeping.
func (b *buffer[T]) empty() bool {
	return len(b.pms) == 0 && len(b.pending) == 0 && len(b.queue) == 0
}

// reset prepares an empty buffer for reuse by another key.
func (b *buffer[T]) reset() {
	var zero T
	for i := range b.events {
		b.events[i].v = zero
	}
	b.seq = 0
	b.events, b.freeEv = b.events[:0], b.freeEv[:0]
	b.nodes, b.freeN = b.nodes[:0], b.freeN[:0]
	b.pms, b.spare, b.pending, b.done = b.pms[:0], b.spare[:0], b.pending[:0], b.done[:0]
	b.queue = b.queue[:0]
	b.qTimer, b.toTimer = noTimer, noTimer
}

func (b *buffer[T]) addEvent(v T, ts, id int64) int32 {
	e := evEntry[T]{v: v, ts: ts, id: id}
	if n := len(b.freeEv); n > 0 {
		i := b.freeEv[n-1]
		b.freeEv = b.freeEv[:n-1]
		b.events[i] = e
		return i
	}
	b.events = append(b.events, e)
	return int32(len(b.events) - 1)
}

// newNode adds a node for event ev under step name after prev; the caller
// retains it.
func (b *buffer[T]) newNode(ev int32, name int16, prev int32) int32 {
	if prev >= 0 {
		b.nodes[prev].refs++
	}
	b.events[ev].refs++
	nd := node{ev: ev, name: name, prev: prev}
	if n := len(b.freeN); n > 0 {
		i := b.freeN[n-1]
		b.freeN = b.freeN[:n-1]
		b.nodes[i] = nd
		return i
	}
	b.nodes = append(b.nodes, nd)
	return int32(len(b.nodes) - 1)
}

func (b *buffer[T]) retain(n int32) {
	if n >= 0 {
		b.nodes[n].refs++
	}
}

// release drops one reference to node n, freeing it and its unreferenced
// ancestors and events.
func (b *buffer[T]) release(n int32) {
	for n >= 0 {
		nd := &b.nodes[n]
		nd.refs--
		if nd.refs > 0 {
			return
		}
		ev := &b.events[nd.ev]
		ev.refs--
		if ev.refs <= 0 {
			var zero T
			ev.v = zero
			b.freeEv = append(b.freeEv, nd.ev)
		}
		prev := nd.prev
		b.freeN = append(b.freeN, n)
		n = prev
	}
}

// enqueue adds an event to the event-time queue, after every queued event
// with a timestamp at or before ts.
func (b *buffer[T]) enqueue(v T, ts int64) {
	i := len(b.queue)
	for i > 0 && b.queue[i-1].ts > ts {
		i--
	}
	b.queue = append(b.queue, queued[T]{})
	copy(b.queue[i+1:], b.queue[i:])
	b.queue[i] = queued[T]{v: v, ts: ts}
}

// firstLast returns the ids of the first and last events of the match
// ending at node n, and of the first and last events under step name
// (-1 if none).
func (b *buffer[T]) ids(n int32, name int) (first, last, nFirst, nLast int64) {
	first, last, nFirst, nLast = -1, -1, -1, -1
	for i := n; i >= 0; i = b.nodes[i].prev {
		nd := &b.nodes[i]
		id := b.events[nd.ev].id
		if last < 0 {
			last = id
		}
		first = id
		if int(nd.name) == name {
			if nLast < 0 {
				nLast = id
			}
			nFirst = id
		}
	}
	return
}
