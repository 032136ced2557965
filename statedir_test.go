//go:build unix

package weir_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/statebackend/pebble"
)

// Without Options.StateDir a job keeps its local state in a directory of
// the user's own, weir-state-<uid> with mode 0700 (it was weir-state, one
// name for all users, created 0755), and refuses one open to others.
func TestDefaultStateDirIsPrivate(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	run := func() error {
		env := weir.NewEnvironment(weir.Options{StateBackend: weir.StatePebble, Pebble: pebble.New()})
		weir.Collect(weir.Reduce(weir.KeyBy(weir.FromSlice(env, []int{1, 2, 3}), func(n int) int { return n % 2 }),
			func(a, b int) (int, error) { return a + b, nil }))
		return env.Execute(context.Background())
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tmp, "weir-state-"+strconv.Itoa(os.Getuid()))
	info, err := os.Lstat(root)
	if err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Fatalf("state root %s: %v, %v; want a directory with mode 0700", root, info, err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := run(); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("Execute with a state root open to all = %v, want a refusal", err)
	}
}
