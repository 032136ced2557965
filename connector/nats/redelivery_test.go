package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestRedeliveriesBeforeMarkers replays, in one process, the end of
// TestCrashExactlyOnce as it failed once in CI (a key's final sum short
// by exactly its share of one fetch batch): a run fetches and emits
// messages and stops before a checkpoint covers them, acking none (as a
// run killed after its fetch); the next run, the keyed running sum,
// restores and completes a checkpoint. The messages of the first run come
// back to it only after AckWait, so a probe published now, as the crash
// test published its final markers, is summed before them: when it was
// summed within AckWait of the first run's start, its sum must hold none
// of them (nothing is acked without a completed checkpoint, and nothing
// is redelivered early). A marker published once the consumer's ack floor
// passed every input message holds every input of its key exactly once.
func TestRedeliveriesBeforeMarkers(t *testing.T) {
	url := server(t)
	in := uniq(t)
	createStream(t, url, in)
	const n, keys = 200, 4
	msg := func(i, v int64) []byte {
		b, _ := json.Marshal(crashIn{Key: fmt.Sprint("k", i%keys), Seq: i, Value: v})
		return b
	}
	var input [][]byte
	want := map[string]int64{}
	for i := int64(0); i < n; i++ {
		input = append(input, msg(i, i))
		want[fmt.Sprint("k", i%keys)] += i
	}
	publish(t, url, in+".i", input...)
	const ackWait = 3 * time.Second
	opts := SourceOptions[crashIn]{URL: url, Stream: in, Consumer: "job", Deserializer: JSONSerde[crashIn]{},
		AckWait: ackWait, FetchBatch: 64}
	stop := func(jc *weir.JobClient) {
		jc.Cancel()
		if err := jc.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("job: %v", err)
		}
	}

	// The first run: no checkpoint, so no ack.
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	first := weir.Collect(weir.FromSource(env, NewSource(opts), weir.NoWatermarks[crashIn](), "in").UID("in"))
	started := time.Now() // before any delivery: no redelivery before started+ackWait
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first run emitting every message", 20*time.Second, func() bool { return len(first.Values()) == n })
	stop(jc)
	if i := consumerInfo(t, url, in, "job"); i.NumAckPending != n || i.AckFloor.Stream != 0 {
		t.Fatalf("after the first run: %d messages awaiting an ack, ack floor %d; want %d and 0", i.NumAckPending, i.AckFloor.Stream, n)
	}

	// The next run: the crash test's job.
	dir := t.TempDir()
	env = weir.NewEnvironment(weir.Options{Parallelism: 2, Restore: "latest",
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: dir}})
	src := weir.FromSource(env, NewSource(opts), weir.NoWatermarks[crashIn](), "in").UID("in")
	sums := weir.Collect(weir.ProcessKeyed[string, crashIn, crashOut](weir.KeyBy(src, func(v crashIn) string { return v.Key }), &crashSum{}).UID("sums"))
	jc, err = env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop(jc)
	waitFor(t, "checkpoint of the next run", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, dir) > 0 })
	// A probe (key k0, value 0) published now, as the crash test's
	// markers were.
	publish(t, url, in+".i", msg(n, 0))
	var probe, marker *crashOut
	find := func(seq int64) func() bool {
		return func() bool {
			for _, o := range sums.Values() {
				if o.Seq == seq {
					if seq == n {
						probe = &o
					} else {
						marker = &o
					}
					return true
				}
			}
			return false
		}
	}
	waitFor(t, "probe summed", 20*time.Second, find(n))
	summed := time.Since(started)
	switch {
	case summed < ackWait && probe.Sum != 0:
		t.Fatalf("probe summed %v after the first run started (AckWait %v): sum of k0 %d, want 0 (the first run's messages are not acked and not yet redelivered)",
			summed.Round(time.Millisecond), ackWait, probe.Sum)
	case summed < ackWait:
		t.Logf("probe summed %v after the first run started: sum of k0 0, %d short (a final marker sent then fails)", summed.Round(time.Millisecond), want["k0"])
	default:
		t.Logf("probe summed %v after the first run started, beyond AckWait %v: not checked", summed.Round(time.Millisecond), ackWait)
	}
	waitAcked(t, url, in, "job", n+1, 30*time.Second)
	publish(t, url, in+".i", msg(n+keys, n+keys)) // key k0
	want["k0"] += n + keys
	waitFor(t, "marker summed", 20*time.Second, find(n+keys))
	if marker.Sum != want["k0"] {
		t.Fatalf("marker published once the ack floor passed every input: sum of k0 %d, want %d", marker.Sum, want["k0"])
	}
	got := map[int64]int{}
	for _, o := range sums.Values() {
		got[o.Seq]++
	}
	for i := int64(0); i < n; i++ {
		if got[i] != 1 {
			t.Fatalf("input %d summed %d times, want once", i, got[i])
		}
	}
	if i := consumerInfo(t, url, in, "job"); i.Delivered.Consumer < 2*n+2 {
		t.Fatalf("consumer made %d deliveries, want at least %d: the first run's messages were not redelivered", i.Delivered.Consumer, 2*n+2)
	}
}
