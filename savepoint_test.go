package weir_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

func savepointJob(p int, dir, restore string, n int, c *committed[sumOut]) (*weir.JobClient, error) {
	return savepointJobOn(weir.StateHeap, p, dir, restore, n, c)
}

func savepointJobOn(backend string, p int, dir, restore string, n int, c *committed[sumOut]) (*weir.JobClient, error) {
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  p,
		Checkpoints:  weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir},
		Restore:      restore,
		StateBackend: backend,
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	sums := weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(src, func(v int) int { return v % 7 }), &runningSum{}).UID("sums")
	sums.SinkTo(txSink[sumOut]{c}).UID("sink")
	return env.Start(context.Background())
}

// TestStopWithSavepointAndRescale stops a job with a savepoint in the middle
// of its input, restores the savepoint at another parallelism, and checks
// that the committed output is exactly once with uninterrupted sums.
func TestStopWithSavepointAndRescale(t *testing.T) {
	const n = 4000
	c := newCommitted[sumOut]()
	job, err := savepointJob(2, t.TempDir(), "", n, c)
	if err != nil {
		t.Fatal(err)
	}
	path := stopAfterCommits(t, job, c, 0, t.TempDir())
	before := len(c.all())
	if before == 0 || before >= n {
		t.Fatalf("%d records committed at the savepoint; want some but not all of %d", before, n)
	}
	// Restore at parallelism 3 into a fresh checkpoint directory.
	job, err = savepointJob(3, t.TempDir(), path, n, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	checkSums(t, c, n)
}

func TestSavepointNeedsCheckpointing(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
	src.SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	job, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.TriggerSavepoint(context.Background(), t.TempDir()); !errors.Is(err, weir.ErrNoCheckpointing) {
		t.Fatalf("TriggerSavepoint = %v", err)
	}
	job.Cancel()
	if err := job.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
}

// stopAfterCommits waits until more than have records are committed, then
// stops the job with a savepoint in dir and returns its path.
func stopAfterCommits(t *testing.T, job *weir.JobClient, c *committed[sumOut], have int, dir string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(c.all()) <= have {
		if time.Now().After(deadline) {
			t.Fatal("no new commit within 20s")
		}
		select {
		case <-job.Done():
			t.Fatalf("job ended before the savepoint: %v", job.Wait())
		case <-time.After(5 * time.Millisecond):
		}
	}
	path, err := job.StopWithSavepoint(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("stopped job: %v", err)
	}
	return path
}

// TestSavepointAcrossBackends moves a job's state heap → Pebble → heap
// through savepoints, changing parallelism each time (2 → 3 → 1), and
// checks exactly-once output with uninterrupted sums.
func TestSavepointAcrossBackends(t *testing.T) {
	const n = 6000
	c := newCommitted[sumOut]()
	job, err := savepointJobOn(weir.StateHeap, 2, t.TempDir(), "", n, c)
	if err != nil {
		t.Fatal(err)
	}
	sp1 := stopAfterCommits(t, job, c, 0, t.TempDir())
	first := len(c.all())
	job, err = savepointJobOn(weir.StatePebble, 3, t.TempDir(), sp1, n, c)
	if err != nil {
		t.Fatal(err)
	}
	sp2 := stopAfterCommits(t, job, c, first, t.TempDir())
	if got := len(c.all()); got >= n {
		t.Fatalf("the Pebble run committed everything (%d) before its savepoint; the test needs a middle", got)
	}
	job, err = savepointJobOn(weir.StateHeap, 1, t.TempDir(), sp2, n, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	checkSums(t, c, n)
}

// checkSums requires every record 0..n-1 committed once, with the running
// sum of its key (v % 7).
func checkSums(t *testing.T, c *committed[sumOut], n int) {
	t.Helper()
	seen := map[int]sumOut{}
	for _, o := range c.all() {
		if _, dup := seen[o.Seq]; dup {
			t.Fatalf("record %d committed twice", o.Seq)
		}
		seen[o.Seq] = o
	}
	want := map[int]int{}
	for i := 0; i < n; i++ {
		want[i%7] += i
		if o, ok := seen[i]; !ok || o.Sum != want[i%7] {
			t.Fatalf("record %d: got %+v (present %v), want sum %d", i, o, ok, want[i%7])
		}
	}
}
