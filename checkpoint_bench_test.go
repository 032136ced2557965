package weir_test

import (
	"context"
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// fastCounter emits 0..n-1 as fast as possible and stores its position.
type fastCounter struct{ n int }

func (c fastCounter) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	r := &fastReader{n: c.n}
	for _, it := range ctx.Restored {
		v, k := binary.Uvarint(it)
		if k <= 0 {
			return nil, errors.New("bad position")
		}
		r.next = int(v)
	}
	return r, nil
}

type fastReader struct{ n, next int }

func (r *fastReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for i := 0; i < 1024 && r.next < r.n; i++ {
		out.Collect(r.next)
		r.next++
	}
	if r.next == r.n {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

func (r *fastReader) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{binary.AppendUvarint(nil, uint64(r.next))}, nil
}

func (r *fastReader) Close() error { return nil }

type countPerKey struct{ n state.Value[int] }

func (c *countPerKey) Open(ctx *weir.KeyedRuntimeContext[int]) error {
	c.n = state.GetValue[int, int](ctx.State(), state.Descriptor{Name: "n"})
	return nil
}

func (c *countPerKey) ProcessElement(ctx *weir.KeyedContext[int, int], v int) error {
	n, _ := c.n.Value()
	c.n.Update(n + 1)
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckpointOverhead runs a keyed count over 100k keys, with
// checkpoints every second (exactly-once, 100k keys of state each time) and
// without, and reports records/s per core of CPU time for both and their
// ratio (the target is at least 0.9).
func BenchmarkCheckpointOverhead(b *testing.B) {
	run := func(interval time.Duration) (float64, int) {
		opts := weir.Options{Parallelism: 2}
		if interval > 0 {
			opts.Checkpoints = weir.CheckpointOptions{Interval: interval, Dir: b.TempDir()}
		}
		env := weir.NewEnvironment(opts)
		src := weir.FromSource[int](env, fastCounter{n: b.N}, weir.NoWatermarks[int](), "counter").SetParallelism(1)
		weir.ProcessKeyed[int, int, int](weir.KeyBy(src, func(v int) int { return v % 100_000 }), &countPerKey{})
		start := cpuTime()
		if err := env.Execute(context.Background()); err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime() - start
		return float64(b.N) / cpu.Seconds(), 0
	}
	// Interleaved, best of three each: the machine's noise hits both alike.
	var without, with float64
	for i := 0; i < 3; i++ {
		a, _ := run(0)
		c, _ := run(time.Second)
		without, with = max(without, a), max(with, c)
	}
	b.ReportMetric(without, "rec/s/core-no-chk")
	b.ReportMetric(with, "rec/s/core-chk-1s")
	b.ReportMetric(with/without, "ratio")
}
