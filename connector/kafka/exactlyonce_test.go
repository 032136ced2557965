package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

type inRec struct {
	Key   string `json:"key"`
	Seq   int64  `json:"seq"`
	Value int64  `json:"value"`
}

type outRec struct {
	Key string `json:"key"`
	Seq int64  `json:"seq"`
	Sum int64  `json:"sum"`
}

type runningSum struct{ sum state.Value[int64] }

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[string, outRec], v inRec) error {
	s, _ := r.sum.Value()
	s += v.Value
	r.sum.Update(s)
	ctx.Collect(outRec{Key: v.Key, Seq: v.Seq, Sum: s})
	return nil
}

var errInjected = errors.New("injected failure")

// TestExactlyOnceAfterFailures runs Kafka → keyed running sum → Kafka
// (exactly-once) and fails it several times, at growing parallelism; each
// run restores the latest checkpoint (source offsets, sums, staged
// transactions). A read_committed consumer then finds every input record
// exactly once in the output with the sums of an uninterrupted run.
func TestExactlyOnceAfterFailures(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "in", 4)
	createTopic(t, seeds, "out", 3)
	const n, keys, chunk = 3000, 10, 600
	input := func(from, to int64) {
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			k := i % keys
			v, _ := json.Marshal(inRec{Key: fmt.Sprint("k", k), Seq: i, Value: i})
			recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(k % 4), Value: v})
		}
		produce(t, seeds, recs...)
	}

	dir := t.TempDir()
	job := func(p int, failAt int64) *weir.JobClient {
		env := weir.NewEnvironment(weir.Options{
			Parallelism: p,
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir, Retained: 2},
			Restore:     "latest",
		})
		src := weir.FromSource[inRec](env, NewSource(SourceOptions[inRec]{
			Brokers: seeds, Topics: []string{"in"}, Deserializer: JSONSerde[inRec]{},
			// Small fetches: checkpoints fall in the middle of the input.
			ClientOptions: []kgo.Opt{kgo.FetchMaxPartitionBytes(2048), kgo.FetchMaxBytes(4096)},
		}), weir.NoWatermarks[inRec](), "in").UID("in")
		checked := weir.TryMap(src, func(v inRec) (inRec, error) {
			if v.Seq == failAt {
				return v, errInjected
			}
			return v, nil
		})
		sums := weir.ProcessKeyed[string, inRec, outRec](weir.KeyBy(checked, func(v inRec) string { return v.Key }), &runningSum{}).UID("sums")
		sums.SinkTo(NewSink(SinkOptions[outRec]{
			Brokers: seeds, Topic: "out", Serializer: JSONSerde[outRec]{},
			Key:       func(v outRec) []byte { return []byte(v.Key) },
			Guarantee: ExactlyOnce, TransactionalIDPrefix: "sums",
		})).UID("out")
		c, err := env.Start(context.Background())
		must(t, err)
		return c
	}
	// Run i reads chunk i; once the output holds everything so far (so
	// checkpoints completed and their transactions committed), the rest of
	// the chunk arrives with the record that fails the run. Parallelism
	// changes between runs (1, 2, 3, 1, 3).
	for i := int64(0); i < n/chunk-1; i++ {
		input(i*chunk, i*chunk+chunk-100)
		c := job(1+int(i%3), i*chunk+chunk-50)
		consume(t, seeds, "out", int(i*chunk+chunk-100), true)
		input(i*chunk+chunk-100, (i+1)*chunk)
		select {
		case <-c.Done():
		case <-time.After(60 * time.Second):
			t.Fatalf("run %d did not fail", i)
		}
		if err := c.Wait(); !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	input(n-chunk, n)
	final := job(3, -1)
	got := consume(t, seeds, "out", n, true)
	stop(t, final)

	seen := map[int64]outRec{}
	for _, r := range got {
		var o outRec
		must(t, json.Unmarshal(r.Value, &o))
		if prev, dup := seen[o.Seq]; dup {
			t.Fatalf("record %d committed twice: %+v and %+v", o.Seq, prev, o)
		}
		seen[o.Seq] = o
	}
	want := map[string]int64{}
	for i := range int64(n) {
		k := fmt.Sprint("k", i%keys)
		want[k] += i
		if o, ok := seen[i]; !ok || o.Key != k || o.Sum != want[k] {
			t.Fatalf("record %d: got %+v (present %v), want key %s sum %d", i, o, ok, k, want[k])
		}
	}
	if len(got) != n {
		t.Fatalf("%d records in the output, want %d", len(got), n)
	}
}

// failingCommits wraps an exactly-once sink whose commits fail: the job
// fails right after its first checkpoint with staged output completed.
type failingCommits[T any] struct{ weir.Sink[T] }

