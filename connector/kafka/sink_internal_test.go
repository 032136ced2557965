package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

func newTxnWriter(t *testing.T, seeds []string, topic string, subtask, parallelism int) *txnWriter[string] {
	t.Helper()
	w, _ := newTxnWriterWith(t, seeds, topic, subtask, parallelism, nil)
	return w
}

// newTxnWriterWith returns an exactly-once writer whose records go to
// partition 0 of topic, with the options set changes, and its sink.
func newTxnWriterWith(t *testing.T, seeds []string, topic string, subtask, parallelism int, set func(*SinkOptions[string])) (*txnWriter[string], *Sink[string]) {
	t.Helper()
	o := SinkOptions[string]{Brokers: seeds, Topic: topic, Serializer: StringSerde{},
		Guarantee: ExactlyOnce, TransactionalIDPrefix: "test",
		Partition: func(string) int32 { return 0 }}
	if set != nil {
		set(&o)
	}
	s := NewSink(o)
	w, err := s.CreateWriter(weir.SinkContext{Subtask: subtask, Parallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	return w.(*txnWriter[string]), s
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
	must(t, w1.Write(t.Context(), "a1", 1))
	must(t, w1.Write(t.Context(), "a2", 2))
	staged, err := w1.PreCommit(t.Context(), 1)
	must(t, err)
	if len(staged) != 1 {
		t.Fatalf("staged %d committables, want 1", len(staged))
	}
	// Records after the barrier go to the next transaction.
	must(t, w1.Write(t.Context(), "b1", 3))
	must(t, w1.Flush(t.Context(), false))
	if got := offsets(t, seeds, "out", true); got != 0 {
		t.Fatalf("last stable offset %d before any commit, want 0", got)
	}
	if got := committedRecords(t, seeds, "out"); got != 0 {
		t.Fatalf("%d records committed before any commit", got)
	}
	if got := offsets(t, seeds, "out", false); got != 3 {
		t.Fatalf("high watermark %d, want 3 records written", got)
	}

	// w1's process dies here (no Close). A new writer restores: it commits
	// the staged transaction, then its first record aborts the leftovers.
	w2 := newTxnWriter(t, seeds, "out", 0, 1)
	must(t, w2.Commit(t.Context(), staged))
	must(t, w2.Write(t.Context(), "c1", 4))
	staged2, err := w2.PreCommit(t.Context(), 2)
	must(t, err)
	must(t, w2.Commit(t.Context(), staged2))
	// Committing again (a second restore of the same checkpoint) is fine.
	must(t, w2.Commit(t.Context(), staged))
	must(t, w2.Commit(t.Context(), staged2))

	// The zombie cannot commit what it wrote after the barrier.
	must(t, w1.Write(t.Context(), "b2", 5))
	if _, err := w1.PreCommit(t.Context(), 2); err == nil {
		t.Fatal("fenced writer staged a transaction")
	}
	_ = w1.Close() // fenced: its abort fails

	// committedRecords counts what read_committed reads, over the aborted
	// b1 and its marker, and a1, a2, whose commit marker lies past b1.
	if got := committedRecords(t, seeds, "out"); got != 3 {
		t.Fatalf("committedRecords: %d, want 3 (a1, a2, c1)", got)
	}
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
		must(t, w.Write(t.Context(), "x", int64(i)))
		items, err := w.PreCommit(t.Context(), int64(i+1))
		must(t, err)
		staged = append(staged, items...)
	}
	if err := w.Write(t.Context(), "y", 99); err == nil {
		t.Fatalf("%d transactions awaiting commit, and a new one began", TransactionSlots)
	}
	must(t, w.Commit(t.Context(), staged[:1]))
	must(t, w.Write(t.Context(), "y", 99))
	must(t, w.Commit(t.Context(), staged[1:]))
	if got := len(consume(t, seeds, "slots", TransactionSlots, true)); got != TransactionSlots {
		t.Fatalf("%d records committed, want %d", got, TransactionSlots)
	}
}

func TestCommittableRoundTrip(t *testing.T) {
	c := committable{subtask: 3, parallelism: 4, seq: 17, producerID: 1 << 40, epoch: 7, txnID: "p-3-1",
		parts: []txnPart{{"out", 2, 40}, {"out", 3, 0}}}
	got, err := decodeCommittable(c.encode())
	must(t, err)
	if !sameCommittable(got, c) {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	// Version 1 (no partitions) still decodes.
	v1 := append([]byte{1, 3, 4, 34}, binary.AppendVarint(nil, 1<<40)...)
	v1 = append(append(v1, 14), "p-3-1"...)
	got, err = decodeCommittable(v1)
	must(t, err)
	if c.parts = nil; !sameCommittable(got, c) {
		t.Fatalf("decoded version 1 %+v, want %+v", got, c)
	}
	enc := c.encode()
	for _, bad := range [][]byte{nil, {2}, {3}, {1, 0x80}, enc[:6], append(enc, 0)} {
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
	must(t, old.Write(t.Context(), "orphan", 1))
	must(t, old.Flush(t.Context(), false))
	old.cl.Close() // dies with its transaction open
	old.ctl.Close()

	w := newTxnWriter(t, seeds, "orphans", 0, 2)
	defer w.Close()
	must(t, w.Write(t.Context(), "new", 2))
	items, err := w.PreCommit(t.Context(), 1)
	must(t, err)
	must(t, w.Commit(t.Context(), items))
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

// waitStable waits until topic's last stable offsets reach its high
// watermarks: no transaction holds records open any more.
func waitStable(t *testing.T, seeds []string, topic string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for offsets(t, seeds, topic, true) < offsets(t, seeds, topic, false) {
		if time.Now().After(deadline) {
			t.Fatalf("transactions of %s still open after 30s", topic)
		}
		runtime.Gosched()
	}
}

// lostMetric returns the value of weir_kafka_sink_lost_transactions_total
// in reg.
func lostMetric(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	fams, err := reg.Gather()
	must(t, err)
	for _, f := range fams {
		if f.GetName() == "weir_kafka_sink_lost_transactions_total" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no metric weir_kafka_sink_lost_transactions_total")
	return 0
}

// TestLostTransaction restores a transaction the broker aborted because
// its transaction timeout ran out while the job was down: by default the
// commit fails with ErrTransactionLost saying why; LogLostTransaction logs
// it at ERROR level instead; both count it. A transaction committed
// before and whose id was re-initialised since (so EndTxn is refused too)
// is told apart by its commit marker and accepted; one whose outcome
// cannot be read (a committable without partitions) fails as lost.
func TestLostTransaction(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "lost", 1)

	// A writer stages a transaction and dies; the broker aborts it after
	// its timeout (long enough for the write and the barrier's check on a
	// loaded machine under the race detector).
	dead, _ := newTxnWriterWith(t, seeds, "lost", 0, 1, func(o *SinkOptions[string]) {
		o.TransactionTimeout = 2 * time.Second
	})
	must(t, dead.Write(t.Context(), "a", 1))
	staged, err := dead.PreCommit(t.Context(), 1)
	must(t, err)
	dead.ctl.Close()
	waitStable(t, seeds, "lost")

	reg := prometheus.NewRegistry()
	w, sink := newTxnWriterWith(t, seeds, "lost", 0, 1, func(o *SinkOptions[string]) { o.Registry = reg })
	err = w.Commit(t.Context(), staged)
	if !errors.Is(err, ErrTransactionLost) {
		t.Fatalf("commit of an aborted transaction: %v, want ErrTransactionLost", err)
	}
	for _, want := range []string{"aborted it (abort marker at topic lost partition 0", "transaction timeout", "TransactionTimeout", "records it held are lost"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := sink.LostTransactions(); n != 1 {
		t.Fatalf("sink counted %d lost transactions, want 1", n)
	}
	if got := lostMetric(t, reg); got != 1 {
		t.Fatalf("metric weir_kafka_sink_lost_transactions_total = %v, want 1", got)
	}
	must(t, w.Close())

	var logs bytes.Buffer
	lw, lsink := newTxnWriterWith(t, seeds, "lost", 0, 1, func(o *SinkOptions[string]) {
		o.LostTransactions = LogLostTransaction
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	must(t, lw.Commit(t.Context(), staged))
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "lost") {
		t.Fatalf("LogLostTransaction logged %q, want an ERROR naming the lost transaction", logs.String())
	}
	if n := lsink.LostTransactions(); n != 1 {
		t.Fatalf("LogLostTransaction counted %d, want 1", n)
	}

	// Committed, then the id is re-initialised (a later run starts): the
	// repeated commit is refused by the broker but the marker says it
	// committed.
	must(t, lw.Write(t.Context(), "b", 2))
	staged2, err := lw.PreCommit(t.Context(), 2)
	must(t, err)
	must(t, lw.Commit(t.Context(), staged2))
	must(t, lw.Close())
	again, asink := newTxnWriterWith(t, seeds, "lost", 0, 1, nil)
	defer again.Close()
	must(t, again.start(t.Context()))
	if err := again.Commit(t.Context(), staged2); err != nil {
		t.Fatalf("commit of a transaction committed earlier: %v", err)
	}
	if n := asink.LostTransactions(); n != 0 {
		t.Fatalf("a committed transaction counted as lost (%d)", n)
	}

	// Without partitions (a version 1 committable) it cannot be told.
	c, err := decodeCommittable(staged[0])
	must(t, err)
	c.parts = nil
	if err := again.Commit(t.Context(), [][]byte{c.encode()}); !errors.Is(err, ErrTransactionLost) || !strings.Contains(err.Error(), "cannot be told") {
		t.Fatalf("commit of a transaction of unknown outcome: %v", err)
	}
	if got := values(consume(t, seeds, "lost", 1, true)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("read_committed consumer got %v, want [b]", got)
	}
}

// TestAbortedBeforeBarrier: a transaction the broker aborts while its
// writer still writes (its timeout ran out, or the broker restarted
// without keeping it) is not staged: the barrier fails, so the
// checkpoint's input is read again rather than its output lost.
func TestAbortedBeforeBarrier(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "early", 1)
	w, _ := newTxnWriterWith(t, seeds, "early", 0, 1, func(o *SinkOptions[string]) {
		o.TransactionTimeout = 100 * time.Millisecond
	})
	defer w.Close()
	must(t, w.Write(t.Context(), "a", 1))
	must(t, w.Flush(t.Context(), false))
	waitStable(t, seeds, "early")
	if items, err := w.PreCommit(t.Context(), 1); err == nil || !strings.Contains(err.Error(), "no longer open") {
		t.Fatalf("staged %d items of an aborted transaction (%v)", len(items), err)
	}
}
