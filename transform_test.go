package weir_test

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
)

// bucketSum is a user operator on the operator contract: it sums values per
// event-time bucket of width ms and emits (bucket start, sum) when the
// watermark passes the bucket's end, then forwards the watermark.
type bucketSum struct {
	width int64
	out   operator.Output[[2]int64]
	open  map[int64]int64
}

func (b *bucketSum) Open(*operator.Context) error { b.open = map[int64]int64{}; return nil }
func (b *bucketSum) Finish() error                { return nil }
func (b *bucketSum) Close() error                 { return nil }

func (b *bucketSum) ProcessElement(v int64, ts int64) error {
	b.open[ts-ts%b.width] += v
	return nil
}

func (b *bucketSum) ProcessWatermark(wm int64) error {
	starts := make([]int64, 0, len(b.open))
	for s := range b.open {
		if s+b.width-1 <= wm {
			starts = append(starts, s)
		}
	}
	slices.Sort(starts)
	for _, s := range starts {
		if err := b.out.ProcessElement([2]int64{s, b.open[s]}, s+b.width-1); err != nil {
			return err
		}
		delete(b.open, s)
	}
	return b.out.ProcessWatermark(wm)
}

func (b *bucketSum) ProcessWatermarkStatus(idle bool) error {
	return b.out.ProcessWatermarkStatus(idle)
}

// TestTransformEventTime runs a user operator over an out-of-order input
// and checks its buckets against sums computed here.
func TestTransformEventTime(t *testing.T) {
	var in []int64
	want := map[int64]int64{}
	for i := range int64(500) {
		ts := (i*37)%400 + i // out of order, bounded by 400
		in = append(in, ts)
		want[ts-ts%50] += ts
	}
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromTimestamped(env, timestamped(in, func(v int64) int64 { return v }), weir.ForBoundedOutOfOrderness[int64](400*time.Millisecond))
	sums := weir.Transform(src, "bucket-sum", func(out operator.Output[[2]int64]) operator.OneInput[int64] {
		return &bucketSum{width: 50, out: out}
	})
	got := weir.Collect(sums)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got.Values()) != len(want) {
		t.Fatalf("%d buckets, want %d: %v", len(got.Values()), len(want), got.Values())
	}
	for _, tv := range got.Timestamped() {
		s, sum := tv.Value[0], tv.Value[1]
		if want[s] != sum {
			t.Errorf("bucket %d: sum %d, want %d", s, sum, want[s])
		}
		if tv.TS != s+49 {
			t.Errorf("bucket %d emitted at %d, want %d", s, tv.TS, s+49)
		}
	}
}

// TestTransformNil: a factory returning nil fails the job, naming it.
func TestTransformNil(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.Transform(weir.FromSlice(env, []int{1}), "broken", func(operator.Output[int]) operator.OneInput[int] { return nil }))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"broken"`) {
		t.Fatalf("Execute = %v, want an error naming the operator", err)
	}
	env = weir.NewEnvironment(weir.Options{})
	a, b := weir.FromSlice(env, []int{1}), weir.FromSlice(env, []string{"x"})
	weir.Collect(weir.TransformTwo(a, b, "broken2", func(operator.Output[int]) operator.TwoInput[int, string] { return nil }))
	err = env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"broken2"`) {
		t.Fatalf("Execute = %v, want an error naming the operator", err)
	}
}

// zip is a two-input user operator: it emits len(string) + int for every
// pair, in arrival order per input, and counts both inputs.
type zip struct {
	out     operator.Output[int]
	ints    []int
	strs    []string
	emitted int
}

func (z *zip) Open(*operator.Context) error { return nil }
func (z *zip) Finish() error                { return nil }
func (z *zip) Close() error                 { return nil }
func (z *zip) ProcessElement1(v int, ts int64) error {
	z.ints = append(z.ints, v)
	return z.pair()
}
func (z *zip) ProcessElement2(v string, ts int64) error {
	z.strs = append(z.strs, v)
	return z.pair()
}
func (z *zip) pair() error {
	for len(z.ints) > 0 && len(z.strs) > 0 {
		if err := z.out.ProcessElement(z.ints[0]+len(z.strs[0]), operator.NoTimestamp); err != nil {
			return err
		}
		z.ints, z.strs = z.ints[1:], z.strs[1:]
	}
	return nil
}
func (z *zip) ProcessWatermark(wm int64) error        { return z.out.ProcessWatermark(wm) }
func (z *zip) ProcessWatermarkStatus(idle bool) error { return z.out.ProcessWatermarkStatus(idle) }

