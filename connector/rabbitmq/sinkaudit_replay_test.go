package rabbitmq

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestSinkReplayIDsAfterIncompleteCheckpoint drives two runs of a writer
// with the default message ids as a job does around a crash: the first
// run writes a, stages checkpoint 1 (completed), writes b, stages
// checkpoint 2 (never completed, never stored), writes c and dies; the
// second restores checkpoint 1, replays b and c, writes d, meets the
// barrier of the next checkpoint (id 2 again) elsewhere and writes e. A
// consumer deduplicating by message id (as this package's Source does)
// keeps one copy of each record only if every copy of a record has one
// id and no id names two records: ids restarting at each barrier give the
// replayed c another id and the new e the id of the first run's c.
func TestSinkReplayIDsAfterIncompleteCheckpoint(t *testing.T) {
	url := broker(t)
	q := queue(t, url)
	ctx := context.Background()
	sink := NewSink(SinkOptions[string]{URL: url, RoutingKey: q, Serializer: StringSerde{}, IDPrefix: "job"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	open := func(restored bool) weir.TwoPhaseCommitWriter[string] {
		w, err := sink.CreateWriter(weir.SinkContext{Subtask: 0, Parallelism: 1, OperatorName: "op", Restored: restored})
		must(err)
		t.Cleanup(func() { w.Close() })
		return w.(weir.TwoPhaseCommitWriter[string])
	}

	w := open(false)
	must(w.Write(ctx, "a", 0))
	ckpt1, err := w.PreCommit(ctx, 1)
	must(err)
	must(w.Commit(ctx, ckpt1))
	must(w.Write(ctx, "b", 0))
	_, err = w.PreCommit(ctx, 2)
	must(err)
	must(w.Write(ctx, "c", 0))
	must(w.Flush(ctx, false))
	w.Close()

	w = open(true)
	must(w.Commit(ctx, ckpt1))
	for _, v := range []string{"b", "c", "d"} {
		must(w.Write(ctx, v, 0))
	}
	_, err = w.PreCommit(ctx, 2)
	must(err)
	must(w.Write(ctx, "e", 0))
	must(w.Flush(ctx, true))

	bodies, ids := drain(t, url, q, 7, 10*time.Second) // a b c, then b c d e
	idOf := map[string]string{}
	bodyOf := map[string]string{}
	for i, b := range bodies {
		v, id := string(b), ids[i]
		if prev, ok := idOf[v]; ok && prev != id {
			t.Errorf("record %q published with ids %q and %q: a deduplicating consumer keeps both", v, prev, id)
		}
		if prev, ok := bodyOf[id]; ok && prev != v {
			t.Errorf("message id %q names records %q and %q: a deduplicating consumer drops %q", id, prev, v, v)
		}
		idOf[v], bodyOf[id] = id, v
	}
	if len(idOf) != 5 || len(bodyOf) != 5 {
		t.Errorf("records %v, ids %v: want a..e under 5 ids", idOf, bodyOf)
	}
}
