package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// expected checks every payment against the limits directly: the limit in
// force is the one of the payment's category with the largest From at or
// before the payment.
func expected(ls []Limit, ps []Payment) []Alert {
	var out []Alert
	for _, p := range ps {
		var cur *Limit
		for i, l := range ls {
			if l.Category == p.Category && l.From <= p.TS && (cur == nil || l.From >= cur.From) {
				cur = &ls[i]
			}
		}
		if cur != nil && p.Cents > cur.MaxCents {
			out = append(out, Alert{Payment: p, Limit: cur.MaxCents})
		}
	}
	return out
}

func TestBroadcastRules(t *testing.T) {
	ls, ps := Generate(4, 3000)
	want := expected(ls, ps)
	if len(want) < 100 || len(want) > len(ps)/2 {
		t.Fatalf("generated data gives %d alerts of %d payments; the test needs alerts and payments under the limit", len(want), len(ps))
	}
	sortBy := cmpopts.SortSlices(func(a, b Alert) bool {
		if a.TS != b.TS {
			return a.TS < b.TS
		}
		return a.Account < b.Account
	})
	for _, p := range []int{1, 3} {
		var out bytes.Buffer
		got, err := Run(context.Background(), ls, ps, p, &out)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, sortBy); d != "" {
			t.Errorf("parallelism %d: alerts differ (-want +got):\n%s", p, d)
		}
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != len(want) {
			t.Errorf("parallelism %d: printed %d lines, want %d", p, n, len(want))
		}
	}
}
