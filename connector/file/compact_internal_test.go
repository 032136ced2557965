package file

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/weirstream/weir"
)

// oldCommittable is a committable as the sink wrote it before compaction
// existed (version 1, the layout it still writes without compaction):
// version, then the staged and the final name, each with its length.
var oldCommittable = append(append(append([]byte{1, 30}, ".part-0-0.jsonl.inprogress.abc"...), 14), "part-0-0.jsonl"...)

// TestCommitOldCommittable: a checkpoint written by the sink before
// compaction existed holds version-1 committables; a writer of this
// version, with or without compaction, decodes and commits them.
func TestCommitOldCommittable(t *testing.T) {
	for _, compact := range []bool{false, true} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".part-0-0.jsonl.inprogress.abc"), []byte("{\"a\":1}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := decodeCommittable(oldCommittable)
		if err != nil || c.pending != ".part-0-0.jsonl.inprogress.abc" || c.final != "part-0-0.jsonl" || c.more != nil {
			t.Fatalf("decoded %+v, %v", c, err)
		}
		if got := c.encode(); !slices.Equal(got, oldCommittable) {
			t.Fatalf("a single part file encodes as %x, want the old layout %x", got, oldCommittable)
		}
		s := ExactlyOnceJSONSink[map[string]int](dir, ExactlyOnceOptions{Compact: compact})
		w, err := s.CreateWriter(weir.SinkContext{Parallelism: 1})
		if err != nil {
			t.Fatal(err)
		}
		tw := w.(weir.TwoPhaseCommitWriter[map[string]int])
		if err := tw.Commit(t.Context(), [][]byte{oldCommittable}); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 || ents[0].Name() != "part-0-0.jsonl" {
			t.Fatalf("compact %v: %v, want part-0-0.jsonl", compact, ents)
		}
		// The next part file gets the next number.
		if err := tw.Write(t.Context(), map[string]int{"a": 2}, 0); err != nil {
			t.Fatal(err)
		}
		items, err := tw.PreCommit(t.Context(), 2)
		if err != nil || len(items) != 1 {
			t.Fatalf("%d items, %v", len(items), err)
		}
		if c, _ := decodeCommittable(items[0]); c.final != "part-0-1.jsonl" {
			t.Fatalf("next part %s, want part-0-1.jsonl", c.final)
		}
	}
}
