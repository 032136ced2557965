package weir

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/runtime"
)

// TestAlignGroup drives an alignment group step by step: the lowest
// watermark over members that are in, the wake-up when it rises, and the
// pause of a member more than the drift ahead.
func TestAlignGroup(t *testing.T) {
	var gs alignGroups
	g, a := gs.add("g")
	_, b := gs.add("g")
	if a != 0 || b != 1 {
		t.Fatalf("source indexes %d, %d", a, b)
	}
	g.join(a, 0, 2)
	g.join(a, 1, 2)
	x := &aligner{g: g, src: a, sub: 0, drift: 10, limit: runtime.MinWatermark}
	if min, _ := g.lowest(); min != runtime.MinWatermark {
		t.Fatalf("source b has not opened: lowest %d, want MinWatermark", min)
	}
	g.join(b, 0, 1)
	g.set(a, 0, 100, false)
	g.set(a, 1, 50, false)
	if ch := x.paused(100); ch == nil {
		t.Fatal("a member without a watermark must hold the others back")
	}
	_, wake := g.lowest()
	g.set(b, 0, 95, false)
	select {
	case <-wake:
	default:
		t.Fatal("the lowest watermark rose without a wake-up")
	}
	if min, _ := g.lowest(); min != 50 {
		t.Fatalf("lowest %d, want 50", min)
	}
	if ch := x.paused(100); ch == nil {
		t.Fatal("100 is more than 10 ahead of 50: must pause")
	}
	if ch := x.paused(60); ch != nil {
		t.Fatal("60 is within 10 of 50: must not pause")
	}
	g.set(a, 1, 50, true) // idle: out of the minimum
	if ch := x.paused(100); ch != nil {
		t.Fatal("100 is within 10 of 95 once the idle member is out")
	}
	g.set(b, 0, runtime.MaxWatermark, true)
	g.set(a, 0, 100, true)
	if min, _ := g.lowest(); min != runtime.MaxWatermark {
		t.Fatalf("every member out: lowest %d, want MaxWatermark", min)
	}
	if ch := x.paused(1 << 40); ch != nil {
		t.Fatal("nothing to wait for once every member is out")
	}
	g.join(a, 1, 2) // a restart: no watermark yet
	if min, _ := g.lowest(); min != runtime.MinWatermark {
		t.Fatalf("restarted member: lowest %d, want MinWatermark", min)
	}
}

// progress is what the subtasks of skewSource share: the watermark each
// emitted last (stored before the engine sees it) and whether it finished.
type progress struct {
	wm         []atomic.Int64
	done       []atomic.Bool
	violations atomic.Int64
	worst      atomic.Int64
}

// skewSource emits, per subtask, n records with timestamps 0, 1, 2, ...
// and a watermark after every run of 16 records, without a generator.
// Subtask 1 spins a loop for every record, so it falls behind unless
// aligned. Before each poll a subtask checks the alignment invariant: its
// own watermark is at most drift above every unfinished subtask's.
type skewSource struct {
	n     int64
	drift int64
	p     *progress
}

func (s skewSource) CreateReader(ctx SourceContext) (SourceReader[int64], error) {
	return &skewReader{src: s, sub: ctx.Subtask, wm: MinWatermark}, nil
}

type skewReader struct {
	src      skewSource
	sub      int
	next, wm int64
	sink     int64
}

func (r *skewReader) Poll(_ context.Context, out *SourceOutput[int64]) (PollStatus, error) {
	p := r.src.p
	for o := range p.wm {
		if o == r.sub || p.done[o].Load() {
			continue
		}
		if ahead := r.wm - p.wm[o].Load(); r.wm != MinWatermark && ahead > r.src.drift {
			p.violations.Add(1)
			if ahead > p.worst.Load() {
				p.worst.Store(ahead)
			}
		}
	}
	for i := 0; i < 16 && r.next < r.src.n; i++ {
		if r.sub == 1 {
			for j := range 20 * 64 {
				r.sink += int64(j) ^ r.next
			}
		}
		out.CollectWithTimestamp(r.next, r.next)
		r.next++
	}
	r.wm = r.next - 1
	p.wm[r.sub].Store(r.wm)
	out.EmitWatermark(r.wm)
	if r.next >= r.src.n {
		p.done[r.sub].Store(true)
		return EndOfInput, nil
	}
	return MoreAvailable, nil
}

