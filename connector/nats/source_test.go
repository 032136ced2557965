package nats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/internal/testnet"
)

// noAcks wraps a source whose readers snapshot but never hear of
// completed checkpoints, so they ack nothing: a crash right after a
// checkpoint completed, before its acks reached the server.
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

func ints(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(strconv.Itoa(i)))
	}
	return out
}

// TestRestoreDropsRedeliveries runs a job that reads N messages and
// completes a checkpoint covering them but sends no ack (as a crash
// between completion and acks would); the job restored from that
// checkpoint, at another parallelism, gets the N messages again after
// AckWait, drops every one of them (and acks them), and emits exactly the
// M messages published after.
func TestRestoreDropsRedeliveries(t *testing.T) {
	url := server(t)
	name := uniq(t)
	createStream(t, url, name)
	const n, m = 300, 100
	publish(t, url, name+".in", ints(0, n)...)
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	opts := SourceOptions[string]{URL: url, Stream: name, Consumer: "c", Deserializer: StringSerde{},
		AckWait: time.Second, FetchBatch: 37, Registry: reg}
	run := func(p int, src weir.Source[string]) (*weir.JobClient, *weir.Collected[string]) {
		env := weir.NewEnvironment(weir.Options{Parallelism: p, Restore: "latest",
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir}})
		c := weir.Collect(weir.FromSource(env, src, weir.NoWatermarks[string](), "nats").UID("nats"))
		jc, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return jc, c
	}
	stop := func(jc *weir.JobClient) {
		jc.Cancel()
		if err := jc.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("job: %v", err)
		}
	}
	jc, c := run(2, noAcks[string]{NewSource(opts)})
	waitFor(t, "first run reading every message", 20*time.Second, func() bool { return len(c.Values()) == n })
	// A checkpoint in flight now may have had its barrier before the last
	// messages; the one after it covers them all.
	covered := crashtest.LatestCheckpoint(t, dir) + 2
	waitFor(t, "checkpoint covering them", 20*time.Second, func() bool { return crashtest.LatestCheckpoint(t, dir) >= covered })
	stop(jc)
	if got := len(c.Values()); got != n {
		t.Fatalf("first run emitted %d messages, want %d", got, n)
	}

	src := NewSource(opts)
	jc, c = run(3, src)
	defer stop(jc)
	publish(t, url, name+".in", ints(n, n+m)...)
	dups := src.metrics.duplicates
	waitFor(t, "redeliveries dropped", 20*time.Second, func() bool { return testutil.ToFloat64(dups) >= n })
	waitFor(t, "new messages", 20*time.Second, func() bool { return len(c.Values()) >= m })
	_, js := jsClient(t, url)
	waitFor(t, "every message acked", 20*time.Second, func() bool {
		cons, err := js.Consumer(context.Background(), name, "c")
		if err != nil {
			return false
		}
		i := cons.CachedInfo()
		return i.NumAckPending == 0 && i.NumPending == 0 && i.AckFloor.Stream == n+m
	})
	got := c.Values()
	slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	want := make([]string, 0, m)
	for i := n; i < n+m; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("restored run emitted %d messages %v..., want exactly %d..%d once", len(got), got[:min(len(got), 5)], n, n+m-1)
	}
}

// TestOutage reads a stream and writes another through a proxy that is
// cut in the middle and restored: the source and the sink reconnect, and
// the output holds every input message exactly once (record-derived
// message ids), and the source emitted each once.
func TestOutage(t *testing.T) {
	url := server(t)
	in, out := uniq(t), uniq(t)+"_out"
	createStream(t, url, in)
	createStream(t, url, out)
	const n = 2000
	publish(t, url, in+".x", ints(0, n)...)
	proxy := testnet.NewProxy(t, serverAddr)
	purl := "nats://" + proxy.Addr()
	env := weir.NewEnvironment(weir.Options{Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: t.TempDir()}})
	src := NewSource(SourceOptions[string]{URL: purl, Stream: in, Consumer: "c",
		Deserializer: StringSerde{}, FetchBatch: 50, AckWait: 5 * time.Second})
	s := weir.FromSource(env, src, weir.NoWatermarks[string](), "in")
	seen := weir.Collect(s)
	s.SinkTo(NewSink(SinkOptions[string]{URL: purl, Subject: out + ".y", Serializer: StringSerde{},
		MsgID: func(v string) string { return "m" + v }, MaxInFlight: 64, PublishTimeout: time.Second}))
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { jc.Cancel(); jc.Wait() }()
	_, js := jsClient(t, url)
	count := func() int {
		st, err := js.Stream(context.Background(), out)
		if err != nil {
			return 0
		}
		return int(st.CachedInfo().State.Msgs)
	}
	// A checkpoint completed (so every reader and writer is open: acks
	// follow completed checkpoints), output flowing.
	waitFor(t, "output before the cut", 20*time.Second, func() bool {
		return testutil.ToFloat64(src.metrics.acks) > 0 && count() > 100
	})
	before := proxy.Accepted()
	proxy.Cut()
	publish(t, url, in+".x", ints(n, 2*n)...)
	disc := src.metrics.disconnects
	waitFor(t, "the source seeing the outage", 20*time.Second, func() bool { return testutil.ToFloat64(disc) > 0 })
	proxy.Restore()
	data, _ := readStream(t, url, out, 2*n, 30*time.Second)
	if proxy.Accepted() <= before {
		t.Fatalf("no reconnect through the proxy (%d connections before the cut, %d after)", before, proxy.Accepted())
	}
	checkOnce(t, "output stream", data, 2*n)
	waitFor(t, "source emitting every message", 10*time.Second, func() bool { return len(seen.Values()) >= 2*n })
	var vals [][]byte
	for _, v := range seen.Values() {
		vals = append(vals, []byte(v))
	}
	checkOnce(t, "source", vals, 2*n)
}

