package weir_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// gatedLookup is an AsyncFunction whose calls complete only when a
// releaser lets them, in a random order: a controllable stand-in for an
// external system (no sleeps). It answers v with {2v, 2v+1}, counts the
// calls in progress and remembers the most seen at once.
type gatedLookup struct {
	arrivals chan *gatedCall
	// hold makes the releaser wait until this many calls are pending (or
	// every record's call is: total) before it releases one.
	hold, total int
	active      atomic.Int64
	maxActive   atomic.Int64
	calls       atomic.Int64
	// onCall, if set, is called at the start of every call.
	onCall func(v int) error
	stop   chan struct{}
	wg     sync.WaitGroup
}

type gatedCall struct {
	v       int
	release chan struct{}
}

func newGatedLookup(t *testing.T, seed uint64, hold, total int) *gatedLookup {
	g := &gatedLookup{arrivals: make(chan *gatedCall), hold: hold, total: total, stop: make(chan struct{})}
	g.wg.Add(1)
	go g.releaser(rand.New(rand.NewPCG(seed, 1)))
	t.Cleanup(func() { close(g.stop); g.wg.Wait() })
	return g
}

// releaser gathers pending calls and releases a random one whenever no
// other call is arriving (and, with hold, once hold calls are pending).
func (g *gatedLookup) releaser(rng *rand.Rand) {
	defer g.wg.Done()
	var pool []*gatedCall
	arrived := 0
	flush := false // with hold: release every pending call
	for {
		if g.hold > 0 && (len(pool) >= g.hold || arrived == g.total) {
			flush = true
		}
		wait := len(pool) == 0 || (g.hold > 0 && !flush)
		if len(pool) == 0 {
			flush = false
		}
		if !wait {
			select {
			case c := <-g.arrivals:
				pool = append(pool, c)
				arrived++
				continue
			default:
			}
			i := rng.IntN(len(pool))
			close(pool[i].release)
			pool[i] = pool[len(pool)-1]
			pool = pool[:len(pool)-1]
			continue
		}
		select {
		case c := <-g.arrivals:
			pool = append(pool, c)
			arrived++
		case <-g.stop:
			return
		}
	}
}

