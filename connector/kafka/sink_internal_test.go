package kafka

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

func newTxnWriter(t *testing.T, seeds []string, topic string, subtask, parallelism int) *txnWriter[string] {
	t.Helper()
	s := NewSink(SinkOptions[string]{Brokers: seeds, Topic: topic, Serializer: StringSerde{},
		Guarantee: ExactlyOnce, TransactionalIDPrefix: "test",
		Partition: func(string) int32 { return 0 }})
	w, err := s.CreateWriter(weir.SinkContext{Subtask: subtask, Parallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	return w.(*txnWriter[string])
}

func values(recs []*kgo.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Value))
	}
	slices.Sort(out)
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTransactionLifecycle drives the exactly-once writer through a
// crash: a transaction staged by one writer is committed by another (a
// new process after a restore), the open transaction the first left
// behind is aborted and never visible to read_committed consumers, the
// first writer is fenced, and commits are idempotent.
func TestTransactionLifecycle(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "out", 1)

	w1 := newTxnWriter(t, seeds, "out", 0, 1)
	must(t, w1.Write("a1", 1))
	must(t, w1.Write("a2", 2))
	staged, err := w1.PreCommit(1)
	must(t, err)
	if len(staged) != 1 {
		t.Fatalf("staged %d committables, want 1", len(staged))
	}
	// Records after the barrier go to the next transaction.
	must(t, w1.Write("b1", 3))
	must(t, w1.Flush(false))
	if got := offsets(t, seeds, "out", true); got != 0 {
		t.Fatalf("last stable offset %d before any commit, want 0", got)
	}
	if got := offsets(t, seeds, "out", false); got != 3 {
		t.Fatalf("high watermark %d, want 3 records written", got)
	}

	// w1's process dies here (no Close). A new writer restores: it commits
	// the staged transaction, then its first record aborts the leftovers.
	w2 := newTxnWriter(t, seeds, "out", 0, 1)
	must(t, w2.Commit(staged))
	must(t, w2.Write("c1", 4))
	staged2, err := w2.PreCommit(2)
	must(t, err)
	must(t, w2.Commit(staged2))
	// Committing again (a second restore of the same checkpoint) is fine.
	must(t, w2.Commit(staged))
	must(t, w2.Commit(staged2))

	// The zombie cannot commit what it wrote after the barrier.
	must(t, w1.Write("b2", 5))
	if _, err := w1.PreCommit(2); err == nil {
		t.Fatal("fenced writer staged a transaction")
	}
	_ = w1.Close() // fenced: its abort fails

	got := values(consume(t, seeds, "out", 3, true))
	if want := []string{"a1", "a2", "c1"}; !slices.Equal(got, want) {
		t.Fatalf("read_committed consumer got %v, want %v", got, want)
	}
	all := values(consume(t, seeds, "out", 4, false))
	if !slices.Contains(all, "b1") {
		t.Fatalf("read_uncommitted consumer got %v: the aborted record was not written at all", all)
	}
	must(t, w2.Close())
}

// TestTransactionSlots checks that a subtask fails rather than reuse a
// transactional id whose transaction awaits its commit.
func TestTransactionSlots(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "slots", 1)
	w := newTxnWriter(t, seeds, "slots", 0, 1)
	defer w.Close()
	var staged [][]byte
	for i := range TransactionSlots {
		must(t, w.Write("x", int64(i)))
		items, err := w.PreCommit(int64(i + 1))
		must(t, err)
		staged = append(staged, items...)
	}
	if err := w.Write("y", 99); err == nil {
		t.Fatalf("%d transactions awaiting commit, and a new one began", TransactionSlots)
	}
	must(t, w.Commit(staged[:1]))
	must(t, w.Write("y", 99))
	must(t, w.Commit(staged[1:]))
	if got := len(consume(t, seeds, "slots", TransactionSlots, true)); got != TransactionSlots {
		t.Fatalf("%d records committed, want %d", got, TransactionSlots)
	}
}

func TestCommittableRoundTrip(t *testing.T) {
	c := committable{subtask: 3, parallelism: 4, seq: 17, producerID: 1 << 40, epoch: 7, txnID: "p-3-1"}
	got, err := decodeCommittable(c.encode())
	must(t, err)
	if got != c {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	for _, bad := range [][]byte{nil, {2}, {1, 0x80}, c.encode()[:6]} {
		if _, err := decodeCommittable(bad); err == nil {
			t.Fatalf("decoded corrupt committable %v", bad)
		}
	}
	p := position{tp: topicPartition{"t", 5}, start: StartOffset{kind: startExact, ts: 42}}
	gp, err := decodePosition(p.encode())
	must(t, err)
	if gp != p {
		t.Fatalf("decoded %+v, want %+v", gp, p)
	}
}

// TestScaleDownAbortsOrphans leaves a transaction open in subtask 2 of 3;
// restored at parallelism 2, subtask 0 aborts it (2 mod 2 = 0), so the
// partition's last stable offset moves past it.
func TestScaleDownAbortsOrphans(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "orphans", 1)
	old := newTxnWriter(t, seeds, "orphans", 2, 3)
	must(t, old.Write("orphan", 1))
	must(t, old.Flush(false))
	old.cl.Close() // dies with its transaction open
	old.ctl.Close()

	w := newTxnWriter(t, seeds, "orphans", 0, 2)
	defer w.Close()
	must(t, w.Write("new", 2))
	items, err := w.PreCommit(1)
	must(t, err)
	must(t, w.Commit(items))
	if got := values(consume(t, seeds, "orphans", 1, true)); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("read_committed consumer got %v", got)
	}
	if got, err := subtaskOf("a-b", "a-b-12-3"); !err || got != 12 {
		t.Fatalf("subtaskOf: %d %v", got, err)
	}
	for _, bad := range []string{"a-12-3", "a-b-x-3", "a-b-1", "a-b-1-y"} {
		if _, ok := subtaskOf("a-b", bad); ok {
			t.Fatalf("subtaskOf(%q) parsed", bad)
		}
	}
}
