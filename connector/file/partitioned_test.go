package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// lineBulk is a bulk format writing one "key seq sum" line per record.
type lineBulk struct{}

func (lineBulk) Extension() string { return "txt" }

func (lineBulk) NewWriter(w io.Writer) (file.BulkWriter[kout], error) { return lineBulkWriter{w}, nil }

type lineBulkWriter struct{ w io.Writer }

func (l lineBulkWriter) Write(v kout) error {
	_, err := fmt.Fprintf(l.w, "%s %d %d\n", v.Key, v.Seq, v.Sum)
	return err
}

func (lineBulkWriter) Finish() error { return nil }

// bucketOf puts a record in k=<last letter of its key>/s=<seq mod 3>.
func bucketOf(v kout) (string, error) {
	return fmt.Sprintf("k=%s/s=%d", v.Key[len(v.Key)-1:], v.Seq%3), nil
}

// partitionedJob is sumJob with the partitioned sink.
func partitionedJob(in, out, chk string, p int, failAfter int64) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 10 * time.Millisecond, Dir: chk},
		Restore:     "latest",
	})
	src := file.JSONSource[kin](in, file.SourceOptions{LinesPerSecond: 10000, LinesPerPoll: 50})
	s := weir.FromSource[kin](env, src, weir.NoWatermarks[kin](), "in").UID("in")
	var seen atomic.Int64
	checked := weir.TryMap(s, func(v kin) (kin, error) {
		if failAfter > 0 && seen.Add(1) >= failAfter {
			if files, _ := committedBuckets(out); len(files) > 0 {
				return v, errFail
			}
		}
		return v, nil
	})
	sums := weir.ProcessKeyed[string, kin, kout](weir.KeyBy(checked, func(v kin) string { return v.Key }), &sumFn{}).UID("sums")
	sums.SinkTo(file.PartitionedBulkSink[kout](out, lineBulk{}, bucketOf, file.ExactlyOnceOptions{MaxPartSize: 3000})).UID("out")
	return env.Execute(context.Background())
}

// committedBuckets returns the committed part files under out, by bucket.
func committedBuckets(out string) (map[string][]string, error) {
	files := map[string][]string{}
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, _ := filepath.Rel(out, filepath.Dir(p))
		files[filepath.ToSlash(rel)] = append(files[filepath.ToSlash(rel)], p)
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return files, err
}

// TestPartitionedSinkRestore fails a job writing to buckets several times
// and restores it at another parallelism each time: every record is
// committed exactly once, in its bucket, with the right running sum.
func TestPartitionedSinkRestore(t *testing.T) {
	in, out, chk := t.TempDir(), filepath.Join(t.TempDir(), "out"), t.TempDir()
	want, _ := writeInput(t, in, 7, 900, false, 0)
	fails := 0
	for _, p := range []int{2, 3, 1} {
		err := partitionedJob(in, out, chk, p, 1200)
		if errors.Is(err, errFail) {
			fails++
			continue
		}
		if err != nil {
			t.Fatalf("p=%d: %v", p, err)
		}
		t.Logf("p=%d finished without the failure", p)
		break
	}
	if fails < 2 {
		t.Fatalf("only %d runs failed", fails)
	}
	if err := partitionedJob(in, out, chk, 2, 0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	buckets, err := committedBuckets(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for b, files := range buckets {
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var o kout
				if _, err := fmt.Sscanf(sc.Text(), "%s %d %d", &o.Key, &o.Seq, &o.Sum); err != nil {
					t.Fatalf("%s: %q: %v", name, sc.Text(), err)
				}
				if wb, _ := bucketOf(o); wb != b {
					t.Fatalf("%s/%d in bucket %s, want %s", o.Key, o.Seq, b, wb)
				}
				k := fmt.Sprintf("%s/%d", o.Key, o.Seq)
				if _, dup := got[k]; dup {
					t.Fatalf("%s committed twice", k)
				}
				got[k] = o.Sum
			}
			f.Close()
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Fatalf("%s: got %d (present %v), want %d", k, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d records committed, want %d", len(got), len(want))
	}
	t.Logf("%d failures, %d buckets", fails, len(buckets))
}

// TestPartitionedSinkBadBucket: a bucket that is not a relative path
// fails the write.
func TestPartitionedSinkBadBucket(t *testing.T) {
	for _, b := range []string{"", "/abs", "a/../b", "a//b", `a\b`, "."} {
		env := weir.NewEnvironment(weir.Options{})
		s := weir.FromSlice(env, []kout{{Key: "x"}})
		s.SinkTo(file.PartitionedBulkSink[kout](t.TempDir(), lineBulk{}, func(kout) (string, error) { return b, nil }, file.ExactlyOnceOptions{}))
		if err := env.Execute(context.Background()); err == nil || !strings.Contains(err.Error(), "bucket") {
			t.Errorf("bucket %q: %v", b, err)
		}
	}
}
