package nexmark

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
)

// BenchmarkQueries runs each query over b.N generated events (one op is
// one event), generator included; use -benchtime=1000000x and
// -cpuprofile to see where a query spends its time.
func BenchmarkQueries(b *testing.B) {
	for _, q := range Queries() {
		b.Run(q.Name, func(b *testing.B) {
			cfg := DefaultConfig(int64(b.N), 0)
			cfg.Rate = 10_000_000
			b.ReportAllocs()
			if _, err := Bench(context.Background(), q, cfg, weir.Options{Parallelism: 1}, nil); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkGenerator measures the generator alone.
func BenchmarkGenerator(b *testing.B) {
	g, err := NewGenerator(DefaultConfig(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for n := range b.N {
		_ = g.Event(int64(n))
	}
}
