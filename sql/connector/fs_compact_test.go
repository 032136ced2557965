package connector_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TestFilesystemRollingAndCompactionOptions: bad values of the new sink
// options are errors naming the option.
func TestFilesystemRollingAndCompactionOptions(t *testing.T) {
	for _, tc := range []struct{ opt, want string }{
		{"'sink.rolling-policy.inactivity-interval' = 'soon'", "sink.rolling-policy.inactivity-interval"},
		{"'sink.rolling-policy.check-interval' = '0 s'", "sink.rolling-policy.check-interval"},
		{"'sink.rolling-policy.check-interval' = 'x'", "sink.rolling-policy.check-interval"},
		{"'auto-compaction' = 'yes please'", "auto-compaction"},
		{"'compaction.file-size' = '-1 mb'", "compaction.file-size"},
		{"'compaction.parallelism' = '2'", "compaction.parallelism"},
	} {
		ctx := table(t, "t", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+t.TempDir()+"'\n'format' = 'csv'\n"+tc.opt+"\n")
		_, err := connector.Default().CreateSink(ctx)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %s", tc.opt, err, tc.want)
		}
	}
}

// TestFilesystemParquetAutoCompaction writes 9 rows into three Parquet
// part files within one checkpoint (rolled by the inactivity check) with
// the table's format and auto-compaction: the commit merges them into one
// Parquet file, which the parquet source reads back as the rows, NULLs
// included.
func TestFilesystemParquetAutoCompaction(t *testing.T) {
	dir := t.TempDir()
	out, back := filepath.Join(dir, "pq"), filepath.Join(dir, "back")
	cols := "id BIGINT\nname STRING\nok BOOLEAN\n"
	pqTable := table(t, "pq", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n'parquet.compression' = 'GZIP'\n")
	f, err := connector.FilesystemSinkFormat(pqTable)
	if err != nil {
		t.Fatal(err)
	}
	sink := file.ExactlyOnceBulkSink[row.Row](out, f, file.ExactlyOnceOptions{InactivityInterval: time.Minute, Compact: true})
	sw, err := sink.CreateWriter(weir.SinkContext{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := sw.(weir.TwoPhaseCommitWriter[row.Row])
	var want []string
	now := time.Now()
	for i := range 9 {
		name, ok := row.Str(fmt.Sprint("row ", i)), row.Bool(i%2 == 0)
		if i%4 == 1 {
			name, ok = row.Null(), row.Null()
		}
		if err := w.Write(t.Context(), row.Row{Kind: row.Insert, Fields: []row.Value{row.Int(int64(i)), name, ok}}, 0); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			now = now.Add(2 * time.Minute)
			if err := w.(weir.ProcessingTimeWriter).OnProcessingTime(t.Context(), now.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 9 {
		switch {
		case i%4 == 1:
			want = append(want, fmt.Sprintf(`{"id":%d,"name":null,"ok":null}`, i))
		default:
			want = append(want, fmt.Sprintf(`{"id":%d,"name":"row %d","ok":%v}`, i, i, i%2 == 0))
		}
	}
	items, err := w.PreCommit(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d committables, want one compaction unit", len(items))
	}
	if m, _ := filepath.Glob(filepath.Join(out, ".part-*")); len(m) != 3 {
		t.Fatalf("%d pending part files, want 3", len(m))
	}
	if err := w.Commit(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "part-0-0.parquet" {
		t.Fatalf("files %v, want part-0-0.parquet alone", ents)
	}
	jsonTable := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+back+"'\n'format' = 'json'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: 1}), pqTable, jsonTable, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	got := committed(t, back) // sorted
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after compaction:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFilesystemAutoCompaction copies 3000 rows into a table whose part
// files roll every ~100 bytes, with auto-compaction and checkpoints every
// 20 ms at parallelism 2 — unpartitioned, partitioned into 3 partitions,
// and partitioned with a success-file partition commit (whose committer
// compacts too when it commits the data first): every row arrives once, no
// hidden file is left, and the table holds few files of at most
// compaction.file-size.
func TestFilesystemAutoCompaction(t *testing.T) {
	in := t.TempDir()
	var b strings.Builder
	var want []string
	for i := range 3000 {
		fmt.Fprintf(&b, "%d,row %d,%d\n", i, i, i%3)
		want = append(want, fmt.Sprint(i))
	}
	slices.Sort(want)
	if err := os.WriteFile(filepath.Join(in, "rows.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cols := "id BIGINT\nname STRING\np INT\n"
	for _, tc := range []struct {
		name        string
		partitioned bool
		extra       string
	}{
		{"plain", false, ""},
		{"partitioned", true, ""},
		{"partition-commit", true, "'sink.partition-commit.policy.kind' = 'success-file'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, chk := filepath.Join(t.TempDir(), "out"), t.TempDir()
			src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'csv'\n")
			dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n"+
				"'sink.rolling-policy.file-size' = '100 b'\n'auto-compaction' = 'true'\n'compaction.file-size' = '2 kb'\n"+tc.extra)
			dirs := []string{out}
			if tc.partitioned {
				dst.PartitionKeys = []int{2}
				dirs = []string{filepath.Join(out, "p=0"), filepath.Join(out, "p=1"), filepath.Join(out, "p=2")}
			}
			env := weir.NewEnvironment(weir.Options{Parallelism: 2,
				Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: chk}})
			reg := connector.Default()
			s, err := reg.CreateSource(src)
			if err != nil {
				t.Fatal(err)
			}
			k, err := reg.CreateSink(dst)
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "src", Watermarks: weir.NoWatermarks[row.Row]()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Consume(connector.BuildContext{Env: env, Prefix: "dst"}, st); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := env.Execute(ctx); err != nil {
				t.Fatal(err)
			}
			var got []string
			files := 0
			for _, d := range dirs {
				ents, err := os.ReadDir(d)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range ents {
					if e.Name() == "_SUCCESS" && tc.extra != "" {
						continue
					}
					if !strings.HasPrefix(e.Name(), "part-") {
						t.Errorf("leftover %s", filepath.Join(d, e.Name()))
					}
					fi, err := e.Info()
					if err != nil {
						t.Fatal(err)
					}
					if fi.Size() > 2<<10 {
						t.Errorf("%s has %d bytes, more than compaction.file-size", e.Name(), fi.Size())
					}
					files++
				}
				got = append(got, partitionIDs(d)...)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("table holds %d ids, want the %d rows once each", len(got), len(want))
			}
			// ~36 KB of rows: ~360 part files of 100 bytes, merged into
			// files of up to 2 KB per checkpoint, subtask and partition.
			if files > 150 {
				t.Fatalf("%d files: not compacted", files)
			}
			t.Logf("%d files", files)
		})
	}
}
