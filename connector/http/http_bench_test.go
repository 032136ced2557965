package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

// cpuTime is the CPU time (user + system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn and reports records/s (wall) and records per CPU-second
// of the whole process ("per core": the receiving or sending server runs in
// the same process and is counted too).
func measure(b *testing.B, n int, fn func()) {
	b.ReportAllocs()
	b.ResetTimer()
	c0, t0 := cpuTime(), time.Now()
	fn()
	wall, cpu := time.Since(t0), cpuTime()-c0
	b.StopTimer()
	b.ReportMetric(float64(n)/wall.Seconds(), "records/s")
	b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
}

// discardServer answers 200 to every request after reading its body.
func discardServer(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var bytesIn atomic.Int64
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytesIn.Add(n)
	}))
	b.Cleanup(srv.Close)
	return srv, &bytesIn
}

// BenchmarkWebhookSink sends b.N records through the webhook sink in
// batches of 500 (JSON arrays) to an in-process server.
func BenchmarkWebhookSink(b *testing.B) {
	srv, _ := discardServer(b)
	vals := events(b.N)
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, vals).SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[event]{URL: srv.URL, Serializer: kafka.JSONSerde[event]{}, BatchSize: 500}))
	measure(b, b.N, func() {
		if err := env.Execute(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBarePostLoop is the baseline: the same records marshalled with
// encoding/json into JSON arrays of 500 and POSTed in a loop with net/http.
func BenchmarkBarePostLoop(b *testing.B) {
	srv, _ := discardServer(b)
	vals := events(b.N)
	cl := &nethttp.Client{}
	measure(b, b.N, func() {
		var buf bytes.Buffer
		for i := 0; i < len(vals); i += 500 {
			buf.Reset()
			buf.WriteByte('[')
			for j, v := range vals[i:min(i+500, len(vals))] {
				if j > 0 {
					buf.WriteByte(',')
				}
				p, _ := json.Marshal(v)
				buf.Write(p)
			}
			buf.WriteByte(']')
			resp, err := cl.Post(srv.URL, "application/json", bytes.NewReader(buf.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkIngest POSTs b.N records as JSON lines, 1000 a request, from a
// client in the same process, until the job's sink has them all.
func BenchmarkIngest(b *testing.B) {
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{})
	var got atomic.Int64
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SinkTo(weir.SinkFunc[event](func(context.Context, event, int64) error {
		got.Add(1)
		return nil
	}))
	jc, err := env.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { jc.Cancel(); _ = jc.Wait() }()
	for src.Addr(0) == "" {
		time.Sleep(time.Millisecond)
	}
	url := "http://" + src.Addr(0) + "/"
	var body bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&body, "{\"id\":%d,\"name\":\"event-%d\"}\n", i, i)
	}
	cl := &nethttp.Client{}
	measure(b, b.N, func() {
		for sent := 0; sent < b.N; {
			n := min(1000, b.N-sent)
			payload := body.Bytes()
			if n < 1000 {
				payload = bytes.Join(bytes.SplitAfter(payload, []byte("\n"))[:n], nil)
			}
			resp, err := cl.Post(url, "application/x-ndjson", bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == nethttp.StatusTooManyRequests {
				continue
			}
			if resp.StatusCode != 200 {
				b.Fatalf("HTTP %d", resp.StatusCode)
			}
			sent += n
		}
		for got.Load() < int64(b.N) {
			time.Sleep(100 * time.Microsecond)
		}
	})
}