func (g *gatedLookup) AsyncInvoke(ctx context.Context, v int) ([]int, error) {
	n := g.active.Add(1)
	defer g.active.Add(-1)
	for {
		m := g.maxActive.Load()
		if n <= m || g.maxActive.CompareAndSwap(m, n) {
			break
		}
	}
	g.calls.Add(1)
	if g.onCall != nil {
		if err := g.onCall(v); err != nil {
			return nil, err
		}
	}
	c := &gatedCall{v: v, release: make(chan struct{})}
	select {
	case g.arrivals <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-c.release:
		return []int{2 * v, 2*v + 1}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// event is a record or a watermark as a sink saw it.
type event struct {
	wm bool
	v  int64 // the record's value, or the watermark
}

// eventSink records records and watermarks in arrival order.
type eventSink struct {
	mu     sync.Mutex
	events []event
}

func (s *eventSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int], error) {
	return eventWriter{s}, nil
}

func (s *eventSink) all() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

type eventWriter struct{ s *eventSink }

func (w eventWriter) Write(_ context.Context, v int, _ int64) error {
	w.s.mu.Lock()
	w.s.events = append(w.s.events, event{v: int64(v)})
	w.s.mu.Unlock()
	return nil
}

func (w eventWriter) WriteWatermark(_ context.Context, wm int64) error {
	w.s.mu.Lock()
	w.s.events = append(w.s.events, event{wm: true, v: wm})
	w.s.mu.Unlock()
	return nil
}
func (eventWriter) Flush(context.Context, bool) error { return nil }
func (eventWriter) Close() error                      { return nil }

// wmSource emits 0..n-1 with timestamp = value and, after every value v
// with v%every == every-1, the watermark v.
type wmSource struct{ n, every int }

func (s wmSource) CreateReader(weir.SourceContext) (weir.SourceReader[int], error) {
	return &wmReader{s: s}, nil
}

type wmReader struct {
	s    wmSource
	next int
}

func (r *wmReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for i := 0; i < 7 && r.next < r.s.n; i++ {
		out.CollectWithTimestamp(r.next, int64(r.next))
		if r.next%r.s.every == r.s.every-1 {
			out.EmitWatermark(int64(r.next))
		}
		r.next++
	}
	if r.next == r.s.n {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}
func (r *wmReader) Close() error { return nil }

// Ordered mode emits exactly the input order, watermarks in place, however
// the calls complete; unordered mode emits a permutation in which no
// record crosses a watermark, and does reorder.
func TestAsyncOrder(t *testing.T) {
	const n, every = 3000, 25
	for _, ordered := range []bool{true, false} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			g := newGatedLookup(t, seed, 0, n)
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			src := weir.FromSource[int](env, wmSource{n, every}, weir.NoWatermarks[int](), "numbers")
			opts := weir.AsyncOptions{Capacity: 16}
			var out weir.Stream[int]
			if ordered {
				out = weir.OrderedWait[int, int](src, g, opts)
			} else {
				out = weir.UnorderedWait[int, int](src, g, opts)
			}
			sink := &eventSink{}
			out.SinkTo(sink)
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := sink.all()
			var want []event
			for v := 0; v < n; v++ {
				want = append(want, event{v: int64(2 * v)}, event{v: int64(2*v + 1)})
				if v%every == every-1 {
					want = append(want, event{wm: true, v: int64(v)})
				}
			}
			want = append(want, event{wm: true, v: weir.MaxWatermark})
			// Watermarks queued back to back (no record between them) may
			// be merged into the later one.
			got, want = mergeWatermarks(got), mergeWatermarks(want)
			if ordered {
				if len(got) != len(want) {
					t.Fatalf("%d events, want %d; last %v", len(got), len(want), got[len(got)-5:])
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("event %d is %+v, want %+v", i, got[i], want[i])
					}
				}
				return
			}
			checkUnordered(t, got, want)
		})
	}
}

// mergeWatermarks keeps only the last of consecutive watermarks.
func mergeWatermarks(evs []event) []event {
	var out []event
	for i, e := range evs {
		if e.wm && i+1 < len(evs) && evs[i+1].wm {
			continue
		}
		out = append(out, e)
	}
	return out
}

// checkUnordered checks that got is want with records moved only within
// the stretch between two watermarks, and that some were moved.
func checkUnordered(t *testing.T, got, want []event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	// Split both at the watermarks: the stretches must hold the same
	// records, and the watermarks must be the same, in order.
	split := func(evs []event) (stretches [][]int64, wms []int64) {
		cur := []int64{}
		for _, e := range evs {
			if e.wm {
				stretches = append(stretches, cur)
				wms = append(wms, e.v)
				cur = []int64{}
				continue
			}
			cur = append(cur, e.v)
		}
		return append(stretches, cur), wms
	}
	gs, gw := split(got)
	ws, ww := split(want)
	if fmt.Sprint(gw) != fmt.Sprint(ww) {
		t.Fatalf("watermarks %v, want %v", gw, ww)
	}
	moved := 0
	for i := range ws {
		if len(gs[i]) != len(ws[i]) {
			t.Fatalf("stretch before watermark %d has %d records, want %d: a record crossed a watermark", i, len(gs[i]), len(ws[i]))
		}
		for j := range gs[i] {
			if gs[i][j] != ws[i][j] {
				moved++
			}
		}
		g := append([]int64(nil), gs[i]...)
		sort.Slice(g, func(a, b int) bool { return g[a] < g[b] })
		if fmt.Sprint(g) != fmt.Sprint(ws[i]) {
			t.Fatalf("stretch %d holds %v, want %v", i, g, ws[i])
		}
	}
	if moved == 0 {
		t.Fatal("unordered mode emitted everything in input order: the test did not exercise reordering")
	}
}

