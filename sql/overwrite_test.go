package sql_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// runOverwrite runs the statements of script in a batch session; the
// last one is an INSERT, run as a job with opts.
func runOverwrite(t *testing.T, script string, opts func(*weir.Options)) error {
	t.Helper()
	sess := sql.NewSession(sql.SessionOptions{})
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range stmts {
		_, job, err := sess.Execute(st)
		if err != nil {
			return err
		}
		if i < len(stmts)-1 {
			continue
		}
		o := job.Options()
		opts(&o)
		env := weir.NewEnvironment(o)
		if err := job.Build(env, nil); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return env.Execute(ctx)
	}
	return nil
}

// dirLines returns the lines of every file under dir, each as
// "partition-dir: line", sorted; it fails on hidden entries left in the
// table's directories (staging, manifests).
func dirLines(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			t.Errorf("hidden entry left: %s", p)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(p))
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				out = append(out, filepath.ToSlash(rel)+": "+l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestInsertOverwritePartitionedComputed writes old partitions by hand,
// overwrites with a random query result at several parallelisms, with and
// without checkpoints, and compares the directory with the expected
// contents computed here: partitions the query wrote hold its rows only,
// the others their old files.
func TestInsertOverwritePartitionedComputed(t *testing.T) {
	modes := []struct {
		name string
		opts func(*weir.Options)
	}{
		{"p1", func(o *weir.Options) { o.Parallelism = 1 }},
		{"p3", func(o *weir.Options) { o.Parallelism = 3 }},
		{"p3-checkpoints", func(o *weir.Options) {
			o.Parallelism = 3
			o.Checkpoints = weir.CheckpointOptions{Interval: time.Millisecond, Dir: t.TempDir()}
		}},
	}
	for seed, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			rnd := rand.New(rand.NewSource(int64(seed) + 1))
			dir := t.TempDir()
			table := filepath.Join(dir, "t")
			// Old data: partitions p0..p5, one file each.
			want := map[string][]string{}
			for p := 0; p < 6; p++ {
				part := fmt.Sprintf("k=p%d", p)
				var lines []string
				for i := 0; i < 3; i++ {
					lines = append(lines, fmt.Sprintf("%d,old", 1000+p*10+i))
				}
				if err := os.MkdirAll(filepath.Join(table, part), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(table, part, "part-0-0.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				want[part] = lines
			}
			// New rows: partitions p3..p8 (some old, some new); the query
			// keeps rows with an even id.
			var src []string
			written := map[string][]string{}
			for i := 0; i < 2000; i++ {
				p := 3 + rnd.Intn(6)
				src = append(src, fmt.Sprintf("%d,new%d,p%d", i, i, p))
				if i%2 == 0 {
					part := fmt.Sprintf("k=p%d", p)
					written[part] = append(written[part], fmt.Sprintf("%d,new%d", i, i))
				}
			}
			for part, lines := range written {
				want[part] = lines // replaced
			}
			if err := os.WriteFile(filepath.Join(dir, "src.csv"), []byte(strings.Join(src, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			script := fmt.Sprintf(`SET 'execution.runtime-mode' = 'batch';
CREATE TABLE src (id BIGINT, v STRING, k STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TABLE t (id BIGINT, v STRING, k STRING) PARTITIONED BY (k)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'sink.rolling-policy.file-size' = '1kb');
INSERT OVERWRITE t SELECT * FROM src WHERE MOD(id, 2) = 0;`, filepath.Join(dir, "src.csv"), table)
			if err := runOverwrite(t, script, m.opts); err != nil {
				t.Fatal(err)
			}
			var exp []string
			for part, lines := range want {
				for _, l := range lines {
					exp = append(exp, part+": "+l)
				}
			}
			slices.Sort(exp)
			if got := dirLines(t, table); !slices.Equal(got, exp) {
				t.Fatalf("got %d lines, want %d\n got  %.20v\n want %.20v", len(got), len(exp), got, exp)
			}
		})
	}
}

// TestInsertOverwriteFailureKeepsOldData: a job that fails midway (after
// some subtasks wrote files) leaves the table's files as they were, and
// reading the table still gives the old rows.
func TestInsertOverwriteFailureKeepsOldData(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "t")
	if err := os.MkdirAll(table, 0o755); err != nil {
		t.Fatal(err)
	}
	old := "1,a\n2,b\n"
	if err := os.WriteFile(filepath.Join(table, "part-0-0.csv"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	var src []string
	for i := 0; i < 5000; i++ {
		src = append(src, fmt.Sprint(i))
	}
	if err := os.WriteFile(filepath.Join(dir, "src.csv"), []byte(strings.Join(src, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Row 4321 divides by zero: the job fails after writing thousands of
	// rows (and, with checkpoints, committing some into the staging
	// directory).
	script := fmt.Sprintf(`SET 'execution.runtime-mode' = 'batch';
CREATE TABLE src (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TABLE t (id BIGINT, v STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'sink.rolling-policy.file-size' = '1kb');
INSERT OVERWRITE t SELECT id, CAST(10 / (id - 4321) AS STRING) FROM src;`, filepath.Join(dir, "src.csv"), table)
	err := runOverwrite(t, script, func(o *weir.Options) {
		o.Parallelism = 2
		o.Checkpoints = weir.CheckpointOptions{Interval: time.Millisecond, Dir: t.TempDir()}
	})
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("job: %v, want division by zero", err)
	}
	var visible []string
	ents, _ := os.ReadDir(table)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			visible = append(visible, e.Name())
		}
	}
	if !slices.Equal(visible, []string{"part-0-0.csv"}) {
		t.Fatalf("visible entries %v, want the old file only", visible)
	}
	if b, _ := os.ReadFile(filepath.Join(table, "part-0-0.csv")); string(b) != old {
		t.Fatalf("old file now %q", b)
	}
}
