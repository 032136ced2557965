package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// expected joins every order with every shipment directly.
func expected(orders []Order, ships []Shipment) []Shipped {
	var out []Shipped
	for _, o := range orders {
		for _, s := range ships {
			if s.OrderID == o.ID && s.TS >= o.TS && s.TS <= o.TS+Window.Milliseconds() {
				out = append(out, Shipped{o.ID, o.Customer, s.Carrier, time.Duration(s.TS-o.TS) * time.Millisecond})
			}
		}
	}
	return out
}

func TestIntervalJoin(t *testing.T) {
	orders, ships := Generate(9, 600)
	want := expected(orders, ships)
	if len(want) == len(ships) || len(want) < len(orders)/2 {
		t.Fatalf("generated data: %d matches of %d shipments; the test needs matches and misses", len(want), len(ships))
	}
	sortBy := cmpopts.SortSlices(func(a, b Shipped) bool {
		if a.OrderID != b.OrderID {
			return a.OrderID < b.OrderID
		}
		return a.After < b.After
	})
	for _, p := range []int{1, 4} {
		var out bytes.Buffer
		got, err := Run(context.Background(), orders, ships, p, &out)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, sortBy); d != "" {
			t.Errorf("parallelism %d: joined rows differ (-want +got):\n%s", p, d)
		}
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != len(want) {
			t.Errorf("parallelism %d: printed %d lines, want %d", p, n, len(want))
		}
	}
}
