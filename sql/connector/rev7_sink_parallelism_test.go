package connector_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// TestFilesystemSinkParallelismPartitionCommit: a partitioned filesystem
// sink with sink.parallelism 2 under a job of parallelism 3 writes every
// row once, into its partition, and its partition committer (at 1)
// commits every partition (success file) when the bounded input ends.
func TestFilesystemSinkParallelismPartitionCommit(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	var lines []string
	want := map[string][]string{}
	for i := range 30 {
		p := fmt.Sprintf("p%d", i%4)
		lines = append(lines, fmt.Sprintf("%d,%s", i, p))
		want[p] = append(want[p], fmt.Sprint(i))
	}
	for f := range 3 {
		writeFile(t, filepath.Join(in, fmt.Sprintf("f%d.csv", f)), strings.Join(lines[f*10:(f+1)*10], "\n")+"\n")
	}
	for _, shuffle := range []string{"false", "true"} {
		t.Run("shuffle="+shuffle, func(t *testing.T) {
			dst := filepath.Join(out, shuffle)
			src := table(t, "src", "id BIGINT\np STRING\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'csv'\n")
			sink := table(t, "dst", "id BIGINT\np STRING\n'connector' = 'filesystem'\n'path' = '"+dst+"'\n'format' = 'csv'\n"+
				"'sink.parallelism' = '2'\n'sink.partition-commit.policy.kind' = 'success-file'\n'sink.shuffle-by-partition.enable' = '"+shuffle+"'\n")
			sink.PartitionKeys = []int{1}
			if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: 3}), src, sink, connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			for p, ids := range want {
				pd := filepath.Join(dst, "p="+p)
				if _, err := os.Stat(filepath.Join(pd, "_SUCCESS")); err != nil {
					t.Errorf("partition %s not committed: %v", p, err)
				}
				got := committed(t, pd)
				w := slices.Clone(ids)
				slices.Sort(w)
				if !slices.Equal(got, w) {
					t.Errorf("partition %s: got %q, want %q", p, got, w)
				}
			}
		})
	}
}
