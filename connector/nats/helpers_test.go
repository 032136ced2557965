package nats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const serverAddr = "127.0.0.1:4222"

// server fails the test if NATS is not reachable and returns its URL.
func server(t testing.TB) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", serverAddr, 2*time.Second)
	if err != nil {
		t.Fatalf("NATS with JetStream is not reachable at %s (%v): run scripts/test-services.sh", serverAddr, err)
	}
	c.Close()
	return "nats://" + serverAddr
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// uniq returns a name unique to the test, usable as a stream, consumer
// or subject token.
func uniq(t testing.TB) string {
	return fmt.Sprintf("%s_%06d", unsafeName.ReplaceAllString(t.Name(), "_"), rand.IntN(1000000))
}

func jsClient(t testing.TB, url string) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatalf("connecting to NATS at %s: %v (run scripts/test-services.sh)", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// createStream creates a stream on subject name+".>" and deletes it when
// the test ends.
func createStream(t testing.TB, url, name string) {
	t.Helper()
	_, js := jsClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Duplicates: 10 * time.Minute}); err != nil {
		t.Fatalf("creating stream %s: %v", name, err)
	}
	t.Cleanup(func() { deleteStream(url, name) })
}

func deleteStream(url, name string) {
	nc, err := natsgo.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, name)
}

// publish stores payloads on subject and waits for their acks.
func publish(t testing.TB, url, subject string, payloads ...[]byte) {
	t.Helper()
	_, js := jsClient(t, url)
	for _, p := range payloads {
		if _, err := js.PublishAsync(subject, p); err != nil {
			t.Fatalf("publish: %v", err)
		}
		if js.PublishAsyncPending() >= 4096 {
			<-js.PublishAsyncComplete()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publish acks missing after 30s")
	}
}

// readStream returns the payloads and ids of every message of stream,
// waiting up to the deadline until it holds at least n.
func readStream(t testing.TB, url, stream string, n int, deadline time.Duration) (data [][]byte, ids []string) {
	t.Helper()
	_, js := jsClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatalf("stream %s: %v", stream, err)
		}
		if int(s.CachedInfo().State.Msgs) >= n {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s holds %d messages after %v, want %d", stream, s.CachedInfo().State.Msgs, deadline, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := js.Stream(ctx, stream)
	total := int(s.CachedInfo().State.Msgs)
	for len(data) < total {
		b, err := c.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			data = append(data, m.Data())
			ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
		}
		if ctx.Err() != nil {
			t.Fatalf("reading stream %s: %d of %d messages", stream, len(data), total)
		}
	}
	return data, ids
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, deadline)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// consumerInfo returns the current info of consumer cons of stream.
func consumerInfo(t testing.TB, url, stream, cons string) *jetstream.ConsumerInfo {
	t.Helper()
	_, js := jsClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, stream, cons)
	if err != nil {
		t.Fatalf("consumer %s of stream %s: %v", cons, stream, err)
	}
	return c.CachedInfo()
}

// waitAcked waits until consumer cons of stream acked every message up to
// stream sequence last and has none pending or awaiting an ack: the
// source acks a message once a completed checkpoint holds it in the
// state, so from then on every one of them is in the state.
func waitAcked(t testing.TB, url, stream, cons string, last uint64, deadline time.Duration) {
	t.Helper()
	var i *jetstream.ConsumerInfo
	end := time.Now().Add(deadline)
	for {
		i = consumerInfo(t, url, stream, cons)
		if i.AckFloor.Stream >= last && i.NumAckPending == 0 && i.NumPending == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("consumer %s of stream %s after %v: ack floor %d, want %d; %d awaiting an ack, %d not delivered, %d redelivered: a message dropped and never acked?",
				cons, stream, deadline, i.AckFloor.Stream, last, i.NumAckPending, i.NumPending, i.NumRedelivered)
		}
		time.Sleep(20 * time.Millisecond) // polls the server's state; no event to wait on
	}
}