// Never more than Capacity calls run, nor records wait unemitted, at once;
// at Capacity the operator stops taking input (the releaser lets a call
// complete only once Capacity are pending, so the job would hang if the
// operator did not reach it, and overshoot would show in maxActive).
func TestAsyncCapacityBackpressure(t *testing.T) {
	const n, capacity = 500, 8
	for _, ordered := range []bool{true, false} {
		g := newGatedLookup(t, 7, capacity, n)
		var emitted atomic.Int64
		var over atomic.Int64
		g.onCall = func(int) error {
			// Records requested minus records emitted: at most Capacity.
			if d := g.calls.Load() - emitted.Load(); d > capacity {
				over.Store(d)
			}
			return nil
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		src := weir.FromSource[int](env, &boundedCounter{n: n, produced: new(atomic.Int64)}, weir.NoWatermarks[int](), "numbers")
		opts := weir.AsyncOptions{Capacity: capacity}
		var out weir.Stream[int]
		if ordered {
			out = weir.OrderedWait[int, int](src, g, opts)
		} else {
			out = weir.UnorderedWait[int, int](src, g, opts)
		}
		out.Filter(func(v int) bool { return v%2 == 0 }).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
			emitted.Add(1)
			return nil
		}))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m := g.maxActive.Load(); m != capacity {
			t.Fatalf("ordered=%v: at most %d calls at once, want exactly the capacity %d", ordered, m, capacity)
		}
		if d := over.Load(); d != 0 {
			t.Fatalf("ordered=%v: %d records in flight, capacity %d", ordered, d, capacity)
		}
		if e := emitted.Load(); e != n {
			t.Fatalf("ordered=%v: %d records emitted, want %d", ordered, e, n)
		}
	}
}

// blockingLookup blocks until ctx is done; it counts the calls that saw
// their ctx end.
type blockingLookup struct {
	started   chan int
	blocked   atomic.Bool
	cancelled atomic.Int64
	timeout   func(int) ([]int, error)
}

func (b *blockingLookup) AsyncInvoke(ctx context.Context, v int) ([]int, error) {
	select {
	case b.started <- v:
	default:
	}
	b.blocked.Store(true)
	<-ctx.Done()
	b.cancelled.Add(1)
	return nil, ctx.Err()
}

type timeoutLookup struct{ blockingLookup }

func (t *timeoutLookup) AsyncTimeout(v int) ([]int, error) { return t.timeout(v) }

// A timeout fails the job with an error naming the operator and the
// record; with an AsyncTimeoutHandler its answer is emitted instead.
func TestAsyncTimeout(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSlice(env, []int{41})
	weir.OrderedWait[int, int](src, &blockingLookup{started: make(chan int, 1)}, weir.AsyncOptions{Timeout: 20 * time.Millisecond}).Name("lookup").
		SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `operator "lookup"`) || !strings.Contains(err.Error(), "record 41 timed out") {
		t.Fatalf("Execute = %v, want a timeout naming operator lookup and record 41", err)
	}

	env = weir.NewEnvironment(weir.Options{})
	src = weir.FromSlice(env, []int{1, 2, 3})
	fn := &timeoutLookup{blockingLookup{started: make(chan int, 1)}}
	fn.timeout = func(v int) ([]int, error) { return []int{-v}, nil }
	var got []int
	weir.OrderedWait[int, int](src, fn, weir.AsyncOptions{Timeout: 10 * time.Millisecond}).
		SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error { got = append(got, v); return nil }))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[-1 -2 -3]" {
		t.Fatalf("timeout handler results %v, want [-1 -2 -3]", got)
	}
	if c := fn.cancelled.Load(); c != 3 {
		t.Fatalf("%d calls saw their context end at the timeout, want 3", c)
	}
}

