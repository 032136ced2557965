package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/fraud"
)

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "weir ") || !strings.Contains(out, "go1") {
		t.Fatalf("version output %q", out)
	}
}

// TestDemoBounded runs the demo as fast as possible on a bounded input and
// checks its alerts against the library pipeline run on the same seed.
func TestDemoBounded(t *testing.T) {
	out, errOut, err := run(t, "demo", "--events", "50000", "--rate", "0", "--seed", "5", "--parallelism", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "done: 50000 payments") {
		t.Fatalf("no summary in stderr:\n%s", errOut)
	}
	var want bytes.Buffer
	sum, err := fraud.Run(context.Background(), fraud.Config{Generator: fraud.GeneratorConfig{Seed: 5, Events: 50000}},
		fraud.RunOptions{Env: weir.Options{Parallelism: 1}, Alerts: &want})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Alerts == 0 {
		t.Fatal("no alerts on 50000 payments")
	}
	if got := strings.Count(out, "ALERT "); int64(got) != sum.Alerts {
		t.Fatalf("demo printed %d alerts, the pipeline raised %d", got, sum.Alerts)
	}
	if !sameLines(out, want.String()) {
		t.Fatalf("demo alerts differ from the pipeline's:\n%s\nwant:\n%s", out, want.String())
	}
	if m := regexp.MustCompile(`(\d+) alerts`).FindStringSubmatch(errOut); m == nil {
		t.Fatalf("summary without alert count: %s", errOut)
	}
}

// TestDemoREADMEFlags runs the demo with the flags README.md gives it (as
// fast as possible: --rate only paces the generator and moves its start
// time) and checks that every rule fires and that the summary counts each
// rule's alerts as printed.
func TestDemoREADMEFlags(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`go run \./cmd/weir (demo[^#\n]*?)\s*#`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no `go run ./cmd/weir demo ...` command")
	}
	args := append(strings.Fields(string(m[1])), "--rate", "0")
	out, errOut, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		// "ALERT rule ...", after a "2> " subtask prefix at parallelism > 1.
		f := strings.Fields(l)
		if i := slices.Index(f, "ALERT"); i >= 0 && i+1 < len(f) {
			printed[f[i+1]]++
		}
	}
	for r := fraud.FailedBurst; r <= fraud.MuleTransfers; r++ {
		if printed[r.String()] == 0 {
			t.Errorf("README's demo command (%s) raised no %s alert", strings.Join(args, " "), r)
		}
		if want := fmt.Sprintf("%s %d", r, printed[r.String()]); !strings.Contains(errOut, want) {
			t.Errorf("summary does not count %q:\n%s", want, errOut)
		}
	}
}

func sameLines(a, b string) bool {
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(a), "\n") {
		count[l]++
	}
	for _, l := range strings.Split(strings.TrimSpace(b), "\n") {
		count[l]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestDemoFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--parallelism", "0"},
		{"demo", "--rate", "-1"},
		{"demo", "--rate", "NaN", "--events", "10"},
		{"demo", "--rate", "Inf", "--events", "10"},
		{"demo", "--rate", "-Inf", "--events", "10"},
		{"demo", "extra"},
		{"demo", "--metrics-addr", "not-an-address"},
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestServeMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_test_total", Help: "A test counter."})
	reg.MustRegister(c)
	c.Add(3)
	addr, stop, err := serveMetrics("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "weir_test_total 3") {
		t.Fatalf("metrics body:\n%s", body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Fatal("server still answering after stop")
	}
}

func TestBench(t *testing.T) {
	out, _, err := run(t, "bench", "a", "d", "--records", "20000", "--parallelism", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`GOMAXPROCS=\d`, `# command: weir`, `engine rec/s/core`, `(?m)^\s+a\s+20000\s+\d`, `(?m)^\s+d\s+20000\s+\d`, `# a: `} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("bench output does not match %q:\n%s", want, out)
		}
	}
	if _, _, err := run(t, "bench", "zz"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}
