package nats

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
)

// TestCloseKeepsCheckpointedMessages: a reader emits messages, a barrier
// puts them in its snapshot, and the reader closes before the checkpoint's
// completion reaches it (a stop-with-savepoint or a failure between the
// barrier and the acks): none of them is acked. Close forgets the entries
// of the messages it fetched that are neither acked nor restored; a reader
// of the next run sharing the registry restores that snapshot, so the
// redeliveries (after AckWait) must still be dropped as duplicates and
// acked, never handed over again. Both orders are covered: the old reader
// closing after the new one restored (its entries are marked restored in
// place), and closing before (while another reader of its run keeps the
// registry; the restore then makes new entries, and that reader closes
// once the new one restored, as the runtime ends a failed run).
func TestCloseKeepsCheckpointedMessages(t *testing.T) {
	for _, closeFirst := range []bool{false, true} {
		name := "close-after-restore"
		if closeFirst {
			name = "close-before-restore"
		}
		t.Run(name, func(t *testing.T) {
			url := server(t)
			stream := uniq(t)
			createStream(t, url, stream)
			const n = 30
			publish(t, url, stream+".x", ints(0, n)...)
			src := NewSource(SourceOptions[string]{URL: url, Stream: stream, Consumer: "c", Deserializer: StringSerde{},
				AckWait: time.Second, FetchBatch: 64})
			or, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer or.Close()
			old := or.(*reader[string])
			// Emit every message (the bookkeeping of reader.emit), then the
			// barrier of checkpoint 1.
			deadline := time.After(20 * time.Second)
			for len(old.emitted) < n {
				select {
				case b := <-old.ch:
					for _, f := range b {
						old.epoch = append(old.epoch, f.md.Sequence.Stream)
						old.emitted = append(old.emitted, f.md.Sequence.Stream)
					}
				case <-deadline:
					t.Fatalf("old reader emitted %d of %d messages in 20s", len(old.emitted), n)
				}
			}
			snap, err := old.SnapshotState(1)
			if err != nil {
				t.Fatal(err)
			}
			var other weir.SourceReader[string]
			if closeFirst {
				// Another reader of the old run keeps the registry.
				if other, err = src.CreateReader(weir.SourceContext{Subtask: 1, Parallelism: 2}); err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				old.Close()
			}
			nr, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: snap, RestoredFrom: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer nr.Close()
			if old.reg != nr.(*reader[string]).reg {
				t.Fatal("the new reader has a registry of its own: the test covers nothing")
			}
			old.Close()
			if other != nil {
				// The rest of the old run closes (what it fetched in the
				// meantime is its own, never emitted in the new run).
				other.Close()
			}
			// The redeliveries are acked as duplicates; a message handed
			// over would wait for a checkpoint and never be acked.
			waitAcked(t, url, stream, "c", n, 30*time.Second)
			select {
			case b := <-nr.(*reader[string]).ch:
				t.Fatalf("new reader handed over %d messages of the restored checkpoint (first: seq %d)", len(b), b[0].md.Sequence.Stream)
			default:
			}
			if d := testutil.ToFloat64(src.metrics.duplicates); d < n {
				t.Fatalf("%v duplicates dropped, want at least %d", d, n)
			}
		})
	}
}
