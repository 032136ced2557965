package weir_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// The core engine links no heavy optional dependency: S3 checkpoint
// storage (checkpoint/s3) and the Pebble state backend are opt-in packages,
// so `go list -deps github.com/weirstream/weir` names no AWS, smithy or
// Pebble package. This test fails when an import brings one back.
func TestCoreDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	forbidden := []string{"github.com/aws/", "github.com/cockroachdb/pebble"}
	var bad []string
	for _, pkg := range goListDeps(t, "github.com/weirstream/weir") {
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				bad = append(bad, pkg)
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("the core depends on %d AWS or Pebble packages; keep them behind the opt-in packages (checkpoint/s3, statebackend/pebble):\n%s",
			len(bad), strings.Join(bad, "\n"))
	}
}

// The CLI runs the demo jobs of demo; it imports nothing under
// examples/ (programs for users to read, which may change freely).
func TestCLIImportsNoExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	for _, pkg := range goListDeps(t, "github.com/weirstream/weir/cmd/weir") {
		if strings.HasPrefix(pkg, "github.com/weirstream/weir/examples/") {
			t.Errorf("cmd/weir depends on %s", pkg)
		}
	}
}

// goListDeps returns the packages pkg depends on, itself included; it
// skips the test when the go tool is missing.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH, so dependencies cannot be listed")
	}
	out, err := exec.CommandContext(t.Context(), gotool, "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// A job given an s3:// location without the S3 storage fails, saying which
// package serves it.
func TestS3WithoutRemote(t *testing.T) {
	for _, restore := range []string{"", "latest"} {
		env := weir.NewEnvironment(weir.Options{Restore: restore,
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: "s3://bucket/jobs/one"}})
		weir.Collect(weir.FromSlice(env, []int{1, 2, 3}))
		err := env.Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "github.com/weirstream/weir/checkpoint/s3") ||
			!strings.Contains(err.Error(), "Options.Checkpoints.Remote") || errors.Is(err, context.Canceled) {
			t.Errorf("restore %q: Execute with an s3:// checkpoint directory and no S3 storage = %v", restore, err)
		}
	}
}

// The Pebble backend without its engine fails to start, saying which
// package provides it.
func TestPebbleWithoutEngine(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{StateBackend: weir.StatePebble, StateDir: t.TempDir()})
	weir.Collect(weir.Reduce(weir.KeyBy(weir.FromSlice(env, []int{1, 2, 3}), func(n int) int { return n % 2 }),
		func(a, b int) (int, error) { return a + b, nil }))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "github.com/weirstream/weir/statebackend/pebble") || !strings.Contains(err.Error(), "Options.Pebble") {
		t.Fatalf("Execute on pebble without Options.Pebble = %v", err)
	}
}
