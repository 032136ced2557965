package rabbitmq

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// A restored reader's snapshot before its first poll holds the restored
// ids (each stored by exactly one subtask), at the checkpoint's and at
// other parallelisms, also once deliveries were handed over and not yet
// emitted.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	url := broker(t)
	q := queue(t, url)
	publish(t, url, q, false, []byte("1"), []byte("2"), []byte("3"))
	restored := []string{"id-2", "id-7", "id-8", "id-9", "id-10"}
	items := [][]byte{encodeIDs(restored[:3]), encodeIDs(restored[3:])}
	for _, par := range []int{1, 2, 3} {
		src := NewSource(SourceOptions[string]{URL: url, Queue: q, Deserializer: StringSerde{}, DedupRetention: time.Hour})
		var readers []weir.SourceReader[string]
		for sub := range par {
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: par, Restored: slices.Clone(items), RestoredFrom: 3})
			if err != nil {
				t.Fatal(err)
			}
			readers = append(readers, r)
		}
		if par == 1 {
			select {
			case <-readers[0].(weir.Availability).Available():
			case <-time.After(30 * time.Second):
				t.Fatal("no deliveries handed over in 30s")
			}
		}
		var got []string
		for _, r := range readers {
			s, err := r.(weir.CheckpointedReader).SnapshotState(4)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := decodeIDs(s)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids...)
		}
		for _, r := range readers {
			r.Close()
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(restored))
		if !slices.Equal(got, want) {
			t.Fatalf("parallelism %d: snapshot before the first poll holds %v, want %v", par, got, want)
		}
	}
}
