package cep

import (
	"cmp"
	"testing"
)

// TestEnqueueComparator checks the event-time queue: by timestamp, and at
// equal timestamps by the comparator (Flink's EventComparator), equal
// events (and all of them without a comparator) in arrival order.
func TestEnqueueComparator(t *testing.T) {
	type ev struct {
		ts  int64
		key int
		id  string
	}
	in := []ev{{2, 1, "a"}, {1, 5, "b"}, {2, 0, "c"}, {2, 1, "d"}, {1, 3, "e"}, {3, 9, "f"}}
	run := func(c func(a, b ev) int) string {
		b := newBuffer[ev]()
		for _, e := range in {
			b.enqueue(e, e.ts, c)
		}
		var got string
		for _, q := range b.Queue {
			got += q.V.id
		}
		return got
	}
	if got, want := run(nil), "beacdf"; got != want {
		t.Errorf("arrival order: got %s, want %s", got, want)
	}
	byKey := func(a, b ev) int { return cmp.Compare(a.key, b.key) }
	if got, want := run(byKey), "ebcadf"; got != want {
		t.Errorf("by key: got %s, want %s", got, want)
	}
}
