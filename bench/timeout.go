package bench

import (
	"context"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// Scenario d: Flink's "count with timeout" keyed process function. Per key,
// a value state holds the count and the last event time; every record
// registers an event-time timer at its time plus the timeout; a timer that
// finds no newer record emits the key's count and clears the state.

var timeoutGen = genConfig{keys: 100_000, eventsPerMs: 100}

const timeoutMs = 1000

type countWithTime struct {
	Count, Last int64
}

type keyCount struct {
	Key   uint64
	Count int64
}

type countWithTimeout struct {
	st state.Value[countWithTime]
}

func (c *countWithTimeout) Open(ctx *weir.KeyedRuntimeContext[uint64]) error {
	c.st = state.GetValue[uint64, countWithTime](ctx.State(), state.Descriptor{Name: "count"})
	return nil
}

func (c *countWithTimeout) ProcessElement(ctx *weir.KeyedContext[uint64, keyCount], e Event) error {
	s, _ := c.st.Value()
	s.Count++
	s.Last = e.TS
	c.st.Update(s)
	ctx.RegisterEventTimeTimer(e.TS + timeoutMs)
	return nil
}

func (c *countWithTimeout) OnTimer(ctx *weir.KeyedContext[uint64, keyCount], ts int64) error {
	s, ok := c.st.Value()
	if ok && ts == s.Last+timeoutMs {
		ctx.Collect(keyCount{Key: ctx.Key(), Count: s.Count})
		c.st.Clear()
	}
	return nil
}

func timeoutEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, timeoutGen, n, weir.ForMonotonousTimestamps[Event]())
	keyed := weir.KeyBy(src, func(e Event) uint64 { return e.Key })
	out := weir.ProcessKeyed[uint64, Event, keyCount](keyed, &countWithTimeout{})
	return execute(ctx, env, out, func(k keyCount) int64 { return k.Count })
}

// timeoutLoop is the hand-written equivalent: a map of per-key state and,
// since timestamps only grow, a FIFO of timers instead of a heap.
func timeoutLoop(n int64) Checksum {
	type timer struct {
		at  int64
		key uint64
	}
	st := make(map[uint64]countWithTime)
	var q []timer
	head := 0
	var c Checksum
	fire := func(upTo int64) {
		for head < len(q) && q[head].at <= upTo {
			t := q[head]
			head++
			if s, ok := st[t.key]; ok && t.at == s.Last+timeoutMs {
				c.Records++
				c.Sum += s.Count
				delete(st, t.key)
			}
		}
		if head > 4096 && head*2 > len(q) {
			q = append(q[:0], q[head:]...)
			head = 0
		}
	}
	for i := int64(0); i < n; i++ {
		e := timeoutGen.event(i)
		fire(e.TS - 1)
		s := st[e.Key]
		s.Count++
		s.Last = e.TS
		st[e.Key] = s
		if len(q) == head || q[len(q)-1] != (timer{e.TS + timeoutMs, e.Key}) {
			q = append(q, timer{e.TS + timeoutMs, e.Key})
		}
	}
	fire(1 << 62)
	return c
}
