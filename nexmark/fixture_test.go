package nexmark

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// The restore tests of this package restore savepoints written by older
// code (fixtures under testdata, one per old state layout): the helpers
// here write and check a fixture, restore a copy of it, and run the
// common restore test over both backends and several parallelisms.

// pushEvents pushes events, each at its timestamp.
func pushEvents(t *testing.T, in *weirtest.Input[Event], events []Event) {
	t.Helper()
	for _, e := range events {
		if err := in.Push(e, e.Timestamp()); err != nil {
			t.Fatal(err)
		}
	}
}

// queryJob returns the function that attaches the query named name to a
// harness's input.
func queryJob(name string) func(*weirtest.Harness) (*weirtest.Input[Event], *Result) {
	return func(h *weirtest.Harness) (*weirtest.Input[Event], *Result) {
		in := weirtest.NewInput[Event](h)
		q, _ := Lookup(name)
		return in, q.Attach(in.Stream(), true)
	}
}

// writeOrCheckFixture is the body of a fixture's TestXFixture. When the
// environment variable env is set, it rewrites fixture (only on purpose:
// it is an old layout that later code must keep restoring) with a
// savepoint of the job attach makes, run with opts (checkpoints in a
// temporary directory), after the first half of events(t). Otherwise it
// checks that fixture is there.
func writeOrCheckFixture[R any](t *testing.T, fixture, env string, opts weir.Options,
	events func(*testing.T) []Event, attach func(*weirtest.Harness) (*weirtest.Input[Event], R)) {
	t.Helper()
	if os.Getenv(env) == "" {
		if matches, _ := filepath.Glob(filepath.Join(fixture, "*")); len(matches) == 0 {
			t.Fatalf("fixture %s missing", fixture)
		}
		return
	}
	evs := events(t)
	opts.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}
	h := weirtest.New(opts)
	in, _ := attach(h)
	h.Start(t)
	pushEvents(t, in, evs[:len(evs)/2])
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(fixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(fixture, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", fixture, path)
}

// fixtureCopy copies fixture to a temporary directory (restoring must not
// change the fixture) and returns it as a snapshot to restore.
func fixtureCopy(t *testing.T, fixture string) weirtest.Snapshot {
	t.Helper()
	abs, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(abs)); err != nil {
		t.Fatal(err)
	}
	return weirtest.Snapshot{Path: dir}
}

// restoreOptions returns the options of a restored job: backend at
// parallelism par, its state and checkpoints in temporary directories.
func restoreOptions(t *testing.T, backend string, par int) weir.Options {
	return weir.Options{Parallelism: par, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

// otherBackend returns the state backend that is not backend.
func otherBackend(backend string) string {
	return map[string]string{weir.StateHeap: weir.StatePebble, weir.StatePebble: weir.StateHeap}[backend]
}

// oldLayoutRestore is the restore test of a fixture: for each backend
// at parallelism 1 and 3, from a copy of fixture,
//   - a job runs rest and ends; check gets its results;
//   - another job runs rest[:mid] and takes a snapshot (keys in the
//     current layout, and those no record touched still in the old one),
//     which restores at parallelism 2 on the other backend into a third
//     job that runs rest[mid:] and ends; checkSnapshot gets the results
//     of the second and third job.
type oldLayoutRestore[R any] struct {
	fixture       string
	attach        func(*weirtest.Harness) (*weirtest.Input[Event], R)
	rest          []Event
	mid           int
	check         func(t *testing.T, r R)
	checkSnapshot func(t *testing.T, a, b R)
}

func (c oldLayoutRestore[R]) run(t *testing.T) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, par := range []int{1, 3} {
			t.Run(backend+"/p"+strconv.Itoa(par), func(t *testing.T) {
				fixture := fixtureCopy(t, c.fixture)
				opts := restoreOptions(t, backend, par)
				h := weirtest.Restore(opts, fixture)
				in, r := c.attach(h)
				h.Start(t)
				pushEvents(t, in, c.rest)
				if err := in.End(); err != nil {
					t.Fatal(err)
				}
				c.check(t, r)

				h2 := weirtest.Restore(opts, fixture)
				in2, ra := c.attach(h2)
				h2.Start(t)
				pushEvents(t, in2, c.rest[:c.mid])
				snap, err := h2.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				opts.Parallelism = 2
				opts.StateBackend = otherBackend(backend)
				h3 := weirtest.Restore(opts, snap)
				in3, rb := c.attach(h3)
				h3.Start(t)
				pushEvents(t, in3, c.rest[c.mid:])
				if err := in3.End(); err != nil {
					t.Fatal(err)
				}
				c.checkSnapshot(t, ra, rb)
			})
		}
	}
}
