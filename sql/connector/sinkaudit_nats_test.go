package connector_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSSinkTwoInserts runs two INSERT jobs into one nats table within
// the stream's duplicate window. Both write through sinks with the same
// message-id prefix (the table's); the second job's rows must not be
// dropped as duplicates of the first's: the stream holds all four.
func TestNATSSinkTwoInserts(t *testing.T) {
	serverUp(t, "NATS with JetStream", "127.0.0.1:4222")
	name := uniqueName("sinkaudit_nats")
	nc, err := natsgo.Connect("nats://127.0.0.1:4222")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), name) })
	table := fmt.Sprintf(`CREATE TABLE q (id BIGINT) WITH ('connector' = 'nats', 'stream' = '%s', 'subjects' = '%s.>', 'subject' = '%s.rows', 'format' = 'json');
`, name, name, name)
	runInsert(t, table+"INSERT INTO q VALUES (1), (2);")
	runInsert(t, table+"INSERT INTO q VALUES (3), (4);")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	total := int(s.CachedInfo().State.Msgs)
	var got []string
	for len(got) < total {
		b, err := c.Fetch(total-len(got), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			got = append(got, string(m.Data()))
		}
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d messages", len(got), total)
		}
	}
	if want := []string{`{"id":1}`, `{"id":2}`, `{"id":3}`, `{"id":4}`}; !slices.Equal(got, want) {
		t.Fatalf("stream holds %q, want %q", got, want)
	}
}
