package weir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/runtime"
)

// visibleStore is the external system of tpcProtoSink: committed
// transactions by name, applied once each (an idempotent commit).
type visibleStore struct {
	visible   []int
	committed map[string]bool
	down      bool // commits fail
	txns      int  // transactions begun, for unique names
}

var errStoreDown = errors.New("store down")

// tpcProtoSink stages each checkpoint's records as one transaction
// "subtask.n:r1,r2,...", n unique in the store.
type tpcProtoSink struct{ st *visibleStore }

func (s tpcProtoSink) CreateWriter(sc SinkContext) (SinkWriter[int], error) {
	return &tpcProtoWriter{st: s.st, sub: sc.Subtask}, nil
}

type tpcProtoWriter struct {
	st  *visibleStore
	sub int
	buf []int
}

func (w *tpcProtoWriter) Write(_ context.Context, v int, _ int64) error {
	w.buf = append(w.buf, v)
	return nil
}
func (w *tpcProtoWriter) Flush(context.Context, bool) error { return nil }
func (w *tpcProtoWriter) Close() error                      { return nil }

func (w *tpcProtoWriter) PreCommit(context.Context, int64) ([][]byte, error) {
	if len(w.buf) == 0 {
		return nil, nil
	}
	var vs []string
	for _, v := range w.buf {
		vs = append(vs, strconv.Itoa(v))
	}
	w.buf = nil
	w.st.txns++
	return [][]byte{fmt.Appendf(nil, "%d.%d:%s", w.sub, w.st.txns, strings.Join(vs, ","))}, nil
}

func (w *tpcProtoWriter) Commit(_ context.Context, items [][]byte) error {
	if w.st.down {
		return errStoreDown
	}
	for _, it := range items {
		name, vals, _ := strings.Cut(string(it), ":")
		if w.st.committed[name] {
			continue
		}
		w.st.committed[name] = true
		for _, v := range strings.Split(vals, ",") {
			n, _ := strconv.Atoi(v)
			w.st.visible = append(w.st.visible, n)
		}
	}
	return nil
}

// protoSinkOp opens a sink operator over st, restored from items of
// checkpoint restoreID when items is not nil.
func protoSinkOp(t *testing.T, st *visibleStore, restoreID int64, items [][]byte) (*sinkOp[int], error) {
	t.Helper()
	op := &sinkOp[int]{sink: tpcProtoSink{st}}
	ctx := &runtime.OperatorContext{Name: "sink", Metrics: &runtime.OperatorMetrics{}, Checkpointing: true}
	if items != nil {
		ctx.Restore = &runtime.RestoreState{CheckpointID: restoreID, Items: items}
	}
	return op, op.Open(ctx)
}

// snap takes the sink's snapshot for checkpoint id.
func snap(t *testing.T, op *sinkOp[int], id int64) [][]byte {
	t.Helper()
	w := runtime.NewStateWriter()
	if err := op.SnapshotState(id, w); err != nil {
		t.Fatal(err)
	}
	return w.Done().Items
}

func writeAll(t *testing.T, op *sinkOp[int], vs ...int) {
	t.Helper()
	for _, v := range vs {
		if err := op.ProcessElement(v, NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
}

func checkVisible(t *testing.T, st *visibleStore, want ...int) {
	t.Helper()
	if !slices.Equal(st.visible, want) {
		t.Fatalf("visible %v, want %v", st.visible, want)
	}
}

// TestSinkCommitProtocol drives the two-phase-commit sink operator through
// lost notifications, crashes before and after commits, a failing commit
// and the end of a bounded job, checking what the external system shows.
func TestSinkCommitProtocol(t *testing.T) {
	st := &visibleStore{committed: map[string]bool{}}
	op, err := protoSinkOp(t, st, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, op, 1, 2)
	snap(t, op, 1)
	writeAll(t, op, 3)
	ckpt2 := snap(t, op, 2)
	checkVisible(t, st) // nothing before a checkpoint completes
	// The notification of 1 is lost; 2's commits both, once.
	if err := op.NotifyCheckpointComplete(2); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, st, 1, 2, 3)
	if err := op.NotifyCheckpointComplete(2); err != nil {
		t.Fatal(err)
	}
	writeAll(t, op, 4)
	ckpt3 := snap(t, op, 3)
	writeAll(t, op, 5) // after the barrier: not in checkpoint 3

	// A crash after 2's commit, before 3 completes: the restore of 2
	// commits 2's transactions again, without effect.
	op2, err := protoSinkOp(t, st, 2, ckpt2)
	if err != nil {
		t.Fatal(err)
	}
	checkVisible(t, st, 1, 2, 3)
	// A checkpoint right after the restore holds nothing left to commit.
	if items := snap(t, op2, 3); len(items) != 0 {
		t.Fatalf("snapshot after the restore holds %q: the restored commits are done", items)
	}

	// Checkpoint 3 completed but its notification never came: a restore
	// of 3 commits 4, and nothing written after the barrier.
	if _, err := protoSinkOp(t, st, 3, ckpt3); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, st, 1, 2, 3, 4)

	// A commit that fails after a restore fails the open (the job
	// restarts and commits again): nothing lost, nothing silent.
	st.down = true
	if _, err := protoSinkOp(t, st, 3, ckpt3); !errors.Is(err, errStoreDown) {
		t.Fatalf("restore with the store down: %v, want the commit's error", err)
	}
	st.down = false

	// The end of a bounded job after checkpoint 3: the final snapshot
	// stands for the next checkpoints; an earlier checkpoint's late
	// notification does not commit it, the final checkpoint's does.
	op3, err := protoSinkOp(t, st, 3, ckpt3)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, op3, 5, 6)
	if err := op3.Finish(); err != nil {
		t.Fatal(err)
	}
	final := snap(t, op3, 0)
	if len(final) != 1 {
		t.Fatalf("final snapshot %q, want one pending commit", final)
	}
	if err := op3.NotifyCheckpointComplete(3); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, st, 1, 2, 3, 4)
	if err := op3.NotifyCheckpointComplete(5); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, st, 1, 2, 3, 4, 5, 6)
	// A failing commit on notification fails the task.
	writeAll(t, op, 7)
	snap(t, op, 4)
	st.down = true
	if err := op.NotifyCheckpointComplete(4); !errors.Is(err, errStoreDown) {
		t.Fatalf("notification with the store down: %v, want the commit's error", err)
	}
}
