package mqtt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

// session creates the persistent session of client id with its QoS 1
// subscription, so that messages published from now on are kept for it.
func session(t testing.TB, id, filter string) {
	c := connect(t, id, false)
	tok := c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribing: %v", tok.Error())
	}
	c.Disconnect(100)
	dropSessions(t, id)
}

func runUntil(t *testing.T, st *weir.Stepper, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, 20*time.Second, func() bool {
		must(t, st.Run())
		return cond()
	})
}

// TestSourceRedelivery checks the guarantee across a crash: the messages
// emitted after the last completed checkpoint were never acknowledged, so
// the broker redelivers them to the restarted source (persistent
// session); those of the checkpoint were acknowledged and are not. If
// the crash comes after the checkpoint completed but before the
// acknowledgements reached the broker, the checkpoint's messages come
// again too: at-least-once.
func TestSourceRedelivery(t *testing.T) {
	for _, noAcks := range []bool{false, true} {
		t.Run(fmt.Sprint("crash before acks ", noAcks), func(t *testing.T) {
			topic, id := names(t)
			session(t, id+"-0", topic+"#")
			pub := connect(t, id+"-pub", true)
			defer pub.Disconnect(100)
			dir := t.TempDir()
			newSource := func() *Source[string] {
				s, err := NewSource(SourceOptions[string]{Connection: Connection{Broker: broker, ClientID: id},
					Topics: []string{topic + "#"}, Deserializer: payloadString})
				must(t, err)
				return s
			}
			ctx := context.Background()
			a := &gather[string]{}
			srcA := newSource()
			srcA.noAcks = noAcks
			env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}})
			weir.FromSource[string](env, srcA, weir.NoWatermarks[string](), "mqtt").SinkTo(a.sink())
			st, err := env.Stepwise(ctx, 0)
			must(t, err)
			publish(t, pub, topic+"x", vals(0, 10)...)
			runUntil(t, st, "10 messages", func() bool { return a.len() == 10 })
			_, path, err := st.Checkpoint()
			must(t, err)
			if !noAcks {
				waitFor(t, "acks", 10*time.Second, func() bool { return testutil.ToFloat64(srcA.acked) == 10 })
			}
			publish(t, pub, topic+"x", vals(10, 20)...)
			runUntil(t, st, "20 messages", func() bool { return a.len() == 20 })
			must(t, st.Close())

			b := &gather[string]{}
			env = weir.NewEnvironment(weir.Options{Restore: path, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}})
			weir.FromSource[string](env, newSource(), weir.NoWatermarks[string](), "mqtt").SinkTo(b.sink())
			st, err = env.Stepwise(ctx, 0)
			must(t, err)
			defer st.Close()
			publish(t, pub, topic+"x", vals(20, 25)...)
			want := vals(10, 25)
			if noAcks {
				want = vals(0, 25)
			}
			// The redeliveries come first. Mosquitto keeps at most 20
			// messages unacknowledged in flight (max_inflight_messages):
			// a checkpoint acknowledges them, then the rest come.
			runUntil(t, st, "redeliveries", func() bool { return b.len() >= len(want)-5 })
			_, _, err = st.Checkpoint()
			must(t, err)
			runUntil(t, st, "v24", func() bool { return counts(b.values())["v24"] > 0 })
			got := counts(b.values())
			for _, v := range want {
				if got[v] != 1 {
					t.Fatalf("after the restart %s came %d times; got %v", v, got[v], b.values())
				}
			}
			if len(b.values()) != len(want) {
				t.Fatalf("after the restart got %v, want %v", b.values(), want)
			}
		})
	}
}

// TestSourceOutage cuts the connection repeatedly while messages arrive:
// every message is emitted (at least once), and a redelivery of a message
// emitted and not yet acknowledged is dropped.
func TestSourceOutage(t *testing.T) {
	topic, id := names(t)
	session(t, id+"-0", topic+"#")
	pub := connect(t, id+"-pub", true)
	defer pub.Disconnect(100)
	proxy := testnet.NewProxy(t, "127.0.0.1:1883")
	s, err := NewSource(SourceOptions[string]{Connection: Connection{Broker: "tcp://" + proxy.Addr(), ClientID: id},
		Topics: []string{topic + "#"}, Deserializer: payloadString})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()}})
	g := &gather[string]{}
	weir.FromSource[string](env, s, weir.NoWatermarks[string](), "mqtt").SinkTo(g.sink())
	job, err := env.Start(context.Background())
	must(t, err)
	defer func() { job.Cancel(); _ = job.Wait() }()
	const n = 120
	for i := 0; i < n; i += 40 {
		publish(t, pub, topic+"x", vals(i, i+40)...)
		accepted := proxy.Accepted()
		proxy.Cut()
		proxy.Restore()
		waitFor(t, "reconnect", 20*time.Second, func() bool { return proxy.Accepted() > accepted })
	}
	waitFor(t, "every message", 30*time.Second, func() bool { return len(counts(g.values())) == n })
	for _, v := range vals(0, n) {
		if counts(g.values())[v] == 0 {
			t.Fatalf("%s missing", v)
		}
	}
	if testutil.ToFloat64(s.connectionLost) == 0 {
		t.Fatal("no connection loss counted")
	}
	t.Logf("%d messages emitted for %d published; %v redeliveries dropped", len(g.values()), n, testutil.ToFloat64(s.redeliveries))
}