var errTransient = errors.New("transient")

// flakyLookup fails the first failures calls of every record, then answers
// nothing emptyFirst times (an empty result), then {v}.
type flakyLookup struct {
	mu         sync.Mutex
	calls      map[int]int
	failures   int
	emptyFirst int
}

func (f *flakyLookup) AsyncInvoke(_ context.Context, v int) ([]int, error) {
	f.mu.Lock()
	f.calls[v]++
	c := f.calls[v]
	f.mu.Unlock()
	if c <= f.failures {
		return nil, fmt.Errorf("call %d: %w", c, errTransient)
	}
	if c <= f.failures+f.emptyFirst {
		return nil, nil
	}
	return []int{v}, nil
}

func runFlaky(t *testing.T, f *flakyLookup, opts weir.AsyncOptions) ([]int, error) {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{})
	var in []int
	for i := 0; i < 50; i++ {
		in = append(in, i)
	}
	var got []int
	weir.UnorderedWait[int, int](weir.FromSlice(env, in), f, opts).Name("flaky").
		SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error { got = append(got, v); return nil }))
	err := env.Execute(context.Background())
	sort.Ints(got)
	return got, err
}

// Retries: a fixed delay or an exponential backoff retries failed calls up
// to MaxAttempts in all; the error predicate limits what is retried; the
// result predicate retries empty results; when attempts run out the last
// error fails the job naming the record and attempts.
func TestAsyncRetry(t *testing.T) {
	f := &flakyLookup{calls: map[int]int{}, failures: 2}
	got, err := runFlaky(t, f, weir.AsyncOptions{Retry: weir.FixedDelayRetry(3, time.Millisecond)})
	if err != nil || len(got) != 50 {
		t.Fatalf("fixed delay: %v, %d results", err, len(got))
	}
	for v, c := range f.calls {
		if c != 3 {
			t.Fatalf("record %d: %d calls, want 3", v, c)
		}
	}

	f = &flakyLookup{calls: map[int]int{}, failures: 1, emptyFirst: 2}
	got, err = runFlaky(t, f, weir.AsyncOptions{Retry: weir.ExponentialBackoffRetry(4, time.Millisecond, 4*time.Millisecond, 2).
		IfResult(weir.RetryIfEmptyResult[int]())})
	if err != nil || len(got) != 50 || got[49] != 49 {
		t.Fatalf("backoff with result predicate: %v, %v", err, got)
	}
	if f.calls[0] != 4 {
		t.Fatalf("%d calls, want 4 (1 error, 2 empty results, 1 answer)", f.calls[0])
	}

	f = &flakyLookup{calls: map[int]int{}, failures: 5}
	_, err = runFlaky(t, f, weir.AsyncOptions{Retry: weir.FixedDelayRetry(3, time.Millisecond)})
	if !errors.Is(err, errTransient) || !strings.Contains(err.Error(), `operator "flaky"`) || !strings.Contains(err.Error(), "(3 attempts)") {
		t.Fatalf("Execute = %v, want the transient error after 3 attempts, naming the operator", err)
	}

	f = &flakyLookup{calls: map[int]int{}, failures: 1}
	_, err = runFlaky(t, f, weir.AsyncOptions{Retry: weir.FixedDelayRetry(3, time.Millisecond).
		IfError(func(err error) bool { return !errors.Is(err, errTransient) })})
	if !errors.Is(err, errTransient) || !strings.Contains(err.Error(), "(1 attempts)") {
		t.Fatalf("Execute = %v, want the first error, not retried", err)
	}

	// Exhausted by results: the last result stands (Flink's behaviour).
	f = &flakyLookup{calls: map[int]int{}, emptyFirst: 10}
	got, err = runFlaky(t, f, weir.AsyncOptions{Retry: weir.FixedDelayRetry(2, 0).IfResult(weir.RetryIfEmptyResult[int]())})
	if err != nil || len(got) != 0 || f.calls[3] != 2 {
		t.Fatalf("exhausted on results: %v, %v, %d calls", err, got, f.calls[3])
	}

	// A predicate for another output type fails the job when built.
	f = &flakyLookup{calls: map[int]int{}}
	_, err = runFlaky(t, f, weir.AsyncOptions{Retry: weir.FixedDelayRetry(2, 0).IfResult(weir.RetryIfEmptyResult[string]())})
	if err == nil || !strings.Contains(err.Error(), "retry result predicate") {
		t.Fatalf("Execute = %v, want the predicate's type mismatch", err)
	}
}

