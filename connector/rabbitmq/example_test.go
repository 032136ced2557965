package rabbitmq_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/rabbitmq"
)

// Example consumes a queue, doubles every message and publishes the
// results to another queue with publisher confirms. It needs RabbitMQ on
// 127.0.0.1:5672 with guest/guest (scripts/test-services.sh).
func Example() {
	in := fmt.Sprintf("example_in_%d", time.Now().UnixNano())
	out := in + "_out"
	conn, err := amqp.Dial(rabbitmq.DefaultURL)
	if err != nil {
		fmt.Println("RabbitMQ is not running on 127.0.0.1:5672 (scripts/test-services.sh):", err)
		return
	}
	defer conn.Close()
	ch, _ := conn.Channel()
	ch.QueueDeclare(in, true, false, false, false, nil)
	defer ch.QueueDelete(in, false, false, false)
	defer ch.QueueDelete(out, false, false, false)
	ctx := context.Background()
	for _, w := range []string{"a", "b", "c"} {
		ch.PublishWithContext(ctx, "", in, false, false, amqp.Publishing{MessageId: "word-" + w, Body: []byte(w)})
	}

	dir, _ := os.MkdirTemp("", "rabbitmq-example")
	defer os.RemoveAll(dir)
	env := weir.NewEnvironment(weir.Options{Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: dir}})
	words := weir.FromSource(env, rabbitmq.NewSource(rabbitmq.SourceOptions[string]{
		Queue: in, Deserializer: rabbitmq.StringSerde{},
		Prefetch: rabbitmq.PrefetchFor(1000, 100*time.Millisecond),
	}), weir.NoWatermarks[string](), "words")
	doubled := weir.Map(words, func(s string) string { return s + s })
	doubled.SinkTo(rabbitmq.NewSink(rabbitmq.SinkOptions[string]{
		RoutingKey: out, Queue: out, Serializer: rabbitmq.StringSerde{},
		MessageID: func(s string) string { return "double-" + s },
	}))
	seen := weir.Collect(doubled)
	job, err := env.Start(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Poll until the three results are there (or ten seconds passed).
	for end := time.Now().Add(10 * time.Second); len(seen.Values()) < 3 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	job.Cancel()
	job.Wait()
	got := seen.Values()
	slices.Sort(got)
	fmt.Println(got)
	// Output: [aa bb cc]
}
