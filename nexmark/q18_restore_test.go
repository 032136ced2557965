package nexmark

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/weirtest"
)

// q18Fixture is a savepoint of q18 (parallelism 2) after the first half
// of topJoinEvents, written by main at 0d98c66: q18's state was then the
// value state "last" (lastOrder: dateTime, price and the extra string of
// the last bid) per (bidder, auction). Rewrite it (only on purpose: it is
// the old layout that later code must keep restoring) with
// WEIR_WRITE_Q18_FIXTURE=1 go test ./nexmark/ -run TestQ18Fixture.
const q18Fixture = "testdata/q18-0d98c66"

// q18Job attaches q18 to the harness's input.
func q18Job(h *weirtest.Harness) (*weirtest.Input[Event], *Result) {
	in := weirtest.NewInput[Event](h)
	q18, _ := Lookup("q18")
	return in, q18.Attach(in.Stream(), true)
}

// TestQ18Fixture writes q18Fixture when asked to, and otherwise checks
// that it is there.
func TestQ18Fixture(t *testing.T) {
	if os.Getenv("WEIR_WRITE_Q18_FIXTURE") == "" {
		if matches, _ := filepath.Glob(filepath.Join(q18Fixture, "*")); len(matches) == 0 {
			t.Fatalf("fixture %s missing", q18Fixture)
		}
		return
	}
	events := topJoinEvents(t)
	h := weirtest.New(weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	in, _ := q18Job(h)
	h.Start(t)
	pushTopJoin(t, in, events[:len(events)/2])
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(q18Fixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(q18Fixture, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", q18Fixture, path)
}
