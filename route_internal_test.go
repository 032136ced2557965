package weir

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
)

// routeAll writes records 0..n-1 through the writer of a keyed exchange
// over chans channels and returns, per channel, the batches received.
func routeAll(t *testing.T, route *keyRoute[int64], chans, n int) [][]*runtime.Batch[int64] {
	t.Helper()
	g := runtime.NewGate()
	cs := make([]*runtime.Channel, chans)
	for i := range cs {
		cs[i] = g.NewChannel(0, 64)
	}
	done := make(chan struct{})
	defer close(done)
	w := newWriter(runtime.Hash, route, cs, 128, runtime.NewBatchPool[int64](16), done)
	for v := range int64(n) {
		if err := w.ProcessElement(v, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := make([][]*runtime.Batch[int64], chans)
	for i, c := range cs {
		for len(c.C) > 0 {
			out[i] = append(out[i], (<-c.C).Data.(*runtime.Batch[int64]))
		}
	}
	return out
}

// TestHashRouteOneChannel: a key-partitioned exchange into one channel
// sends every record to it without computing the record's key (and so
// without hashes); into more channels it routes by the key's group,
// computing and hashing the key once a record, and sends each record's
// hash with it.
func TestHashRouteOneChannel(t *testing.T) {
	calls := 0
	route := newKeyRoute(func(v int64) int64 { calls++; return v })
	for _, b := range routeAll(t, route, 1, 100)[0] {
		if len(b.Hashes) != 0 {
			t.Fatalf("one channel: %d hashes sent", len(b.Hashes))
		}
	}
	if calls != 0 {
		t.Fatalf("one channel: the key was computed %d times, want 0", calls)
	}
	hash := keygroup.Hasher[int64]()
	got := 0
	for ch, bs := range routeAll(t, route, 3, 100) {
		if len(bs) == 0 {
			t.Fatalf("three channels: channel %d got no record", ch)
		}
		for _, b := range bs {
			if len(b.Hashes) != len(b.Recs) {
				t.Fatalf("three channels: %d hashes for %d records", len(b.Hashes), len(b.Recs))
			}
			for i, r := range b.Recs {
				h := hash(r.V)
				if want := keygroup.Subtask(128, 3, keygroup.Of(h, 128)); ch != want {
					t.Fatalf("three channels: key %d routed to %d, want %d", r.V, ch, want)
				}
				if b.Hashes[i] != h {
					t.Fatalf("three channels: key %d sent with hash %x, want %x", r.V, b.Hashes[i], h)
				}
				got++
			}
		}
	}
	if calls != 100 || got != 100 {
		t.Fatalf("three channels: %d key computations for 100 records, %d received", calls, got)
	}
}
