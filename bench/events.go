package bench

import (
	"context"

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
}

func (r *eventReader) Poll(_ context.Context, out *weir.SourceOutput[Event]) (weir.PollStatus, error) {
	gen, next, step := r.gen, r.next, r.step
	end := min(next+1024*step, r.n)
	for ; next < end; next += step {
		e := gen.event(next)
		out.CollectWithTimestamp(e, e.TS)
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
