package cep

import (
	"fmt"
	"math"

	"github.com/weirstream/weir/codec"
)

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
//
// Fields that make up the state are exported, so that the default state
// codec snapshots them; the unexported ones are scratch space and spare
// capacity, rebuilt on use, and tagged to be left out.
type buffer[T any] struct {
	Seq     int64 // id of the next event; ids order events as processed
	Events  []evEntry[T]
	FreeEv  []int32
	Nodes   []node
	FreeN   []int32
	PMs     []partial
	Pending []partial
	Queue   []queued[T]
	QTimer  int64 // queue timer registered and not yet fired, or noTimer
	ToTimer int64 // timeout timer registered and not yet fired, or noTimer

	// checked is set once the buffer is known to be consistent: made
	// here, or decoded from a checkpoint and checked.
	checked bool      `weir:"-"`
	spare   []partial `weir:"-"`
	done    []partial `weir:"-"`
	// first backing arrays of the slices above: a new buffer is one
	// allocation for the common small case.
	evArr   [3]evEntry[T] `weir:"-"`
	nodeArr [3]node       `weir:"-"`
	pmArr   [2][2]partial `weir:"-"`
	qArr    [1]queued[T]  `weir:"-"`
	freeArr [2][3]int32   `weir:"-"`
}

type evEntry[T any] struct {
	V    T
	TS   int64
	ID   int64
	Refs int32
}

type node struct {
	Ev   int32
	Name int16
	Prev int32
	Refs int32
}

// partial is a partial (or completed) match: the NFA state it waits in,
// its last node, and when and with which event it started.
type partial struct {
	State   int32
	Last    int32
	Start   int64
	StartID int64
}

type queued[T any] struct {
	V  T
	TS int64
}

func newBuffer[T any]() *buffer[T] {
	b := &buffer[T]{QTimer: noTimer, ToTimer: noTimer, checked: true}
	b.Events, b.Nodes = b.evArr[:0], b.nodeArr[:0]
	b.PMs, b.spare = b.pmArr[0][:0], b.pmArr[1][:0]
	b.Queue = b.qArr[:0]
	b.FreeEv, b.FreeN = b.freeArr[0][:0], b.freeArr[1][:0]
	return b
}

// empty reports whether the buffer holds nothing worth keeping.
func (b *buffer[T]) empty() bool {
	return len(b.PMs) == 0 && len(b.Pending) == 0 && len(b.Queue) == 0
}

// reset prepares an empty buffer for reuse by another key.
func (b *buffer[T]) reset() {
	var zero T
	for i := range b.Events {
		b.Events[i].V = zero
	}
	b.Seq = 0
	b.Events, b.FreeEv = b.Events[:0], b.FreeEv[:0]
	b.Nodes, b.FreeN = b.Nodes[:0], b.FreeN[:0]
	b.PMs, b.spare, b.Pending, b.done = b.PMs[:0], b.spare[:0], b.Pending[:0], b.done[:0]
	b.Queue = b.Queue[:0]
	b.QTimer, b.ToTimer = noTimer, noTimer
}

func (b *buffer[T]) addEvent(v T, ts, id int64) int32 {
	e := evEntry[T]{V: v, TS: ts, ID: id}
	if n := len(b.FreeEv); n > 0 {
		i := b.FreeEv[n-1]
		b.FreeEv = b.FreeEv[:n-1]
		b.Events[i] = e
		return i
	}
	b.Events = append(b.Events, e)
	return int32(len(b.Events) - 1)
}

// newNode adds a node for event ev under step name after prev; the caller
// retains it.
func (b *buffer[T]) newNode(ev int32, name int16, prev int32) int32 {
	if prev >= 0 {
		b.Nodes[prev].Refs++
	}
	b.Events[ev].Refs++
	nd := node{Ev: ev, Name: name, Prev: prev}
	if n := len(b.FreeN); n > 0 {
		i := b.FreeN[n-1]
		b.FreeN = b.FreeN[:n-1]
		b.Nodes[i] = nd
		return i
	}
	b.Nodes = append(b.Nodes, nd)
	return int32(len(b.Nodes) - 1)
}

func (b *buffer[T]) retain(n int32) {
	if n >= 0 {
		b.Nodes[n].Refs++
	}
}

// release drops one reference to node n, freeing it and its unreferenced
// ancestors and events.
func (b *buffer[T]) release(n int32) {
	for n >= 0 {
		nd := &b.Nodes[n]
		nd.Refs--
		if nd.Refs > 0 {
			return
		}
		ev := &b.Events[nd.Ev]
		ev.Refs--
		if ev.Refs <= 0 {
			var zero T
			ev.V = zero
			b.FreeEv = append(b.FreeEv, nd.Ev)
		}
		prev := nd.Prev
		b.FreeN = append(b.FreeN, n)
		n = prev
	}
}

