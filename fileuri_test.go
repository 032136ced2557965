package weir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

// TestFileURILocations runs the savepoint tests' job with the locations
// written as Flink writes them (file:///dir): the checkpoints land in the
// directory, the savepoint in a subdirectory of its directory, and a
// restore given as a file URI continues exactly once.
func TestFileURILocations(t *testing.T) {
	const n = 3000
	chk, sp := t.TempDir(), t.TempDir()
	c := newCommitted[sumOut]()
	st := savepointStepper(t, weir.StateHeap, 2, "file://"+chk, "", n, c)
	path := stopAfterCommits(t, st, c, 0, "file:"+sp)
	if filepath.Dir(path) != sp {
		t.Fatalf("savepoint at %q, want it in %q", path, sp)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("savepoint: %v", err)
	}
	ents, err := os.ReadDir(chk)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ents {
		found = found || strings.HasPrefix(e.Name(), "chk-")
	}
	if !found {
		t.Fatalf("no chk-* in the checkpoint directory %s (%v)", chk, ents)
	}
	if cwdFile, err := os.Stat("file:"); err == nil {
		t.Fatalf("a directory %q was created in the working directory", cwdFile.Name())
	}
	st = savepointStepper(t, weir.StateHeap, 1, "file://localhost"+t.TempDir(), "file://"+path, n, c)
	runToEnd(t, st)
	checkSums(t, c, n)
}

func TestFileURIOtherHostRefused(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: savepointInterval, Dir: "file://otherhost/chk"},
	})
	weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter").
		SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	_, err := env.Stepwise(t.Context(), 0)
	if err == nil || !strings.Contains(err.Error(), `names the host "otherhost"`) {
		t.Fatalf("Stepwise = %v, want the host refused", err)
	}
}
