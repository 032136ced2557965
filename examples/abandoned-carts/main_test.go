package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// expected computes the abandoned carts directly from the events: a cart
// is abandoned when the customer's next event comes more than Timeout
// after the cart's last item, or never comes.
func expected(events []Event) []Abandoned {
	type open struct {
		items, cents, last int64
	}
	carts := map[string]*open{}
	var out []Abandoned
	flush := func(c string, o *open) {
		out = append(out, Abandoned{Customer: c, Items: o.items, Cents: o.cents, At: o.last + Timeout.Milliseconds()})
	}
	for _, e := range events {
		o := carts[e.Customer]
		if o != nil && e.TS > o.last+Timeout.Milliseconds() {
			flush(e.Customer, o)
			delete(carts, e.Customer)
			o = nil
		}
		if e.Cents == 0 {
			delete(carts, e.Customer)
			continue
		}
		if o == nil {
			o = &open{}
			carts[e.Customer] = o
		}
		o.items++
		o.cents += e.Cents
		o.last = e.TS
	}
	for c, o := range carts {
		flush(c, o)
	}
	return out
}

func TestAbandonedCarts(t *testing.T) {
	events := Generate(3, 300)
	want := expected(events)
	if len(want) < 50 {
		t.Fatalf("the generator made only %d abandoned carts; the test needs more", len(want))
	}
	sortBy := cmpopts.SortSlices(func(a, b Abandoned) bool {
		if a.Customer != b.Customer {
			return a.Customer < b.Customer
		}
		return a.At < b.At
	})
	for _, p := range []int{1, 3} {
		var out bytes.Buffer
		got, err := Run(context.Background(), events, p, &out)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, sortBy); d != "" {
			t.Errorf("parallelism %d: abandoned carts differ (-want +got):\n%s", p, d)
		}
		if n := strings.Count(out.String(), " abandoned "); n != len(want) {
			t.Errorf("parallelism %d: printed %d lines, want %d", p, n, len(want))
		}
	}
}