// checkOnce checks that data holds the decimal numbers 0..n-1 once each.
func checkOnce(t *testing.T, what string, data [][]byte, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, d := range data {
		i, err := strconv.Atoi(string(d))
		if err != nil || i < 0 || i >= n {
			t.Fatalf("%s: unexpected message %q", what, d)
		}
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("%s: message %d %d times, want once (%d messages)", what, i, c, len(data))
		}
	}
}

type rec struct {
	ID int `json:"id"`
}

// deadLetters is a dead-letter writer for tests.
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

// TestDeadLetters sends payloads the source cannot decode to its
// dead-letter side output (naming stream and sequence), and records the
// sink cannot serialize or the server refuses (too large) to the sink's
// dead-letter writer; the good ones go through.
func TestDeadLetters(t *testing.T) {
	url := server(t)
	in, out := uniq(t), uniq(t)+"_out"
	createStream(t, url, in)
	createStream(t, url, out)
	publish(t, url, in+".x", []byte(`{"id":1}`), []byte(`{"id":`), []byte(`{"id":2}`), []byte(`"x"`), []byte(`{"id":3}`))
	tag := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	s := weir.FromSource(env, NewSource(SourceOptions[rec]{URL: url, Stream: in, Consumer: "c",
		Deserializer: JSONSerde[rec]{}, ErrorPolicy: weir.DeadLetterTo(tag)}), weir.NoWatermarks[rec](), "in")
	bad := weir.Collect(weir.SideOutput(s, tag))
	good := weir.Collect(s)
	dl := &deadLetters{}
	s.SinkTo(NewSink(SinkOptions[rec]{URL: url, Subject: out + ".y", DeadLetters: dl, MaxInFlight: 1,
		Serializer: SerializerFunc[rec](func(r rec) ([]byte, error) {
			switch r.ID {
			case 2:
				return nil, errors.New("id 2 is refused")
			case 3:
				return bytes.Repeat([]byte("x"), 8<<20), nil // beyond the server's max payload
			}
			return json.Marshal(r)
		})}))
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { jc.Cancel(); jc.Wait() }()
	waitFor(t, "dead letters", 20*time.Second, func() bool { return len(bad.Values()) == 2 && len(dl.list()) == 2 })
	if len(good.Values()) != 3 {
		t.Fatalf("good records %v, want 3", good.Values())
	}
	b := bad.Values()
	if b[0].Source != fmt.Sprintf("stream %s seq 2", in) || string(b[0].Raw) != `{"id":` || b[1].Source != fmt.Sprintf("stream %s seq 4", in) {
		t.Fatalf("source dead letters %+v", b)
	}
	d := dl.list()
	if !bytes.Contains([]byte(d[0].Reason), []byte("id 2 is refused")) || len(d[1].Raw) != 8<<20 {
		t.Fatalf("sink dead letters %v / %v", d[0], d[1].Reason)
	}
	data, _ := readStream(t, url, out, 1, 10*time.Second)
	if len(data) != 1 || string(data[0]) != `{"id":1}` {
		t.Fatalf("output %q", data)
	}
}

// TestOptions checks that missing options fail with ErrOptions.
func TestOptions(t *testing.T) {
	_, err := NewSource(SourceOptions[string]{Stream: "s"}).CreateReader(weir.SourceContext{Parallelism: 1})
	if !errors.Is(err, ErrOptions) || !weir.IsInvalidOption(err) {
		t.Fatalf("source without consumer: %v", err)
	}
	_, err = NewSink(SinkOptions[string]{Subject: "x"}).CreateWriter(weir.SinkContext{})
	if !errors.Is(err, ErrOptions) {
		t.Fatalf("sink without serializer: %v", err)
	}
}
