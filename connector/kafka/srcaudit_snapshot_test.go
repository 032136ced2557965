package kafka

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

// snapshotOf decodes a reader's snapshot items into positions by partition.
func snapshotOf(t *testing.T, r weir.SourceReader[string]) map[topicPartition]StartOffset {
	t.Helper()
	items, err := r.(weir.CheckpointedReader).SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[topicPartition]StartOffset{}
	for _, it := range items {
		if len(it) > 0 && it[0] == 0 {
			continue // a discovery mark (discovery_mark_test.go)
		}
		p, err := decodePosition(it)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := got[p.tp]; dup {
			t.Fatalf("partition %s stored twice", p.tp)
		}
		got[p.tp] = p.start
	}
	return got
}

// A fresh reader with Start Latest resolves its partitions' offsets in its
// goroutine. Once the assignment is handed over, a checkpoint taken before
// Poll sees it must hold the resolved offset: before, it held nothing, and
// the restore (a restored job starts partitions it does not know from the
// earliest offset) emitted records from before the job's start.
func TestSnapshotHoldsAssignmentNotYetPolled(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "srcaudit-latest", 1)
	produce(t, seeds,
		&kgo.Record{Topic: "srcaudit-latest", Partition: 0, Value: []byte("a")},
		&kgo.Record{Topic: "srcaudit-latest", Partition: 0, Value: []byte("b")},
		&kgo.Record{Topic: "srcaudit-latest", Partition: 0, Value: []byte("c")})
	src := NewSource(SourceOptions[string]{Brokers: seeds, Topics: []string{"srcaudit-latest"},
		Deserializer: StringSerde{}, Start: Latest(), DiscoveryInterval: -1})
	r, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	select {
	case <-r.(weir.Availability).Available():
	case <-time.After(30 * time.Second):
		t.Fatal("the reader handed nothing over in 30s")
	}
	got := snapshotOf(t, r)
	want := map[topicPartition]StartOffset{{"srcaudit-latest", 0}: {kind: startExact, ts: 3}}
	if len(got) != 1 || got[topicPartition{"srcaudit-latest", 0}] != want[topicPartition{"srcaudit-latest", 0}] {
		t.Fatalf("snapshot before the first poll = %v, want %v", got, want)
	}
}

// A restored reader's snapshot before its first poll is the restored
// state, at the same and at another parallelism (each partition stored by
// exactly one subtask).
//
// The readers run without fetch sessions (KIP-227): each is closed right
// after it starts, often while its first fetch is in flight, and franz-go
// (v1.22.2 and v1.22.3 alike) then reads the source's session id in
// Client.Close without synchronising with the fetch response that writes
// it (source.go bumpEpoch), which the race detector reported in about 7 of
// 100 runs. Without sessions the id is never written. Fetch sessions are
// not what this test is about.
func TestSnapshotBeforeFirstPollAfterRestore(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "srcaudit-restore", 4)
	restored := map[topicPartition]StartOffset{}
	var items [][]byte
	for p := range int32(4) {
		tp := topicPartition{"srcaudit-restore", p}
		restored[tp] = StartOffset{kind: startExact, ts: int64(10 + p)}
		items = append(items, position{tp: tp, start: restored[tp]}.encode())
	}
	for _, par := range []int{1, 2, 3} {
		union := map[topicPartition]StartOffset{}
		for sub := range par {
			src := NewSource(SourceOptions[string]{Brokers: seeds, Topics: []string{"srcaudit-restore"},
				Deserializer: StringSerde{}, Start: Latest(), DiscoveryInterval: -1,
				ClientOptions: []kgo.Opt{kgo.DisableFetchSessions()}})
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: par, Restored: slices.Clone(items), RestoredFrom: 7})
			if err != nil {
				t.Fatal(err)
			}
			for tp, st := range snapshotOf(t, r) {
				if _, dup := union[tp]; dup {
					t.Fatalf("parallelism %d: partition %s stored by two subtasks", par, tp)
				}
				union[tp] = st
			}
			r.Close()
		}
		if len(union) != len(restored) {
			t.Fatalf("parallelism %d: snapshot %v, want %v", par, union, restored)
		}
		for tp, st := range restored {
			if union[tp] != st {
				t.Fatalf("parallelism %d: partition %s at %v, want %v", par, tp, union[tp], st)
			}
		}
	}
}
