package weir_test

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
)

// Throughput benchmarks: one op is one input record. Each reports records
// per second of CPU time (rec/s/core), allocations per record, the same for
// a hand-written Go loop doing the same work, and the ratio engine/loop.
// Run with a fixed record count, for example:
//
//	go test -run '^$' -bench Throughput -benchtime 2000000x .

func benchScenario(b *testing.B, name string, opts weir.Options) {
	s, ok := bench.Lookup(name)
	if !ok {
		b.Skipf("scenario %s not available", name)
	}
	n := int64(b.N)
	opts = bench.WithDefaults(opts)
	b.StopTimer()
	var want bench.Checksum
	loop, err := bench.Measure(n, func() error { want = s.Loop(n); return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	var got bench.Checksum
	eng, err := bench.Measure(n, func() error {
		var err error
		got, err = s.Engine(context.Background(), n, opts)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got.Sum != want.Sum || (!s.SumOnly && got.Records != want.Records) {
		b.Fatalf("engine checksum %+v, loop %+v", got, want)
	}
	b.ReportMetric(eng.PerCoreSecond(), "rec/s/core")
	b.ReportMetric(eng.AllocsPerRecord(), "allocs/rec")
	b.ReportMetric(loop.PerCoreSecond(), "loop-rec/s/core")
	b.ReportMetric(eng.PerCoreSecond()/loop.PerCoreSecond(), "ratio")
}

func BenchmarkThroughputMapFilter(b *testing.B) { benchScenario(b, "a", weir.Options{}) }

func BenchmarkThroughputMapFilterUnchained(b *testing.B) {
	benchScenario(b, "a", weir.Options{DisableChaining: true})
}

func BenchmarkThroughputTumblingCount(b *testing.B) { benchScenario(b, "b", weir.Options{}) }
func BenchmarkThroughputDenseTumbling(b *testing.B) { benchScenario(b, "e", weir.Options{}) }

func BenchmarkThroughputSessionCount(b *testing.B) { benchScenario(b, "c", weir.Options{}) }

func BenchmarkThroughputProcessTimers(b *testing.B) { benchScenario(b, "d", weir.Options{}) }
