package rabbitmq

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const brokerAddr = "127.0.0.1:5672"

// broker fails the test if RabbitMQ is not reachable and returns its URL.
func broker(t testing.TB) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", brokerAddr, 2*time.Second)
	if err != nil {
		t.Fatalf("RabbitMQ is not reachable at %s (%v): run scripts/test-services.sh", brokerAddr, err)
	}
	c.Close()
	return "amqp://guest:guest@" + brokerAddr + "/"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// queue declares a durable queue unique to the test, deleted when it
// ends.
func queue(t testing.TB, url string) string {
	t.Helper()
	name := fmt.Sprintf("weir_%s_%06d", unsafeName.ReplaceAllString(t.Name(), "_"), rand.IntN(1000000))
	ch := channel(t, url)
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		t.Fatalf("declaring queue %s: %v", name, err)
	}
	t.Cleanup(func() {
		if c, err := amqp.Dial(url); err == nil {
			if ch, err := c.Channel(); err == nil {
				ch.QueueDelete(name, false, false, false)
			}
			c.Close()
		}
	})
	return name
}

func channel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("connecting to RabbitMQ at %s: %v (run scripts/test-services.sh)", brokerAddr, err)
	}
	t.Cleanup(func() { c.Close() })
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// publish sends bodies to queue with message ids "id-<body>" (no id if
// noID) and waits for the broker's confirms.
func publish(t testing.TB, url, q string, noID bool, bodies ...[]byte) {
	t.Helper()
	ch := channel(t, url)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var dcs []*amqp.DeferredConfirmation
	for _, b := range bodies {
		p := amqp.Publishing{Body: b, DeliveryMode: amqp.Persistent}
		if !noID {
			p.MessageId = "id-" + string(b)
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false, p)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		dcs = append(dcs, dc)
	}
	for _, dc := range dcs {
		if !dc.Wait() {
			t.Fatal("publish nacked")
		}
	}
}

// drain reads every message of q (acking them) until it has n, or the
// deadline passes; it returns the bodies and message ids.
func drain(t testing.TB, url, q string, n int, deadline time.Duration) (bodies [][]byte, ids []string) {
	t.Helper()
	return drainUntil(t, url, q, deadline, func(b [][]byte, _ []string) bool { return len(b) >= n })
}

// drainUntil reads messages of q (acking them) until done holds for
// those read, or fails the test after deadline.
func drainUntil(t testing.TB, url, q string, deadline time.Duration, done func([][]byte, []string) bool) (bodies [][]byte, ids []string) {
	t.Helper()
	ch := channel(t, url)
	dels, err := ch.Consume(q, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(deadline)
	for !done(bodies, ids) {
		select {
		case d := <-dels:
			bodies = append(bodies, d.Body)
			ids = append(ids, d.MessageId)
		case <-timeout:
			t.Fatalf("queue %s: %d messages after %v, not all expected", q, len(bodies), deadline)
		}
	}
	return bodies, ids
}

func ints(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(strconv.Itoa(i)))
	}
	return out
}

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
