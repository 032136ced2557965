package rabbitmq

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
)

// The benchmarks run against the local broker and compare the connector
// with a bare amqp091 loop doing the same work in the same run, e.g.
// go test -run X -bench . -benchtime 20000x ./connector/rabbitmq/

func bodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(`{"id":` + strconv.Itoa(i) + `,"payload":"abcdefghijklmnopqrstuvwxyz0123456789"}`)
	}
	return out
}

// BenchmarkSource consumes b.N messages (with message ids) through the
// source (acks after 100ms checkpoints) into a counting sink.
func BenchmarkSource(b *testing.B) {
	url := broker(b)
	q := queue(b, url)
	publish(b, url, q, false, bodies(b.N)...)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: b.TempDir()}})
	var got atomic.Int64
	weir.FromSource(env, NewSource(SourceOptions[[]byte]{URL: url, Queue: q, Deserializer: BytesSerde{}, Prefetch: 20000}),
		weir.NoWatermarks[[]byte](), "in").SinkTo(weir.SinkFunc[[]byte](func(context.Context, []byte, int64) error { got.Add(1); return nil }))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	jc, err := env.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	waitFor(b, "every message", 5*time.Minute, func() bool { return got.Load() >= int64(b.N) })
	report(b, start, cpu0)
	b.StopTimer()
	jc.Cancel()
	jc.Wait()
}

// BenchmarkBareConsume is the baseline of BenchmarkSource: manual acks,
// multiple=true every 256 deliveries, the same prefetch.
func BenchmarkBareConsume(b *testing.B) {
	url := broker(b)
	q := queue(b, url)
	publish(b, url, q, false, bodies(b.N)...)
	ch := channel(b, url)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	if err := ch.Qos(20000, 0, false); err != nil {
		b.Fatal(err)
	}
	dels, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= b.N; i++ {
		d := <-dels
		if i%256 == 0 || i == b.N {
			d.Ack(true)
		}
	}
	report(b, start, cpu0)
}

// BenchmarkSink publishes b.N records through the sink (confirms
// awaited at 100ms checkpoints, every MaxInFlight and at the end).
func BenchmarkSink(b *testing.B) {
	url := broker(b)
	q := queue(b, url)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: b.TempDir()}})
	weir.FromSlice(env, bodies(b.N)).SinkTo(NewSink(SinkOptions[[]byte]{URL: url, RoutingKey: q, Serializer: BytesSerde{}}))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	report(b, start, cpu0)
}

// BenchmarkBarePublish is the baseline of BenchmarkSink: persistent,
// mandatory publishes with message ids and confirms, at most 4096
// awaiting.
func BenchmarkBarePublish(b *testing.B) {
	url := broker(b)
	q := queue(b, url)
	data := bodies(b.N)
	ch := channel(b, url)
	if err := ch.Confirm(false); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var fly []*amqp.DeferredConfirmation
	for i, d := range data {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false,
			amqp.Publishing{MessageId: "b/" + strconv.Itoa(i), Body: d, DeliveryMode: amqp.Persistent})
		if err != nil {
			b.Fatal(err)
		}
		if fly = append(fly, dc); len(fly) >= 4096 || i == len(data)-1 {
			for _, dc := range fly {
				if !dc.Wait() {
					b.Fatal("nack")
				}
			}
			fly = fly[:0]
		}
	}
	report(b, start, cpu0)
}

// cpuTime is the CPU time this process (the client side: Weir or the bare
// loop; not the server) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds msgs/s (wall clock) and msgs/cpu-s (messages per second of
// client CPU: the rate per core the client would reach if the server
// kept up).
func report(b *testing.B, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "msgs/cpu-s")
}
