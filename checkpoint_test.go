package weir_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

// slowCounter emits 0..n-1, a few records per poll with a pause between
// polls, so that checkpoints fall in the middle of the stream. It stores its
// position in checkpoints.
type slowCounter struct {
	n, perPoll int
	// holdAt, with gate, makes the reader wait before number holdAt until
	// gate returns true (see failAfterCommit), so that a run fails there
	// whatever the machine's speed instead of reaching the end first.
	holdAt int
	gate   func() bool
}

func (c slowCounter) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	r := &slowReader{c: c, time: ctx.Time}
	for _, it := range ctx.Restored {
		n, k := binary.Uvarint(it)
		if k <= 0 {
			return nil, errors.New("bad position")
		}
		r.next = int(n)
	}
	return r, nil
}

type slowReader struct {
	c       slowCounter
	next    int
	emitted int // numbers emitted by this run
	time    weir.ProcessingTimeService
	wait    bool
}

func (r *slowReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	if r.wait {
		r.wait = false
		r.time.Schedule(r.time.Now()+1, func(int64) error { return nil })
		return weir.NothingAvailable, nil
	}
	for i := 0; i < r.c.perPoll && r.next < r.c.n; i++ {
		if r.c.gate != nil && r.next == r.c.holdAt && r.emitted > 0 && !r.c.gate() {
			break // hold until the gate opens (a checkpoint of this run committed)
		}
		out.Collect(r.next)
		r.next++
		r.emitted++
	}
	if r.next == r.c.n {
		return weir.EndOfInput, nil
	}
	r.wait = true
	return weir.MoreAvailable, nil
}

func (r *slowReader) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{binary.AppendUvarint(nil, uint64(r.next))}, nil
}

func (r *slowReader) Close() error { return nil }

type sumOut struct {
	Key, Seq, Sum int
}

// committed is the "external system" of txSink: transactions become
// visible atomically and at most once, whatever the number of commit calls.
type committed[T any] struct {
	mu   sync.Mutex
	txns map[string][]T
}

func newCommitted[T any]() *committed[T] { return &committed[T]{txns: map[string][]T{}} }

func (c *committed[T]) all() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []T
	for _, t := range c.txns {
		out = append(out, t...)
	}
	return out
}

// txSink is a two-phase-commit sink: a checkpoint's records form one
// transaction, named by run, subtask and checkpoint.
type txSink[T any] struct{ c *committed[T] }

func (s txSink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	return &txWriter[T]{c: s.c, subtask: ctx.Subtask, run: time.Now().UnixNano()}, nil
}

type txWriter[T any] struct {
	c       *committed[T]
	subtask int
	run     int64
	buf     []T
}

type txn[T any] struct {
	ID   string
	Recs []T
}

func (w *txWriter[T]) Write(_ context.Context, v T, _ int64) error {
	w.buf = append(w.buf, v)
	return nil
}
func (w *txWriter[T]) Flush(context.Context, bool) error { return nil }
func (w *txWriter[T]) Close() error                      { return nil }

func (w *txWriter[T]) PreCommit(_ context.Context, id int64) ([][]byte, error) {
	b, err := json.Marshal(txn[T]{fmt.Sprintf("%d-%d-%d", w.run, w.subtask, id), w.buf})
	w.buf = nil
	return [][]byte{b}, err
}

func (w *txWriter[T]) Commit(ctx context.Context, items [][]byte) error {
	for _, it := range items {
		var t txn[T]
		if err := json.Unmarshal(it, &t); err != nil {
			return err
		}
		w.c.mu.Lock()
		if _, done := w.c.txns[t.ID]; !done {
			w.c.txns[t.ID] = t.Recs
		}
		w.c.mu.Unlock()
	}
	return nil
}

type runningSum struct{ sum state.Value[int] }

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[int]) error {
	r.sum = state.GetValue[int, int](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[int, sumOut], v int) error {
	s, _ := r.sum.Value()
	s += v
	r.sum.Update(s)
	ctx.Collect(sumOut{Key: ctx.Key(), Seq: v, Sum: s})
	return nil
}

var errInjected = errors.New("injected failure")

// count returns the number of transactions committed so far.
func (c *committed[T]) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.txns)
}

// failAfterCommit returns a map function that fails with errInjected at the
// first record at or after failAt that arrives once this run committed a
// checkpoint's output: the next run must then restore (whatever the
// machine's speed), never start over. failAt < 0 never fails.
func failAfterCommit(failAt int, count func() int) func(int) (int, error) {
	committed := commitGate(count)
	return func(v int) (int, error) {
		if failAt >= 0 && v >= failAt && committed() {
			return 0, errInjected
		}
		return v, nil
	}
}

// commitGate returns a function that reports whether this run committed a
// checkpoint's output (count grew since the call).
func commitGate(count func() int) func() bool {
	start := count()
	return func() bool { return count() > start }
}

// failingCounter is a slowCounter of n numbers, perPoll a poll, that
// holds before failAt until this run committed a checkpoint (so that
// failAfterCommit fails there rather than the input ending first).
func failingCounter(n, perPoll, failAt int, count func() int) slowCounter {
	return slowCounter{n: n, perPoll: perPoll, holdAt: failAt, gate: commitGate(count)}
}

