package datagen

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/weirstream/weir"
)

// A restored generator's snapshot before its first poll is the restored
// state (every sequence stored by exactly one subtask), at the
// checkpoint's and at other parallelisms.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	seq := func(id, step, next uint64) []byte {
		b := []byte{seqVersion}
		b = binary.AppendUvarint(b, id)
		b = binary.AppendUvarint(b, step)
		return binary.AppendUvarint(b, next)
	}
	items := [][]byte{seq(0, 3, 30), seq(1, 3, 7), seq(2, 3, 14)}
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	src := New(func(n int64) int64 { return n }, Options{Count: 100})
	for _, p := range []int{1, 2, 3, 4} {
		var got [][]byte
		for sub := range p {
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: slices.Clone(items)})
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.(weir.CheckpointedReader).SnapshotState(1)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s...)
		}
		slices.SortFunc(got, bytes.Compare)
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("parallelism %d: %x, want %x", p, got, want)
		}
	}
}