func (r *skewReader) Close() error { return nil }

// SnapshotState stores the position (the test never restores it).
func (r *skewReader) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{binary.AppendVarint(nil, r.next)}, nil
}

// TestWatermarkAlignmentBoundsDrift runs two source subtasks of unequal
// speed into a keyed count: with alignment no subtask ever reads while its
// watermark is more than the drift ahead of the other's, and every record
// is counted once.
func TestWatermarkAlignmentBoundsDrift(t *testing.T) {
	for _, checkpoints := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpoints=%v", checkpoints), func(t *testing.T) {
			const n, drift = 20_000, 64
			p := &progress{wm: make([]atomic.Int64, 2), done: make([]atomic.Bool, 2)}
			for i := range p.wm {
				p.wm[i].Store(MinWatermark)
			}
			opts := Options{Parallelism: 2}
			if checkpoints {
				opts.Checkpoints = CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()}
			}
			env := NewEnvironment(opts)
			strategy := WatermarkStrategy[int64]{}.WithWatermarkAlignment("skew", drift*time.Millisecond)
			src := FromSource[int64](env, skewSource{n: n, drift: drift, p: p}, strategy, "skew")
			var mu sync.Mutex
			seen := map[int64]int{}
			KeyBy(src, func(v int64) int64 { return v % 97 }).ByKey().SinkTo(SinkFunc[int64](func(_ context.Context, v int64, _ int64) error {
				mu.Lock()
				seen[v]++
				mu.Unlock()
				return nil
			}))
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			if v := p.violations.Load(); v != 0 {
				t.Fatalf("%d polls more than %d ahead (worst %d)", v, drift, p.worst.Load())
			}
			if len(seen) != n {
				t.Fatalf("%d distinct records, want %d", len(seen), n)
			}
			for v, c := range seen {
				if c != 2 {
					t.Fatalf("record %d seen %d times, want 2 (one per subtask)", v, c)
				}
			}
		})
	}
}

// idleSource's subtask 0 emits n records with a watermark each; subtask 1
// marks itself idle and ends when subtask 0 ended (finished is closed).
type idleSource struct {
	n        int64
	finished chan struct{}
}

func (s idleSource) CreateReader(ctx SourceContext) (SourceReader[int64], error) {
	return &idleReader{n: s.n, sub: ctx.Subtask, finished: s.finished}, nil
}

type idleReader struct {
	n, next  int64
	sub      int
	finished chan struct{}
	marked   bool
}

func (r *idleReader) Available() <-chan struct{} { return r.finished }

func (r *idleReader) Poll(_ context.Context, out *SourceOutput[int64]) (PollStatus, error) {
	if r.sub == 1 {
		if !r.marked {
			r.marked = true
			out.MarkIdle()
			return NothingAvailable, nil
		}
		return EndOfInput, nil
	}
	out.CollectWithTimestamp(r.next, r.next)
	out.EmitWatermark(r.next)
	r.next++
	if r.next == r.n {
		close(r.finished)
		return EndOfInput, nil
	}
	return MoreAvailable, nil
}

func (r *idleReader) Close() error { return nil }

// TestWatermarkAlignmentIdleDoesNotHold: a subtask that marked itself idle
// does not hold the aligned group back (the job would never end).
func TestWatermarkAlignmentIdleDoesNotHold(t *testing.T) {
	env := NewEnvironment(Options{Parallelism: 2})
	strategy := WatermarkStrategy[int64]{}.WithWatermarkAlignment("idle", time.Millisecond)
	var count atomic.Int64
	FromSource[int64](env, idleSource{n: 5000, finished: make(chan struct{})}, strategy, "idle").SinkTo(SinkFunc[int64](func(context.Context, int64, int64) error {
		count.Add(1)
		return nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if c := count.Load(); c != 5000 {
		t.Fatalf("%d records, want 5000", c)
	}
}
