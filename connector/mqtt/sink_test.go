package mqtt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

type event struct {
	Device int
	Seq    int
}

// subscribe collects the messages of filter (QoS 1) as "topic=payload".
func subscribe(t *testing.T, id, filter string) *gather[string] {
	g := &gather[string]{}
	c := connect(t, id, true)
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		g.add(m.Topic() + "=" + string(m.Payload()))
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribing: %v", tok.Error())
	}
	return g
}

// TestSinkPublish publishes records to per-record topics with QoS 1, and
// retained messages that a later subscriber still gets.
func TestSinkPublish(t *testing.T) {
	topic, id := names(t)
	g := subscribe(t, id+"-sub", topic+"#")
	var in []event
	for i := range 90 {
		in = append(in, event{i % 3, i})
	}
	s, err := NewSink(SinkOptions[event]{Connection: Connection{Broker: broker, ClientID: id},
		TopicOf:   func(e event) string { return fmt.Sprintf("%sdev/%d", topic, e.Device) },
		Serialize: func(e event) ([]byte, error) { return fmt.Appendf(nil, "%d", e.Seq), nil },
		Retained:  true, MaxInFlight: 10})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, in).SinkTo(s)
	must(t, env.Execute(context.Background()))
	if n := testutil.ToFloat64(s.published); n != 90 {
		t.Fatalf("%v published", n)
	}
	waitFor(t, "90 messages", 10*time.Second, func() bool { return g.len() >= 90 })
	got := counts(g.values())
	for _, e := range in {
		if k := fmt.Sprintf("%sdev/%d=%d", topic, e.Device, e.Seq); got[k] == 0 {
			t.Fatalf("%s not received", k)
		}
	}
	// A new subscriber gets each topic's last message, retained.
	late := subscribe(t, id+"-late", topic+"#")
	t.Cleanup(func() {
		c := connect(t, id+"-clean", true)
		for d := range 3 {
			c.Publish(fmt.Sprintf("%sdev/%d", topic, d), 1, true, []byte{}).WaitTimeout(5 * time.Second)
		}
		c.Disconnect(100)
	})
	waitFor(t, "3 retained messages", 10*time.Second, func() bool { return late.len() >= 3 })
	for d := range 3 {
		if k := fmt.Sprintf("%sdev/%d=%d", topic, d, 87+d); counts(late.values())[k] != 1 {
			t.Fatalf("retained %v, want %s", late.values(), k)
		}
	}
}

type deadLetters struct{ got []weir.DeadLetter }

func (d *deadLetters) Write(_ context.Context, v weir.DeadLetter, _ int64) error {
	d.got = append(d.got, v)
	return nil
}
func (d *deadLetters) Flush(context.Context, bool) error { return nil }
func (d *deadLetters) Close() error                      { return nil }

// CreateWriter makes deadLetters a weir.Sink (of parallelism 1 here).
func (d *deadLetters) CreateWriter(weir.SinkContext) (weir.SinkWriter[weir.DeadLetter], error) {
	return d, nil
}

// TestSinkBadRecords: a record that does not serialize and one whose
// topic holds a wildcard go to the dead letters; without them the job
// fails naming the topic.
func TestSinkBadRecords(t *testing.T) {
	topic, id := names(t)
	g := subscribe(t, id+"-sub", topic+"#")
	opts := SinkOptions[string]{Connection: Connection{Broker: broker, ClientID: id},
		TopicOf: func(v string) string { return topic + v },
		Serialize: func(v string) ([]byte, error) {
			if v == "bad" {
				return nil, errors.New("cannot encode")
			}
			return []byte(v), nil
		}}
	dl := &deadLetters{}
	opts.DeadLetters = dl
	s, err := NewSink(opts)
	must(t, err)
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []string{"a", "bad", "+", "b"}).SinkTo(s)
	must(t, env.Execute(context.Background()))
	if len(dl.got) != 2 || dl.got[0].Reason != "cannot encode" || !strings.Contains(dl.got[1].Reason, "cannot be published") {
		t.Fatalf("dead letters %+v", dl.got)
	}
	waitFor(t, "a and b", 10*time.Second, func() bool { return g.len() == 2 })

	opts.DeadLetters = nil
	s, err = NewSink(opts)
	must(t, err)
	env = weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []string{"a", "x/#"}).SinkTo(s)
	if err := env.Execute(context.Background()); !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "x/#") {
		t.Fatalf("job error %v", err)
	}
}

// TestSinkOutage: publishes made while the connection is down are sent
// once it is back, and Flush returns only when the broker acknowledged
// them all.
func TestSinkOutage(t *testing.T) {
	topic, id := names(t)
	g := subscribe(t, id+"-sub", topic+"#")
	proxy := testnet.NewProxy(t, "127.0.0.1:1883")
	s, err := NewSink(SinkOptions[string]{Connection: Connection{Broker: "tcp://" + proxy.Addr(), ClientID: id},
		Topic: topic + "x", Serialize: func(v string) ([]byte, error) { return []byte(v), nil }})
	must(t, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(t, err)
	defer w.Close()
	ctx := context.Background()
	for _, v := range vals(0, 50) {
		must(t, w.Write(ctx, v, 0))
	}
	must(t, w.Flush(ctx, false))
	accepted := proxy.Accepted()
	proxy.Cut()
	done := make(chan error, 1)
	go func() {
		for _, v := range vals(50, 100) {
			if err := w.Write(ctx, v, 0); err != nil {
				done <- err
				return
			}
		}
		done <- w.Flush(ctx, false)
	}()
	select {
	case err := <-done:
		t.Fatalf("flush returned during the outage: %v", err)
	case <-time.After(300 * time.Millisecond): // the flush must still wait
	}
	proxy.Restore()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(15 * time.Second):
		cl := w.(*writer[string]).client
		t.Fatalf("flush did not complete after the outage (accepted %d, was %d, open %v)", proxy.Accepted(), accepted, cl.IsConnectionOpen())
	}
	if proxy.Accepted() == accepted {
		t.Fatal("no reconnect")
	}
	waitFor(t, "100 messages", 10*time.Second, func() bool { return len(counts(g.values())) == 100 })
}
