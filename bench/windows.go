package bench

import (
	"context"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/window"
)

// Scenarios b and c: keyed event-time windows counting records per key and
// window with an incremental aggregate (window state is one int64 per key
// and window).

// countAgg counts a window's records.
type countAgg struct{}

func (countAgg) CreateAccumulator() int64              { return 0 }
func (countAgg) Add(acc int64, _ Event) (int64, error) { return acc + 1, nil }
func (countAgg) Result(acc int64) (int64, error)       { return acc, nil }
func (countAgg) Merge(a, b int64) (int64, error)       { return a + b, nil }
func identity(v int64) int64                           { return v }

// Scenario b: tumbling 1-second windows over 100k keys, 1M events per
// second of event time (about 10 records per key and window).

var tumblingGen = genConfig{keys: 100_000, eventsPerMs: 1000}

const tumblingSize = time.Second

func tumblingEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, tumblingGen, n, weir.ForMonotonousTimestamps[Event]())
	keyed := weir.KeyBy(src, func(e Event) uint64 { return e.Key })
	counts := weir.WindowAggregate[uint64, Event, window.TimeWindow, int64, int64](
		weir.Window(keyed, window.TumblingEventTime[Event](tumblingSize)), countAgg{})
	return execute(ctx, env, counts, identity)
}

// tumblingLoop keeps one map of counts for the current window: timestamps
// only grow, so a window is complete when the next one starts.
func tumblingLoop(n int64) Checksum {
	size := tumblingSize.Milliseconds()
	counts := make(map[uint64]int64, tumblingGen.keys)
	var c Checksum
	flush := func() {
		for _, v := range counts {
			c.Records++
			c.Sum += v
		}
		clear(counts)
	}
	cur := int64(-1)
	for i := int64(0); i < n; i++ {
		e := tumblingGen.event(i)
		if w := e.TS / size; w != cur {
			flush()
			cur = w
		}
		counts[e.Key]++
	}
	flush()
	return c
}

// Scenario c: session windows with a 2-second gap over 10k keys, 10k events
// per second of event time (a key is seen about once a second, so sessions
// hold about 7 records).

var sessionGen = genConfig{keys: 10_000, eventsPerMs: 10}

const sessionGap = 2 * time.Second

func sessionEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, sessionGen, n, weir.ForMonotonousTimestamps[Event]())
	keyed := weir.KeyBy(src, func(e Event) uint64 { return e.Key })
	counts := weir.WindowAggregate[uint64, Event, window.TimeWindow, int64, int64](
		weir.Window(keyed, window.EventTimeSession[Event](sessionGap)), countAgg{})
	return execute(ctx, env, counts, identity)
}

// sessionLoop keeps each key's open session; with growing timestamps a
// session ends when the key's next record falls after its end (a record
// exactly at the end touches the session and joins it, as in Flink).
func sessionLoop(n int64) Checksum {
	type session struct{ end, count int64 }
	gap := sessionGap.Milliseconds()
	open := make(map[uint64]session, sessionGen.keys)
	var c Checksum
	for i := int64(0); i < n; i++ {
		e := sessionGen.event(i)
		s, ok := open[e.Key]
		if ok && e.TS <= s.end { // touching sessions merge, as in Flink
			s.count++
			s.end = max(s.end, e.TS+gap)
		} else {
			if ok {
				c.Records++
				c.Sum += s.count
			}
			s = session{end: e.TS + gap, count: 1}
		}
		open[e.Key] = s
	}
	for _, s := range open {
		c.Records++
		c.Sum += s.count
	}
	return c
}