// exactlyOnceJob runs the pipeline once; it fails with errInjected at record
// failAt or after (see failAfterCommit).
func exactlyOnceJob(dir string, p, n, failAt int, c *committed[sumOut]) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir, Retained: 2},
		Restore:     "latest",
	})
	src := weir.FromSource[int](env, failingCounter(n, 20, failAt, c.count), weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	checked := weir.TryMap(src, failAfterCommit(failAt, c.count)).SetParallelism(1) // chained to the source: keeps per-key order
	sums := weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(checked, func(v int) int { return v % 7 }), &runningSum{}).UID("sums")
	sums.SinkTo(txSink[sumOut]{c}).UID("sink")
	return env.Execute(context.Background())
}

// TestExactlyOnceAfterFailures fails the job several times in the middle of
// the stream, restarts it from the latest checkpoint each time, and checks
// that the committed output holds every record exactly once with the
// running sums of an uninterrupted run.
func TestExactlyOnceAfterFailures(t *testing.T) {
	const n = 3000
	for _, p := range []int{1, 3} {
		dir := t.TempDir()
		c := newCommitted[sumOut]()
		for _, failAt := range []int{700, 1500, 1501, 2600} {
			if err := exactlyOnceJob(dir, p, n, failAt, c); !errors.Is(err, errInjected) {
				t.Fatalf("p=%d: run failing at %d: %v", p, failAt, err)
			}
			// Checkpoints completed before the failure: output was committed
			// (so the next run must restore, not start over).
			if len(c.all()) == 0 {
				t.Fatalf("p=%d: nothing committed before the failure at %d", p, failAt)
			}
		}
		if err := exactlyOnceJob(dir, p, n, -1, c); err != nil {
			t.Fatalf("p=%d: final run: %v", p, err)
		}
		got := c.all()
		seen := map[int]sumOut{}
		for _, o := range got {
			if prev, dup := seen[o.Seq]; dup {
				t.Fatalf("p=%d: record %d committed twice: %+v and %+v", p, o.Seq, prev, o)
			}
			seen[o.Seq] = o
		}
		want := map[int]int{}
		for i := 0; i < n; i++ {
			want[i%7] += i
			o, ok := seen[i]
			if !ok {
				t.Fatalf("p=%d: record %d never committed (%d committed)", p, i, len(got))
			}
			if o.Key != i%7 || o.Sum != want[i%7] {
				t.Fatalf("p=%d: record %d: got %+v, want key %d sum %d", p, i, o, i%7, want[i%7])
			}
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) == 0 || len(ents) > 3 {
			t.Fatalf("p=%d: %d checkpoint directories retained, want 1..3", p, len(ents))
		}
		if _, err := os.Stat(filepath.Join(dir, ents[len(ents)-1].Name(), "_metadata")); err != nil {
			t.Fatalf("p=%d: newest checkpoint has no metadata: %v", p, err)
		}
	}
}

type winSum struct{ Key, Start, Sum int }

// TestWindowsExactlyOnceAfterFailures restores tumbling windows (whose
// timers are implicit in their state) and session windows (explicit
// timers) from checkpoints after injected failures.
func TestWindowsExactlyOnceAfterFailures(t *testing.T) {
	const n = 3000
	for _, session := range []bool{false, true} {
		dir := t.TempDir()
		c := newCommitted[winSum]()
		run := func(failAt int) error {
			env := weir.NewEnvironment(weir.Options{
				Parallelism: 2, AutoWatermarkInterval: -1,
				Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
				Restore:     "latest",
			})
			src := weir.FromSource[int](env, failingCounter(n, 20, failAt, c.count),
				weir.ForMonotonousTimestamps[int]().WithTimestamps(func(v int) int64 { return int64(v) * 10 }), "counter").
				SetParallelism(1).UID("counter")
			checked := weir.TryMap(src, failAfterCommit(failAt, c.count)).SetParallelism(1)
			keyed := weir.KeyBy(checked, func(v int) int { return v % 3 })
			var ws weir.WindowedStream[int, int, window.TimeWindow]
			if session {
				ws = weir.Window(keyed, window.DynamicEventTimeSession[int](func(int) time.Duration { return 100 * time.Millisecond }))
			} else {
				ws = weir.Window(keyed, window.TumblingEventTime[int](time.Second))
			}
			sums := weir.WindowReduceProcess(ws, func(a, b int) (int, error) { return a + b, nil },
				weir.ProcessWindowFunc[int, int, winSum, window.TimeWindow](func(ctx *weir.WindowContext[int, winSum, window.TimeWindow], k int, in []int) error {
					ctx.Collect(winSum{Key: k, Start: int(ctx.Window().Start), Sum: in[0]})
					return nil
				})).UID("windows")
			sums.SinkTo(txSink[winSum]{c}).UID("sink")
			return env.Execute(context.Background())
		}
		for _, failAt := range []int{800, 1900} {
			if err := run(failAt); !errors.Is(err, errInjected) {
				t.Fatalf("session=%v: %v", session, err)
			}
		}
		if err := run(-1); err != nil {
			t.Fatalf("session=%v: %v", session, err)
		}
		got := map[[2]int]int{}
		for _, r := range c.all() {
			k := [2]int{r.Key, r.Start}
			if _, dup := got[k]; dup {
				t.Fatalf("session=%v: window %v committed twice", session, k)
			}
			got[k] = r.Sum
		}
		want := map[[2]int]int{}
		for i := 0; i < n; i++ {
			start := (i * 10 / 1000) * 1000
			if session {
				// Records of a key are 30 ms apart: one session per key.
				start = (i % 3) * 10
			}
			want[[2]int{i % 3, start}] += i
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("session=%v (-want +got):\n%s", session, diff)
		}
	}
}
