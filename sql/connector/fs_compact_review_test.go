package connector_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// parquetParts writes files part files of three rows each with a Parquet
// sink of the table's format (each rolled by the inactivity check) and
// returns the writer and its pre-committed items.
func parquetParts(t *testing.T, f file.BulkFormat[row.Row], dir string, target int64, files int) (weir.TwoPhaseCommitWriter[row.Row], [][]byte) {
	t.Helper()
	sink := file.ExactlyOnceBulkSink[row.Row](dir, f, file.ExactlyOnceOptions{InactivityInterval: time.Minute, Compact: target > 0, CompactTargetSize: target})
	sw, err := sink.CreateWriter(weir.SinkContext{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := sw.(weir.TwoPhaseCommitWriter[row.Row])
	now := time.Now()
	for i := range 3 * files {
		r := row.Row{Kind: row.Insert, Fields: []row.Value{row.Int(int64(i)), row.Str(fmt.Sprint("row ", i%3))}}
		if err := w.Write(t.Context(), r, 0); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			now = now.Add(2 * time.Minute)
			if err := w.(weir.ProcessingTimeWriter).OnProcessingTime(t.Context(), now.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
	}
	items, err := w.PreCommit(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return w, items
}

// TestFilesystemParquetCompactionFileSize: compaction.file-size bounds
// the Parquet files a unit packs by their size on disk. Parquet buffers
// its rows until the file is finished, so the bytes the writer had passed
// on when the file rolled (before its footer and row group) are not its
// size: with that size every small file looked empty and all of a
// checkpoint's files went into one unit, whatever the target.
func TestFilesystemParquetCompactionFileSize(t *testing.T) {
	dir := t.TempDir()
	pqTable := table(t, "pq", "id BIGINT\nname STRING\n'connector' = 'filesystem'\n'path' = '"+dir+"'\n'format' = 'parquet'\n")
	f, err := connector.FilesystemSinkFormat(pqTable)
	if err != nil {
		t.Fatal(err)
	}
	// The size of one part file of three rows.
	one := filepath.Join(dir, "one")
	w, items := parquetParts(t, f, one, 0, 1)
	if err := w.Commit(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(one, "part-0-0.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	// Room for two such files, not three: four files make two units.
	_, items = parquetParts(t, f, filepath.Join(dir, "four"), 2*size+size/2, 4)
	if len(items) != 2 {
		t.Fatalf("%d compaction units of four %d-byte part files with compaction.file-size %d, want 2", len(items), size, 2*size+size/2)
	}
}
