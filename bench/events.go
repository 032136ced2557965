package bench

import (
	"context"
	"math/bits"

	"github.com/weirstream/weir"
)

// Event is the generated record of every scenario.
type Event struct {
	ID    int64
	Key   uint64
	Value int64
	TS    int64
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// genConfig describes the generated events: keys and the event-time rate.
type genConfig struct {
	keys        uint64
	eventsPerMs int64
}

// event returns event i: a pseudo-random key and value, and an event time
// that grows with i (eventsPerMs events per millisecond).
func (g genConfig) event(i int64) Event {
	h := splitmix64(uint64(i))
	return Event{ID: i, Key: h % g.keys, Value: int64(h >> 44), TS: i / g.eventsPerMs}
}

// eventSource emits events 0..n-1; subtask s of p emits s, s+p, ...
type eventSource struct {
	gen genConfig
	n   int64
}

func (s eventSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[Event], error) {
	return &eventReader{gen: s.gen, n: s.n, next: int64(ctx.Subtask), step: int64(ctx.Parallelism)}, nil
}

type eventReader struct {
	gen           genConfig
	n, next, step int64
	// keys divides by gen.keys: the reader computes gen.event without
	// hardware divisions, as the compiler does in the hand-written loops,
	// where gen is a constant.
	keys divisor
}

// divisor divides by a number fixed at run time with a multiplication
// and shifts (Granlund and Montgomery, "Division by invariant integers
// using multiplication", 1994, figure 4.1), exact for every uint64.
type divisor struct {
	d, m   uint64
	s1, s2 uint8
}

func newDivisor(d uint64) divisor {
	l := uint(bits.Len64(d - 1)) // ceil(log2(d))
	m, _ := bits.Div64((uint64(1)<<l)-d, 0, d)
	s1 := min(l, 1)
	return divisor{d: d, m: m + 1, s1: uint8(s1), s2: uint8(l - s1)}
}

func (v divisor) div(n uint64) uint64 {
	t, _ := bits.Mul64(v.m, n)
	return (t + (n-t)>>v.s1) >> v.s2
}

func (v divisor) mod(n uint64) uint64 { return n - v.div(n)*v.d }

func (r *eventReader) Poll(_ context.Context, out *weir.SourceOutput[Event]) (weir.PollStatus, error) {
	if r.keys.d == 0 {
		r.keys = newDivisor(r.gen.keys)
	}
	next, step, perMs := r.next, r.step, r.gen.eventsPerMs
	end := min(next+1024*step, r.n)
	// The event time next/perMs is counted up, not divided.
	ts, rem := next/perMs, next%perMs
	mask := r.gen.keys - 1
	pow2 := r.gen.keys&mask == 0
	for ; next < end; next += step {
		h := splitmix64(uint64(next))
		key := h & mask
		if !pow2 {
			key = r.keys.mod(h)
		}
		out.CollectWithTimestamp(Event{ID: next, Key: key, Value: int64(h >> 44), TS: ts}, ts)
		for rem += step; rem >= perMs; rem -= perMs {
			ts++
		}
	}
	r.next = next
	if next >= r.n {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

func (r *eventReader) Close() error { return nil }

func eventStream(env *weir.Environment, gen genConfig, n int64, wm weir.WatermarkStrategy[Event]) weir.Stream[Event] {
	return weir.FromSource[Event](env, eventSource{gen: gen, n: n}, wm, "events")
}
