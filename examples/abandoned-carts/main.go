// Command abandoned-carts is a keyed process function with state and
// event-time timers (Flink's KeyedProcessFunction with ValueState and
// onTimer): it keeps each customer's cart in keyed state and reports a
// cart that saw no event for 30 minutes of event time and was not checked
// out.
//
//	go run ./examples/abandoned-carts -customers 1000 -parallelism 2
//
// The events are generated (a seeded random walk of add-item and checkout
// events over a simulated day, in timestamp order). The report depends only
// on the events' timestamps, not on when watermarks arrive: a cart whose
// timer has not fired yet when the customer's next event shows up later
// than the deadline is reported there, at the deadline's time (the pattern
// Flink's documentation recommends for timers racing records).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
	"github.com/weirstream/weir/state"
)

// Timeout is how long a cart may stay untouched before it is abandoned.
const Timeout = 30 * time.Minute

// Event is an item added to a customer's cart (Cents > 0) or a checkout
// (Cents == 0), at TS milliseconds.
type Event struct {
	Customer string
	Cents    int64
	TS       int64
}

// Abandoned is the report of a cart left alone for Timeout.
type Abandoned struct {
	Customer string
	Items    int64
	Cents    int64
	// At is the event time the cart was abandoned: its last event + Timeout.
	At int64
}

func (a Abandoned) String() string {
	return fmt.Sprintf("%s abandoned %d items worth %d.%02d at event time %v", a.Customer, a.Items,
		a.Cents/100, a.Cents%100, time.Duration(a.At)*time.Millisecond)
}

// cart is the keyed state of one customer.
type cart struct {
	Items    int64
	Cents    int64
	Deadline int64
}

// carts is the keyed process function.
type carts struct {
	cart state.Value[cart]
}

func (c *carts) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	c.cart = state.GetValue[string, cart](ctx.State(), state.Descriptor{Name: "cart"})
	return nil
}

func (c *carts) ProcessElement(ctx *weir.KeyedContext[string, Abandoned], e Event) error {
	cur, ok := c.cart.Value()
	if ok {
		ctx.DeleteEventTimeTimer(cur.Deadline)
		if ctx.Timestamp() > cur.Deadline {
			// The timer lost the race with this record: report the cart
			// as its timer would have.
			ctx.Collect(Abandoned{Customer: ctx.Key(), Items: cur.Items, Cents: cur.Cents, At: cur.Deadline})
			cur = cart{}
		}
	}
	if e.Cents == 0 { // checkout
		c.cart.Clear()
		return nil
	}
	cur.Items++
	cur.Cents += e.Cents
	cur.Deadline = ctx.Timestamp() + Timeout.Milliseconds()
	c.cart.Update(cur)
	ctx.RegisterEventTimeTimer(cur.Deadline)
	return nil
}

func (c *carts) OnTimer(ctx *weir.KeyedContext[string, Abandoned], ts int64) error {
	cur, ok := c.cart.Value()
	if !ok || cur.Deadline != ts {
		return nil
	}
	ctx.Collect(Abandoned{Customer: ctx.Key(), Items: cur.Items, Cents: cur.Cents, At: ts})
	c.cart.Clear()
	return nil
}

// Generate returns the events of n customers over one simulated day, in
// timestamp order.
func Generate(seed uint64, n int) []Event {
	r := rand.New(rand.NewPCG(seed, 7))
	day := (24 * time.Hour).Milliseconds()
	var evs []Event
	for i := range n {
		name := fmt.Sprintf("customer-%04d", i)
		ts := r.Int64N(day / 2)
		for ts < day {
			if r.IntN(5) == 0 {
				evs = append(evs, Event{Customer: name, TS: ts})
			} else {
				evs = append(evs, Event{Customer: name, Cents: 100 + r.Int64N(9900), TS: ts})
			}
			// Mostly minutes apart; one gap in four is long enough to
			// abandon the cart.
			gap := time.Duration(1+r.IntN(20)) * time.Minute
			if r.IntN(4) == 0 {
				gap = time.Duration(20+r.IntN(60)) * time.Minute
			}
			ts += gap.Milliseconds()
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return int(a.TS - b.TS) })
	return evs
}

// Run runs the job on events and writes one line per abandoned cart to out.
// It returns the abandoned carts.
func Run(ctx context.Context, events []Event, parallelism int, out io.Writer) ([]Abandoned, error) {
	env := weir.NewEnvironment(weir.Options{Parallelism: parallelism})
	ts := make([]weir.TimestampedValue[Event], len(events))
	for i, e := range events {
		ts[i] = weir.TimestampedValue[Event]{Value: e, TS: e.TS}
	}
	src := weir.FromTimestamped(env, ts, weir.ForMonotonousTimestamps[Event]())
	byCustomer := weir.KeyBy(src, func(e Event) string { return e.Customer })
	abandoned := weir.ProcessKeyed[string, Event, Abandoned](byCustomer, &carts{})
	abandoned.SinkTo(print.New[Abandoned](out))
	got := weir.Collect(abandoned)
	if err := env.Execute(ctx); err != nil {
		return nil, err
	}
	return got.Values(), nil
}

func main() {
	customers := flag.Int("customers", 1000, "customers to generate")
	seed := flag.Uint64("seed", 1, "seed of the generated events")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	events := Generate(*seed, *customers)
	got, err := Run(ctx, events, *parallelism, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "abandoned-carts:", err)
		os.Exit(1)
	}
	var cents int64
	for _, a := range got {
		cents += a.Cents
	}
	fmt.Fprintf(os.Stderr, "%d events, %d abandoned carts worth %d.%02d\n", len(events), len(got), cents/100, cents%100)
}
