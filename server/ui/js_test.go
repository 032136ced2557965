package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestChangelogJS runs the unit tests of the SQL editor's changelog and
// statement splitting (web/e2e/changelog.test.mjs) with node --test. It
// needs only Node; without it the test skips, or fails under
// WEIR_REQUIRE_BROWSER=1 (make test).
func TestChangelogJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("WEIR_REQUIRE_BROWSER") == "1" {
			t.Fatal("WEIR_REQUIRE_BROWSER=1: no node command")
		}
		t.Skip("no node command (scripts/test-browser.sh installs it)")
	}
	web := filepath.Join("..", "..", "web")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", filepath.Join("e2e", "changelog.test.mjs"))
	cmd.Dir = web
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test e2e/changelog.test.mjs: %v\n%s", err, out)
	}
}
