package exec

import (
	"os"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// Savepoint fixtures (testdata/fixtures/NAME-COMMIT) are written by the
// code of a commit whose state layout later code must keep restoring:
// TestXFixture writes one when its environment variable is set (only on
// purpose, running that commit's code) and otherwise checks it is there.

// writingFixture reports whether env asks to write the fixture dir again;
// if not, it fails t when dir is missing.
func writingFixture(t *testing.T, env, dir string) bool {
	t.Helper()
	if os.Getenv(env) != "" {
		return true
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("fixture %s missing: %v", dir, err)
	}
	return false
}

// fixtureOptions are the options of a fixture's writing job: heap backend,
// parallelism 2.
func fixtureOptions(t *testing.T) weir.Options {
	return weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

// writeFixture takes a savepoint of h's running job and makes it the
// fixture dir, replacing what was there.
func writeFixture(t *testing.T, h *weirtest.Harness, dir string) {
	t.Helper()
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", dir, path)
}

// restoreFixture returns a harness restoring a copy of the fixture dir at
// parallelism p on backend.
func restoreFixture(t *testing.T, dir string, p int, backend string) *weirtest.Harness {
	t.Helper()
	cp := t.TempDir()
	if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	opts := weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	return weirtest.Restore(opts, weirtest.Snapshot{Path: cp})
}
