package nats

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weirstream/weir"
)

// The benchmarks run against the local server; each compares Weir's
// connector with a bare nats.go loop doing the same work in the same run
// (nats bench is not installed). Run with a fixed count, e.g.
// go test -run X -bench . -benchtime 20000x ./connector/nats/

func payloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(`{"id":` + strconv.Itoa(i) + `,"payload":"abcdefghijklmnopqrstuvwxyz0123456789"}`)
	}
	return out
}

// BenchmarkSource reads b.N messages through the source (acks after
// 100ms checkpoints) into a counting sink.
func BenchmarkSource(b *testing.B) {
	url := server(b)
	name := uniq(b)
	createStream(b, url, name)
	publish(b, url, name+".x", payloads(b.N)...)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: b.TempDir()}})
	var got atomic.Int64
	weir.FromSource(env, NewSource(SourceOptions[[]byte]{URL: url, Stream: name, Consumer: "bench", Deserializer: BytesSerde{}}),
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

// BenchmarkBareFetch is the baseline of BenchmarkSource: a durable pull
// consumer, Fetch(256) and an ack per message.
func BenchmarkBareFetch(b *testing.B) {
	url := server(b)
	name := uniq(b)
	createStream(b, url, name)
	publish(b, url, name+".x", payloads(b.N)...)
	_, js := jsClient(b, url)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	cons, err := js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	for got := 0; got < b.N; {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			_ = m.Ack()
			got++
		}
	}
	report(b, start, cpu0)
}

// BenchmarkSink writes b.N records through the sink (default message
// ids, acks awaited at 100ms checkpoints and at the end).
func BenchmarkSink(b *testing.B) {
	url := server(b)
	name := uniq(b)
	createStream(b, url, name)
	data := payloads(b.N)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: b.TempDir()}})
	weir.FromSlice(env, data).SinkTo(NewSink(SinkOptions[[]byte]{URL: url, Subject: name + ".y", Serializer: BytesSerde{}}))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	report(b, start, cpu0)
}

// BenchmarkBarePublish is the baseline of BenchmarkSink: async publishes
// with a Nats-Msg-Id each, at most 4096 in flight, then wait for all.
func BenchmarkBarePublish(b *testing.B) {
	url := server(b)
	name := uniq(b)
	createStream(b, url, name)
	data := payloads(b.N)
	_, js := jsClient(b, url)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i, d := range data {
		if _, err := js.PublishAsync(name+".y", d, jetstream.WithMsgID("b/"+strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
		if js.PublishAsyncPending() >= 4096 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
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
