package main

// Benchmark of the example job (docs/benchmarks.md, "Kafka → keyed sum →
// Kafka"): records per second per core of CPU time and end-to-end latency,
// exactly-once against at-least-once, on an in-process kfake cluster.
//
//	go test -run '^$' -bench KafkaKeyedSum -benchtime 1x ./examples/kafka-exactly-once/
//
// Each sub-benchmark does one measurement whatever b.N is (run it with
// -benchtime 1x) and reports its figures as metrics.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/bench"
)

var (
	benchRecords  = flag.Int("kafka.records", 500_000, "throughput runs: records pre-produced to the input")
	benchRate     = flag.Int("kafka.rate", 20_000, "latency runs: input records per second")
	benchDuration = flag.Duration("kafka.duration", 10*time.Second, "latency runs: how long the input is produced")
	benchKeys     = flag.Int("kafka.keys", 1000, "number of keys")
)

const (
	benchPartitions = 4
	benchInterval   = time.Second // checkpoint interval
)

// benchCluster starts a one-broker kfake cluster with the input and output
// topics.
func benchCluster(b *testing.B) []string {
	b.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(benchPartitions, "input", "output"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c.ListenAddrs()
}

// startJob runs the example job in a goroutine; stop cancels it and waits
// for it to end.
func startJob(b *testing.B, brokers []string, atLeastOnce bool) (stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config{input: "input", output: "output", checkpointDir: b.TempDir(), interval: benchInterval,
		parallelism: 2, prefix: "bench", atLeastOnce: atLeastOnce}
	done := make(chan error, 1)
	go func() { done <- job(ctx, cfg, brokers, slog.New(slog.DiscardHandler)) }()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("job: %v", err)
		}
	}
}

// outputReader reads the output topic with read_committed and notes, for
// every input index, when its output record became visible.
type outputReader struct {
	cl   *kgo.Client
	keys int
	seen []int64 // per input index: visible at (UnixNano), 0 if not yet
	n    int     // distinct indexes seen
}

func newOutputReader(b *testing.B, brokers []string, topic string, keys, total int) *outputReader {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return &outputReader{cl: cl, keys: keys, seen: make([]int64, total)}
}

// readUntil polls until the outputs of the first want input indexes have
// all been seen, or ctx ends.
func (r *outputReader) readUntil(ctx context.Context, want int) error {
	for {
		if r.covered(want) {
			return nil
		}
		fs := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("output: %d records seen: %w", r.n, ctx.Err())
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		now := time.Now().UnixNano()
		for it := fs.RecordIter(); !it.Done(); {
			rec := it.Next()
			var o Output
			if err := json.Unmarshal(rec.Value, &o); err != nil {
				return fmt.Errorf("output offset %d: %w", rec.Offset, err)
			}
			k, err := strconv.Atoi(o.Key[1:])
			if err != nil {
				return fmt.Errorf("output key %q: %w", o.Key, err)
			}
			i := int(o.Seq)*r.keys + k
			if i < 0 || i >= len(r.seen) {
				return fmt.Errorf("output %+v: not an input record", o)
			}
			if r.seen[i] == 0 {
				r.seen[i] = now
				r.n++
			}
		}
	}
}

// covered reports whether the first want indexes have been seen. Output
// order differs from input order, so this counts rather than scans when
// it can.
func (r *outputReader) covered(want int) bool {
	if r.n < want {
		return false
	}
	for _, t := range r.seen[:want] {
		if t == 0 {
			return false
		}
	}
	return true
}

// produceAll writes the input records [from, to) synchronously.
func produceAll(ctx context.Context, cl *kgo.Client, keys, from, to int) error {
	const batch = 10_000
	for i := from; i < to; i += batch {
		recs := make([]*kgo.Record, 0, batch)
		for j := i; j < min(to, i+batch); j++ {
			recs = append(recs, inputRecord("input", keys, j))
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("produce input: %w", err)
		}
	}
	return nil
}

