package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// The crash tests run the weir binary as child processes. It is built
// once per test run (linking it takes seconds) into a directory TestMain
// removes at the end; the crash tests run in parallel with each other
// (they mostly wait: on paced sources, checkpoints, restarts).
var weirBin struct {
	once sync.Once
	dir  string
	path string
	ok   bool
}

func TestMain(m *testing.M) {
	code := m.Run()
	if weirBin.dir != "" {
		os.RemoveAll(weirBin.dir)
	}
	os.Exit(code)
}

// weirBinary returns the path of the weir binary built from this package;
// a test whose build failed fails (or skips, without a go command), and so
// do the later callers.
func weirBinary(t *testing.T) string {
	t.Helper()
	built := false
	weirBin.once.Do(func() {
		built = true
		dir, err := os.MkdirTemp("", "weir-bin-")
		if err != nil {
			t.Fatal(err)
		}
		weirBin.dir = dir
		bin := filepath.Join(dir, "weir")
		crashtest.Build(t, bin, ".") // fails or skips t on error
		weirBin.path, weirBin.ok = bin, true
	})
	if !weirBin.ok && !built {
		t.Fatal("building the weir binary failed in an earlier test")
	}
	return weirBin.path
}
