package datagen_test

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
)

// BenchmarkGeneratorMapFilterDiscard is the throughput benchmark
// "generator → map → filter → discard" on one subtask: b.N records.
func BenchmarkGeneratorMapFilterDiscard(b *testing.B) {
	b.ReportAllocs()
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	src := weir.FromSource[int64](env, datagen.New(func(seq int64) int64 { return seq }, datagen.Options{Count: int64(b.N)}), weir.NoWatermarks[int64](), "gen")
	m := weir.Map(src, func(v int64) int64 { return v * 3 })
	m.Filter(func(v int64) bool { return v&1 == 0 }).SinkTo(weir.SinkFunc[int64](func(context.Context, int64, int64) error { return nil }))
	b.ResetTimer()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