// An error of AsyncInvoke fails the job with an error naming the operator
// and the record, wrapping the function's error; a panic in it fails the
// job too.
func TestAsyncErrorNamesRecord(t *testing.T) {
	type order struct{ ID int }
	boom := errors.New("boom")
	for _, panics := range []bool{false, true} {
		env := weir.NewEnvironment(weir.Options{Parallelism: 2})
		src := weir.FromSlice(env, []order{{1}, {2}, {3}, {4}})
		weir.UnorderedWait(src, weir.AsyncFunc[order, int](func(_ context.Context, o order) ([]int, error) {
			if o.ID == 3 {
				if panics {
					panic("kaboom")
				}
				return nil, boom
			}
			return []int{o.ID}, nil
		}), weir.AsyncOptions{}).Name("enrich").SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
		err := env.Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), `operator "enrich"`) || !strings.Contains(err.Error(), "record {ID:3}") {
			t.Fatalf("panics=%v: Execute = %v", panics, err)
		}
		if !panics && !errors.Is(err, boom) {
			t.Fatalf("Execute = %v does not wrap the function's error", err)
		}
	}
}

// Cancelling the job, or another operator failing it, ends the calls'
// context and Execute returns promptly while calls are blocked and the
// operator waits for capacity.
func TestAsyncCancellation(t *testing.T) {
	for _, fail := range []bool{false, true} {
		b := &blockingLookup{started: make(chan int, 1)}
		env := weir.NewEnvironment(weir.Options{Parallelism: 2})
		src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
		out := weir.OrderedWait[int, int](weir.KeyBy(src, func(v int) int { return v % 3 }).ByKey(), b, weir.AsyncOptions{Capacity: 4})
		out.SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
		// A second pipeline, failing once a call is blocked when fail is
		// set.
		src2 := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter2")
		weir.TryMap(src2, func(v int) (int, error) {
			if fail && b.blocked.Load() {
				return 0, errInjected
			}
			return v, nil
		}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- env.Execute(ctx) }()
		<-b.started
		if !fail {
			cancel()
		}
		select {
		case err := <-errc:
			if fail && !errors.Is(err, errInjected) || !fail && !errors.Is(err, context.Canceled) {
				t.Fatalf("fail=%v: Execute = %v", fail, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("fail=%v: Execute did not return after the job ended", fail)
		}
		cancel()
		if b.cancelled.Load() == 0 {
			t.Fatalf("fail=%v: no call saw its context end", fail)
		}
	}
}

// A job with checkpoints that fails at random points (in the async
// function and downstream of it) and restarts in-process from its latest
// checkpoint commits every result exactly once: the records in flight at
// a checkpoint are stored in it and requested again after the restore.
func TestAsyncExactlyOnceAcrossRestarts(t *testing.T) {
	const n = 2000
	for _, c := range []struct {
		ordered bool
		keyed   bool
	}{{true, false}, {false, false}, {true, true}, {false, true}} {
		t.Run(fmt.Sprintf("ordered=%v,keyed=%v", c.ordered, c.keyed), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, 2))
			failIn := 200 + rng.IntN(n/2)    // the async function fails at this record
			failOut := 200 + rng.IntN(n-400) // a downstream map fails at this result
			t.Logf("seed %d: failing in the function at %d, downstream at %d", seed, failIn, failOut)
			g := newGatedLookup(t, seed, 0, n)
			var failedIn, failedOut atomic.Bool
			g.onCall = func(v int) error {
				if v == failIn && !failedIn.Swap(true) {
					return errInjected
				}
				return nil
			}
			com := newCommitted[int]()
			env := weir.NewEnvironment(weir.Options{
				Parallelism: 2,
				Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()},
				Restart:     &weir.FixedDelayRestart{Attempts: 5, Delay: time.Millisecond},
			})
			src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 10}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
			in := src.Rebalance()
			if c.keyed {
				in = weir.KeyBy(src, func(v int) int { return v % 5 }).ByKey()
			}
			opts := weir.AsyncOptions{Capacity: 10}
			var out weir.Stream[int]
			if c.ordered {
				out = weir.OrderedWait[int, int](in, g, opts).UID("async")
			} else {
				out = weir.UnorderedWait[int, int](in, g, opts).UID("async")
			}
			checked := weir.TryMap(out, func(v int) (int, error) {
				if v == 2*failOut && !failedOut.Swap(true) {
					return 0, errInjected
				}
				return v, nil
			})
			checked.SinkTo(txSink[int]{com}).UID("sink")
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !failedIn.Load() || !failedOut.Load() {
				t.Fatalf("the injected failures did not happen (in %v, out %v)", failedIn.Load(), failedOut.Load())
			}
			seen := make([]int, 2*n)
			for _, v := range com.all() {
				seen[v]++
			}
			for v, k := range seen {
				if k != 1 {
					t.Fatalf("result %d committed %d times", v, k)
				}
			}
		})
	}
}

