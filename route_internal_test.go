package weir

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
)

// TestHashRouteOneChannel: a key-partitioned exchange into one channel
// sends every record to it without computing the record's key; into more
// channels it routes by the key's group, computing the key once a record.
func TestHashRouteOneChannel(t *testing.T) {
	calls := 0
	route := hashRoute(func(v int64) int64 { calls++; return v })
	one := route(128, 1)
	for v := range int64(100) {
		if ch := one(v); ch != 0 {
			t.Fatalf("one channel: key %d routed to %d", v, ch)
		}
	}
	if calls != 0 {
		t.Fatalf("one channel: the key was computed %d times, want 0", calls)
	}
	hash := keygroup.Hasher[int64]()
	three := route(128, 3)
	seen := map[int]bool{}
	for v := range int64(100) {
		want := keygroup.Subtask(128, 3, keygroup.Of(hash(v), 128))
		if ch := three(v); ch != want {
			t.Fatalf("three channels: key %d routed to %d, want %d", v, ch, want)
		}
		seen[want] = true
	}
	if calls != 100 || len(seen) != 3 {
		t.Fatalf("three channels: %d key computations for 100 records, %d channels used", calls, len(seen))
	}
}
