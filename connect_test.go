package weir_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// exact returns options under which FromTimestamped emits a watermark after
// every record.
func exact(p int) weir.Options {
	return weir.Options{Parallelism: p, AutoWatermarkInterval: -1}
}

func timestamped[T any](vs []T, ts func(T) int64) []weir.TimestampedValue[T] {
	out := make([]weir.TimestampedValue[T], len(vs))
	for i, v := range vs {
		out[i] = weir.TimestampedValue[T]{Value: v, TS: ts(v)}
	}
	return out
}

// sorted renders records with their timestamps and sorts them, to compare
// outputs as multisets.
func sorted[T any](c *weir.Collected[T]) []string {
	var out []string
	for _, v := range c.Timestamped() {
		out = append(out, fmt.Sprintf("%v@%d", v.Value, v.TS))
	}
	slices.Sort(out)
	return out
}

func TestCoMapAndCoFlatMap(t *testing.T) {
	nums := []int{1, 2, 3, 4}
	words := []string{"x y", "z"}
	for _, p := range []int{1, 3} {
		env := weir.NewEnvironment(exact(p))
		a := weir.FromTimestamped(env, timestamped(nums, func(n int) int64 { return int64(n * 10) }), weir.ForMonotonousTimestamps[int]())
		b := weir.FromTimestamped(env, timestamped(words, func(string) int64 { return 7 }), weir.ForMonotonousTimestamps[string]())
		c := weir.Connect(a, b)
		mapped := weir.Collect(weir.CoMap(c, func(n int) string { return fmt.Sprint("n", n) }, strings.ToUpper))
		flat := weir.Collect(weir.CoFlatMap(c,
			func(n int, out weir.Collector[string]) error {
				for range n % 3 {
					out.Collect(fmt.Sprint(n))
				}
				return nil
			},
			func(s string, out weir.Collector[string]) error {
				for _, w := range strings.Fields(s) {
					out.Collect(w)
				}
				return nil
			}))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantMapped := []string{"X Y@7", "Z@7", "n1@10", "n2@20", "n3@30", "n4@40"}
		if got := sorted(mapped); !slices.Equal(got, wantMapped) {
			t.Errorf("p=%d: CoMap = %v, want %v", p, got, wantMapped)
		}
		wantFlat := []string{"1@10", "2@20", "2@20", "4@40", "x@7", "y@7", "z@7"}
		if got := sorted(flat); !slices.Equal(got, wantFlat) {
			t.Errorf("p=%d: CoFlatMap = %v, want %v", p, got, wantFlat)
		}
	}
}

// splitter sends the first input's negative numbers to a side output and
// counts the records of both inputs it saw in its subtask.
type splitter struct {
	neg  weir.OutputTag[int]
	seen int
}

func (s *splitter) ProcessElement1(ctx *weir.Context[string], n int) error {
	s.seen++
	if n < 0 {
		weir.Output(ctx, s.neg, n)
		return nil
	}
	ctx.Collect(fmt.Sprintf("a%d(wm<%d)", n, ctx.Timestamp()))
	if ctx.CurrentWatermark() >= ctx.Timestamp() {
		return fmt.Errorf("watermark %d not behind record %d", ctx.CurrentWatermark(), ctx.Timestamp())
	}
	return nil
}

func (s *splitter) ProcessElement2(ctx *weir.Context[string], in string) error {
	s.seen++
	ctx.CollectWithTimestamp("b"+in, 1000)
	return nil
}

func TestCoProcessSideOutput(t *testing.T) {
	nums := []int{3, -1, 5, -7, 9}
	for _, p := range []int{1, 4} {
		env := weir.NewEnvironment(exact(p))
		a := weir.FromTimestamped(env, timestamped(nums, func(n int) int64 { return int64(100 + n) }), weir.ForBoundedOutOfOrderness[int](0))
		b := weir.FromSlice(env, []string{"p", "q"})
		neg := weir.NewOutputTag[int]("negative")
		main := weir.CoProcess[int, string, string](weir.Connect(a, b), &splitter{neg: neg})
		got := weir.Collect(main)
		side := weir.Collect(weir.SideOutput(main, neg))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{"a3(wm<103)@103", "a5(wm<105)@105", "a9(wm<109)@109", "bp@1000", "bq@1000"}
		if g := sorted(got); !slices.Equal(g, want) {
			t.Errorf("p=%d: main = %v, want %v", p, g, want)
		}
		if g, w := sorted(side), []string{"-1@99", "-7@93"}; !slices.Equal(g, w) {
			t.Errorf("p=%d: side = %v, want %v", p, g, w)
		}
	}
}

func TestConnectAcrossEnvironmentsFails(t *testing.T) {
	env1 := weir.NewEnvironment(weir.Options{})
	env2 := weir.NewEnvironment(weir.Options{})
	a := weir.FromSlice(env1, []int{1})
	b := weir.FromSlice(env2, []int{2})
	weir.Collect(weir.CoMap(weir.Connect(a, b), func(n int) int { return n }, func(n int) int { return n }))
	err := env1.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "different environments") || !strings.Contains(err.Error(), "CoMap") {
		t.Fatalf("Execute = %v, want an error naming CoMap and the environments", err)
	}
}

