// Command interval-join joins two keyed streams on time (Flink's
// intervalJoin ... between ... process): each order with the shipments of
// the same order id that happen between 0 and 2 hours after it.
//
//	go run ./examples/interval-join -orders 1000 -parallelism 2
//
// Orders and shipments are generated in timestamp order; most orders ship
// once within two hours, some twice (a split parcel), some later than two
// hours (not joined) and some never. Each side keeps its records in keyed
// state only as long as a record of the other side could still match them:
// the watermark of the other input drops them.
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
)

// Window is how long after its order a shipment still joins it.
const Window = 2 * time.Hour

// Order is placed at TS (epoch milliseconds).
type Order struct {
	ID       string
	Customer string
	TS       int64
}

// Shipment of (part of) an order, at TS.
type Shipment struct {
	OrderID string
	Carrier string
	TS      int64
}

// Shipped is an order with one of its shipments within Window.
type Shipped struct {
	OrderID  string
	Customer string
	Carrier  string
	After    time.Duration
}

func (s Shipped) String() string {
	return fmt.Sprintf("order %s of %s shipped by %s after %v", s.OrderID, s.Customer, s.Carrier, s.After)
}

// Generate returns n orders and their shipments, each in timestamp order.
func Generate(seed uint64, n int) ([]Order, []Shipment) {
	r := rand.New(rand.NewPCG(seed, 13))
	carriers := []string{"dhl", "ups", "post"}
	var orders []Order
	var ships []Shipment
	ts := int64(0)
	for i := range n {
		ts += r.Int64N(60_000)
		o := Order{ID: fmt.Sprintf("o%05d", i), Customer: fmt.Sprintf("c%03d", r.IntN(200)), TS: ts}
		orders = append(orders, o)
		parcels := 1
		switch r.IntN(10) {
		case 0:
			parcels = 0
		case 1:
			parcels = 2
		}
		for range parcels {
			after := r.Int64N(Window.Milliseconds())
			if r.IntN(8) == 0 {
				after = Window.Milliseconds() + 1 + r.Int64N(Window.Milliseconds())
			}
			ships = append(ships, Shipment{OrderID: o.ID, Carrier: carriers[r.IntN(len(carriers))], TS: ts + after})
		}
	}
	slices.SortStableFunc(ships, func(a, b Shipment) int { return int(a.TS - b.TS) })
	return orders, ships
}

// Run joins orders with shipments, writes each match to out and returns
// them.
func Run(ctx context.Context, orders []Order, ships []Shipment, parallelism int, out io.Writer) ([]Shipped, error) {
	env := weir.NewEnvironment(weir.Options{Parallelism: parallelism})
	ov := make([]weir.TimestampedValue[Order], len(orders))
	for i, o := range orders {
		ov[i] = weir.TimestampedValue[Order]{Value: o, TS: o.TS}
	}
	ss := make([]weir.TimestampedValue[Shipment], len(ships))
	for i, s := range ships {
		ss[i] = weir.TimestampedValue[Shipment]{Value: s, TS: s.TS}
	}
	orderStream := weir.KeyBy(weir.FromTimestamped(env, ov, weir.ForMonotonousTimestamps[Order]()),
		func(o Order) string { return o.ID })
	shipStream := weir.KeyBy(weir.FromTimestamped(env, ss, weir.ForMonotonousTimestamps[Shipment]()),
		func(s Shipment) string { return s.OrderID })
	joined := weir.ProcessJoin(
		weir.IntervalJoin(orderStream, shipStream).Between(0, Window),
		weir.ProcessJoinFunc[Order, Shipment, Shipped](func(o Order, s Shipment, ctx *weir.JoinContext[Shipped]) error {
			ctx.Collect(Shipped{OrderID: o.ID, Customer: o.Customer, Carrier: s.Carrier,
				After: time.Duration(s.TS-o.TS) * time.Millisecond})
			return nil
		}))
	joined.SinkTo(print.New[Shipped](out))
	got := weir.Collect(joined)
	if err := env.Execute(ctx); err != nil {
		return nil, err
	}
	return got.Values(), nil
}

func main() {
	n := flag.Int("orders", 1000, "orders to generate")
	seed := flag.Uint64("seed", 1, "seed of the generated orders")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	orders, ships := Generate(*seed, *n)
	got, err := Run(ctx, orders, ships, *parallelism, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interval-join:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d orders, %d shipments, %d shipped within %v\n", len(orders), len(ships), len(got), Window)
}