func TestTransformTwo(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	a := weir.FromSlice(env, []int{10, 20, 30})
	b := weir.FromSlice(env, []string{"a", "bb", "ccc"})
	got := weir.Collect(weir.TransformTwo(a, b, "zip", func(out operator.Output[int]) operator.TwoInput[int, string] {
		return &zip{out: out}
	}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := got.Values(); !slices.Equal(v, []int{11, 22, 33}) {
		t.Fatalf("got %v, want [11 22 33]", v)
	}
}

// runningTotal is a stateful user operator: for every record it emits how
// many records it saw and their sum. Its state is one operator-state item.
type runningTotal struct {
	out          operator.Output[[2]int64]
	count, total int64
}

func (r *runningTotal) Open(ctx *operator.Context) error {
	if ctx.Restore == nil {
		return nil
	}
	for _, it := range ctx.Restore.Items {
		c, n := binary.Varint(it)
		s, m := binary.Varint(it[n:])
		if n <= 0 || m <= 0 {
			return errors.New("runningTotal: bad state item")
		}
		r.count += c
		r.total += s
	}
	return nil
}
func (r *runningTotal) Finish() error { return nil }
func (r *runningTotal) Close() error  { return nil }
func (r *runningTotal) ProcessElement(v int, ts int64) error {
	r.count++
	r.total += int64(v)
	return r.out.ProcessElement([2]int64{r.count, r.total}, ts)
}
func (r *runningTotal) ProcessWatermark(wm int64) error { return r.out.ProcessWatermark(wm) }
func (r *runningTotal) ProcessWatermarkStatus(idle bool) error {
	return r.out.ProcessWatermarkStatus(idle)
}
func (r *runningTotal) SnapshotState(_ int64, w *operator.StateWriter) error {
	w.AddItem(binary.AppendVarint(binary.AppendVarint(nil, r.count), r.total))
	return nil
}

// totalsJob starts the job counting n numbers into running totals, with
// a two-phase-commit sink into c. With holdAt > 0 the source emits nothing
// from number holdAt on, so a run stopped with a savepoint stops before the
// end on any machine.
func totalsJob(dir, restore string, n, holdAt int, c *committed[[2]int64]) (*weir.JobClient, error) {
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir},
		Restore:     restore,
	})
	counter := slowCounter{n: n, perPoll: 5}
	if holdAt > 0 {
		counter.holdAt, counter.gate = holdAt, func() bool { return false }
	}
	src := weir.FromSource[int](env, counter, weir.NoWatermarks[int](), "counter").UID("counter")
	totals := weir.Transform(src, "totals", func(out operator.Output[[2]int64]) operator.OneInput[int] {
		return &runningTotal{out: out}
	}).UID("totals")
	totals.SinkTo(txSink[[2]int64]{c}).UID("sink")
	return env.Start(context.Background())
}

// TestTransformSavepoint stops a job whose user operator keeps state with a
// savepoint in the middle, restores it, and checks that the sink holds
// every running total exactly once, each equal to the sum of the numbers
// counted so far (the state came back).
func TestTransformSavepoint(t *testing.T) {
	const n = 3000
	c := newCommitted[[2]int64]()
	// The first run holds at n/2: a slow test goroutine under load must
	// not see it commit everything before the savepoint.
	job, err := totalsJob(t.TempDir(), "", n, n/2, c)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(c.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no commit within 20s")
		}
		select {
		case <-job.Done():
			t.Fatalf("job ended before the savepoint: %v", job.Wait())
		case <-time.After(5 * time.Millisecond):
		}
	}
	path, err := job.StopWithSavepoint(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := len(c.all()); got >= n {
		t.Fatalf("everything (%d) was committed before the savepoint; the test needs a middle", got)
	}
	if job, err = totalsJob(t.TempDir(), path, n, 0, c); err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	all := c.all()
	slices.SortFunc(all, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	if len(all) != n {
		t.Fatalf("%d totals committed, want %d", len(all), n)
	}
	for i, v := range all {
		k := int64(i + 1)
		if v[0] != k || v[1] != k*(k-1)/2 {
			t.Fatalf("total #%d = %v, want [%d %d]", i, v, k, k*(k-1)/2)
		}
	}
}
