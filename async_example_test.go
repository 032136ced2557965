package weir_test

import (
	"context"
	"fmt"
	"time"

	"github.com/weirstream/weir"
)

// Orders enriched with their customer's name by an asynchronous lookup
// (standing in for a database or service call), up to 100 requests in
// flight, results in input order.
func ExampleOrderedWait() {
	type order struct {
		ID       int
		Customer string
	}
	names := map[string]string{"c1": "Ada", "c2": "Grace"}
	lookup := weir.AsyncFunc[order, string](func(ctx context.Context, o order) ([]string, error) {
		// A real lookup passes ctx to its client: it ends at the timeout
		// and when the job stops.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("order %d by %s", o.ID, names[o.Customer])}, nil
	})
	env := weir.NewEnvironment(weir.Options{})
	orders := weir.FromSlice(env, []order{{1, "c1"}, {2, "c2"}, {3, "c1"}})
	out := weir.Collect(weir.OrderedWait(orders, lookup, weir.AsyncOptions{
		Capacity: 100,
		Timeout:  time.Second,
		Retry:    weir.ExponentialBackoffRetry(3, 10*time.Millisecond, 100*time.Millisecond, 2),
	}).Name("customer lookup"))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range out.Values() {
		fmt.Println(s)
	}
	// Output:
	// order 1 by Ada
	// order 2 by Grace
	// order 3 by Ada
}