// enqueue adds an event to the event-time queue, after every queued event
// with a timestamp before ts and, of those at ts, after every one cmp does
// not order after v (all of them when cmp is nil).
func (b *buffer[T]) enqueue(v T, ts int64, cmp func(a, b T) int) {
	i := len(b.Queue)
	for i > 0 && (b.Queue[i-1].TS > ts || b.Queue[i-1].TS == ts && cmp != nil && cmp(v, b.Queue[i-1].V) < 0) {
		i--
	}
	b.Queue = append(b.Queue, queued[T]{})
	copy(b.Queue[i+1:], b.Queue[i:])
	b.Queue[i] = queued[T]{V: v, TS: ts}
}

// firstLast returns the ids of the first and last events of the match
// ending at node n, and of the first and last events under step name
// (-1 if none).
func (b *buffer[T]) ids(n int32, name int) (first, last, nFirst, nLast int64) {
	first, last, nFirst, nLast = -1, -1, -1, -1
	for i := n; i >= 0; i = b.Nodes[i].Prev {
		nd := &b.Nodes[i]
		id := b.Events[nd.Ev].ID
		if last < 0 {
			last = id
		}
		first = id
		if int(nd.Name) == name {
			if nLast < 0 {
				nLast = id
			}
			nFirst = id
		}
	}
	return
}

// check verifies a buffer decoded from a checkpoint before the matcher
// uses it, for an NFA of states states and names step names: every index
// points into its slice, free lists name distinct free slots, node chains
// end (no cycle), and reference counts are what the partial matches and
// nodes hold (a wrong count would free a slot in use and could link a
// chain into a cycle later). The matcher would otherwise panic or loop.
func (b *buffer[T]) check(states, names int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cep: %w: matching state: "+format, append([]any{codec.ErrCorrupt}, args...)...)
	}
	if b == nil {
		return bad("none")
	}
	nn, ne := int32(len(b.Nodes)), int32(len(b.Events))
	freeN := make([]bool, nn)
	for _, i := range b.FreeN {
		if i < 0 || i >= nn || freeN[i] {
			return bad("free node %d", i)
		}
		freeN[i] = true
	}
	freeEv := make([]bool, ne)
	for _, i := range b.FreeEv {
		if i < 0 || i >= ne || freeEv[i] {
			return bad("free event %d", i)
		}
		freeEv[i] = true
	}
	nodeRefs := make([]int32, nn)
	evRefs := make([]int32, ne)
	for i, nd := range b.Nodes {
		if freeN[i] {
			continue
		}
		if nd.Ev < 0 || nd.Ev >= ne || freeEv[nd.Ev] || nd.Prev < -1 || nd.Prev >= nn || (nd.Prev >= 0 && freeN[nd.Prev]) ||
			nd.Name < 0 || int(nd.Name) >= names {
			return bad("node %d", i)
		}
		evRefs[nd.Ev]++
		if nd.Prev >= 0 {
			nodeRefs[nd.Prev]++
		}
	}
	for _, pms := range [][]partial{b.PMs, b.Pending} {
		for _, pm := range pms {
			if pm.State < 0 || int(pm.State) >= states || pm.Last < -1 || pm.Last >= nn || (pm.Last >= 0 && freeN[pm.Last]) {
				return bad("partial match in state %d at node %d", pm.State, pm.Last)
			}
			if pm.Last >= 0 {
				nodeRefs[pm.Last]++
			}
		}
	}
	for i, nd := range b.Nodes {
		if !freeN[i] && nd.Refs != nodeRefs[i] {
			return bad("node %d has %d references, %d recorded", i, nodeRefs[i], nd.Refs)
		}
	}
	for i, ev := range b.Events {
		if !freeEv[i] && ev.Refs != evRefs[i] {
			return bad("event %d has %d references, %d recorded", i, evRefs[i], ev.Refs)
		}
	}
	// Chains: follow each from a live node; a walk longer than the number
	// of nodes is a cycle. Colors make it linear: 1 on the current walk,
	// 2 known to end.
	color := make([]byte, nn)
	for i := range b.Nodes {
		if freeN[i] {
			continue
		}
		j := int32(i)
		for j >= 0 && color[j] == 0 {
			color[j] = 1
			j = b.Nodes[j].Prev
		}
		if j >= 0 && color[j] == 1 {
			return bad("node %d is in a cycle", j)
		}
		for j := int32(i); j >= 0 && color[j] == 1; j = b.Nodes[j].Prev {
			color[j] = 2
		}
	}
	b.checked = true
	return nil
}
