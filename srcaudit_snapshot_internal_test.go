package weir

import (
	"bytes"
	"slices"
	"testing"
)

// A restored collection reader's snapshot before its first poll is the
// restored position.
func TestCollectionSnapshotBeforeFirstPoll(t *testing.T) {
	vals := []int{1, 2, 3, 4, 5, 6, 7}
	items := [][]byte{encodePosition(0, 3, 6), encodePosition(1, 3, 4), encodePosition(2, 3, 8)}
	var got [][]byte
	for sub := range 3 {
		r, err := sliceSource[int](vals).CreateReader(SourceContext{Subtask: sub, Parallelism: 3, Restored: items})
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.(CheckpointedReader).SnapshotState(1)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s...)
	}
	slices.SortFunc(got, bytes.Compare)
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("slice readers: %x, want %x", got, want)
	}
	ts := []TimestampedValue[int]{{1, 1}, {2, 2}, {3, 3}}
	r, err := tsSource[int](ts).CreateReader(SourceContext{Subtask: 0, Parallelism: 1, Restored: [][]byte{encodePosition(0, 1, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.(CheckpointedReader).SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || !bytes.Equal(s[0], encodePosition(0, 1, 2)) {
		t.Fatalf("timestamped reader: %x, want %x", s, encodePosition(0, 1, 2))
	}
}
