package file

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// snapshotUnion creates the readers of src at parallelism p from items
// and returns the union of their snapshots taken before any Poll, sorted.
func snapshotUnion[T any](t *testing.T, src *Source[T], p int, items [][]byte) [][]byte {
	t.Helper()
	var all [][]byte
	for sub := range p {
		r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Time: fakeTime{}, Restored: slices.Clone(items), RestoredFrom: 3})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.(weir.CheckpointedReader).SnapshotState(4)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		r.Close()
	}
	slices.SortFunc(all, bytes.Compare)
	return all
}

// A restored reader's snapshot before its first poll is the restored state
// (every listed file's position, finished or not, stored by exactly one
// subtask), for bounded and continuous sources, at the checkpoint's and at
// other parallelisms.
func TestSnapshotBeforeFirstPollIsRestored(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.csv", "b.csv", "c.csv", "sub/d.csv", "e.csv"} {
		rawFile(t, filepath.Join(dir, filepath.FromSlash(n)), "x,y\n1,2\n3,4\n")
	}
	items := [][]byte{
		encodePos("a.csv", filePos{off: 8, line: 2, header: true}),
		encodePos("b.csv", filePos{off: 12, line: 3, done: true}),
		encodePos("sub/d.csv", filePos{off: 4, line: 1, header: true}),
		encodePos("e.csv", filePos{}), // opened, nothing read
	}
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	type rec struct {
		X string `csv:"x"`
		Y string `csv:"y"`
	}
	for _, mon := range []time.Duration{0, time.Hour} {
		src := CSVSource[rec](dir, SourceOptions{MonitorInterval: mon})
		for _, p := range []int{1, 2, 3, 5} {
			got := snapshotUnion(t, src, p, items)
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("monitor %v, parallelism %d: snapshot before the first poll holds %d items, want the %d restored: %q, want %q", mon, p, len(got), len(want), got, want)
			}
		}
	}
	// A continuous source keeps the finished files no longer listed.
	gone := append(slices.Clone(items), encodePos("gone.csv", filePos{off: 12, line: 3, done: true}))
	want = slices.Clone(gone)
	slices.SortFunc(want, bytes.Compare)
	src := CSVSource[rec](dir, SourceOptions{MonitorInterval: time.Hour})
	for _, p := range []int{1, 2, 3} {
		if got := snapshotUnion(t, src, p, gone); !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("continuous, parallelism %d: %q, want %q", p, got, want)
		}
	}
}