// order and payment are the two inputs of the keyed co-process test.
type order struct {
	ID     int
	Amount int
	TS     int64
}

type payment struct {
	Order int
	Paid  int
	TS    int64
}

// windowSums is the per-window state of the keyed co-process test.
type windowSums struct {
	Orders, Paid, NOrders, NPaid int
}

type windowReport struct {
	Order, End int64
	Sums       windowSums
}

// coWindow sums both inputs per key in tumbling event-time windows of 10ms,
// held in keyed map state and emitted by an event-time timer at the window's
// end: a two-input window written by hand.
type coWindow struct {
	sums state.Map[int64, windowSums]
}

func (c *coWindow) Open(ctx *weir.KeyedRuntimeContext[int]) error {
	c.sums = state.GetMap[int, int64, windowSums](ctx.State(), state.Descriptor{Name: "sums"})
	return nil
}

func windowEnd(ts int64) int64 { return ts - ts%10 + 9 }

func (c *coWindow) add(ctx *weir.KeyedContext[int, windowReport], f func(*windowSums)) {
	end := windowEnd(ctx.Timestamp())
	s, _ := c.sums.Get(end)
	f(&s)
	c.sums.Put(end, s)
	ctx.RegisterEventTimeTimer(end)
}

func (c *coWindow) ProcessElement1(ctx *weir.KeyedContext[int, windowReport], o order) error {
	c.add(ctx, func(s *windowSums) { s.Orders += o.Amount; s.NOrders++ })
	return nil
}

func (c *coWindow) ProcessElement2(ctx *weir.KeyedContext[int, windowReport], p payment) error {
	c.add(ctx, func(s *windowSums) { s.Paid += p.Paid; s.NPaid++ })
	return nil
}

func (c *coWindow) OnTimer(ctx *weir.KeyedContext[int, windowReport], ts int64) error {
	if ctx.TimeDomain() != weir.EventTime || ctx.Timestamp() != ts {
		return fmt.Errorf("timer %d: domain %v timestamp %d", ts, ctx.TimeDomain(), ctx.Timestamp())
	}
	s, ok := c.sums.Get(ts)
	if !ok {
		return fmt.Errorf("timer %d of key %d without state", ts, ctx.Key())
	}
	c.sums.Remove(ts)
	ctx.Collect(windowReport{Order: int64(ctx.Key()), End: ts, Sums: s})
	return nil
}

func randomOrders(r *rand.Rand, n, keys int) ([]order, []payment) {
	var os []order
	var ps []payment
	var ts int64
	for range n {
		ts += int64(r.IntN(4))
		os = append(os, order{ID: r.IntN(keys), Amount: r.IntN(100), TS: ts})
	}
	ts = 0
	for range n {
		ts += int64(r.IntN(4))
		ps = append(ps, payment{Order: r.IntN(keys), Paid: r.IntN(100), TS: ts})
	}
	return os, ps
}

func runCoWindow(t *testing.T, p int, os []order, ps []payment) []string {
	t.Helper()
	env := weir.NewEnvironment(exact(p))
	a := weir.FromTimestamped(env, timestamped(os, func(o order) int64 { return o.TS }), weir.ForBoundedOutOfOrderness[order](0))
	b := weir.FromTimestamped(env, timestamped(ps, func(p payment) int64 { return p.TS }), weir.ForBoundedOutOfOrderness[payment](0))
	c := weir.ConnectKeyed(weir.KeyBy(a, func(o order) int { return o.ID }), weir.KeyBy(b, func(p payment) int { return p.Order }))
	got := weir.Collect(weir.CoProcessKeyed[int, order, payment, windowReport](c, &coWindow{}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sorted(got)
}

func TestKeyedCoProcessStateAndTimers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	os, ps := randomOrders(r, 400, 7)
	// Reference: group both inputs by key and window.
	type kw struct{ k, end int64 }
	ref := map[kw]windowSums{}
	for _, o := range os {
		k := kw{int64(o.ID), windowEnd(o.TS)}
		s := ref[k]
		s.Orders += o.Amount
		s.NOrders++
		ref[k] = s
	}
	for _, p := range ps {
		k := kw{int64(p.Order), windowEnd(p.TS)}
		s := ref[k]
		s.Paid += p.Paid
		s.NPaid++
		ref[k] = s
	}
	var want []string
	for k, s := range ref {
		want = append(want, fmt.Sprintf("%v@%d", windowReport{Order: k.k, End: k.end, Sums: s}, k.end))
	}
	slices.Sort(want)
	for _, p := range []int{1, 4} {
		got := runCoWindow(t, p, os, ps)
		if !slices.Equal(got, want) {
			t.Fatalf("p=%d: %d reports, want %d\n got %v\nwant %v", p, len(got), len(want), got, want)
		}
	}
}

// procTimer registers one processing-time timer per key, from either
// input, and reports the key and the number of records seen when it fires.
type procTimer struct {
	armed state.Value[bool]
	seen  state.Value[int]
}

func (f *procTimer) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.armed = state.GetValue[string, bool](ctx.State(), state.Descriptor{Name: "armed"})
	f.seen = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "seen"})
	return nil
}

