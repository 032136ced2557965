package nats

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestSinkReplayAfterRestore writes through a writer restored from
// checkpoint 7 (default ids job/subtask/epoch/index), then replays the
// same records through a second writer restored from the same
// checkpoint, as a job does after a crash: the stream keeps one copy of
// each, with the ids of epochs 8 and 9.
func TestSinkReplayAfterRestore(t *testing.T) {
	url := server(t)
	name := uniq(t)
	createStream(t, url, name)
	ctx := context.Background()
	// One committable per old subtask (checkpoint ids only: an older
	// version's), as the engine hands every old subtask's to each writer.
	restored := [][]byte{binary.AppendVarint(nil, 7), binary.AppendVarint(nil, 7)}
	run := func() {
		w, err := NewSink(SinkOptions[string]{URL: url, Subject: name + ".x", Serializer: StringSerde{}, IDPrefix: "job"}).
			CreateWriter(weir.SinkContext{Subtask: 1, Parallelism: 2, OperatorName: "op"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		tw := w.(weir.TwoPhaseCommitWriter[string])
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(tw.Commit(ctx, restored))
		must(tw.Write(ctx, "a", 0))
		must(tw.Write(ctx, "b", 0))
		_, err = tw.PreCommit(ctx, 8)
		must(err)
		must(tw.Write(ctx, "c", 0))
		must(tw.Flush(ctx, true))
	}
	run()
	run()
	data, ids := readStream(t, url, name, 3, 10*time.Second)
	if want := []string{"job/1/8/0", "job/1/8/1", "job/1/8/2"}; !slices.Equal(ids, want) || len(data) != 3 || string(data[2]) != "c" {
		t.Fatalf("stream holds %q with ids %q, want a b c with ids %q", data, ids, want)
	}
}
