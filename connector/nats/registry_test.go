package nats

import (
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestNewAttemptOverlappingOldReader opens a reader of a new run of the
// job while a reader of the previous run, which fetched messages and
// emitted none, is still open (the two share the Source's registry), then
// closes the old one: the messages it fetched are in no checkpoint, so
// when the server delivers them again (after AckWait) the new reader
// hands every one of them over instead of dropping them as duplicates.
// The runtime closes every reader of a failed run before it opens the
// next, but a source must not rely on that for exactly-once.
func TestNewAttemptOverlappingOldReader(t *testing.T) {
	url := server(t)
	name := uniq(t)
	createStream(t, url, name)
	const n = 40
	publish(t, url, name+".x", ints(0, n)...)
	src := NewSource(SourceOptions[string]{URL: url, Stream: name, Consumer: "c", Deserializer: StringSerde{},
		AckWait: time.Second, FetchBatch: 64})
	old, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	select {
	case <-old.(weir.Availability).Available():
	case <-time.After(20 * time.Second):
		t.Fatal("old reader fetched nothing in 20s")
	}
	nr, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: [][]byte{encodeSeqs(nil)}, RestoredFrom: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer nr.Close()
	old.Close()
	got := map[uint64]bool{}
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case b := <-nr.(*reader[string]).ch:
			for _, f := range b {
				got[f.md.Sequence.Stream] = true
			}
		case <-deadline:
			t.Fatalf("new reader handed over %d of the %d messages the old one fetched and never emitted in 20s", len(got), n)
		}
	}
}
