package weir_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/window"
)

// ev is an input event of the same-answer tests.
type ev struct {
	Key   string
	TS    int64
	Value int
}

// randomEvents returns events spread over splits, each split in timestamp
// order but for a disorder of up to 3 s, over about ten minutes.
func randomEvents(seed uint64, n, splits int) [][]ev {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][]ev, splits)
	for s := range out {
		ts := int64(1_700_000_000_000)
		for i := 0; i < n/splits; i++ {
			ts += int64(rng.IntN(200))
			out[s] = append(out[s], ev{
				Key:   fmt.Sprintf("k%d", rng.IntN(13)),
				TS:    ts - int64(rng.IntN(3000)),
				Value: rng.IntN(100),
			})
		}
	}
	return out
}

// splitSource serves each split of events to one reader (split i to reader
// i mod parallelism), interleaving its splits a few records at a time. If
// unbounded, it emits a far watermark after the data and then idles forever
// instead of ending.
type splitSource struct {
	splits    [][]ev
	unbounded bool
}

func (s splitSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[ev], error) {
	r := &splitReader{unbounded: s.unbounded}
	for i := ctx.Subtask; i < len(s.splits); i += ctx.Parallelism {
		r.splits = append(r.splits, i)
		r.data = append(r.data, s.splits[i])
		r.pos = append(r.pos, 0)
	}
	return r, nil
}

type splitReader struct {
	splits    []int
	data      [][]ev
	pos       []int
	unbounded bool
	done      bool
	never     chan struct{}
}

func (r *splitReader) Poll(_ context.Context, out *weir.SourceOutput[ev]) (weir.PollStatus, error) {
	if r.done {
		return weir.NothingAvailable, nil
	}
	more := false
	for i, d := range r.data {
		so := out.Split(fmt.Sprint(r.splits[i]))
		for n := 0; n < 7 && r.pos[i] < len(d); n++ {
			e := d[r.pos[i]]
			so.CollectWithTimestamp(e, e.TS)
			r.pos[i]++
		}
		more = more || r.pos[i] < len(d)
	}
	if more {
		return weir.MoreAvailable, nil
	}
	if !r.unbounded {
		return weir.EndOfInput, nil
	}
	for i := range r.data {
		out.ReleaseSplit(fmt.Sprint(r.splits[i]))
	}
	out.EmitWatermark(2_000_000_000_000)
	r.done = true
	return weir.NothingAvailable, nil
}

// Available never fires: an unbounded reader that has nothing more.
func (r *splitReader) Available() <-chan struct{} {
	if r.never == nil {
		r.never = make(chan struct{})
	}
	return r.never
}

func (r *splitReader) Close() error { return nil }

type sumCount struct{ Sum, Count int }

type evSumAgg struct{}

func (evSumAgg) CreateAccumulator() sumCount { return sumCount{} }
func (evSumAgg) Add(a sumCount, e ev) (sumCount, error) {
	return sumCount{a.Sum + e.Value, a.Count + 1}, nil
}
func (evSumAgg) Result(a sumCount) (sumCount, error) { return a, nil }
func (evSumAgg) Merge(a, b sumCount) (sumCount, error) {
	return sumCount{a.Sum + b.Sum, a.Count + b.Count}, nil
}
func windowLine(kind, key string, w window.TimeWindow, a sumCount) string {
	return fmt.Sprintf("%s %s [%d,%d) sum=%d n=%d", kind, key, w.Start, w.End, a.Sum, a.Count)
}

// tsCounter keeps each key's timestamps in list state and, at an
// event-time timer delay ms after each record, emits how many of the key's
// records are at or before the timer: deterministic output whatever the
// interleaving of inputs, which depends on state and timers.
type tsCounter[K comparable, T any] struct {
	delay int64
	seen  state.List[int64]
}

func (c *tsCounter[K, T]) Open(ctx *weir.KeyedRuntimeContext[K]) error {
	c.seen = state.GetList[K, int64](ctx.State(), state.Descriptor{Name: "seen"})
	return nil
}

func (c *tsCounter[K, T]) ProcessElement(ctx *weir.KeyedContext[K, string], _ T) error {
	c.seen.Add(ctx.Timestamp())
	ctx.RegisterEventTimeTimer(ctx.Timestamp() + c.delay)
	return nil
}

func (c *tsCounter[K, T]) OnTimer(ctx *weir.KeyedContext[K, string], ts int64) error {
	n := 0
	for _, t := range c.seen.Get() {
		if t <= ts {
			n++
		}
	}
	ctx.Collect(fmt.Sprintf("timer %v %d n=%d", ctx.Key(), ts, n))
	return nil
}

type variant struct {
	p         int
	chaining  bool
	unbounded bool
	state     string
}

