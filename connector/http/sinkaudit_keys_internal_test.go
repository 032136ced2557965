package http

import (
	"context"
	"encoding/binary"
	"net/http/httptest"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// restoreRun drives webhook writers around a crash: in the first run
// (parallelism 2) subtask s writes the records of first[s], stages
// checkpoint 5, writes after[s] and dies; then writers of the given
// parallelism are restored from checkpoint 5 — each is handed the
// committables of every old subtask, subtask 0's first, as the engine
// does — and subtask s writes replay[s]. It returns the receiver.
func restoreRun(t *testing.T, first, after [2][]int, parallelism int, replay [][]int, staged func([][]byte) [][]byte) *dedupReceiver {
	t.Helper()
	rc := &dedupReceiver{bodies: map[string]string{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	sink := NewWebhookSink(WebhookOptions[int]{URL: srv.URL, Serializer: kafka.JSONSerde[int]{}, BatchSize: 2})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	writer := func(sub, par int) weir.TwoPhaseCommitWriter[int] {
		w, err := sink.CreateWriter(weir.SinkContext{Subtask: sub, Parallelism: par, OperatorName: "s"})
		must(err)
		t.Cleanup(func() { w.Close() })
		return w.(weir.TwoPhaseCommitWriter[int])
	}
	var items [][]byte
	for s := range 2 {
		w := writer(s, 2)
		for _, v := range first[s] {
			must(w.Write(ctx, v, 0))
		}
		it, err := w.PreCommit(ctx, 5)
		must(err)
		items = append(items, it...)
		for _, v := range after[s] {
			must(w.Write(ctx, v, 0))
		}
		must(w.Flush(ctx, false))
	}
	if staged != nil {
		items = staged(items)
	}
	for s := range parallelism {
		w := writer(s, parallelism)
		for _, it := range items {
			must(w.Commit(ctx, [][]byte{it}))
		}
		for _, v := range replay[s] {
			must(w.Write(ctx, v, 0))
		}
		must(w.Flush(ctx, true))
	}
	return rc
}

// TestWebhookKeysRestoredPerSubtask: at the same parallelism each
// restored subtask must resume its own keys, so that the receiver drops
// the batches it replays; subtask 1 took those of subtask 0 (the first
// committable it was handed) and its repeats all came through.
func TestWebhookKeysRestoredPerSubtask(t *testing.T) {
	rc := restoreRun(t,
		[2][]int{{0, 1}, {100, 101}}, [2][]int{{2, 3, 4, 5}, {102, 103, 104, 105}},
		2, [][]int{{2, 3, 4, 5}, {102, 103, 104, 105}}, nil)
	seen := rc.taken(t)
	for _, v := range []int{0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105} {
		if seen[v] != 1 {
			t.Errorf("record %d taken %d times, want once (keys %v)", v, seen[v], rc.keys)
		}
	}
	if len(rc.conflicts) > 0 {
		t.Errorf("keys reused for other records: %v", rc.conflicts)
	}
}

// TestWebhookKeysRescaleNeverReused: restored at parallelism 1, the one
// subtask gets the records of both old subtasks in another order (old
// subtask 1 had sent nothing after the checkpoint); its keys must not be
// those the failed run's subtask 0 gave other records after the
// checkpoint, or the receiver drops records it never took (102, 103).
func TestWebhookKeysRescaleNeverReused(t *testing.T) {
	rc := restoreRun(t,
		[2][]int{{0, 1}, {100, 101}}, [2][]int{{2, 3, 4, 5}, nil},
		1, [][]int{{102, 2, 103, 3, 4, 5}}, nil)
	seen := rc.taken(t)
	for _, v := range []int{0, 1, 2, 3, 4, 5, 100, 101, 102, 103} {
		if seen[v] == 0 {
			t.Errorf("record %d lost (keys %v, conflicts %v)", v, rc.keys, rc.conflicts)
		}
	}
	if len(rc.conflicts) > 0 {
		t.Errorf("keys reused for other records: %v", rc.conflicts)
	}
}

// TestWebhookKeysOldCommittable: committables of earlier versions (the
// varint id and the label, no subtask) name no subtask: a restored writer
// must not take another subtask's label from them (see
// TestWebhookKeysRescaleNeverReused).
func TestWebhookKeysOldCommittable(t *testing.T) {
	old := func(items [][]byte) [][]byte {
		out := make([][]byte, len(items))
		for i, it := range items {
			id, m := binary.Varint(it)
			rest := it[m+1:]
			_, n := binary.Uvarint(rest)
			rest = rest[n:]
			_, n = binary.Uvarint(rest)
			out[i] = append(binary.AppendVarint(nil, id), rest[n:]...)
		}
		return out
	}
	rc := restoreRun(t,
		[2][]int{{0, 1}, {100, 101}}, [2][]int{{2, 3, 4, 5}, {102, 103, 104, 105}},
		1, [][]int{{102, 2, 103, 3, 4, 5}}, old)
	seen := rc.taken(t)
	for _, v := range []int{0, 1, 2, 3, 4, 5, 100, 101, 102, 103} {
		if seen[v] == 0 {
			t.Errorf("record %d lost (keys %v, conflicts %v)", v, rc.keys, rc.conflicts)
		}
	}
}

// TestWebhookKeysTwoJobs: two jobs (or two runs of one) that did not
// restore, writing through sinks with the same key prefix, must not send
// other records under the same keys: the receiver would drop the second
// job's batches.
func TestWebhookKeysTwoJobs(t *testing.T) {
	rc := &dedupReceiver{bodies: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx := context.Background()
	for job := range 2 {
		sink := NewWebhookSink(WebhookOptions[int]{URL: srv.URL, Serializer: kafka.JSONSerde[int]{}, BatchSize: 2, KeyPrefix: "orders"})
		w, err := sink.CreateWriter(weir.SinkContext{Subtask: 0, Parallelism: 1, OperatorName: "s"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if err := w.Write(ctx, 10*job+i, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx, true); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	seen := rc.taken(t)
	for _, v := range []int{0, 1, 2, 3, 10, 11, 12, 13} {
		if seen[v] != 1 {
			t.Errorf("record %d taken %d times, want once (keys %v, conflicts %v)", v, seen[v], rc.keys, rc.conflicts)
		}
	}
}