// A record whose call is still in flight at a checkpoint is requested
// again after a restore from it: record 5's call never completes in the
// first run; the run fails (at record 1000, held back until a checkpoint
// taken after record 5 committed results of later records); the source
// resumes past 5, so only the re-issue from the operator's state can
// produce its result, which must be committed exactly once.
func TestAsyncReissuesInFlightAfterRestore(t *testing.T) {
	const n = 1200
	com := newCommitted[int]()
	var firstRun atomic.Bool
	firstRun.Store(true)
	var calls5 atomic.Int64
	laterCommitted := func() bool {
		for _, v := range com.all() {
			if v > 20 {
				return true
			}
		}
		return false
	}
	fn := weir.AsyncFunc[int, int](func(ctx context.Context, v int) ([]int, error) {
		if v == 5 {
			calls5.Add(1)
			if firstRun.Load() {
				<-ctx.Done()
				return nil, ctx.Err()
			}
		}
		if v == 1000 && firstRun.Swap(false) {
			return nil, errInjected
		}
		return []int{2 * v, 2*v + 1}, nil
	})
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()},
		Restart:     &weir.FixedDelayRestart{Attempts: 2, Delay: time.Millisecond},
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 10, holdAt: 1000, gate: laterCommitted}, weir.NoWatermarks[int](), "counter").UID("counter")
	weir.UnorderedWait(src, weir.AsyncFunction[int, int](fn), weir.AsyncOptions{Capacity: 10}).UID("async").
		SinkTo(txSink[int]{com}).UID("sink")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if firstRun.Load() {
		t.Fatal("the first run did not fail")
	}
	if c := calls5.Load(); c != 2 {
		t.Fatalf("record 5 was requested %d times, want 2 (first run, re-issue after the restore)", c)
	}
	seen := make([]int, 2*n)
	for _, v := range com.all() {
		seen[v]++
	}
	for v, k := range seen {
		if k != 1 {
			t.Fatalf("result %d committed %d times", v, k)
		}
	}
}

