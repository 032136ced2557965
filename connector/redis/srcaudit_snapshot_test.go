package redis

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
)

// A restored reader's snapshot before its first poll is the restored state
// (each consumer's positions stored by exactly one subtask), at the
// checkpoint's and at other parallelisms, also once the reading goroutine
// handed over entries that no poll emitted yet.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	stream := p + "s"
	var items [][]byte
	for k := range 4 {
		items = append(items, position{consumer: k, stream: stream, id: streamID{ms: uint64(1000 + k), seq: uint64(k)}}.encode())
	}
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	src, err := NewSource(SourceOptions[string]{Redis: goredis.Options{Addr: redisAddr}, Streams: []string{stream}, Group: "g",
		Consumer: "srcaudit", Deserializer: stringField, Block: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, par := range []int{1, 2, 4, 5} {
		var got [][]byte
		for sub := range par {
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: par, Restored: slices.Clone(items), RestoredFrom: 9})
			if err != nil {
				t.Fatal(err)
			}
			if par == 1 {
				// Entries read and handed over, not emitted.
				if err := c.XAdd(context.Background(), &goredis.XAddArgs{Stream: stream, Values: map[string]any{"v": "x"}}).Err(); err != nil {
					t.Fatal(err)
				}
				select {
				case <-r.(weir.Availability).Available():
				case <-time.After(30 * time.Second):
					t.Fatal("no entries handed over in 30s")
				}
			}
			s, err := r.(weir.CheckpointedReader).SnapshotState(10)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s...)
			r.Close()
		}
		slices.SortFunc(got, bytes.Compare)
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("parallelism %d: snapshot %q, want %q", par, got, want)
		}
	}
}
