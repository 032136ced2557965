package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

// BenchmarkKeyedSum runs Kafka → keyed running sum → Kafka on an
// in-process kfake broker (which shares the CPU) until a read_committed
// consumer has every output record: end-to-end records per second, with
// 100 ms checkpoints, at least once and exactly once. Run with a fixed
// count, e.g. -benchtime=50000x.
func BenchmarkKeyedSum(b *testing.B) {
	for _, g := range []struct {
		name string
		g    Guarantee
	}{{"at-least-once", AtLeastOnce}, {"exactly-once", ExactlyOnce}} {
		b.Run(g.name, func(b *testing.B) {
			seeds := cluster(b)
			createTopic(b, seeds, "in", 4)
			createTopic(b, seeds, "out", 4)
			recs := make([]*kgo.Record, b.N)
			for i := range recs {
				v, _ := json.Marshal(inRec{Key: fmt.Sprint("k", i%100), Seq: int64(i), Value: int64(i)})
				recs[i] = &kgo.Record{Topic: "in", Partition: int32(i % 4), Value: v}
			}
			produce(b, seeds, recs...)
			env := weir.NewEnvironment(weir.Options{
				Parallelism: 2,
				Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: b.TempDir()},
			})
			src := weir.FromSource[inRec](env, NewSource(SourceOptions[inRec]{
				Brokers: seeds, Topics: []string{"in"}, Deserializer: JSONSerde[inRec]{},
			}), weir.NoWatermarks[inRec](), "in")
			sums := weir.ProcessKeyed[string, inRec, outRec](weir.KeyBy(src, func(v inRec) string { return v.Key }), &runningSum{})
			sums.SinkTo(NewSink(SinkOptions[outRec]{
				Brokers: seeds, Topic: "out", Serializer: JSONSerde[outRec]{},
				Key:       func(v outRec) []byte { return []byte(v.Key) },
				Guarantee: g.g, TransactionalIDPrefix: "bench",
			}))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			job, err := env.Start(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			consume(b, seeds, "out", b.N, true)
			elapsed := time.Since(start)
			b.StopTimer()
			job.Cancel()
			job.Wait()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
		})
	}
}
