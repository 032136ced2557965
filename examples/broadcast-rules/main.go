// Command broadcast-rules applies rules that change over time to a keyed
// stream, with broadcast state (Flink's broadcast state pattern and
// KeyedBroadcastProcessFunction): per-category spending limits, each valid
// from an event time on, checked against every account's payments.
//
//	go run ./examples/broadcast-rules -payments 20000 -parallelism 2
//
// As in Flink, the broadcast input and the keyed input are not ordered with
// respect to each other: a payment can reach its subtask before a limit
// that was set earlier in event time. So the job does not check a payment
// when it arrives; it keeps it in keyed state and registers an event-time
// timer at its timestamp. The operator's watermark is the smaller of its
// two inputs' watermarks, so when the timer fires, every limit up to the
// payment's time has arrived, and the payment is checked against the limit
// that was in force at that time. The output is the same on every run and at
// every parallelism.
package main

import (
	"cmp"
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

// Limit caps single payments in a category from event time From on.
type Limit struct {
	Category string
	MaxCents int64
	From     int64
}

// Payment of an account in a category at TS (epoch milliseconds).
type Payment struct {
	Account  string
	Category string
	Cents    int64
	TS       int64
}

// Alert is a payment over the limit in force at its time.
type Alert struct {
	Payment
	Limit int64
}

func (a Alert) String() string {
	return fmt.Sprintf("%s paid %d in %s at %v, over the limit of %d", a.Account, a.Cents, a.Category,
		time.Duration(a.TS)*time.Millisecond, a.Limit)
}

// limits is the broadcast state: each category's limits in order of From.
var limits = weir.NewMapStateDescriptor[string, []Limit]("limits")

// InForce returns the limit of versions in force at ts, if any.
func InForce(versions []Limit, ts int64) (Limit, bool) {
	i, found := slices.BinarySearchFunc(versions, ts, func(l Limit, ts int64) int { return cmp.Compare(l.From, ts) })
	if found {
		return versions[i], true
	}
	if i == 0 {
		return Limit{}, false
	}
	return versions[i-1], true
}

// checker is the keyed broadcast process function.
type checker struct {
	pending state.List[Payment]
}

func (c *checker) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	c.pending = state.GetList[string, Payment](ctx.State(), state.Descriptor{Name: "pending"})
	return nil
}

func (c *checker) ProcessBroadcastElement(ctx *weir.KeyedBroadcastContext[string, Alert], l Limit) error {
	st := weir.GetBroadcastState(ctx, limits)
	versions, _ := st.Get(l.Category)
	i, _ := slices.BinarySearchFunc(versions, l.From, func(v Limit, ts int64) int { return cmp.Compare(v.From, ts) })
	st.Put(l.Category, slices.Insert(slices.Clone(versions), i, l))
	return nil
}

func (c *checker) ProcessElement(ctx *weir.KeyedReadOnlyContext[string, Alert], p Payment) error {
	c.pending.Add(p)
	ctx.RegisterEventTimeTimer(p.TS)
	return nil
}

func (c *checker) OnTimer(ctx *weir.KeyedReadOnlyContext[string, Alert], ts int64) error {
	st := weir.GetReadOnlyBroadcastState(ctx, limits)
	var keep []Payment
	for _, p := range c.pending.Get() {
		if p.TS > ts {
			keep = append(keep, p)
			continue
		}
		versions, _ := st.Get(p.Category)
		if l, ok := InForce(versions, p.TS); ok && p.Cents > l.MaxCents {
			ctx.Collect(Alert{Payment: p, Limit: l.MaxCents})
		}
	}
	if len(keep) == 0 {
		c.pending.Clear()
	} else {
		c.pending.Update(keep)
	}
	return nil
}

// Generate returns limits and payments over one simulated day, each in
// timestamp order.
func Generate(seed uint64, payments int) ([]Limit, []Payment) {
	r := rand.New(rand.NewPCG(seed, 17))
	categories := []string{"travel", "food", "games", "cash"}
	day := (24 * time.Hour).Milliseconds()
	var ls []Limit
	for _, c := range categories {
		for t := int64(0); t < day; t += r.Int64N(day / 6) {
			ls = append(ls, Limit{Category: c, MaxCents: 5_000 + 1_000*r.Int64N(20), From: t})
		}
	}
	slices.SortStableFunc(ls, func(a, b Limit) int { return cmp.Compare(a.From, b.From) })
	ps := make([]Payment, payments)
	for i := range ps {
		ps[i] = Payment{
			Account:  fmt.Sprintf("acct-%03d", r.IntN(300)),
			Category: categories[r.IntN(len(categories))],
			Cents:    r.Int64N(25_000),
			TS:       r.Int64N(day),
		}
	}
	slices.SortStableFunc(ps, func(a, b Payment) int { return cmp.Compare(a.TS, b.TS) })
	return ls, ps
}

// Run checks payments against limits, writes each alert to out and returns
// them.
func Run(ctx context.Context, ls []Limit, ps []Payment, parallelism int, out io.Writer) ([]Alert, error) {
	env := weir.NewEnvironment(weir.Options{Parallelism: parallelism})
	lv := make([]weir.TimestampedValue[Limit], len(ls))
	for i, l := range ls {
		lv[i] = weir.TimestampedValue[Limit]{Value: l, TS: l.From}
	}
	pv := make([]weir.TimestampedValue[Payment], len(ps))
	for i, p := range ps {
		pv[i] = weir.TimestampedValue[Payment]{Value: p, TS: p.TS}
	}
	rules := weir.Broadcast(weir.FromTimestamped(env, lv, weir.ForMonotonousTimestamps[Limit]()), limits)
	payments := weir.KeyBy(weir.FromTimestamped(env, pv, weir.ForMonotonousTimestamps[Payment]()),
		func(p Payment) string { return p.Account })
	alerts := weir.ProcessKeyedBroadcast[string, Payment, Limit, Alert](weir.ConnectBroadcast(payments, rules), &checker{})
	alerts.SinkTo(print.New[Alert](out))
	got := weir.Collect(alerts)
	if err := env.Execute(ctx); err != nil {
		return nil, err
	}
	return got.Values(), nil
}

func main() {
	n := flag.Int("payments", 20_000, "payments to generate")
	seed := flag.Uint64("seed", 1, "seed of the generated data")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ls, ps := Generate(*seed, *n)
	got, err := Run(ctx, ls, ps, *parallelism, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "broadcast-rules:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d limits, %d payments, %d alerts\n", len(ls), len(ps), len(got))
}
