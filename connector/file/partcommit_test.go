package file_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/weirtest"
)

// prec is a record of partition P (an hour) with value V.
type prec struct {
	P int64
	V string
}

type precBulk struct{}

func (precBulk) Extension() string { return "txt" }

func (precBulk) NewWriter(w io.Writer) (file.BulkWriter[prec], error) { return precWriter{w}, nil }

type precWriter struct{ w io.Writer }

func (p precWriter) Write(v prec) error { _, err := fmt.Fprintln(p.w, v.V); return err }
func (precWriter) Finish() error        { return nil }

func precBucket(v prec) (string, error) { return fmt.Sprintf("h=%d", v.P), nil }

// hourOf is the partition time of h=N: N hours after the epoch.
func hourOf(bucket string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(bucket, "h="), 10, 64)
	return n * 3600_000, err
}

// commitRecord is one policy run: the partition and the records its
// committed part files held then, and the names of hidden files in it.
type commitRecord struct {
	bucket string
	rows   []string
	hidden []string
}

// watchPolicy records what each partition holds when it is committed,
// then writes the success file.
type watchPolicy struct {
	mu   sync.Mutex
	runs []commitRecord
	// skip are hidden files a failed run left (not data of a completed
	// checkpoint).
	skip map[string]bool
}

func (p *watchPolicy) ignore(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.skip == nil {
		p.skip = map[string]bool{}
	}
	p.skip[name] = true
}

func (p *watchPolicy) CommitPartition(ctx context.Context, dir, bucket string) error {
	ents, err := os.ReadDir(filepath.Join(dir, bucket))
	if err != nil {
		return err
	}
	r := commitRecord{bucket: bucket}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
			p.mu.Lock()
			skip := p.skip[name]
			p.mu.Unlock()
			if skip {
				continue
			}
			r.hidden = append(r.hidden, name)
		case strings.HasPrefix(name, "part-"):
			b, err := os.ReadFile(filepath.Join(dir, bucket, name))
			if err != nil {
				return err
			}
			r.rows = append(r.rows, strings.Fields(string(b))...)
		}
	}
	slices.Sort(r.rows)
	p.mu.Lock()
	p.runs = append(p.runs, r)
	p.mu.Unlock()
	return file.SuccessFile("_SUCCESS").CommitPartition(ctx, dir, bucket)
}

// take returns the runs since the last take as "bucket: rows" lines.
func (p *watchPolicy) take(t *testing.T) []string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.runs {
		if len(r.hidden) > 0 {
			t.Errorf("partition %s committed with uncommitted files %v", r.bucket, r.hidden)
		}
		out = append(out, r.bucket+": "+strings.Join(r.rows, ","))
	}
	p.runs = nil
	slices.Sort(out)
	return out
}

// successFiles lists the partitions holding a _SUCCESS file.
func successFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*", "_SUCCESS"))
	var out []string
	for _, p := range m {
		out = append(out, filepath.Base(filepath.Dir(p)))
	}
	slices.Sort(out)
	return out
}

type commitJob struct {
	h   *weirtest.Harness
	in  *weirtest.Input[prec]
	pol *watchPolicy
}

// newCommitJob builds input -> partitioned writer (parallelism 2) ->
// committer on a harness.
func newCommitJob(t *testing.T, h *weirtest.Harness, dir string, opts file.PartitionCommitOptions) *commitJob {
	t.Helper()
	j := &commitJob{h: h, in: weirtest.NewInput[prec](h), pol: &watchPolicy{}}
	opts.Policies = []file.PartitionCommitPolicy{j.pol}
	sink := file.PartitionedBulkSink[prec](dir, precBulk{}, precBucket, file.ExactlyOnceOptions{})
	w, c, err := sink.WithPartitionCommit(j.in.Stream().Rebalance(), opts)
	if err != nil {
		t.Fatal(err)
	}
	w.UID("writer").SetParallelism(2)
	c.UID("committer").SinkTo(weir.SinkFunc[struct{}](func(context.Context, struct{}, int64) error { return nil }))
	h.Start(t)
	return j
}

