package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestUIBrowser drives the web UI in a headless Chromium against a real
// `weir server` process (web/e2e/ui.mjs, with playwright-core): it runs a
// query in the SQL editor through the SQL Gateway and sees its live
// result, submits an INSERT INTO job, sees the job graph and a throughput
// that moves, triggers a savepoint, looks at the checkpoints, and stops
// the job with a savepoint. The server has a token, entered in the prompt
// the UI opens on its first 401, and keeps its default rate limit, so the
// UI's polling must stay within it.
//
// It needs /usr/bin/chromium (or $CHROMIUM), node, and web/node_modules
// (npm ci); scripts/test-browser.sh installs them and `make test` runs it
// with WEIR_REQUIRE_BROWSER=1, which turns a missing piece into a
// failure instead of a skip. WEIR_UPDATE_SCREENSHOTS=1 copies the
// screenshots into docs/ui/.
func TestUIBrowser(t *testing.T) {
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("WEIR_REQUIRE_BROWSER") == "1" {
			t.Fatalf("WEIR_REQUIRE_BROWSER=1: "+format, args...)
		}
		t.Skipf(format+" (scripts/test-browser.sh installs what the browser test needs)", args...)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no Chromium at %s (apt-get install chromium)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node command (Node 20)")
	}
	web, err := filepath.Abs(filepath.Join("..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("web/node_modules has no playwright-core (run npm ci in web/)")
	}
	needBinary(t)

	dir := t.TempDir()
	logPath := filepath.Join(dir, "server.log")
	addr := freeAddr(t)
	// Default rate limit; checkpoints every second (a history to show),
	// metrics twice a second; a token, which the UI asks for at its first
	// mutating call.
	const token = "ui-e2e-token"
	c := crashtest.Start(t, weirBin, logPath, "server", "--dir", filepath.Join(dir, "srv"), "--addr", addr,
		"--token", token, "--checkpoint-interval", "1s", "--metrics-interval", "500ms")
	url := "http://" + addr
	t.Cleanup(func() {
		if _, err := c.Kill(); err != nil {
			t.Logf("server: %v", err)
		}
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("server log:\n%s", b)
			}
		}
	})
	c.WaitUntil(t, "server up", 60*time.Second, func() bool {
		var ov map[string]any
		return getJSON(url+"/overview", &ov)
	})

	args := []string{filepath.Join(web, "e2e", "ui.mjs"), url}
	shots, err := os.MkdirTemp("", "weir-ui-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, shots)
	if !hasGateway(t, url, token) {
		t.Log("the server has no SQL Gateway (POST /sessions is 404): the SQL editor's Run step is skipped")
		args = append(args, "--no-gateway")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "WEIR_E2E_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/ui.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s", err, shots)
	}
	if os.Getenv("WEIR_UPDATE_SCREENSHOTS") == "1" {
		docs := filepath.Join("..", "docs", "ui")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"job-list.png", "job-graph.png", "checkpoints.png", "sql-editor.png"} {
			b, err := os.ReadFile(filepath.Join(shots, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(docs, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("screenshots copied to docs/ui")
	}
	os.RemoveAll(shots)
}

// hasGateway reports whether the server at url answers POST /sessions
// (the SQL Gateway); the session it opens is closed again.
func hasGateway(t *testing.T, url, token string) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/sessions", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return false
	}
	var s struct {
		SessionHandle string `json:"sessionHandle"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(bytes.NewReader(b)).Decode(&s) != nil || s.SessionHandle == "" {
		t.Fatalf("POST /sessions: %d %s", resp.StatusCode, b)
	}
	req, err = http.NewRequest(http.MethodDelete, url+"/sessions/"+s.SessionHandle, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if dr, err := http.DefaultClient.Do(req); err == nil {
		dr.Body.Close()
	}
	return true
}