func (s failingCommits[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	w, err := s.Sink.CreateWriter(ctx)
	if err != nil {
		return nil, err
	}
	return failCommitWriter[T]{w.(weir.TwoPhaseCommitWriter[T])}, nil
}

type failCommitWriter[T any] struct{ weir.TwoPhaseCommitWriter[T] }

func (failCommitWriter[T]) Commit(context.Context, [][]byte) error { return errInjected }

// TestCommitAfterRestore fails a job between a checkpoint's completion
// and its commit; the restored job commits the transaction the failed one
// prepared, and the output holds every record once.
func TestCommitAfterRestore(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "in", 2)
	createTopic(t, seeds, "out", 2)
	const n = 200
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
	}
	produce(t, seeds, recs...)
	dir := t.TempDir()
	run := func(failCommits bool) *weir.JobClient {
		env := weir.NewEnvironment(weir.Options{
			Parallelism: 2,
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir},
			Restore:     "latest",
		})
		src := weir.FromSource[string](env, NewSource(SourceOptions[string]{
			Brokers: seeds, Topics: []string{"in"}, Deserializer: StringSerde{},
		}), weir.NoWatermarks[string](), "in").UID("in")
		var sink weir.Sink[string] = NewSink(SinkOptions[string]{Brokers: seeds, Topic: "out", Serializer: StringSerde{},
			Guarantee: ExactlyOnce, TransactionalIDPrefix: "restore"})
		if failCommits {
			sink = failingCommits[string]{sink}
		}
		src.SinkTo(sink).UID("out")
		c, err := env.Start(context.Background())
		must(t, err)
		return c
	}
	c := run(true)
	select {
	case <-c.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("job with failing commits did not fail")
	}
	if err := c.Wait(); !errors.Is(err, errInjected) {
		t.Fatalf("job with failing commits: %v", err)
	}
	if got := committedRecords(t, seeds, "out"); got != 0 {
		t.Fatalf("%d records committed before any commit", got)
	}
	c = run(false)
	got := values(consume(t, seeds, "out", n, true))
	stop(t, c)
	if len(got) != n {
		t.Fatalf("%d records, want %d", len(got), n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("record %s twice", got[i])
		}
	}
}

// TestLostTransactionFailsJob fails a job between a checkpoint's
// completion and its commit and restores it only after the broker aborted
// the checkpoint's transaction (its timeout ran out during the downtime):
// the restored job fails with ErrTransactionLost; with LogLostTransaction
// it runs on, without those records, and counts the loss.
func TestLostTransactionFailsJob(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "in", 1)
	createTopic(t, seeds, "out", 1)
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, &kgo.Record{Topic: "in", Value: []byte(fmt.Sprint(i))})
	}
	produce(t, seeds, recs...)
	dir := t.TempDir()
	run := func(failCommits bool, policy LostTransactionPolicy) (*weir.JobClient, *Sink[string]) {
		env := weir.NewEnvironment(weir.Options{
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir},
			Restore:     "latest",
		})
		src := weir.FromSource[string](env, NewSource(SourceOptions[string]{
			Brokers: seeds, Topics: []string{"in"}, Deserializer: StringSerde{},
		}), weir.NoWatermarks[string](), "in").UID("in")
		s := NewSink(SinkOptions[string]{Brokers: seeds, Topic: "out", Serializer: StringSerde{},
			Guarantee: ExactlyOnce, TransactionalIDPrefix: "lostjob", TransactionTimeout: time.Second,
			LostTransactions: policy})
		var sink weir.Sink[string] = s
		if failCommits {
			sink = failingCommits[string]{sink}
		}
		src.SinkTo(sink).UID("out")
		c, err := env.Start(context.Background())
		must(t, err)
		return c, s
	}
	wait := func(c *weir.JobClient) error {
		select {
		case <-c.Done():
		case <-time.After(60 * time.Second):
			c.Cancel()
			t.Fatal("job still running after 60s")
		}
		return c.Wait()
	}
	c, _ := run(true, FailOnLostTransaction)
	if err := wait(c); !errors.Is(err, errInjected) {
		t.Fatalf("job with failing commits: %v", err)
	}
	// The job is down longer than the transaction timeout.
	waitStable(t, seeds, "out")

	c, s := run(false, FailOnLostTransaction)
	err := wait(c)
	if !errors.Is(err, ErrTransactionLost) || !weir.IsDataLoss(err) || !strings.Contains(err.Error(), "transaction timeout") {
		t.Fatalf("restored job: %v, want ErrTransactionLost", err)
	}
	if n := s.LostTransactions(); n != 1 {
		t.Fatalf("%d lost transactions counted, want 1", n)
	}

	c, s = run(false, LogLostTransaction)
	defer stop(t, c)
	for deadline := time.Now().Add(30 * time.Second); s.LostTransactions() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no lost transaction counted after 30s")
		}
		select {
		case <-c.Done():
			t.Fatalf("job under LogLostTransaction stopped: %v", c.Wait())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
