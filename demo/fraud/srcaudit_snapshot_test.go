package fraud

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/weirstream/weir"
)

// A restored payment generator's snapshot before its first poll is the
// restored state, at the checkpoint's and at other parallelisms.
func TestGeneratorSnapshotBeforeFirstPoll(t *testing.T) {
	seq := func(next, step int64) []byte { return binary.AppendVarint(binary.AppendVarint(nil, next), step) }
	items := [][]byte{seq(12, 3), seq(4, 3), seq(8, 3)}
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	g := NewGenerator(GeneratorConfig{Events: 100}, nil)
	for _, p := range []int{1, 2, 3, 5} {
		var got [][]byte
		for sub := range p {
			r, err := g.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: slices.Clone(items)})
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
