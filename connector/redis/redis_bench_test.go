package redis

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
)

// The benchmarks compare the connector with a bare go-redis loop doing the
// same work in the same run. Run with -cpu 1 for per-core figures (the
// Redis server runs on the same machine and takes CPU of its own).

func benchValue() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// BenchmarkSinkSet writes SETs through the sink's writer, pipelined in
// batches of DefaultBatchSize.
func BenchmarkSinkSet(b *testing.B) {
	c := client(b)
	p := prefix(b, c)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = p + strconv.Itoa(i)
	}
	val := benchValue()
	s, err := NewSink(SinkOptions[int]{Redis: goredis.Options{Addr: redisAddr},
		Map: func(i int) (Command, error) {
			return Command{Op: OpSet, Key: keys[i%len(keys)], Value: val}, nil
		}})
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkBarePipelineSet is a go-redis pipeline loop: SETs in batches
// of DefaultBatchSize.
func BenchmarkBarePipelineSet(b *testing.B) {
	c := client(b)
	p := prefix(b, c)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = p + strconv.Itoa(i)
	}
	val := benchValue()
	ctx := context.Background()
	pipe := c.Pipeline()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pipe.Set(ctx, keys[i%len(keys)], val, 0)
		if pipe.Len() == DefaultBatchSize || i == b.N-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// fillStream adds n entries to stream outside the timer.
func fillStream(b *testing.B, c *goredis.Client, stream string, n int) {
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	pipe := c.Pipeline()
	val := string(benchValue())
	for i := range n {
		pipe.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"v", val}})
		if pipe.Len() == 1000 || i == n-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSourceRead reads entries through a job (source, a sink that
// counts), with checkpoints every 100ms acknowledging them.
func BenchmarkSourceRead(b *testing.B) {
	c := client(b)
	stream := prefix(b, c) + "s"
	fillStream(b, c, stream, b.N)
	s, err := NewSource(SourceOptions[string]{Redis: goredis.Options{Addr: redisAddr}, Streams: []string{stream},
		Group: "g", Deserializer: stringField})
	must(b, err)
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 100_000_000, Dir: b.TempDir()}})
	var n atomic.Int64
	done := make(chan struct{})
	weir.FromSource[string](env, s, weir.NoWatermarks[string](), "redis").SinkTo(weir.SinkFunc[string](
		func(context.Context, string, int64) error {
			if n.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}))
	b.ReportAllocs()
	b.ResetTimer()
	job, err := env.Start(context.Background())
	must(b, err)
	select {
	case <-done:
	case <-job.Done():
		b.Fatal(job.Wait())
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	job.Cancel()
	_ = job.Wait()
}

// BenchmarkBareXReadGroup is a go-redis loop: XREADGROUP of DefaultCount
// entries, then XACK of them.
func BenchmarkBareXReadGroup(b *testing.B) {
	c := client(b)
	stream := prefix(b, c) + "s"
	fillStream(b, c, stream, b.N)
	ctx := context.Background()
	must(b, c.XGroupCreate(ctx, stream, "g", "0").Err())
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	ids := make([]string, 0, DefaultCount)
	for read < b.N {
		res, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{stream, ">"},
			Count: DefaultCount, Block: -1}).Result()
		if err != nil {
			b.Fatal(err)
		}
		ids = ids[:0]
		for _, m := range res[0].Messages {
			if _, ok := m.Values["v"].(string); !ok {
				b.Fatal("no field v")
			}
			ids = append(ids, m.ID)
		}
		read += len(ids)
		must(b, c.XAck(ctx, stream, "g", ids...).Err())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
