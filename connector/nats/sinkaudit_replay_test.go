package nats

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestSinkReplayAfterIncompleteCheckpoint drives two runs of a writer
// with the default message ids as a job does around a crash. The first
// run writes a, stages checkpoint 1 (completed), writes b, stages
// checkpoint 2 (its barrier passed the sink, but it never completed and
// never reached storage), writes c and dies. The second run restores
// checkpoint 1, replays b and c, writes the new d, meets the barrier of
// the next checkpoint (the engine gives it id 2 again) at another place,
// and writes the new e. The stream must hold a..e once each: ids that
// restart at each barrier would give the replayed c a new id (a
// duplicate) and the new e the id of the first run's c (dropped, lost).
func TestSinkReplayAfterIncompleteCheckpoint(t *testing.T) {
	url := server(t)
	name := uniq(t)
	createStream(t, url, name)
	ctx := context.Background()
	sink := NewSink(SinkOptions[string]{URL: url, Subject: name + ".x", Serializer: StringSerde{}, IDPrefix: "job"})
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
	must(w.Commit(ctx, ckpt1)) // checkpoint 1 completed
	must(w.Write(ctx, "b", 0))
	_, err = w.PreCommit(ctx, 2) // never completes
	must(err)
	must(w.Write(ctx, "c", 0))
	must(w.Flush(ctx, false))
	w.Close() // the crash

	w = open(true)
	must(w.Commit(ctx, ckpt1)) // the engine commits the restored checkpoint's committables
	for _, v := range []string{"b", "c", "d"} {
		must(w.Write(ctx, v, 0))
	}
	_, err = w.PreCommit(ctx, 2)
	must(err)
	must(w.Write(ctx, "e", 0))
	must(w.Flush(ctx, true))

	data, ids := readStream(t, url, name, 5, 10*time.Second)
	var got []string
	for _, d := range data {
		got = append(got, string(d))
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("stream holds %q (ids %q), want %q once each", got, ids, want)
	}
}
