package rabbitmq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/internal/testnet"
)

// noAcks wraps a source whose readers never hear of completed
// checkpoints, so they ack nothing: a crash right after a checkpoint
// completed, before its acks reached the broker.
type noAcks[T any] struct{ *Source[T] }

func (s noAcks[T]) CreateReader(sc weir.SourceContext) (weir.SourceReader[T], error) {
	r, err := s.Source.CreateReader(sc)
	if err != nil {
		return nil, err
	}
	return snapOnly[T]{r.(*reader[T])}, nil
}

type snapOnly[T any] struct{ r *reader[T] }

func (s snapOnly[T]) Poll(ctx context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	return s.r.Poll(ctx, out)
}
func (s snapOnly[T]) Close() error                             { return s.r.Close() }
func (s snapOnly[T]) Available() <-chan struct{}               { return s.r.Available() }
func (s snapOnly[T]) SnapshotState(id int64) ([][]byte, error) { return s.r.SnapshotState(id) }

func stopJob(t *testing.T, jc *weir.JobClient) {
	jc.Cancel()
	if err := jc.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("job: %v", err)
	}
}

// TestRestoreDropsRedeliveries: a job reads N messages and completes a
// checkpoint covering them without acking (a crash between completion
// and acks); its connection closes, the broker requeues them. The job
// restored from that checkpoint, at another parallelism, drops every
// redelivery (acking it), then emits exactly the M new messages, and the
// queue ends empty with nothing unacked.
func TestRestoreDropsRedeliveries(t *testing.T) {
	url := broker(t)
	q := queue(t, url)
	const n, m = 300, 100
	publish(t, url, q, false, ints(0, n)...)
	dir := t.TempDir()
	opts := SourceOptions[string]{URL: url, Queue: q, Deserializer: StringSerde{}, Prefetch: 50}
	run := func(p int, src weir.Source[string]) (*weir.JobClient, *weir.Collected[string]) {
		env := weir.NewEnvironment(weir.Options{Parallelism: p, Restore: "latest",
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir}})
		c := weir.Collect(weir.FromSource(env, src, weir.NoWatermarks[string](), "rmq").UID("rmq"))
		jc, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return jc, c
	}
	// Prefetch 50 per subtask: without acks the first run gets at most
	// 100 messages; so it runs with a prefetch above n.
	first := opts
	first.Prefetch = n
	jc, c := run(2, noAcks[string]{NewSource(first)})
	waitFor(t, "first run reading every message", 20*time.Second, func() bool { return len(c.Values()) == n })
	// A checkpoint in flight now may have had its barrier before the last
	// messages; the one after it covers them all.
	covered := crashtest.LatestCheckpoint(t, dir) + 2
	waitFor(t, "checkpoint covering them", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, dir) >= covered })
	stopJob(t, jc)

	src := NewSource(opts)
	jc, c = run(3, src)
	defer stopJob(t, jc)
	publish(t, url, q, false, ints(n, n+m)...)
	dups := src.metrics.duplicates
	waitFor(t, "redeliveries dropped", 20*time.Second, func() bool { return testutil.ToFloat64(dups) >= n })
	waitFor(t, "new messages", 20*time.Second, func() bool { return len(c.Values()) >= m })
	acks := src.metrics.acks
	waitFor(t, "every delivery acked", 20*time.Second, func() bool { return testutil.ToFloat64(acks) >= n+m })
	got := c.Values()
	slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	var want []string
	for i := n; i < n+m; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("restored run emitted %d messages %v..., want exactly %d..%d once", len(got), got[:min(len(got), 5)], n, n+m-1)
	}
	qi, err := channel(t, url).QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil || qi.Messages != 0 {
		t.Fatalf("queue after the run: %+v, %v", qi, err)
	}
}

// TestOutage consumes a queue and publishes to another through a proxy
// that is cut in the middle and restored: both reconnect; the source,
// deduplicating by message id, emits every message once although the
// broker requeued the unacked ones; the sink's output holds every message
// at least once, and exactly once by message id.
func TestOutage(t *testing.T) {
	url := broker(t)
	in, out := queue(t, url), queue(t, url)
	const n = 2000
	publish(t, url, in, false, ints(0, n)...)
	proxy := testnet.NewProxy(t, brokerAddr)
	purl := "amqp://guest:guest@" + proxy.Addr() + "/"
	env := weir.NewEnvironment(weir.Options{Parallelism: 2, Restart: weir.NoRestart{},
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: t.TempDir()}})
	src := NewSource(SourceOptions[string]{URL: purl, Queue: in, Deserializer: StringSerde{}, Prefetch: 200})
	s := weir.FromSource(env, src, weir.NoWatermarks[string](), "in")
	seen := weir.Collect(s)
	snk := NewSink(SinkOptions[string]{URL: purl, RoutingKey: out, Serializer: StringSerde{},
		MessageID: func(v string) string { return "m" + v }, MaxInFlight: 64})
	s.SinkTo(snk)
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stopJob(t, jc)
	// A checkpoint completed (so every reader and writer is open: acks
	// follow completed checkpoints), output flowing.
	waitFor(t, "output before the cut", 20*time.Second, func() bool {
		return testutil.ToFloat64(src.metrics.acks) > 0 && testutil.ToFloat64(snk.metrics.published) > 100
	})
	before := proxy.Accepted()
	proxy.Cut()
	publish(t, url, in, false, ints(n, 2*n)...)
	proxy.Restore()
	waitFor(t, "source reconnect", 30*time.Second, func() bool { return testutil.ToFloat64(src.metrics.reconnects) >= 2 })
	waitFor(t, "source emitting every message", 30*time.Second, func() bool { return len(seen.Values()) >= 2*n })
	var vals [][]byte
	for _, v := range seen.Values() {
		vals = append(vals, []byte(v))
	}
	checkOnce(t, "source", vals, 2*n)
	if proxy.Accepted() <= before {
		t.Fatalf("no reconnect through the proxy")
	}
	distinct, read := map[string]bool{}, 0
	bodies, ids := drainUntil(t, url, out, 30*time.Second, func(_ [][]byte, ids []string) bool {
		for ; read < len(ids); read++ {
			distinct[ids[read]] = true
		}
		return len(distinct) >= 2*n
	})
	byID := map[string][]byte{}
	for i, id := range ids {
		if id != "m"+string(bodies[i]) {
			t.Fatalf("message %q has id %q", bodies[i], id)
		}
		byID[id] = bodies[i]
	}
	var uniq [][]byte
	for _, b := range byID {
		uniq = append(uniq, b)
	}
	checkOnce(t, "output by message id", uniq, 2*n)
	t.Logf("output: %d messages, %d distinct ids (resent %v)", len(bodies), len(byID), testutil.ToFloat64(snk.metrics.resent))
}

