package weir_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// spin burns CPU deterministically (no sleep): a slow consumer.
func spin(v, n int) int {
	x := v
	for range n {
		x = x*1103515245 + 12345
	}
	spun.Add(int64(x & 1))
	return x
}

var spun atomic.Int64

// A back-pressured diamond with aligned (exactly-once) checkpoints and
// tiny channels: one source task writes to a two-input operator directly
// and through a slow branch, through several writers per gate (rebalance,
// broadcast, a self-union, a keyed exchange), so that alignment blocks a
// channel whose writer waits for it to fall to half while the other input
// must progress. Every capacity the half-capacity wake-up treats apart
// (1, 2, 3: low 0, 1, 1) and the default must end with every record and
// completed checkpoints. A deadlock fails at the context's deadline.
func TestBackpressureAlignedDiamondLiveness(t *testing.T) {
	for _, capacity := range []int{1, 2, 3, 8} {
		for _, batch := range []int{1, 7} {
			t.Run(fmt.Sprintf("cap=%d/batch=%d", capacity, batch), func(t *testing.T) {
				const n = 4_000
				var completed atomic.Int64
				opts := weir.Options{Parallelism: 2, BatchSize: batch, ChannelCapacity: capacity,
					Checkpoints: weir.CheckpointOptions{Interval: time.Millisecond, Dir: t.TempDir(), TolerableFailures: 1 << 30},
					OnCheckpoint: func(e weir.CheckpointEvent) {
						if e.Completed {
							completed.Add(1)
						}
					}}
				env := weir.NewEnvironment(opts)
				src := weir.FromSource[int](env, fastCounter{n: n}, weir.NoWatermarks[int](), "counter")
				slow := weir.Map(src.Rebalance(), func(v int) int { spin(v, 500); return v })
				bcast := weir.Map(src.Broadcast(), func(v int) int { return -1 - v })
				keyed := weir.KeyBy(src, func(v int) int { return v }).Stream()
				left := weir.Union(slow, keyed.Rebalance(), src.Rebalance())
				right := weir.Union(bcast, bcast)
				joined := weir.CoMap(weir.Connect(left, right), func(v int) int { return 1 }, func(v int) int { return 2 })
				var ones, twos atomic.Int64
				joined.SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error {
					if v == 1 {
						ones.Add(1)
					} else {
						twos.Add(1)
					}
					return nil
				}))
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				if err := env.Execute(ctx); err != nil {
					t.Fatalf("Execute: %v (deadlock if the deadline passed; %d checkpoints completed)", err, completed.Load())
				}
				// Each of the 2 source subtasks emits 0..n-1. left: three
				// copies of every record; right: a broadcast copy per
				// subtask (2), twice.
				if ones.Load() != 6*n || twos.Load() != 8*n {
					t.Fatalf("sink saw %d left and %d right records, want %d and %d", ones.Load(), twos.Load(), 6*n, 8*n)
				}
				if completed.Load() == 0 {
					t.Fatal("no checkpoint completed")
				}
			})
		}
	}
}

// BenchmarkBackpressuredAlignment runs a job whose rebalanced map is the
// bottleneck (CPU work per record; each map subtask reads a channel from
// each of the 2 source subtasks), with aligned checkpoints every
// 20 ms, and reports the median and maximum alignment (the longest of a
// checkpoint's subtasks) and checkpoint duration, and records/s per core.
// For the review of the half-capacity wake-up: run on the base and the
// new engine alternately.
func BenchmarkBackpressuredAlignment(b *testing.B) {
	const n = 2_000_000
	for range b.N {
		var mu sync.Mutex
		var align, dur []time.Duration
		opts := weir.Options{Parallelism: 2,
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: b.TempDir()},
			OnCheckpoint: func(e weir.CheckpointEvent) {
				if e.Completed && !e.Triggered.IsZero() {
					mu.Lock()
					var a time.Duration
					for _, st := range e.Subtasks {
						a = max(a, st.Alignment())
					}
					align = append(align, a)
					dur = append(dur, e.Duration)
					mu.Unlock()
				}
			}}
		env := weir.NewEnvironment(opts)
		src := weir.FromSource[int](env, fastCounter{n: n}, weir.NoWatermarks[int](), "counter")
		var sink atomic.Int64
		weir.Map(src.Rebalance(), func(v int) int { return spin(v, 300) }).
			SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error { sink.Add(int64(v & 1)); return nil }))
		start := cpuTime()
		if err := env.Execute(context.Background()); err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime() - start
		slices.Sort(align)
		slices.Sort(dur)
		if len(align) == 0 {
			b.Fatal("no checkpoint completed")
		}
		b.ReportMetric(float64(len(align)), "checkpoints")
		b.ReportMetric(float64(align[len(align)/2].Microseconds())/1000, "align-p50-ms")
		b.ReportMetric(float64(align[len(align)*9/10].Microseconds())/1000, "align-p90-ms")
		b.ReportMetric(float64(align[len(align)-1].Microseconds())/1000, "align-max-ms")
		b.ReportMetric(float64(dur[len(dur)/2].Microseconds())/1000, "dur-p50-ms")
		b.ReportMetric(float64(dur[len(dur)-1].Microseconds())/1000, "dur-max-ms")
		b.ReportMetric(float64(n)/cpu.Seconds(), "rec/s/core")
	}
}
