package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// A writer restored from checkpoint n numbers its batches as the writer
// that wrote after checkpoint n did, so a receiver can drop the repeats.
func TestWebhookKeysRepeatAfterRestore(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
	}))
	defer srv.Close()
	sink := NewWebhookSink(WebhookOptions[int]{URL: srv.URL, Serializer: kafka.JSONSerde[int]{}, BatchSize: 2})
	ctx := context.Background()
	run := func(w weir.SinkWriter[int]) {
		for i := range 5 {
			if err := w.Write(ctx, i, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	w1, err := sink.CreateWriter(weir.SinkContext{Subtask: 1, Parallelism: 2, OperatorName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	tpc := w1.(weir.TwoPhaseCommitWriter[int])
	run(w1)
	staged, err := tpc.PreCommit(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	run(w1) // after checkpoint 7: the run a crash interrupts
	// The restored writer commits checkpoint 7's committable first.
	w2, _ := sink.CreateWriter(weir.SinkContext{Subtask: 1, Parallelism: 2, OperatorName: "s"})
	if err := w2.(weir.TwoPhaseCommitWriter[int]).Commit(ctx, staged); err != nil {
		t.Fatal(err)
	}
	run(w2)
	want := []string{"s-1-0-0", "s-1-0-1", "s-1-0-2", "s-1-7-0", "s-1-7-1", "s-1-7-2", "s-1-7-0", "s-1-7-1", "s-1-7-2"}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != len(want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("keys %v, want %v", keys, want)
		}
	}
}
