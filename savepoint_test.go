package weir_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/statebackend/pebble"
)

// savepointInterval is the checkpoint interval of the savepoint tests' job,
// in processing time: stopAfterCommits checkpoints the stepped job that
// often (as Execute would on the wall clock).
const savepointInterval = 20 * time.Millisecond

func savepointJobOn(backend string, p int, dir, restore string, n int, c *committed[sumOut]) (*weir.JobClient, error) {
	return savepointEnv(backend, p, dir, restore, n, c).Start(context.Background())
}

// savepointEnv builds the savepoint tests' job: running sums of 0..n-1 by
// v % 7 into a two-phase-commit sink.
func savepointEnv(backend string, p int, dir, restore string, n int, c *committed[sumOut]) *weir.Environment {
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  p,
		Checkpoints:  weir.CheckpointOptions{Interval: savepointInterval, Dir: dir},
		Restore:      restore,
		StateBackend: backend,
		Pebble:       pebble.New(),
	})
	src := weir.FromSource[int](env, slowCounter{n: n, perPoll: 5}, weir.NoWatermarks[int](), "counter").SetParallelism(1).UID("counter")
	sums := weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(src, func(v int) int { return v % 7 }), &runningSum{}).UID("sums")
	sums.SinkTo(txSink[sumOut]{c}).UID("sink")
	return env
}

