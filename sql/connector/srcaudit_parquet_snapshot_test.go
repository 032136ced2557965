package connector

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/weirstream/weir"
)

// A restored parquet reader's snapshot before its first poll is the
// restored state: every listed file's position (finished or not) stored
// by exactly one subtask, at the checkpoint's and at other parallelisms.
func TestParquetSnapshotBeforeFirstPoll(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.parquet", "b.parquet", "c.parquet", "sub/d.parquet"} {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// CreateReader only lists the files; it opens none.
		if err := os.WriteFile(p, []byte("PAR1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	items := [][]byte{
		encodeParquetPos("a.parquet", parquetPos{rows: 5}),
		encodeParquetPos("b.parquet", parquetPos{rows: 9, done: true}),
		encodeParquetPos("sub/d.parquet", parquetPos{rows: 0}),
	}
	want := slices.Clone(items)
	slices.SortFunc(want, bytes.Compare)
	src := &parquetSource{c: &parquetConfig{table: "srcaudit"}, path: dir}
	for _, p := range []int{1, 2, 3, 5} {
		var got [][]byte
		for sub := range p {
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: slices.Clone(items), RestoredFrom: 4})
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.(weir.CheckpointedReader).SnapshotState(5)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s...)
		}
		slices.SortFunc(got, bytes.Compare)
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("parallelism %d: %q, want %q", p, got, want)
		}
	}
}