type reading struct {
	Topic string
	C     float64
}

// TestSourceWildcardsAndDeadLetters reads a wildcard filter with the
// topic in the record, and sends bad payloads to the dead letters naming
// the topic; without a policy the job fails.
func TestSourceWildcardsAndDeadLetters(t *testing.T) {
	topic, id := names(t)
	for _, sub := range []string{"-0", "-1"} {
		session(t, id+sub, topic+"sensors/+/temp")
	}
	pub := connect(t, id+"-pub", true)
	defer pub.Disconnect(100)
	decode := func(m Message) (reading, error) {
		r, err := JSON[reading](m)
		r.Topic = strings.TrimPrefix(m.Topic, topic)
		return r, err
	}
	tag := weir.NewOutputTag[weir.DeadLetter]("dead")
	env := weir.NewEnvironment(weir.Options{})
	s, err := NewSource(SourceOptions[reading]{Connection: Connection{Broker: broker, ClientID: id},
		Topics: []string{topic + "sensors/+/temp"}, Deserializer: decode, ErrorPolicy: weir.DeadLetterTo(tag)})
	must(t, err)
	good, dead := &gather[reading]{}, &gather[weir.DeadLetter]{}
	in := weir.FromSource[reading](env, s, weir.NoWatermarks[reading](), "mqtt")
	in.SinkTo(good.sink())
	weir.SideOutput(in, tag).SinkTo(dead.sink())
	job, err := env.Start(context.Background())
	must(t, err)
	publish(t, pub, topic+"sensors/a/temp", `{"C":21.5}`)
	publish(t, pub, topic+"sensors/b/temp", `{"C":`)
	publish(t, pub, topic+"other", `{"C":1}`)
	publish(t, pub, topic+"sensors/c/temp", `{"C":19}`)
	waitFor(t, "2 readings and a dead letter", 10*time.Second, func() bool { return good.len() == 2 && dead.len() == 1 })
	job.Cancel()
	_ = job.Wait()
	if g := good.values(); g[0] != (reading{"sensors/a/temp", 21.5}) || g[1] != (reading{"sensors/c/temp", 19}) {
		t.Fatalf("readings %v", g)
	}
	if d := dead.values()[0]; !strings.Contains(d.Source, "mqtt topic "+topic+"sensors/b/temp") || string(d.Raw) != `{"C":` {
		t.Fatalf("dead letter %+v", d)
	}

	s, err = NewSource(SourceOptions[reading]{Connection: Connection{Broker: broker, ClientID: id + "x"},
		Topics: []string{topic + "sensors/+/temp"}, Deserializer: decode})
	must(t, err)
	session(t, id+"x-0", topic+"sensors/+/temp")
	env = weir.NewEnvironment(weir.Options{})
	weir.FromSource[reading](env, s, weir.NoWatermarks[reading](), "mqtt").SinkTo(good.sink())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- env.Execute(ctx) }()
	publish(t, pub, topic+"sensors/b/temp", `not json`)
	if err := <-errc; !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "sensors/b/temp") {
		t.Fatalf("job error %v, want a bad record naming the topic", err)
	}
}

// TestSourceShared reads with two subtasks through a shared subscription:
// each message reaches one of them.
func TestSourceShared(t *testing.T) {
	topic, id := names(t)
	dropSessions(t, id+"-0", id+"-1")
	s, err := NewSource(SourceOptions[string]{Connection: Connection{Broker: broker, ClientID: id},
		Topics: []string{topic + "#"}, Deserializer: payloadString})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	weir.FromSource[string](env, s, weir.NoWatermarks[string](), "mqtt").SinkTo(weir.SinkFunc[string](func(context.Context, string, int64) error { return nil }))
	if err := env.Execute(context.Background()); err == nil || !strings.Contains(err.Error(), "SharedGroup") {
		t.Fatalf("parallelism 2 without SharedGroup: %v", err)
	}

	s, err = NewSource(SourceOptions[string]{Connection: Connection{Broker: broker, ClientID: id},
		Topics: []string{topic + "#"}, SharedGroup: "g" + id, Deserializer: payloadString})
	must(t, err)
	g := &gather[string]{}
	env = weir.NewEnvironment(weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()}})
	weir.FromSource[string](env, s, weir.NoWatermarks[string](), "mqtt").SinkTo(g.sink())
	job, err := env.Start(context.Background())
	must(t, err)
	defer func() { job.Cancel(); _ = job.Wait() }()
	pub := connect(t, id+"-pub", true)
	defer pub.Disconnect(100)
	// The subscriptions are made when the readers connect: publish until
	// one arrives.
	waitFor(t, "subscribed", 10*time.Second, func() bool {
		publish(t, pub, topic+"probe", "probe")
		return g.len() > 0
	})
	publish(t, pub, topic+"x", vals(0, 100)...)
	waitFor(t, "100 messages", 20*time.Second, func() bool { return len(counts(g.values())) == 101 })
	for v, n := range counts(g.values()) {
		if v != "probe" && n != 1 {
			t.Fatalf("%s came %d times", v, n)
		}
	}
}
