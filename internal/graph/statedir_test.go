//go:build unix

package graph

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestRunDirRemovesDeadRuns: a new run removes the directory of a run that
// died (lock file, nobody holding it), keeps a live run's (lock held) and a
// fresh directory without a lock file (its owner may be creating it).
func TestRunDirRemovesDeadRuns(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, lock bool) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(dir, "op1-0"), 0o755); err != nil {
			t.Fatal(err)
		}
		if lock {
			if err := os.WriteFile(filepath.Join(dir, stateLockFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	dead := mk("run-dead", true)
	live := mk("run-live", true)
	release, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	fresh := mk("run-fresh", false)
	other := mk("keep-me", true)

	dir, unlock, err := makeRunDir(root, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for path, want := range map[string]bool{dead: false, live: true, fresh: true, other: true, dir: true} {
		_, err := os.Stat(path)
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(path), got, want)
		}
	}
	// This run's own directory is locked: another run leaves it alone.
	dir2, unlock2, err := makeRunDir(root, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock2()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("a live run's directory was removed by another run: %v", err)
	}
	if dir2 == dir {
		t.Fatal("two runs got one directory")
	}
}

// TestRunDirsConcurrent: runs starting at the same time (jobs of one
// process, or several processes) never take each other for dead.
func TestRunDirsConcurrent(t *testing.T) {
	root := t.TempDir()
	const n = 16
	type result struct {
		dir    string
		unlock func()
		err    error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			dir, unlock, err := makeRunDir(root, slog.New(slog.DiscardHandler))
			results <- result{dir, unlock, err}
		}()
	}
	var got []result
	for range n {
		got = append(got, <-results)
	}
	for _, r := range got {
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.unlock()
	}
	for _, r := range got {
		if _, err := os.Stat(r.dir); err != nil {
			t.Errorf("a live run's directory is gone: %v", err)
		}
	}
}
