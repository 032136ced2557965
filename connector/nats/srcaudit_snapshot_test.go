package nats

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// A restored reader's snapshot before its first poll holds the restored
// sequences (each stored by exactly one subtask), at the checkpoint's and
// at other parallelisms, also once the fetch goroutine handed over
// messages that no poll emitted yet.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	url := server(t)
	name := uniq(t)
	createStream(t, url, name)
	publish(t, url, name+".x", []byte("1"), []byte("2"), []byte("3"))
	restored := []uint64{2, 5, 8, 13, 21}
	items := [][]byte{encodeSeqs(restored[:2]), encodeSeqs(restored[2:])}
	for _, par := range []int{1, 2, 3} {
		src := NewSource(SourceOptions[string]{URL: url, Stream: name, Consumer: "c", Deserializer: StringSerde{}, AckWait: time.Minute})
		var readers []weir.SourceReader[string]
		for sub := range par {
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: par, Restored: slices.Clone(items), RestoredFrom: 6})
			if err != nil {
				t.Fatal(err)
			}
			readers = append(readers, r)
		}
		if par == 1 {
			// Messages 1 and 3 fetched and handed over (2 is a
			// redelivery of a restored one, dropped), none emitted.
			select {
			case <-readers[0].(weir.Availability).Available():
			case <-time.After(30 * time.Second):
				t.Fatal("no messages handed over in 30s")
			}
		}
		var got []uint64
		for _, r := range readers {
			s, err := r.(weir.CheckpointedReader).SnapshotState(7)
			if err != nil {
				t.Fatal(err)
			}
			q, err := decodeSeqs(s)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, q...)
		}
		for _, r := range readers {
			r.Close()
		}
		slices.Sort(got)
		if !slices.Equal(got, restored) {
			t.Fatalf("parallelism %d: snapshot before the first poll holds %v, want %v", par, got, restored)
		}
	}
}
