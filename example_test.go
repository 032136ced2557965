package weir_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

// cartEvent is an item added to a customer's cart (Cents > 0) or a
// checkout (Cents == 0).
type cartEvent struct {
	Customer string
	Cents    int64
}

// abandonedCarts keeps each customer's cart total in keyed state and, with
// an event-time timer, reports a cart left for 30 minutes without a
// checkout (Flink's KeyedProcessFunction with ValueState and onTimer).
type abandonedCarts struct {
	total    state.Value[int64]
	deadline state.Value[int64]
}

func (a *abandonedCarts) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	a.total = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "total"})
	a.deadline = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "deadline"})
	return nil
}

func (a *abandonedCarts) ProcessElement(ctx *weir.KeyedContext[string, string], e cartEvent) error {
	if old, ok := a.deadline.Value(); ok {
		ctx.DeleteEventTimeTimer(old)
	}
	if e.Cents == 0 { // checkout
		a.total.Clear()
		a.deadline.Clear()
		return nil
	}
	total, _ := a.total.Value()
	a.total.Update(total + e.Cents)
	deadline := ctx.Timestamp() + (30 * time.Minute).Milliseconds()
	a.deadline.Update(deadline)
	ctx.RegisterEventTimeTimer(deadline)
	return nil
}

func (a *abandonedCarts) OnTimer(ctx *weir.KeyedContext[string, string], ts int64) error {
	total, _ := a.total.Value()
	ctx.Collect(fmt.Sprintf("%s abandoned a cart of %d cents at minute %d", ctx.Key(), total, ts/60_000))
	a.total.Clear()
	a.deadline.Clear()
	return nil
}

// A keyed process function with state and event-time timers: carts left
// for 30 minutes are reported; a checkout cancels the timer.
func ExampleProcessKeyed() {
	env := weir.NewEnvironment(weir.Options{})
	min := (time.Minute).Milliseconds()
	events := weir.FromTimestamped(env, []weir.TimestampedValue[cartEvent]{
		{Value: cartEvent{"ann", 1500}, TS: 0},
		{Value: cartEvent{"bob", 900}, TS: 1 * min},
		{Value: cartEvent{"ann", 500}, TS: 10 * min},
		{Value: cartEvent{"bob", 0}, TS: 12 * min}, // bob checks out
		{Value: cartEvent{"cy", 300}, TS: 20 * min},
	}, weir.ForMonotonousTimestamps[cartEvent]())
	byCustomer := weir.KeyBy(events, func(e cartEvent) string { return e.Customer })
	out := weir.Collect(weir.ProcessKeyed[string, cartEvent, string](byCustomer, &abandonedCarts{}))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	// At the end of a bounded input the watermark reaches the end of time,
	// so every pending timer fires.
	for _, l := range out.Values() {
		fmt.Println(l)
	}
	// Output:
	// ann abandoned a cart of 2000 cents at minute 40
	// cy abandoned a cart of 300 cents at minute 50
}

type sensorReading struct {
	Sensor string
	Value  int64
}

type sum struct{}

func (sum) CreateAccumulator() int64                      { return 0 }
func (sum) Add(acc int64, r sensorReading) (int64, error) { return acc + r.Value, nil }
func (sum) Result(acc int64) (int64, error)               { return acc, nil }
func (sum) Merge(a, b int64) (int64, error)               { return a + b, nil }