// sameAnswerJob runs the pipeline and returns its output lines, sorted.
func sameAnswerJob(t *testing.T, v variant, splits [][]ev, expect int) []string {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{Parallelism: v.p, DisableChaining: !v.chaining, AutoWatermarkInterval: -1,
		StateBackend: v.state, Pebble: pebble.New(), StateDir: t.TempDir()})
	src := weir.FromSource[ev](env, splitSource{splits: splits, unbounded: v.unbounded},
		weir.ForBoundedOutOfOrderness[ev](5*time.Second), "events")
	doubled := weir.Map(src, func(e ev) ev { e.Value *= 2; return e }).Filter(func(e ev) bool { return e.Value%5 != 0 })
	byKey := weir.KeyBy(doubled, func(e ev) string { return e.Key })
	tumbling := weir.WindowAggregateProcess(weir.Window(byKey, window.TumblingEventTime[ev](10*time.Second)), evSumAgg{},
		weir.ProcessWindowFunc[string, sumCount, string, window.TimeWindow](func(ctx *weir.WindowContext[string, string, window.TimeWindow], key string, in []sumCount) error {
			ctx.Collect(windowLine("tumble", key, ctx.Window(), in[0]))
			return nil
		}))
	sliding := weir.WindowAggregateProcess(weir.Window(byKey, window.SlidingEventTime[ev](30*time.Second, 10*time.Second)), evSumAgg{},
		weir.ProcessWindowFunc[string, sumCount, string, window.TimeWindow](func(ctx *weir.WindowContext[string, string, window.TimeWindow], key string, in []sumCount) error {
			ctx.Collect(windowLine("slide", key, ctx.Window(), in[0]))
			return nil
		}))
	sessions := weir.WindowAggregateProcess(weir.Window(byKey, window.EventTimeSession[ev](500*time.Millisecond)), evSumAgg{},
		weir.ProcessWindowFunc[string, sumCount, string, window.TimeWindow](func(ctx *weir.WindowContext[string, string, window.TimeWindow], key string, in []sumCount) error {
			ctx.Collect(windowLine("session", key, ctx.Window(), in[0]))
			return nil
		}))
	timers := weir.ProcessKeyed[string, ev, string](byKey, &tsCounter[string, ev]{delay: 7000})
	all := weir.Union(tumbling, sliding, sessions, timers)

	var (
		mu    sync.Mutex
		lines []string
		count atomic.Int64
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all.SinkTo(weir.SinkFunc[string](func(_ context.Context, s string, _ int64) error {
		mu.Lock()
		lines = append(lines, s)
		mu.Unlock()
		if v.unbounded && count.Add(1) == int64(expect) {
			cancel()
		}
		return nil
	}))
	err := env.Execute(ctx)
	if v.unbounded {
		if ctx.Err() == context.DeadlineExceeded {
			t.Fatalf("%+v: unbounded run produced %d of %d results before the deadline", v, count.Load(), expect)
		}
	} else if err != nil {
		t.Fatalf("%+v: %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lines)
	return lines
}

// TestSameAnswer runs one event-time pipeline (map, filter, key by,
// tumbling, sliding and session windows, timers, union) over random input
// and requires identical output across parallelism 1, 2 and 4, chaining on
// and off, bounded and unbounded execution, and the heap and Pebble state
// backends.
func TestSameAnswer(t *testing.T) {
	splits := randomEvents(42, 4000, 4)
	base := sameAnswerJob(t, variant{p: 1, chaining: true}, splits, 0)
	kinds := map[string]int{}
	for _, l := range base {
		var k string
		fmt.Sscan(l, &k)
		kinds[k]++
	}
	t.Logf("results per kind: %v", kinds)
	for _, k := range []string{"tumble", "slide", "session", "timer"} {
		if kinds[k] < 100 {
			t.Fatalf("only %d %s results (%v): the test would prove little", kinds[k], k, kinds)
		}
	}
	for _, v := range []variant{
		{p: 1, chaining: false},
		{p: 2, chaining: true},
		{p: 2, chaining: false},
		{p: 4, chaining: true},
		{p: 4, chaining: false},
		{p: 1, chaining: true, unbounded: true},
		{p: 4, chaining: true, unbounded: true},
		{p: 1, chaining: true, state: weir.StatePebble},
		{p: 2, chaining: false, state: weir.StatePebble},
		{p: 4, chaining: true, unbounded: true, state: weir.StatePebble},
	} {
		got := sameAnswerJob(t, v, splits, len(base))
		if diff := cmp.Diff(base, got); diff != "" {
			t.Fatalf("%+v differs from parallelism 1 (-p1 +this):\n%s", v, diff)
		}
	}
}
