package nats_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/nats"
)

// Example reads a JetStream stream with a durable consumer, doubles
// every message and publishes them to another subject with a message id
// derived from each record. It needs NATS with JetStream on
// 127.0.0.1:4222 (scripts/test-services.sh).
func Example() {
	name := fmt.Sprintf("example_%d", time.Now().UnixNano())
	nc, err := natsgo.Connect(natsgo.DefaultURL)
	if err != nil {
		fmt.Println("NATS is not running on 127.0.0.1:4222 (scripts/test-services.sh):", err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
		fmt.Println(err)
		return
	}
	defer js.DeleteStream(ctx, name)
	for _, w := range []string{"a", "b", "c"} {
		js.Publish(ctx, name+".in", []byte(w))
	}

	dir, _ := os.MkdirTemp("", "nats-example")
	defer os.RemoveAll(dir)
	env := weir.NewEnvironment(weir.Options{Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: dir}})
	words := weir.FromSource(env, nats.NewSource(nats.SourceOptions[string]{
		Stream: name, Consumer: "doubler", FilterSubjects: []string{name + ".in"}, Deserializer: nats.StringSerde{},
	}), weir.NoWatermarks[string](), "words")
	upper := weir.Map(words, func(s string) string { return s + s })
	upper.SinkTo(nats.NewSink(nats.SinkOptions[string]{
		Subject: name + ".out", Serializer: nats.StringSerde{},
		MsgID: func(s string) string { return "double-" + s },
	}))
	seen := weir.Collect(upper)
	job, err := env.Start(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Poll until the three results are there (or ten seconds passed). The
	// source reads only the .in subject: the results go to .out in the
	// same stream and must not be read back.
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