func (f *procTimer) arm(ctx *weir.KeyedContext[string, string]) {
	n, _ := f.seen.Value()
	f.seen.Update(n + 1)
	if _, ok := f.armed.Value(); !ok {
		f.armed.Update(true)
		ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime())
	}
}

func (f *procTimer) ProcessElement1(ctx *weir.KeyedContext[string, string], _ string) error {
	f.arm(ctx)
	return nil
}

func (f *procTimer) ProcessElement2(ctx *weir.KeyedContext[string, string], _ int) error {
	f.arm(ctx)
	return nil
}

func (f *procTimer) OnTimer(ctx *weir.KeyedContext[string, string], ts int64) error {
	if ctx.TimeDomain() != weir.ProcessingTime || ts != 5000 || ctx.Timestamp() != weir.NoTimestamp {
		return fmt.Errorf("unexpected timer: domain %v at %d, timestamp %d", ctx.TimeDomain(), ts, ctx.Timestamp())
	}
	ctx.Collect("fired:" + ctx.Key())
	return nil
}

func TestKeyedCoProcessProcessingTimeTimers(t *testing.T) {
	for _, p := range []int{1, 4} {
		opts := weir.Options{Parallelism: p, Clock: func() int64 { return 5000 }}
		env := weir.NewEnvironment(opts)
		a := weir.FromSlice(env, []string{"k1", "k2", "k1"})
		b := weir.FromSlice(env, []int{3, 1, 3})
		c := weir.ConnectKeyed(weir.KeyBy(a, func(s string) string { return s }),
			weir.KeyBy(b, func(n int) string { return fmt.Sprint("k", n) }))
		got := weir.Collect(weir.CoProcessKeyed[string, string, int, string](c, &procTimer{}))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		v := got.Values()
		slices.Sort(v)
		if want := []string{"fired:k1", "fired:k2", "fired:k3"}; !slices.Equal(v, want) {
			t.Errorf("p=%d: %v, want %v", p, v, want)
		}
	}
}

// noTimer registers a timer but has no OnTimer.
type noTimer struct{}

func (noTimer) ProcessElement1(ctx *weir.KeyedContext[int, int], _ int) error {
	ctx.RegisterEventTimeTimer(ctx.Timestamp())
	return nil
}
func (noTimer) ProcessElement2(*weir.KeyedContext[int, int], int) error { return nil }

func TestKeyedCoProcessTimerWithoutOnTimerFails(t *testing.T) {
	env := weir.NewEnvironment(exact(1))
	a := weir.FromTimestamped(env, []weir.TimestampedValue[int]{{Value: 1, TS: 1}}, weir.ForMonotonousTimestamps[int]())
	b := weir.FromSlice(env, []int{2})
	id := func(n int) int { return n }
	weir.Collect(weir.CoProcessKeyed[int, int, int, int](weir.ConnectKeyed(weir.KeyBy(a, id), weir.KeyBy(b, id)), noTimer{}))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "KeyedCoProcess") || !strings.Contains(err.Error(), "OnTimer") {
		t.Fatalf("Execute = %v, want a timer error naming the operator", err)
	}
}

// Orders joined with the shipments that follow them within 3 milliseconds.
func ExampleProcessJoin() {
	type event struct {
		Order string
		TS    int64
	}
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
	ts := func(e event) int64 { return e.TS }
	orders := weir.FromTimestamped(env, timestamped([]event{{"o1", 10}, {"o2", 20}}, ts), weir.ForMonotonousTimestamps[event]())
	shipments := weir.FromTimestamped(env, timestamped([]event{{"o1", 12}, {"o1", 13}, {"o2", 30}}, ts), weir.ForMonotonousTimestamps[event]())
	byOrder := func(e event) string { return e.Order }
	joined := weir.IntervalJoin(weir.KeyBy(orders, byOrder), weir.KeyBy(shipments, byOrder)).Between(0, 3*time.Millisecond)
	out := weir.Collect(weir.ProcessJoin(joined, weir.ProcessJoinFunc[event, event, string](
		func(o, s event, ctx *weir.JoinContext[string]) error {
			ctx.Collect(fmt.Sprintf("%s ordered at %d, shipped at %d", o.Order, o.TS, s.TS))
			return nil
		})))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sorted(out) {
		fmt.Println(s)
	}
	// Output:
	// o1 ordered at 10, shipped at 12@12
	// o1 ordered at 10, shipped at 13@13
}
