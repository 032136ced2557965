package mqtt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/weirstream/weir"
)

const broker = "tcp://127.0.0.1:1883"

// names returns a topic prefix and a client id unique to the test.
func names(t testing.TB) (topic, clientID string) {
	n := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_")
	r := rand.Uint32()
	return fmt.Sprintf("weirtest/%s/%08x/", n, r), fmt.Sprintf("weirtest-%s-%08x", n, r)
}

// connect connects a test client to the broker, failing the test if it
// is unreachable.
func connect(t testing.TB, id string, clean bool) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetCleanSession(clean).SetProtocolVersion(4)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("Mosquitto on %s unreachable (run scripts/test-services.sh): %v", broker, tok.Error())
	}
	return c
}

// dropSessions removes the broker's persistent sessions of the given
// client ids when the test ends.
func dropSessions(t testing.TB, ids ...string) {
	t.Cleanup(func() {
		for _, id := range ids {
			c := connect(t, id, true)
			c.Disconnect(100)
		}
	})
}

// publish publishes payloads with QoS 1 and waits for the broker.
func publish(t testing.TB, c paho.Client, topic string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		tok := c.Publish(topic, 1, false, p)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publishing to %s: %v", topic, tok.Error())
		}
	}
}

func vals(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint("v", i))
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		<-tick.C
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// gather collects what a sink is given.
type gather[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (g *gather[T]) sink() weir.SinkFunc[T] {
	return func(_ context.Context, v T, _ int64) error {
		g.mu.Lock()
		g.vals = append(g.vals, v)
		g.mu.Unlock()
		return nil
	}
}

func (g *gather[T]) add(v T) {
	g.mu.Lock()
	g.vals = append(g.vals, v)
	g.mu.Unlock()
}

func (g *gather[T]) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.vals)
}

func (g *gather[T]) values() []T {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.vals)
}

// counts counts each value.
func counts(vs []string) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v]++
	}
	return m
}

func payloadString(m Message) (string, error) { return string(m.Payload), nil }
