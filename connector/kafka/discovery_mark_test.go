package kafka

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

// marksOf returns the discovery marks of a reader's snapshot.
func marksOf(t *testing.T, r weir.SourceReader[string]) []discoveryMark {
	t.Helper()
	items, err := r.(weir.CheckpointedReader).SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	var ms []discoveryMark
	for _, it := range items {
		if len(it) > 0 && it[0] == 0 {
			m, err := decodeMark(it)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
	}
	return ms
}

// TestSnapshotBeforeFirstDiscoveryMarksIt: a reader whose first partition
// discovery has not finished (here: no broker answers) stores a discovery
// mark for its subtask, and carries the marks it was restored with.
func TestSnapshotBeforeFirstDiscoveryMarksIt(t *testing.T) {
	src := NewSource(SourceOptions[string]{Brokers: []string{"127.0.0.1:1"}, Topics: []string{"t"},
		Deserializer: StringSerde{}, Start: Latest(), DiscoveryInterval: -1})
	r, err := src.CreateReader(weir.SourceContext{Subtask: 1, Parallelism: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := marksOf(t, r); !slices.Equal(got, []discoveryMark{{3, 1}}) {
		t.Fatalf("marks %v, want subtask 1 of 3", got)
	}
	r2, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 2, Restored: [][]byte{discoveryMark{3, 1}.encode()}})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if got := marksOf(t, r2); !slices.Equal(got, []discoveryMark{{2, 0}, {3, 1}}) {
		t.Fatalf("marks %v, want its own and the restored one", got)
	}
	for _, bad := range [][]byte{{0}, {0, 2}, {0, 2, 2}, {0, 0, 0}, {0, 2, 1, 9}} {
		if _, err := src.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{bad}}); err == nil {
			t.Errorf("corrupt mark %x restored", bad)
		}
	}
}

// TestRestoreBeforeFirstDiscoveryUsesConfiguredStart: a job with Start
// Latest at parallelism 2 is checkpointed when subtask 0 has resolved its
// partition and subtask 1 has not finished its first discovery. Restored
// (at parallelism 1 and 2), subtask 1's partition starts at the latest
// offset, as a fresh start would have, not at the earliest (which emitted
// the records written before the job started); subtask 0's resumes where
// it was; a partition created after the checkpoint starts at the earliest.
func TestRestoreBeforeFirstDiscoveryUsesConfiguredStart(t *testing.T) {
	seeds := cluster(t)
	const topic = "mark-latest"
	createTopic(t, seeds, topic, 2)
	var recs []*kgo.Record
	for p := range int32(2) {
		for _, v := range []string{"a", "b", "c"} {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
		}
	}
	produce(t, seeds, recs...)
	var p0, p1 int32 = -1, -1
	for p := range int32(2) {
		if PartitionOwner(topic, p, 2) == 0 {
			p0 = p
		} else {
			p1 = p
		}
	}
	if p0 < 0 || p1 < 0 {
		t.Skip("both partitions belong to one subtask at parallelism 2")
	}
	items := [][]byte{
		position{tp: topicPartition{topic, p0}, start: StartOffset{kind: startExact, ts: 1}}.encode(),
		discoveryMark{2, 1}.encode(),
	}
	for _, par := range []int{1, 2} {
		got := map[topicPartition]StartOffset{}
		for sub := range par {
			src := NewSource(SourceOptions[string]{Brokers: seeds, Topics: []string{topic},
				Deserializer: StringSerde{}, Start: Latest(), DiscoveryInterval: -1})
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: par, Restored: slices.Clone(items), RestoredFrom: 3})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for !r.(*reader[string]).discoveredNow() {
				if time.Now().After(deadline) {
					t.Fatal("no discovery in 30s")
				}
				select {
				case <-r.(weir.Availability).Available():
				case <-time.After(10 * time.Millisecond):
				}
			}
			if ms := marksOf(t, r); len(ms) != 0 {
				t.Fatalf("parallelism %d subtask %d: marks %v after its discovery", par, sub, ms)
			}
			for tp, st := range snapshotOf(t, r) {
				got[tp] = st
			}
			r.Close()
		}
		want := map[topicPartition]StartOffset{
			{topic, p0}: {kind: startExact, ts: 1},
			{topic, p1}: {kind: startExact, ts: 3},
		}
		if len(got) != 2 || got[topicPartition{topic, p0}] != want[topicPartition{topic, p0}] || got[topicPartition{topic, p1}] != want[topicPartition{topic, p1}] {
			t.Fatalf("parallelism %d: restored positions %v, want %v", par, got, want)
		}
	}
	// Without the mark (subtask 1 had resolved nothing because the
	// partition did not exist yet), the partition starts at the earliest.
	src := NewSource(SourceOptions[string]{Brokers: seeds, Topics: []string{topic},
		Deserializer: StringSerde{}, Start: Latest(), DiscoveryInterval: -1})
	r, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: items[:1], RestoredFrom: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for deadline := time.Now().Add(30 * time.Second); !r.(*reader[string]).discoveredNow(); {
		if time.Now().After(deadline) {
			t.Fatal("no discovery in 30s")
		}
		select {
		case <-r.(weir.Availability).Available():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := snapshotOf(t, r)[topicPartition{topic, p1}]; got.kind != startEarliest {
		t.Fatalf("a partition the checkpoint did not know, without a mark: %v, want the earliest", got)
	}
}

// discoveredNow reports whether the first discovery is done (tests).
func (r *reader[T]) discoveredNow() bool {
	r.handMu.Lock()
	defer r.handMu.Unlock()
	return r.discovered
}