// A tumbling event-time window with allowed lateness and a side output for
// data later than that: a sensorReading up to 30 s late updates its window's
// result (the window fires again), a later one goes to the side output.
// The negative AutoWatermarkInterval emits a watermark after every record,
// so that lateness here does not depend on how fast the input is read.
func ExampleWindowedStream_SideOutputLateData() {
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
	s := int64(1000)
	readings := weir.FromTimestamped(env, []weir.TimestampedValue[sensorReading]{
		{Value: sensorReading{"t1", 1}, TS: 10 * s},
		{Value: sensorReading{"t1", 2}, TS: 50 * s},
		{Value: sensorReading{"t1", 4}, TS: 70 * s}, // watermark 70 s: [0, 60 s) fires with 3
		{Value: sensorReading{"t1", 8}, TS: 55 * s}, // late, within 30 s of lateness: fires again with 11
		{Value: sensorReading{"t1", 16}, TS: 100 * s},
		{Value: sensorReading{"t1", 32}, TS: 20 * s}, // watermark 100 s > 60 s + 30 s: too late
	}, weir.ForMonotonousTimestamps[sensorReading]())
	late := weir.NewOutputTag[sensorReading]("late-readings")
	windows := weir.Window(weir.KeyBy(readings, func(r sensorReading) string { return r.Sensor }),
		window.TumblingEventTime[sensorReading](time.Minute)).
		AllowedLateness(30 * time.Second).
		SideOutputLateData(late)
	sums := weir.WindowAggregate(windows, sum{})
	results := weir.Collect(sums)
	tooLate := weir.Collect(weir.SideOutput(sums, late))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results.Timestamped() {
		fmt.Printf("window ending %d s: sum %d\n", (r.TS+1)/s, r.Value)
	}
	for _, r := range tooLate.Values() {
		fmt.Printf("too late: %+v\n", r)
	}
	// Output:
	// window ending 60 s: sum 3
	// window ending 60 s: sum 11
	// window ending 120 s: sum 20
	// too late: {Sensor:t1 Value:32}
}

type limit struct {
	Account string
	Cents   int64
}

type spend struct {
	Account string
	Cents   int64
}

// limits is the broadcast map of per-account spending limits.
var limits = weir.NewMapStateDescriptor[string, int64]("limits")

// limitCheck applies the broadcast limits to each keyed payment (Flink's
// KeyedBroadcastProcessFunction).
type limitCheck struct{}

func (limitCheck) ProcessElement(ctx *weir.KeyedReadOnlyContext[string, string], p spend) error {
	if max, ok := weir.GetReadOnlyBroadcastState(ctx, limits).Get(p.Account); ok && p.Cents > max {
		ctx.Collect(fmt.Sprintf("%s spent %d over a limit of %d", p.Account, p.Cents, max))
	}
	return nil
}

func (limitCheck) ProcessBroadcastElement(ctx *weir.KeyedBroadcastContext[string, string], l limit) error {
	weir.GetBroadcastState(ctx, limits).Put(l.Account, l.Cents)
	return nil
}

// Broadcast state: limits sent to every subtask, applied to a keyed stream
// of payments. As in Flink, the broadcast input and the keyed input are not
// ordered with respect to each other: a limit applies to the payments
// processed after it arrived, so this example's output depends on timing
// and is not fixed.
func ExampleConnectBroadcast() {
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	rules := weir.Broadcast(weir.FromSlice(env, []limit{{"ann", 1000}, {"bob", 5000}}), limits)
	payments := weir.FromSlice(env, []spend{{"ann", 800}, {"ann", 1200}, {"bob", 4000}, {"bob", 6000}, {"cy", 9999}})
	alerts := weir.ProcessKeyedBroadcast[string, spend, limit, string](
		weir.ConnectBroadcast(weir.KeyBy(payments, func(p spend) string { return p.Account }), rules),
		limitCheck{})
	out := weir.Collect(alerts)
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	got := out.Values()
	slices.Sort(got)
	for _, l := range got {
		fmt.Println(l)
	}
}

// The single result of an incremental aggregate with the window and key,
// with no explicit type parameters: WindowAggregateResult infers them from
// the function literal.
func ExampleWindowAggregateResult() {
	env := weir.NewEnvironment(weir.Options{})
	readings := weir.FromTimestamped(env, []weir.TimestampedValue[sensorReading]{
		{Value: sensorReading{"t1", 20}, TS: 1000},
		{Value: sensorReading{"t1", 22}, TS: 2000},
		{Value: sensorReading{"t2", 30}, TS: 3000},
	}, weir.ForMonotonousTimestamps[sensorReading]())
	ws := weir.Window(weir.KeyBy(readings, func(r sensorReading) string { return r.Sensor }),
		window.TumblingEventTime[sensorReading](time.Minute))
	sums := weir.WindowAggregateResult(ws, sum{}, func(ctx *weir.WindowContext[string, string, window.TimeWindow], sensor string, total int64) error {
		ctx.Collect(fmt.Sprintf("%s %v: %d", sensor, ctx.Window(), total))
		return nil
	})
	out := weir.Collect(sums)
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	got := out.Values()
	slices.Sort(got)
	for _, l := range got {
		fmt.Println(l)
	}
	// Output:
	// t1 [0,60000): 42
	// t2 [0,60000): 30
}
