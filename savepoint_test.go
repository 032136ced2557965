package weir_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

func savepointJob(p int, dir, restore string, n int, c *committed[sumOut]) (*weir.JobClient, error) {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir},
		Restore:     restore,
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
	spDir := t.TempDir()
	job, err := savepointJob(2, t.TempDir(), "", n, c)
	if err != nil {
		t.Fatal(err)
	}
	// Wait until some output was committed, then stop.
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
	path, err := job.StopWithSavepoint(context.Background(), spDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("stopped job: %v", err)
	}
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

func TestSavepointNeedsCheckpointing(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
	src.SinkTo(weir.SinkFunc[int](func(int, int64) error { return nil }))
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
