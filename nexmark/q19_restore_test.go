package nexmark

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// q19Fixture is a savepoint of q19 (heap backend, parallelism 2) after
// the first half of topJoinEvents, written by main at f1c338f: q19's state
// on the heap was then the value state "topref" (*q19Ranks: ten *Bid, best
// first) per auction. Rewrite it (only on purpose: it is the old layout
// that later code must keep restoring) with
// WEIR_WRITE_Q19_FIXTURE=1 go test ./nexmark/ -run TestQ19Fixture.
const q19Fixture = "testdata/q19-f1c338f"

// q19Job attaches q19 to the harness's input.
func q19Job(h *weirtest.Harness) (*weirtest.Input[Event], *Result) {
	in := weirtest.NewInput[Event](h)
	q19, _ := Lookup("q19")
	return in, q19.Attach(in.Stream(), true)
}

// TestQ19Fixture writes q19Fixture when asked to, and otherwise checks
// that it is there.
func TestQ19Fixture(t *testing.T) {
	if os.Getenv("WEIR_WRITE_Q19_FIXTURE") == "" {
		if matches, _ := filepath.Glob(filepath.Join(q19Fixture, "*")); len(matches) == 0 {
			t.Fatalf("fixture %s missing", q19Fixture)
		}
		return
	}
	events := topJoinEvents(t)
	h := weirtest.New(weir.Options{Parallelism: 2, StateBackend: weir.StateHeap, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	in, _ := q19Job(h)
	h.Start(t)
	pushTopJoin(t, in, events[:len(events)/2])
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(q19Fixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(q19Fixture, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", q19Fixture, path)
}

// TestQ19RestoresOldLayout restores q19Fixture (the heap state "topref"
// of f1c338f) on both backends at parallelism 1 and 3, runs the second
// half of the events, and requires the final table to be the batch
// reference's over all events once the restored job's rows are applied,
// as upserts, over the reference's table of the first half: the top-10
// buffers restored from the old layout go on from where they were. A
// snapshot of the restored job (keys in the current layout, and those no
// record touched still in the old one) then restores at parallelism 2 on
// the other backend and finishes the same way.
func TestQ19RestoresOldLayout(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	fixture, err := filepath.Abs(q19Fixture)
	if err != nil {
		t.Fatal(err)
	}
	q19, _ := Lookup("q19")
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, par := range []int{1, 3} {
			t.Run(backend+"/p"+string(rune('0'+par)), func(t *testing.T) {
				dir := t.TempDir()
				if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
					t.Fatal(err)
				}
				opts := weir.Options{Parallelism: par, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
					Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				h := weirtest.Restore(opts, weirtest.Snapshot{Path: dir})
				in, r := q19Job(h)
				h.Start(t)
				pushTopJoin(t, in, events[half:])
				if err := in.End(); err != nil {
					t.Fatal(err)
				}
				checkUpserted(t, q19, events, half, r, "auction", "rank_number")

				three := half + (len(events)-half)/2
				h2 := weirtest.Restore(opts, weirtest.Snapshot{Path: dir})
				in2, ra := q19Job(h2)
				h2.Start(t)
				pushTopJoin(t, in2, events[half:three])
				snap, err := h2.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				opts.Parallelism = 2
				opts.StateBackend = map[string]string{weir.StateHeap: weir.StatePebble, weir.StatePebble: weir.StateHeap}[backend]
				h3 := weirtest.Restore(opts, snap)
				in3, rb := q19Job(h3)
				h3.Start(t)
				pushTopJoin(t, in3, events[three:])
				if err := in3.End(); err != nil {
					t.Fatal(err)
				}
				checkUpserted(t, q19, events, half, ra, "auction", "rank_number", rb)
			})
		}
	}
}