// producer returns the input producer. It does not linger (franz-go
// lingers 10 ms by default), so that latency runs measure the job rather
// than the benchmark's producer.
func producer(b *testing.B, brokers []string) *kgo.Client {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

func reportCPU(b *testing.B, m bench.Measurement) {
	b.ReportMetric(m.PerCoreSecond(), "rec/s/core")
	b.ReportMetric(float64(m.Records)/m.Wall.Seconds(), "rec/s-wall")
	b.ReportMetric(m.CPU.Seconds(), "cpu-s")
	b.ReportMetric(m.AllocsPerRecord(), "allocs/rec")
}

// BenchmarkKafkaKeyedSum measures the example job (parallelism 2, 1 s
// checkpoints) on an in-process kfake broker, exactly-once and
// at-least-once:
//
//   - throughput: -kafka.records input records are produced before the
//     job starts; measured is the CPU time of the whole process (job,
//     broker, output reader) from the job's start until a read_committed
//     reader has the output of every input record. "loop" does the same
//     work with a hand-written franz-go loop (consume, sum in a map,
//     produce; no checkpoints); "copy" only copies the input records to
//     the output: the broker's and the clients' share.
//   - latency: the job runs first; then -kafka.rate records per second are
//     produced for -kafka.duration, and each record's latency is the time
//     its output became visible to a read_committed reader minus the time
//     it was handed to the input producer.
//
// The first run in a process costs about half as much CPU again as later
// ones (fresh memory from the OS, heap growth), so "warm-up" runs the copy
// once first; its figures are not results.
func BenchmarkKafkaKeyedSum(b *testing.B) {
	b.Run("warm-up", func(b *testing.B) { benchLoop(b, false) })
	b.Run("throughput/exactly-once", func(b *testing.B) { benchThroughput(b, false) })
	b.Run("throughput/at-least-once", func(b *testing.B) { benchThroughput(b, true) })
	b.Run("throughput/loop", func(b *testing.B) { benchLoop(b, true) })
	b.Run("throughput/copy", func(b *testing.B) { benchLoop(b, false) })
	b.Run("latency/exactly-once", func(b *testing.B) { benchLatency(b, false) })
	b.Run("latency/at-least-once", func(b *testing.B) { benchLatency(b, true) })
}

func benchThroughput(b *testing.B, atLeastOnce bool) {
	n, keys := *benchRecords, *benchKeys
	brokers := benchCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := produceAll(ctx, producer(b, brokers), keys, 0, n); err != nil {
		b.Fatal(err)
	}
	out := newOutputReader(b, brokers, "output", keys, n)
	var stop func()
	m, err := bench.Measure(int64(n), func() error {
		stop = startJob(b, brokers, atLeastOnce)
		return out.readUntil(ctx, n)
	})
	if stop != nil {
		stop()
	}
	if err != nil {
		b.Fatal(err)
	}
	reportCPU(b, m)
}

// benchLoop is the throughput run without the engine: one franz-go client
// reads the input (read_committed), sums per key in a map and produces
// the same output records asynchronously, flushing once at the end. With
// sum false it copies the input records to the output unchanged (the
// output reader takes their key and seq): only the broker's and the
// clients' work is left.
func benchLoop(b *testing.B, sum bool) {
	n, keys := *benchRecords, *benchKeys
	brokers := benchCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := produceAll(ctx, producer(b, brokers), keys, 0, n); err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("input"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	out := newOutputReader(b, brokers, "output", keys, n)
	var perr error
	var mu sync.Mutex
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			perr = err
			mu.Unlock()
		}
	}
	m, err := bench.Measure(int64(n), func() error {
		sums := map[string]int64{}
		for read := 0; read < n; {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fs.Err(); err != nil {
				return err
			}
			for it := fs.RecordIter(); !it.Done(); read++ {
				rec := it.Next()
				if !sum {
					cl.Produce(ctx, &kgo.Record{Topic: "output", Key: rec.Key, Value: rec.Value}, promise)
					continue
				}
				var in Input
				if err := json.Unmarshal(rec.Value, &in); err != nil {
					return err
				}
				s := sums[in.Key] + in.Value
				sums[in.Key] = s
				v, err := json.Marshal(Output{Key: in.Key, Seq: in.Seq, Sum: s})
				if err != nil {
					return err
				}
				cl.Produce(ctx, &kgo.Record{Topic: "output", Key: rec.Key, Value: v}, promise)
			}
		}
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		return out.readUntil(ctx, n)
	})
	if err == nil {
		mu.Lock()
		err = perr
		mu.Unlock()
	}
	if err != nil {
		b.Fatal(err)
	}
	reportCPU(b, m)
}

func benchLatency(b *testing.B, atLeastOnce bool) {
	keys, rate := *benchKeys, *benchRate
	total := keys + int(float64(rate)*benchDuration.Seconds())
	brokers := benchCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), *benchDuration+2*time.Minute)
	defer cancel()
	pcl := producer(b, brokers)
	out := newOutputReader(b, brokers, "output", keys, total)
	stop := startJob(b, brokers, atLeastOnce)
	defer stop()
	// Warm-up: one record per key, through the job and committed.
	if err := produceAll(ctx, pcl, keys, 0, keys); err != nil {
		b.Fatal(err)
	}
	if err := out.readUntil(ctx, keys); err != nil {
		b.Fatal(err)
	}

	sent := make([]int64, total)
	perr := make(chan error, 1)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			select {
			case perr <- err:
			default:
			}
		}
	}
	done := make(chan struct{})
	m, err := bench.Measure(int64(total-keys), func() error {
		// The producer hands records to the client on a 5 ms tick, as many
		// as the rate allows by then.
		go func() {
			defer close(done)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			t0 := time.Now()
			for i := keys; i < total; {
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
				now := time.Now()
				upto := min(total, keys+int(now.Sub(t0).Seconds()*float64(rate)))
				for ; i < upto; i++ {
					sent[i] = now.UnixNano()
					pcl.Produce(ctx, inputRecord("input", keys, i), promise)
				}
			}
		}()
		return out.readUntil(ctx, total)
	})
	cancel() // ends the producer if the reader failed
	<-done
	select {
	case err := <-perr:
		b.Fatalf("produce input: %v", err)
	default:
	}
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]float64, 0, total-keys)
	for i := keys; i < total; i++ {
		lat = append(lat, float64(out.seen[i]-sent[i])/1e6)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
	b.ReportMetric(float64(rate), "input-rec/s")
	reportCPU(b, m)
}
