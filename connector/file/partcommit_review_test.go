package file

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/runtime"
)

type reviewRec struct {
	P int
	V string
}

type reviewBulk struct{}

func (reviewBulk) Extension() string { return "txt" }
func (reviewBulk) NewWriter(w io.Writer) (BulkWriter[reviewRec], error) {
	return reviewWriter{w}, nil
}

type reviewWriter struct{ w io.Writer }

func (r reviewWriter) Write(v reviewRec) error { _, err := fmt.Fprintln(r.w, v.V); return err }
func (reviewWriter) Finish() error             { return nil }

type reviewInfos struct{ got []PartitionCommitInfo }

func (o *reviewInfos) ProcessElement(v PartitionCommitInfo, _ int64) error {
	o.got = append(o.got, v)
	return nil
}
func (o *reviewInfos) ProcessWatermark(int64) error      { return nil }
func (o *reviewInfos) ProcessWatermarkStatus(bool) error { return nil }

type reviewNone struct{}

func (reviewNone) ProcessElement(struct{}, int64) error { return nil }
func (reviewNone) ProcessWatermark(int64) error         { return nil }
func (reviewNone) ProcessWatermarkStatus(bool) error    { return nil }

type reviewClock struct{ now int64 }

func (c *reviewClock) Now() int64                            { return c.now }
func (c *reviewClock) Schedule(int64, func(now int64) error) {}

// reviewPolicy records, for every policy run, the hidden (staged or
// in-progress, i.e. uncommitted) files of the partition.
type reviewPolicy struct{ hidden map[string][]string }

func (p *reviewPolicy) CommitPartition(ctx context.Context, dir, bucket string) error {
	ents, err := os.ReadDir(filepath.Join(dir, bucket))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			p.hidden[bucket] = append(p.hidden[bucket], e.Name())
		}
	}
	return SuccessFile("_SUCCESS").CommitPartition(ctx, dir, bucket)
}

func reviewCtx(clock *reviewClock) *runtime.OperatorContext {
	return &runtime.OperatorContext{
		Context: context.Background(), Name: "op", Parallelism: 1,
		Time: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: &runtime.OperatorMetrics{}, Checkpointing: true,
	}
}

// TestReviewEndOfInputSuccessBeforeFinalData: with checkpoints, a
// checkpoint that completes after the committer's end of input (it was
// triggered before the writer finished, so it is not the final one: the
// coordinator marks it early) makes the committer run the policies for
// every pending partition, because ended is set, although the final
// checkpoint's data of that partition (staged by the writer's Finish) is
// not committed yet. The success file is written over a partition whose
// data is incomplete; the package comment says the end-of-input commit
// happens "when the final checkpoint completes", after the data.
func TestReviewEndOfInputSuccessBeforeFinalData(t *testing.T) {
	dir := t.TempDir()
	clock := &reviewClock{now: 1000}
	sink := PartitionedBulkSink[reviewRec](dir, reviewBulk{}, func(r reviewRec) (string, error) {
		return fmt.Sprintf("h=%d", r.P), nil
	}, ExactlyOnceOptions{})
	infos := &reviewInfos{}
	w := &partitionWriterOp[reviewRec]{sink: sink, out: infos}
	if err := w.Open(reviewCtx(clock)); err != nil {
		t.Fatal(err)
	}
	pol := &reviewPolicy{hidden: map[string][]string{}}
	// A trigger that would not let the partition be ready before the end.
	c := &partitionCommitterOp{dir: dir, out: reviewNone{}, opts: PartitionCommitOptions{
		Delay: 0, Trigger: PartitionTimeTrigger, Policies: []PartitionCommitPolicy{pol},
		PartitionTime: func(string) (int64, error) { return 1 << 50, nil },
	}}
	if err := c.Open(reviewCtx(clock)); err != nil {
		t.Fatal(err)
	}
	// Checkpoint 1: the barrier passes the writer with "a" staged.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.ProcessElement(reviewRec{1, "a"}, 0))
	must(w.PrepareSnapshotPreBarrier(1))
	// More data for the same partition, then the input ends: the writer
	// stages it for the final checkpoint (2).
	must(w.ProcessElement(reviewRec{1, "b"}, 0))
	must(w.Finish())
	if len(infos.got) != 2 {
		t.Fatalf("writer emitted %d infos, want 2", len(infos.got))
	}
	must(c.ProcessElement(infos.got[0], 0))
	must(c.SnapshotState(1, &runtime.StateWriter{}))
	must(c.ProcessElement(infos.got[1], 0))
	must(c.Finish())
	// Checkpoint 1 completes now (after every task finished; it is not
	// the final checkpoint). The final checkpoint 2 has not completed.
	must(c.NotifyCheckpointComplete(1))
	if _, err := os.Stat(filepath.Join(dir, "h=1", "_SUCCESS")); err == nil {
		t.Fatalf("partition h=1 got its success file at checkpoint 1, before the final checkpoint committed its data (uncommitted files then: %v)", pol.hidden["h=1"])
	}
}