func checkpointedOpts(t *testing.T) weir.Options {
	return weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

func (j *commitJob) push(t *testing.T, recs ...prec) {
	t.Helper()
	for _, r := range recs {
		if err := j.in.Push(r, r.P*3600_000); err != nil {
			t.Fatal(err)
		}
	}
}

func (j *commitJob) snapshot(t *testing.T) weirtest.Snapshot {
	t.Helper()
	s, err := j.h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantRuns(t *testing.T, j *commitJob, want ...string) {
	t.Helper()
	if got := j.pol.take(t); !slices.Equal(got, want) {
		t.Fatalf("partitions committed:\n got %q\nwant %q", got, want)
	}
}

// TestPartitionCommitProcessTime: with the default trigger and no delay a
// partition is committed at every checkpoint that committed data in it,
// never before, and holds all of that data when it is.
func TestPartitionCommitProcessTime(t *testing.T) {
	dir := t.TempDir()
	j := newCommitJob(t, weirtest.New(checkpointedOpts(t)), dir, file.PartitionCommitOptions{})
	j.push(t, prec{1, "a"}, prec{2, "b"}, prec{1, "c"})
	wantRuns(t, j)
	if s := successFiles(t, dir); len(s) != 0 {
		t.Fatalf("success files before any checkpoint: %v", s)
	}
	j.snapshot(t)
	wantRuns(t, j, "h=1: a,c", "h=2: b")
	j.push(t, prec{1, "d"})
	j.snapshot(t)
	// Late data commits its partition again (as Flink's).
	wantRuns(t, j, "h=1: a,c,d")
	j.snapshot(t) // nothing new
	wantRuns(t, j)
	if s := successFiles(t, dir); !slices.Equal(s, []string{"h=1", "h=2"}) {
		t.Fatalf("success files %v", s)
	}
}

// TestPartitionCommitProcessTimeDelay: a partition waits until the
// processing time is past its creation plus the delay.
func TestPartitionCommitProcessTimeDelay(t *testing.T) {
	dir := t.TempDir()
	h := weirtest.New(checkpointedOpts(t))
	j := newCommitJob(t, h, dir, file.PartitionCommitOptions{Delay: time.Second})
	if err := h.SetProcessingTime(5000); err != nil {
		t.Fatal(err)
	}
	j.push(t, prec{1, "a"})
	j.snapshot(t) // data committed at 5000: created 5000
	wantRuns(t, j)
	if err := h.SetProcessingTime(6000); err != nil {
		t.Fatal(err)
	}
	j.push(t, prec{2, "b"})
	j.snapshot(t) // 6000 is not past 5000 + 1000
	wantRuns(t, j)
	if err := h.SetProcessingTime(6001); err != nil {
		t.Fatal(err)
	}
	j.snapshot(t)
	wantRuns(t, j, "h=1: a")
	if err := h.SetProcessingTime(7001); err != nil {
		t.Fatal(err)
	}
	j.snapshot(t)
	wantRuns(t, j, "h=2: b")
}

// TestPartitionCommitPartitionTime: with the partition-time trigger a
// partition waits for the watermark (as of the checkpoint) to pass its
// time plus the delay.
func TestPartitionCommitPartitionTime(t *testing.T) {
	dir := t.TempDir()
	j := newCommitJob(t, weirtest.New(checkpointedOpts(t)), dir,
		file.PartitionCommitOptions{Trigger: file.PartitionTimeTrigger, Delay: time.Hour, PartitionTime: hourOf})
	j.push(t, prec{1, "a"}, prec{2, "b"})
	must(t, j.in.Watermark(2*3600_000)) // h=1 ends at 2 h: not past it
	j.snapshot(t)
	wantRuns(t, j)
	j.push(t, prec{1, "c"})
	must(t, j.in.Watermark(2*3600_000+1))
	j.snapshot(t)
	wantRuns(t, j, "h=1: a,c")
	// The watermark moves after the barrier: the next checkpoint decides.
	must(t, j.in.Watermark(3*3600_000+1))
	wantRuns(t, j)
	j.snapshot(t)
	wantRuns(t, j, "h=2: b")
}

// TestPartitionCommitRestore: a failure after data was written but before
// its checkpoint completed leaves no success file for it; partitions
// waiting for their trigger survive the restore (in the committer's
// state) and are committed once, with every record once.
func TestPartitionCommitRestore(t *testing.T) {
	dir := t.TempDir()
	opts := file.PartitionCommitOptions{Trigger: file.PartitionTimeTrigger, PartitionTime: hourOf}
	j := newCommitJob(t, weirtest.New(checkpointedOpts(t)), dir, opts)
	j.push(t, prec{1, "a"}, prec{2, "b"})
	must(t, j.in.Watermark(3600_000+1))
	j.snapshot(t)
	wantRuns(t, j, "h=1: a") // h=2 waits for the watermark
	// A checkpoint with no new data: h=2 is now only a pending partition
	// of the committer's state.
	s2 := j.snapshot(t)
	wantRuns(t, j)
	// Written, never checkpointed: lost in the failure.
	j.push(t, prec{3, "x"}, prec{2, "y"})
	must(t, j.in.Watermark(10*3600_000))
	wantRuns(t, j)

	// The in-progress files the failed run left are no data of a
	// completed checkpoint.
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".part-*"))
	if len(leftovers) == 0 {
		t.Fatal("the failed run left no in-progress files: the test does not fail where it should")
	}
	j2 := newCommitJob(t, weirtest.Restore(checkpointedOpts(t), s2), dir, opts)
	for _, l := range leftovers {
		j2.pol.ignore(filepath.Base(l))
	}
	if s := successFiles(t, dir); !slices.Equal(s, []string{"h=1"}) {
		t.Fatalf("success files after the restore: %v", s)
	}
	j2.push(t, prec{4, "d"})
	must(t, j2.in.Watermark(3*3600_000+1))
	j2.snapshot(t)
	wantRuns(t, j2, "h=2: b")
	must(t, j2.in.End())
	// The end of input commits the rest whatever the trigger says; the
	// lost rows x and y are nowhere, and h=3 has no success file.
	wantRuns(t, j2, "h=4: d")
	if s := successFiles(t, dir); !slices.Equal(s, []string{"h=1", "h=2", "h=4"}) {
		t.Fatalf("success files: %v", s)
	}
}

