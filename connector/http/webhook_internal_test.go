package http

import (
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// dedupReceiver keeps the first body of every Idempotency-Key, as a
// receiver that honours the keys does, and notes a key that comes again
// with another body: that receiver would drop records it never saw.
type dedupReceiver struct {
	mu        sync.Mutex
	bodies    map[string]string
	keys      []string
	conflicts []string
}

func (d *dedupReceiver) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	b, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = append(d.keys, key)
	if old, ok := d.bodies[key]; ok {
		if old != string(b) {
			d.conflicts = append(d.conflicts, key+": "+old+" then "+string(b))
		}
		return
	}
	d.bodies[key] = string(b)
}

// taken returns the records the receiver kept.
func (d *dedupReceiver) taken(t *testing.T) map[int]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[int]int{}
	for _, b := range d.bodies {
		var vs []int
		if err := json.Unmarshal([]byte(b), &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			seen[v]++
		}
	}
	return seen
}

// Keys name the same records whenever they repeat: a writer restored from
// checkpoint 5 sends the batches the failed run sent after 5 under the
// same keys, and the batch the failed run cut short on barrier 6 (which
// never completed) and what followed under other keys; a run that takes
// its own checkpoint 6 elsewhere does not reuse the failed run's keys.
func TestWebhookKeysAfterRestore(t *testing.T) {
	rc := &dedupReceiver{bodies: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sink := NewWebhookSink(WebhookOptions[int]{URL: srv.URL, Serializer: kafka.JSONSerde[int]{}, BatchSize: 2})
	ctx := context.Background()
	sc := weir.SinkContext{Subtask: 1, Parallelism: 2, OperatorName: "s"}
	writer := func() (weir.SinkWriter[int], weir.TwoPhaseCommitWriter[int]) {
		w, err := sink.CreateWriter(sc)
		if err != nil {
			t.Fatal(err)
		}
		return w, w.(weir.TwoPhaseCommitWriter[int])
	}
	write := func(w weir.SinkWriter[int], from, to int) {
		for i := from; i < to; i++ {
			if err := w.Write(ctx, i, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first run: records 0-2, checkpoint 5, records 3-7, barrier 6
	// (never completes), records 8-10, crash (10 not sent).
	w1, t1 := writer()
	write(w1, 0, 3)
	staged5, err := t1.PreCommit(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	write(w1, 3, 8)
	if _, err := t1.PreCommit(ctx, 6); err != nil {
		t.Fatal(err)
	}
	write(w1, 8, 11)
	// The restored run replays records 3-11 and ends.
	w2, t2 := writer()
	if err := t2.Commit(ctx, staged5); err != nil {
		t.Fatal(err)
	}
	write(w2, 3, 12)
	if err := w2.Flush(ctx, true); err != nil {
		t.Fatal(err)
	}
	// The restored run's batches of records 3-6 repeat the first run's
	// keys and are dropped; the batch cut short by barrier 6 and what
	// followed come again under other keys.
	seen := rc.taken(t)
	for i := range 12 {
		want := 1
		if i >= 7 && i <= 9 {
			want = 2
		}
		if seen[i] != want {
			t.Fatalf("record %d taken %d times, want %d (keys %v)", i, seen[i], want, rc.keys)
		}
	}
	// Another run restored from 5 takes checkpoint 6 after record 3.
	w3, t3 := writer()
	if err := t3.Commit(ctx, staged5); err != nil {
		t.Fatal(err)
	}
	write(w3, 3, 4)
	if _, err := t3.PreCommit(ctx, 6); err != nil {
		t.Fatal(err)
	}
	write(w3, 4, 12)
	if err := w3.Flush(ctx, true); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	conflicts, keys := rc.conflicts, append([]string(nil), rc.keys...)
	rc.mu.Unlock()
	if len(conflicts) > 0 {
		t.Fatalf("keys reused for other records: %v", conflicts)
	}
	if !strings.HasPrefix(keys[0], "s-1-0.") || !strings.HasSuffix(keys[0], "-0+2") || !strings.HasPrefix(keys[2], "s-1-5.") || !strings.HasSuffix(keys[2], "-0+2") {
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys[:6] {
		if strings.HasPrefix(k, "s-1-6.") {
			for _, k3 := range keys[12:] {
				if strings.HasPrefix(k3, "s-1-6.") && k3[:15] == k[:15] {
					t.Fatalf("the other run's checkpoint 6 reuses the failed run's epoch: %s and %s", k, k3)
				}
			}
		}
	}
}