// Restored at another parallelism, the records in flight of every old
// subtask are requested again by one of the new subtasks: records 5 and 6
// (on the two subtasks of the first run) never complete there; the run
// fails after later results were committed; the job restarts from the
// latest checkpoint at parallelism 1 and then 3, and every result is
// committed exactly once.
func TestAsyncReissuesAfterRescale(t *testing.T) {
	const n = 1200
	for _, p2 := range []int{1, 3} {
		dir := t.TempDir()
		com := newCommitted[int]()
		var stuck, blocking atomic.Bool
		blocking.Store(true)
		laterCommitted := func() bool {
			for _, v := range com.all() {
				if v > 40 {
					return true
				}
			}
			return false
		}
		var calls [2]atomic.Int64
		fn := weir.AsyncFunc[int, int](func(ctx context.Context, v int) ([]int, error) {
			if v == 5 || v == 6 {
				calls[v-5].Add(1)
				if blocking.Load() {
					stuck.Store(true)
					<-ctx.Done()
					return nil, ctx.Err()
				}
			}
			if v == 1000 && blocking.Load() {
				return nil, errInjected
			}
			return []int{2 * v, 2*v + 1}, nil
		})
		run := func(p int) error {
			env := weir.NewEnvironment(weir.Options{
				Parallelism: p,
				Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
				Restore:     "latest",
			})
			src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 10, holdAt: 1000, gate: laterCommitted}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
			// Unordered: later results pass the stuck ones (in ordered mode
			// nothing would be committed past them).
			weir.UnorderedWait(src.Rebalance(), weir.AsyncFunction[int, int](fn), weir.AsyncOptions{Capacity: 10}).UID("async").
				SinkTo(txSink[int]{com}).UID("sink")
			return env.Execute(context.Background())
		}
		if err := run(2); !errors.Is(err, errInjected) {
			t.Fatalf("first run: %v", err)
		}
		blocking.Store(false)
		if err := run(p2); err != nil {
			t.Fatalf("restored at parallelism %d: %v", p2, err)
		}
		for i := range calls {
			if c := calls[i].Load(); c != 2 {
				t.Fatalf("p=%d: record %d requested %d times, want 2", p2, 5+i, c)
			}
		}
		seen := make([]int, 2*n)
		for _, v := range com.all() {
			seen[v]++
		}
		for v, k := range seen {
			if k != 1 {
				t.Fatalf("p=%d: result %d committed %d times", p2, v, k)
			}
		}
	}
}

// The operator's metrics: retries (calls after a record's first), timeouts
// and records in flight, published per operator with Options.Registry.
func TestAsyncMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	// keepRegistry keeps the metrics after the job (which unregisters them).
	env := weir.NewEnvironment(weir.Options{Registry: keepRegistry{reg}, MetricsInterval: time.Millisecond})
	var in []int
	for i := 0; i < 50; i++ {
		in = append(in, i)
	}
	f := &flakyLookup{calls: map[int]int{}, failures: 2} // every record: 2 failed calls, then an answer
	out := weir.Collect(weir.OrderedWait[int, int](weir.FromSlice(env, in), f,
		weir.AsyncOptions{Retry: weir.FixedDelayRetry(3, 0)}).Name("lookup"))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(out.Values()) != 50 {
		t.Fatalf("%d results", len(out.Values()))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operator" && strings.Contains(l.GetValue(), "lookup") {
					if c := m.GetCounter(); c != nil {
						got[mf.GetName()] += c.GetValue()
					} else if g := m.GetGauge(); g != nil {
						got[mf.GetName()] += g.GetValue()
					}
				}
			}
		}
	}
	if got["weir_operator_async_retries_total"] != 100 {
		t.Errorf("retries %v, want 100 (2 per record); metrics %v", got["weir_operator_async_retries_total"], got)
	}
	if v, ok := got["weir_operator_async_timeouts_total"]; !ok || v != 0 {
		t.Errorf("timeouts %v (published: %v), want 0", v, ok)
	}
	if v, ok := got["weir_operator_async_in_flight"]; !ok || v != 0 {
		t.Errorf("in flight at the end %v (published: %v), want 0", v, ok)
	}
}
