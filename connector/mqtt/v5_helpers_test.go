package mqtt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/weirstream/weir/connector/mqtt/internal/mqtt5"
)

// names5 returns a topic prefix and a client id unique to an MQTT 5 test,
// both starting with weir-mqtt5-.
func names5(t testing.TB) (topic, clientID string) {
	n := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_")
	r := rand.Uint32()
	return fmt.Sprintf("weir-mqtt5-%s/%08x/", n, r), fmt.Sprintf("weir-mqtt5-%s-%08x", n, r)
}

// connect5 connects a raw MQTT 5 test client to the broker.
func connect5(t testing.TB, id string, cleanStart bool, props mqtt5.Properties, onPublish func(*mqtt5.Client, *mqtt5.Publish)) *mqtt5.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1883")
	if err != nil {
		t.Fatalf("Mosquitto on %s unreachable (run scripts/test-services.sh): %v", broker, err)
	}
	c, err := mqtt5.NewClient(ctx, conn, mqtt5.Config{Connect: mqtt5.Connect{ClientID: id, CleanStart: cleanStart,
		KeepAlive: 30, Properties: props}, OnPublish: onPublish})
	if err != nil {
		t.Fatalf("connecting %s: %v", id, err)
	}
	return c
}

// session5 creates the persistent MQTT 5 session of client id with a QoS
// 1 subscription to filter, and removes it when the test ends.
func session5(t testing.TB, id, filter string) {
	t.Helper()
	c := connect5(t, id, true, mqtt5.Properties{SessionExpiry: 0xFFFFFFFF}, nil)
	subscribe5(t, c, filter)
	must(t, c.Disconnect(mqtt5.Success, nil))
	dropSessions5(t, id)
}

// dropSessions5 ends the sessions of the given client ids when the test
// ends: a clean start with session expiry 0.
func dropSessions5(t testing.TB, ids ...string) {
	t.Cleanup(func() {
		for _, id := range ids {
			c := connect5(t, id, true, mqtt5.Properties{}, nil)
			_ = c.Disconnect(mqtt5.Success, nil)
		}
	})
}

func subscribe5(t testing.TB, c *mqtt5.Client, filter string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := c.Subscribe(ctx, &mqtt5.Subscribe{Subscriptions: []mqtt5.Subscription{{Filter: filter, QoS: 1}}})
	if err != nil || ack.ReasonCodes[0].Failed() {
		t.Fatalf("subscribing to %s: %v %v", filter, err, ack)
	}
}

// publish5 publishes payloads with QoS 1 and waits for each PUBACK.
func publish5(t testing.TB, c *mqtt5.Client, topic string, props mqtt5.Properties, payloads ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range payloads {
		h, err := c.Publish(ctx, &mqtt5.Publish{Topic: topic, QoS: 1, Payload: []byte(p), Properties: props})
		if err != nil {
			t.Fatalf("publishing to %s: %v", topic, err)
		}
		select {
		case <-h.Done():
		case <-ctx.Done():
			t.Fatalf("no PUBACK from %s", topic)
		}
		if rc, reason, err := h.Result(); err != nil || rc.Failed() {
			t.Fatalf("publishing to %s: %v %s %v", topic, rc, reason, err)
		}
	}
}

// subscriber5 collects the messages of filter as "topic=payload" with a
// clean MQTT 5 session, acknowledging each.
func subscriber5(t *testing.T, id, filter string) (*gather[string], *gather[*mqtt5.Publish]) {
	g, raw := &gather[string]{}, &gather[*mqtt5.Publish]{}
	c := connect5(t, id, true, mqtt5.Properties{}, func(c *mqtt5.Client, p *mqtt5.Publish) {
		g.add(p.Topic + "=" + string(p.Payload))
		raw.add(p)
		if p.QoS > 0 {
			_ = c.Ack(p.PacketID, mqtt5.Success)
		}
	})
	t.Cleanup(func() { _ = c.Disconnect(mqtt5.Success, nil) })
	subscribe5(t, c, filter)
	return g, raw
}