type rec struct {
	ID int `json:"id"`
}

type deadLetters struct {
	mu  sync.Mutex
	got []weir.DeadLetter
}

func (d *deadLetters) Write(_ context.Context, v weir.DeadLetter, _ int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, v)
	return nil
}
func (d *deadLetters) Flush(context.Context, bool) error { return nil }
func (d *deadLetters) Close() error                      { return nil }
func (d *deadLetters) list() []weir.DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got)
}

// TestDeadLetters sends bodies the source cannot decode to its
// dead-letter side output, and records the sink cannot serialize or the
// broker returns as unroutable (mandatory) to the sink's dead letters.
func TestDeadLetters(t *testing.T) {
	url := broker(t)
	in, out := queue(t, url), queue(t, url)
	publish(t, url, in, false, []byte(`{"id":1}`), []byte(`{"id":`), []byte(`{"id":2}`), []byte(`{"id":3}`))
	tag := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	s := weir.FromSource(env, NewSource(SourceOptions[rec]{URL: url, Queue: in, Deserializer: JSONSerde[rec]{},
		ErrorPolicy: weir.DeadLetterTo(tag)}), weir.NoWatermarks[rec](), "in")
	bad := weir.Collect(weir.SideOutput(s, tag))
	dl := &deadLetters{}
	s.SinkTo(NewSink(SinkOptions[rec]{URL: url, DeadLetters: dl, MaxInFlight: 1,
		RoutingKeyOf: func(r rec) string {
			if r.ID == 3 {
				return "no-such-queue-" + out
			}
			return out
		},
		Serializer: SerializerFunc[rec](func(r rec) ([]byte, error) {
			if r.ID == 2 {
				return nil, errors.New("id 2 is refused")
			}
			return json.Marshal(r)
		})}))
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stopJob(t, jc)
	waitFor(t, "dead letters", 20*time.Second, func() bool { return len(bad.Values()) == 1 && len(dl.list()) == 2 })
	b := bad.Values()[0]
	if b.Source != fmt.Sprintf("queue %s message-id %q", in, `id-{"id":`) || string(b.Raw) != `{"id":` {
		t.Fatalf("source dead letter %+v", b)
	}
	d := dl.list()
	if !strings.Contains(d[0].Reason, "id 2 is refused") || !strings.Contains(d[1].Reason, "NO_ROUTE") || !bytes.Equal(d[1].Raw, []byte(`{"id":3}`)) {
		t.Fatalf("sink dead letters %v / %v", d[0], d[1])
	}
	bodies, _ := drain(t, url, out, 1, 10*time.Second)
	if string(bodies[0]) != `{"id":1}` {
		t.Fatalf("output %q", bodies)
	}
}

// TestOptions checks that missing options fail with ErrOptions, and
// PrefetchFor.
func TestOptions(t *testing.T) {
	if _, err := NewSource(SourceOptions[string]{Deserializer: StringSerde{}}).CreateReader(weir.SourceContext{Parallelism: 1}); !errors.Is(err, ErrOptions) {
		t.Fatalf("source without queue: %v", err)
	}
	if _, err := NewSink(SinkOptions[string]{RoutingKey: "q"}).CreateWriter(weir.SinkContext{}); !errors.Is(err, ErrOptions) || !weir.IsInvalidOption(err) {
		t.Fatalf("sink without serializer: %v", err)
	}
	for _, c := range []struct {
		rate     float64
		interval time.Duration
		want     int
	}{{1000, time.Second, 2000}, {0, time.Second, 1}, {1e6, 10 * time.Second, 65535}, {10, 150 * time.Millisecond, 3}} {
		if got := PrefetchFor(c.rate, c.interval); got != c.want {
			t.Errorf("PrefetchFor(%v, %v) = %d, want %d", c.rate, c.interval, got, c.want)
		}
	}
}