// savepointStepper runs savepointEnv's job on a Stepper: on the test's
// goroutine, with processing time (which paces slowCounter: perPoll
// numbers a millisecond) moved by the test.
func savepointStepper(t *testing.T, backend string, p int, dir, restore string, n int, c *committed[sumOut]) *weir.Stepper {
	t.Helper()
	st, err := savepointEnv(backend, p, dir, restore, n, c).Stepwise(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// runToEnd moves processing time a millisecond at a time until the job
// finished (its final checkpoint committed the last records).
func runToEnd(t *testing.T, st *weir.Stepper) {
	t.Helper()
	for !st.Finished() {
		if err := st.SetProcessingTime(st.ProcessingTime() + 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStopWithSavepointAndRescale stops a job with a savepoint in the middle
// of its input, restores the savepoint at another parallelism, and checks
// that the committed output is exactly once with uninterrupted sums.
func TestStopWithSavepointAndRescale(t *testing.T) {
	const n = 4000
	c := newCommitted[sumOut]()
	st := savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", n, c)
	path := stopAfterCommits(t, st, c, 0, t.TempDir())
	before := len(c.all())
	if before == 0 || before >= n {
		t.Fatalf("%d records committed at the savepoint; want some but not all of %d", before, n)
	}
	// Restore at parallelism 3 into a fresh checkpoint directory.
	st = savepointStepper(t, weir.StateHeap, 3, t.TempDir(), path, n, c)
	runToEnd(t, st)
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

// stepUntil runs the stepped job a millisecond of processing time at a
// time, with a checkpoint every savepointInterval of it (as Execute takes
// them on the wall clock), until done holds; the job must not end first.
func stepUntil(t *testing.T, st *weir.Stepper, done func() bool) {
	t.Helper()
	for !done() {
		if st.Finished() {
			t.Fatal("job ended before the savepoint")
		}
		now := st.ProcessingTime() + 1
		if err := st.SetProcessingTime(now); err != nil {
			t.Fatal(err)
		}
		if now%savepointInterval.Milliseconds() == 0 {
			if _, _, err := st.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// stopAfterCommits runs the stepped job, a millisecond of processing time
// at a time with a checkpoint every savepointInterval of it (as Execute
// takes them on the wall clock), until more than have records are
// committed; then it stops the job with a savepoint in dir and returns its
// path.
func stopAfterCommits(t *testing.T, st *weir.Stepper, c *committed[sumOut], have int, dir string) string {
	t.Helper()
	stepUntil(t, st, func() bool { return len(c.all()) > have })
	path, err := st.StopWithSavepoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
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
	st := savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", n, c)
	sp1 := stopAfterCommits(t, st, c, 0, t.TempDir())
	first := len(c.all())
	st = savepointStepper(t, weir.StatePebble, 3, t.TempDir(), sp1, n, c)
	sp2 := stopAfterCommits(t, st, c, first, t.TempDir())
	if got := len(c.all()); got >= n {
		t.Fatalf("the Pebble run committed everything (%d) before its savepoint; the test needs a middle", got)
	}
	st = savepointStepper(t, weir.StateHeap, 1, t.TempDir(), sp2, n, c)
	runToEnd(t, st)
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

// TestPartsByVertexSubtaskAcrossRescale checks how checkpoints name
// subtasks: every part is the file task-<vertex>-<subtask>.bin, written by
// that subtask and listed under its (vertex, subtask) in the metadata, and
// a job restored at another parallelism writes one part per new subtask,
// holding only the key groups that subtask owns.
func TestPartsByVertexSubtaskAcrossRescale(t *testing.T) {
	const n = 4000
	c := newCommitted[sumOut]()
	path := stopAfterCommits(t, savepointStepper(t, weir.StateHeap, 2, t.TempDir(), "", n, c), c, 0, t.TempDir())
	m, _, err := checkpoint.ReadPath(path)
	if err != nil {
		t.Fatal(err)
	}
	checkParts(t, m, savepointEnv(weir.StateHeap, 2, t.TempDir(), "", n, c).Plan(), map[string]int{"counter": 1, "sums": 2, "sink": 2})

	dir := t.TempDir()
	// Run for real: the final parts are written by tasks that finished,
	// concurrently.
	job, err := savepointJobOn(weir.StateHeap, 3, dir, path, n, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	checkSums(t, c, n)
	// The final checkpoint, taken after every task finished: each wrote
	// its final state as its own part.
	m, _, err = (&checkpoint.Storage{Dir: dir}).Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkParts(t, m, savepointEnv(weir.StateHeap, 3, t.TempDir(), "", n, c).Plan(), map[string]int{"counter": 1, "sums": 3, "sink": 3})
}

// checkParts checks that operator uid has par[uid] subtasks in m, each
// named by the id of the plan's vertex that runs the operator and by its
// subtask index, in its own part file whose keyed blocks are key groups
// the subtask owns.
func checkParts(t *testing.T, m *checkpoint.Metadata, plan weir.JobPlan, par map[string]int) {
	t.Helper()
	vertexOf := map[string]int{}
	for _, v := range plan.Vertices {
		for _, op := range v.Operators {
			vertexOf[op.UID] = v.ID
		}
	}
	for _, op := range m.Operators {
		p, ok := par[op.UID]
		if !ok {
			continue
		}
		delete(par, op.UID)
		if op.Parallelism != p || len(op.Subtasks) != p {
			t.Fatalf("checkpoint %d: operator %s has parallelism %d and %d subtasks, want %d", m.ID, op.UID, op.Parallelism, len(op.Subtasks), p)
		}
		v, ok := vertexOf[op.UID]
		if !ok {
			t.Fatalf("operator %s is in no vertex of the plan %+v", op.UID, plan)
		}
		for s, st := range op.Subtasks {
			file := fmt.Sprintf("task-%d-%d.bin", v, s)
			if st.Vertex != v || st.Subtask != s || st.File != file {
				t.Fatalf("checkpoint %d: operator %s subtask %d is (vertex %d, subtask %d) in %s, want (%d, %d) in %s",
					m.ID, op.UID, s, st.Vertex, st.Subtask, st.File, v, s, file)
			}
			if _, ok := m.Files[file]; !ok {
				t.Fatalf("checkpoint %d: %s is not among its files %v", m.ID, file, m.Files)
			}
			r := keygroup.RangeFor(m.MaxParallelism, p, s)
			for _, b := range st.KeyGroups {
				if !r.Contains(b.KeyGroup) {
					t.Fatalf("checkpoint %d: operator %s subtask %d of %d holds key group %d, outside its %v", m.ID, op.UID, s, p, b.KeyGroup, r)
				}
			}
		}
	}
	if len(par) > 0 {
		t.Fatalf("checkpoint %d has no state for %v", m.ID, par)
	}
	if vertexOf["counter"] == vertexOf["sums"] {
		t.Fatalf("the plan runs the counter (parallelism 1) and sums in one vertex %d", vertexOf["sums"])
	}
}

// TestSavepointAfterJobEnded: a savepoint asked of a job that already
// finished fails with an error matching ErrSavepointJobEnded (weir run tells
// a stop that met the end of the input from a failed stop by it).
func TestSavepointAfterJobEnded(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	weir.FromSlice(env, []int{1, 2, 3}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	job, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if _, err := job.StopWithSavepoint(context.Background(), t.TempDir()); !errors.Is(err, weir.ErrSavepointJobEnded) {
		t.Fatalf("StopWithSavepoint after the end = %v, want ErrSavepointJobEnded", err)
	}
	if _, err := job.TriggerSavepoint(context.Background(), t.TempDir()); !errors.Is(err, weir.ErrSavepointJobEnded) {
		t.Fatalf("TriggerSavepoint after the end = %v, want ErrSavepointJobEnded", err)
	}
}

// TestStepperSavepointAfterJobEnded: the deterministic Stepper answers a
// savepoint asked after its job finished as a running job does, with an
// error matching ErrSavepointJobEnded.
func TestStepperSavepointAfterJobEnded(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	weir.FromSlice(env, []int{1, 2, 3}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	st, err := env.Stepwise(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for !st.Finished() {
		if err := st.SetProcessingTime(st.ProcessingTime() + 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.TriggerSavepoint(t.TempDir()); !errors.Is(err, weir.ErrSavepointJobEnded) {
		t.Fatalf("TriggerSavepoint after the end = %v, want ErrSavepointJobEnded", err)
	}
	if _, err := st.StopWithSavepoint(t.TempDir()); !errors.Is(err, weir.ErrSavepointJobEnded) {
		t.Fatalf("StopWithSavepoint after the end = %v, want ErrSavepointJobEnded", err)
	}
}
