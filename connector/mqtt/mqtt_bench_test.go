package mqtt

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/weirstream/weir"
)

// The benchmarks compare the connector with bare paho loops doing the
// same work in the same run, against the local Mosquitto (which takes CPU
// of its own on the same machine). Run with -cpu 1.

var benchPayload = []byte("0123456789abcdef0123456789abcdef")

// BenchmarkSinkPublish publishes QoS 1 messages through the sink's
// writer (at most DefaultMaxInFlight unacknowledged).
func BenchmarkSinkPublish(b *testing.B) { benchSink(b, 4) }

// BenchmarkSinkPublish5 is BenchmarkSinkPublish with MQTT 5 (Weir's
// client; Mosquitto's Receive Maximum of 20 bounds the publishes in
// flight).
func BenchmarkSinkPublish5(b *testing.B) { benchSink(b, 5) }

func benchSink(b *testing.B, version int) {
	topic, id := names(b)
	s, err := NewSink(SinkOptions[int]{Connection: Connection{Broker: broker, ClientID: id, ProtocolVersion: version}, Topic: topic + "x",
		Serialize: func(int) ([]byte, error) { return benchPayload, nil }})
	must(b, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(b, err)
	defer w.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := w.Write(ctx, i, 0); err != nil {
			b.Fatal(err)
		}
	}
	must(b, w.Flush(ctx, false))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBarePublish is a paho loop: QoS 1 publishes, waiting for the
// tokens of every DefaultMaxInFlight.
func BenchmarkBarePublish(b *testing.B) {
	topic, id := names(b)
	c := connect(b, id, true)
	defer c.Disconnect(100)
	toks := make([]paho.Token, 0, DefaultMaxInFlight)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		toks = append(toks, c.Publish(topic+"x", 1, false, benchPayload))
		if len(toks) == DefaultMaxInFlight || i == b.N-1 {
			for _, t := range toks {
				t.Wait()
				must(b, t.Error())
			}
			toks = toks[:0]
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// feed publishes n QoS 1 messages to topic, keeping at most 500 ahead of
// what received reports, so that the broker's queue for the subscriber
// (max_queued_messages, 1000 by default) never overflows.
func feed(b *testing.B, id, topic string, n int, received func() int64) (wait func()) {
	c := connect(b, id, true)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer c.Disconnect(100)
		for i := 0; i < n; i += 100 {
			for int64(i)-received() > 500 {
				time.Sleep(100 * time.Microsecond) // throttle the producer, not a test wait
			}
			var last paho.Token
			for j := i; j < min(i+100, n); j++ {
				last = c.Publish(topic, 1, false, benchPayload)
			}
			last.Wait()
		}
	})
	return wg.Wait
}

func benchSource(b *testing.B, mode AckMode, interval time.Duration, version int) {
	topic, id := names(b)
	session(b, id+"-0", topic+"#")
	s, err := NewSource(SourceOptions[[]byte]{Connection: Connection{Broker: broker, ClientID: id, ProtocolVersion: version}, Topics: []string{topic + "#"},
		Deserializer: func(m Message) ([]byte, error) { return m.Payload, nil }, AckMode: mode})
	must(b, err)
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: interval, Dir: b.TempDir()}})
	var n atomic.Int64
	done := make(chan struct{})
	weir.FromSource[[]byte](env, s, weir.NoWatermarks[[]byte](), "mqtt").SinkTo(weir.SinkFunc[[]byte](
		func(context.Context, []byte, int64) error {
			if n.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}))
	job, err := env.Start(context.Background())
	must(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	wait := feed(b, id+"-pub", topic+"x", b.N, n.Load)
	select {
	case <-done:
	case <-job.Done():
		b.Fatal(job.Wait())
	}
	b.StopTimer()
	wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	job.Cancel()
	_ = job.Wait()
}

// BenchmarkSourceAckOnReceive reads through a job acknowledging on
// receipt (at-most-once), with a publisher running alongside.
func BenchmarkSourceAckOnReceive(b *testing.B) { benchSource(b, AckOnReceive, time.Second, 4) }

// BenchmarkSourceAckOnReceive5 is BenchmarkSourceAckOnReceive with MQTT 5.
func BenchmarkSourceAckOnReceive5(b *testing.B) { benchSource(b, AckOnReceive, time.Second, 5) }

// BenchmarkSourceAckAfterCheckpoint5 acknowledges after each checkpoint
// (every 20ms) with MQTT 5: the window is the source's Receive Maximum
// (1024), not Mosquitto's max_inflight_messages.
func BenchmarkSourceAckAfterCheckpoint5(b *testing.B) {
	benchSource(b, AckAfterCheckpoint, 20*time.Millisecond, 5)
}

// BenchmarkSourceAckAfterCheckpoint reads acknowledging after each
// checkpoint (every 20ms): bounded by Mosquitto's in-flight window of 20
// per checkpoint.
func BenchmarkSourceAckAfterCheckpoint(b *testing.B) {
	benchSource(b, AckAfterCheckpoint, 20*time.Millisecond, 4)
}

// BenchmarkBareSubscribe is a paho subscriber (QoS 1, automatic
// acknowledgement) with the same publisher.
func BenchmarkBareSubscribe(b *testing.B) {
	topic, id := names(b)
	var n atomic.Int64
	done := make(chan struct{})
	c := connect(b, id, true)
	defer c.Disconnect(100)
	tok := c.Subscribe(topic+"#", 1, func(_ paho.Client, m paho.Message) {
		if len(m.Payload()) > 0 && n.Add(1) == int64(b.N) {
			close(done)
		}
	})
	tok.Wait()
	must(b, tok.Error())
	b.ReportAllocs()
	b.ResetTimer()
	wait := feed(b, id+"-pub", topic+"x", b.N, n.Load)
	<-done
	b.StopTimer()
	wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
