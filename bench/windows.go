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

// Scenario b: tumbling 10-second windows over 100k keys, one event per
// millisecond of event time: a window holds 10k events over about 9.5k
// distinct keys, so nearly every event opens a key's window and is fired
// again as its own output row (about 0.95 output rows per event). Each row
// is what a SQL windowed GROUP BY emits: key, window end, count and sum.

var tumblingGen = genConfig{keys: 100_000, eventsPerMs: 1}

const tumblingSize = 10 * time.Second

// countSum is the accumulator of scenario b.
type countSum struct{ Count, Sum int64 }

type countSumAgg struct{}

func (countSumAgg) CreateAccumulator() countSum { return countSum{} }
func (countSumAgg) Add(acc countSum, e Event) (countSum, error) {
	return countSum{acc.Count + 1, acc.Sum + e.Value}, nil
}
func (countSumAgg) Result(acc countSum) (countSum, error) { return acc, nil }
func (countSumAgg) Merge(a, b countSum) (countSum, error) {
	return countSum{a.Count + b.Count, a.Sum + b.Sum}, nil
}

// WindowRow is one output row of scenario b.
type WindowRow struct {
	Key        uint64
	End        int64
	Count, Sum int64
}

// rowValue is what scenario b's checksum adds up for a row.
func rowValue(r WindowRow) int64 { return r.Count*1_000_003 + r.Sum + r.End + int64(r.Key) }

// tumblingDrift is scenario b's watermark alignment: a source subtask
// pauses while its watermark is more than one window ahead of the other's
// (see weir.WatermarkStrategy.WithWatermarkAlignment). Without it, at
// parallelism 2 the window subtasks keep tens of windows open whenever one
// source subtask gets less CPU than the other. A source emits a watermark
// every millisecond (WatermarkInterval), 5 – 9 s of event time per subtask
// at the rates of parallelism 2 on an idle machine, so two subtasks running
// side by side should stay within one window of each other without pausing
// (not measured idle); three windows measured no better and varied more on
// the loaded machine (docs/benchmarks.md).
const tumblingDrift = tumblingSize

func tumblingEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	return tumblingAligned(ctx, n, opts, tumblingDrift)
}

// tumblingAligned is scenario b's pipeline with a maximum watermark drift
// between the source subtasks (0: no alignment).
func tumblingAligned(ctx context.Context, n int64, opts weir.Options, drift time.Duration) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, tumblingGen, n, weir.ForMonotonousTimestamps[Event]().WithWatermarkAlignment("events", drift))
	keyed := weir.KeyBy(src, func(e Event) uint64 { return e.Key })
	rows := weir.WindowAggregateProcess[uint64, Event, window.TimeWindow, countSum, countSum, WindowRow](
		weir.Window(keyed, window.TumblingEventTime[Event](tumblingSize)), countSumAgg{},
		weir.ProcessWindowFunc[uint64, countSum, WindowRow, window.TimeWindow](
			func(ctx *weir.WindowContext[uint64, WindowRow, window.TimeWindow], key uint64, acc []countSum) error {
				ctx.Collect(WindowRow{Key: key, End: ctx.Window().End, Count: acc[0].Count, Sum: acc[0].Sum})
				return nil
			}))
	return execute(ctx, env, rows, rowValue)
}

// tumblingLoop keeps one map of accumulators for the current window:
// timestamps only grow, so a window is complete when the next one starts.
func tumblingLoop(n int64) Checksum {
	size := tumblingSize.Milliseconds()
	accs := make(map[uint64]countSum, 16_384)
	var c Checksum
	flush := func(end int64) {
		for k, a := range accs {
			c.Records++
			c.Sum += rowValue(WindowRow{Key: k, End: end, Count: a.Count, Sum: a.Sum})
		}
		clear(accs)
	}
	cur := int64(-1)
	for i := int64(0); i < n; i++ {
		e := tumblingGen.event(i)
		if w := e.TS / size; w != cur {
			flush(cur*size + size)
			cur = w
		}
		a := accs[e.Key]
		accs[e.Key] = countSum{a.Count + 1, a.Sum + e.Value}
	}
	flush(cur*size + size)
	return c
}

// Scenario e: tumbling 1-second windows over 100k keys, 1M events per
// second of event time (about 10 records per key and window); the
// aggregate is a count. Dense windows: the state update, not the firing,
// dominates.

var denseGen = genConfig{keys: 100_000, eventsPerMs: 1000}

const denseSize = time.Second

func denseEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, denseGen, n, weir.ForMonotonousTimestamps[Event]())
	keyed := weir.KeyBy(src, func(e Event) uint64 { return e.Key })
	counts := weir.WindowAggregate[uint64, Event, window.TimeWindow, int64, int64](
		weir.Window(keyed, window.TumblingEventTime[Event](denseSize)), countAgg{})
	return execute(ctx, env, counts, identity)
}

// denseLoop keeps one map of counts for the current window.
func denseLoop(n int64) Checksum {
	size := denseSize.Milliseconds()
	counts := make(map[uint64]int64, denseGen.keys)
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
		e := denseGen.event(i)
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
