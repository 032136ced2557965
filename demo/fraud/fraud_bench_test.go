package fraud

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
)

// BenchmarkPipeline runs the whole demo pipeline; one op is one payment.
//
//	go test -run '^$' -bench Pipeline -benchtime 500000x ./demo/fraud
func BenchmarkPipeline(b *testing.B) {
	b.ReportAllocs()
	cfg := Config{Generator: GeneratorConfig{Seed: 1, Events: int64(b.N)}}
	sum, err := Run(context.Background(), cfg, RunOptions{Env: weir.Options{Parallelism: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if sum.Payments != int64(b.N) {
		b.Fatalf("%d payments, want %d", sum.Payments, b.N)
	}
	b.ReportMetric(float64(sum.Alerts)/float64(b.N)*1e6, "alerts/Mpayment")
}