// TestPartitionCommitRestoreRepeats: restored from a checkpoint whose
// completion the failed run may or may not have acted on, the committer
// commits that checkpoint's data and partitions again (a success file is
// idempotent): none is lost.
func TestPartitionCommitRestoreRepeats(t *testing.T) {
	dir := t.TempDir()
	j := newCommitJob(t, weirtest.New(checkpointedOpts(t)), dir, file.PartitionCommitOptions{})
	j.push(t, prec{1, "a"})
	s1 := j.snapshot(t)
	wantRuns(t, j, "h=1: a")
	j2 := newCommitJob(t, weirtest.Restore(checkpointedOpts(t), s1), dir, file.PartitionCommitOptions{})
	j2.snapshot(t)
	wantRuns(t, j2, "h=1: a")
	j2.snapshot(t)
	wantRuns(t, j2)
}

// TestPartitionCommitEndOfInput: a bounded input commits every partition
// at its end (Flink's endInput), with checkpoints (at the final one) and
// without (at the end).
func TestPartitionCommitEndOfInput(t *testing.T) {
	for _, checkpoints := range []bool{true, false} {
		t.Run(fmt.Sprint("checkpoints=", checkpoints), func(t *testing.T) {
			dir := t.TempDir()
			o := weir.Options{Parallelism: 2}
			if checkpoints {
				o = checkpointedOpts(t)
			}
			j := newCommitJob(t, weirtest.New(o), dir, file.PartitionCommitOptions{Delay: 24 * time.Hour})
			j.push(t, prec{1, "a"}, prec{2, "b"}, prec{1, "c"})
			if checkpoints {
				j.snapshot(t)
			}
			wantRuns(t, j)
			must(t, j.in.End())
			wantRuns(t, j, "h=1: a,c", "h=2: b")
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPartitionCommitRestoresPlainSink: the writer keeps the sink
// operator's state, so a job that adds partition commit restores from a
// checkpoint of the plain PartitionedSink: what that checkpoint staged is
// committed, and the partitions the new run writes are committed.
func TestPartitionCommitRestoresPlainSink(t *testing.T) {
	dir := t.TempDir()
	h := weirtest.New(checkpointedOpts(t))
	in := weirtest.NewInput[prec](h)
	sink := file.PartitionedBulkSink[prec](dir, precBulk{}, precBucket, file.ExactlyOnceOptions{})
	in.Stream().Rebalance().SinkTo(sink).UID("writer").SetParallelism(2)
	h.Start(t)
	for _, r := range []prec{{1, "a"}, {2, "b"}} {
		must(t, in.Push(r, r.P*3600_000))
	}
	s1, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	must(t, in.Push(prec{1, "lost"}, 3600_000))

	j := newCommitJob(t, weirtest.Restore(checkpointedOpts(t), s1), dir, file.PartitionCommitOptions{})
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".part-*"))
	for _, l := range leftovers {
		j.pol.ignore(filepath.Base(l))
	}
	j.push(t, prec{3, "c"})
	j.snapshot(t)
	wantRuns(t, j, "h=3: c")
	must(t, j.in.End())
	wantRuns(t, j)
	for b, want := range map[string][]string{"h=1": {"a"}, "h=2": {"b"}, "h=3": {"c"}} {
		var got []string
		m, _ := filepath.Glob(filepath.Join(dir, b, "part-*"))
		for _, p := range m {
			data, _ := os.ReadFile(p)
			got = append(got, strings.Fields(string(data))...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", b, got, want)
		}
	}
}
