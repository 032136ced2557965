package server

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLI drives `weir job` against a real `weir server` with a token:
// submit, list, status, savepoint, rescale, stop, cancel, JSON output,
// and the refusals of a missing token and an unknown job.
func TestCLI(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "server.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server log:\n%s", b)
		}
	}()
	// Exposed without a token and TLS: refused before listening.
	cmd := exec.Command(weirBin, "server", "--dir", filepath.Join(dir, "exposed"), "--addr", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "WEIR_TOKEN=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "non-loopback") {
		t.Errorf("server on 0.0.0.0 without token and TLS: %v\n%s", err, out)
	}

	t.Setenv("WEIR_TOKEN", "tok-123")
	p := startServer(t, logPath, filepath.Join(dir, "srv"))
	defer p.Signal(syscall.SIGTERM)
	sqlFile := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(sqlFile, []byte(slowJob), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(weirBin, append([]string{"job", "--server", p.url}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(nil, args...)
		if err != nil {
			t.Fatalf("weir job %v: %v\n%s", args, err, out)
		}
		return out
	}

	// Without the token a submission is refused, naming why.
	out, err := run([]string{"WEIR_TOKEN="}, "submit", sqlFile)
	if err == nil || !strings.Contains(out, "401") || !strings.Contains(out, "missing bearer token") {
		t.Errorf("submit without token: %v\n%s", err, out)
	}
	out, err = run(nil, "--token", "wrong", "submit", sqlFile)
	if err == nil || !strings.Contains(out, "invalid bearer token") {
		t.Errorf("submit with a wrong --token: %v\n%s", err, out)
	}

	out = must("submit", sqlFile, "--parallelism", "2", "--name", "slow")
	m := regexp.MustCompile(`JobID ([0-9a-f]{32})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("submit printed %q", out)
	}
	id := m[1]
	out = must("list")
	if !strings.Contains(out, "JOB ID") || !regexp.MustCompile(id+`\s+slow\s+sql\s+(RUNNING|INITIALIZING)\s+2`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	// Wait for a checkpoint (a savepoint needs the job running).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(must("status", id), "Latest checkpoint:") {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint within 30s")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	out = must("status", id)
	for _, want := range []string{"State:", "RUNNING", "VERTEX", "Source: src", "Parallelism:        2"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out = must("savepoint", id)
	sp := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`).FindStringSubmatch(out)
	if sp == nil {
		t.Fatalf("savepoint printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(sp[1], "_metadata")); err != nil {
		t.Errorf("savepoint %s: %v", sp[1], err)
	}
	out = must("rescale", id, "1")
	if !strings.Contains(out, "Rescaled to parallelism 1") {
		t.Errorf("rescale printed %q", out)
	}
	out = must("stop", id, "--savepoint")
	if !strings.Contains(out, "Savepoint completed. Path: ") {
		t.Errorf("stop printed %q", out)
	}
	var list struct {
		Jobs []struct {
			ID          string `json:"jid"`
			State       string `json:"state"`
			Parallelism int    `json:"parallelism"`
		} `json:"jobs"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		if err := json.Unmarshal([]byte(must("list", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) == 1 && list.Jobs[0].State == "FINISHED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not FINISHED after stop: %+v", list.Jobs)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	if list.Jobs[0].Parallelism != 1 {
		t.Errorf("after rescale: parallelism %d, want 1", list.Jobs[0].Parallelism)
	}
	out, err = run(nil, "stop", id)
	if err == nil || !strings.Contains(out, "409") {
		t.Errorf("stop of a finished job: %v\n%s", err, out)
	}

	out = must("submit", sqlFile)
	id2 := regexp.MustCompile(`JobID ([0-9a-f]{32})`).FindStringSubmatch(out)[1]
	if out := must("cancel", id2); !strings.Contains(out, "Cancelled job "+id2) {
		t.Errorf("cancel printed %q", out)
	}
	out, err = run(nil, "status", "0123")
	if err == nil || !strings.Contains(out, "404") || !strings.Contains(out, "job 0123 not found") {
		t.Errorf("status of an unknown job: %v\n%s", err, out)
	}
}
