package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/weirstream/weir/demo/sums"
)

// syncBuffer is a buffer the command writes while the test reads it.
type syncBuffer struct {
	mu struct {
		sync.Mutex
		b bytes.Buffer
	}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.b.String()
}

// runProc is `weir run` running in-process: signals go to its controller
// through sigs, as the process's signals do through notifySignals.
type runProc struct {
	sigs           chan os.Signal
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr syncBuffer
}

func startRun(t *testing.T, args ...string) *runProc {
	t.Helper()
	p := &runProc{sigs: make(chan os.Signal, 4), done: make(chan error, 1)}
	cmd := newRunCmd(func() (<-chan os.Signal, func()) { return p.sigs, func() {} })
	cmd.SetArgs(args)
	cmd.SetOut(&p.stdout)
	cmd.SetErr(&p.stderr)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		// Two stop signals cancel at once, savepoint or not.
		p.sigs <- syscall.SIGTERM
		p.sigs <- syscall.SIGTERM
		<-p.done
	})
	return p
}

// wait returns the command's error once it ended.
func (p *runProc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("weir run did not end; stderr:\n%s", p.stderr.String())
		return nil
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, p *runProc, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("weir run ended (%v) before %s; stderr:\n%s", err, what, p.stderr.String())
		case <-deadline:
			t.Fatalf("no %s after 30 s; stderr:\n%s", what, p.stderr.String())
		case <-tick.C:
		}
	}
}

// committedLines counts the records in the committed part files of dir.
func committedLines(t *testing.T, dir string) int {
	t.Helper()
	recs, err := sums.ReadOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// sumsInput writes 3000 input records (6 files of 500).
func sumsInput(t *testing.T, dir string) string {
	t.Helper()
	in := filepath.Join(dir, "in")
	if err := sums.Generate(in, 6, 4, 500); err != nil {
		t.Fatal(err)
	}
	return in
}

const sumsTotal = 3000

// TestRunSavepointRescale: SIGUSR1 takes a savepoint, SIGTERM stops the
// job with one mid-way; the job restored from it at another parallelism
// on Pebble completes the output exactly once.
func TestRunSavepointRescale(t *testing.T) {
	dir := t.TempDir()
	in, out, chk, sp := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms"}

	p := startRun(t, append(common, "--savepoint-dir", sp, "--parallelism", "2", "--rate", "1500")...)
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.sigs <- syscall.SIGUSR1
	triggered := regexp.MustCompile(`weir run: savepoint (\S+)\n`)
	waitFor(t, p, "savepoint on SIGUSR1", func() bool { return triggered.MatchString(p.stderr.String()) })
	p.sigs <- syscall.SIGTERM
	if err := p.wait(t); err != nil {
		t.Fatalf("stop with savepoint: %v\n%s", err, p.stderr.String())
	}
	m := regexp.MustCompile(`weir run: stopped with savepoint (\S+)\n`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no savepoint path on stderr:\n%s", p.stderr.String())
	}
	for _, path := range []string{triggered.FindStringSubmatch(p.stderr.String())[1], m[1]} {
		if !strings.HasPrefix(path, sp) {
			t.Errorf("savepoint %s is not in --savepoint-dir %s", path, sp)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("savepoint: %v", err)
		}
	}
	if n := committedLines(t, out); n >= sumsTotal {
		t.Fatalf("the job committed all %d records before it was stopped: nothing left to restore", n)
	}

	p = startRun(t, append(common, "--restore", m[1], "--parallelism", "3",
		"--state-backend", "pebble", "--state-dir", filepath.Join(dir, "state"), "-v")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "weir: restoring") {
		t.Errorf("the restored run logged no restore:\n%s", p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatal(err)
	}
}

// TestRunRestoreLatest: a job canceled without --savepoint-dir (SIGUSR1
// then takes none and says which flag is missing) resumes from its latest
// checkpoint with --restore latest.
func TestRunRestoreLatest(t *testing.T) {
	dir := t.TempDir()
	in, out, chk := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms"}

	p := startRun(t, append(common, "--rate", "3000")...)
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.sigs <- syscall.SIGUSR1
	waitFor(t, p, "SIGUSR1 refused", func() bool { return strings.Contains(p.stderr.String(), "set --savepoint-dir") })
	p.cancel()
	if err := p.wait(t); err != nil {
		t.Fatalf("cancel: %v\n%s", err, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "--restore latest") {
		t.Errorf("the cancel message does not say how to resume:\n%s", p.stderr.String())
	}
	if n := committedLines(t, out); n >= sumsTotal {
		t.Fatalf("the job committed all %d records before it was canceled: nothing left to restore", n)
	}

	p = startRun(t, append(common, "--restore", "latest", "--parallelism", "1")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatal(err)
	}
}

// TestRunS3: --checkpoint-dir and --savepoint-dir on S3-compatible storage
// (an in-process fake) through the --s3-* flags; the job stopped with a
// savepoint there resumes from it.
func TestRunS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("weir"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	// The SDK's default credential chain, kept off the machine's files.
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	dir := t.TempDir()
	in, out := sumsInput(t, dir), filepath.Join(dir, "out")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", "s3://weir/chk", "--checkpoint-interval", "30ms",
		"--s3-endpoint", srv.URL, "--s3-path-style", "--s3-region", "us-east-1"}
	p := startRun(t, append(common, "--savepoint-dir", "s3://weir/sp", "--rate", "2000")...)
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.cancel()
	if err := p.wait(t); err != nil {
		t.Fatalf("stop with savepoint: %v\n%s", err, p.stderr.String())
	}
	m := regexp.MustCompile(`stopped with savepoint (s3://weir/sp/\S+)\n`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no s3:// savepoint path on stderr:\n%s", p.stderr.String())
	}
	if n := committedLines(t, out); n >= sumsTotal {
		t.Fatalf("the job committed all %d records before it was stopped: nothing left to restore", n)
	}
	p = startRun(t, append(common, "--restore", m[1], "--parallelism", "1")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatal(err)
	}
}

// TestRunNexmarkSavepoint: the Nexmark generator continues after a
// stop-with-savepoint (the end of the command's context) instead of
// starting over.
func TestRunNexmarkSavepoint(t *testing.T) {
	dir := t.TempDir()
	common := []string{"nexmark", "--query", "q1", "--events", "20000", "--checkpoint-dir", filepath.Join(dir, "chk"),
		"--checkpoint-interval", "20ms", "--savepoint-dir", filepath.Join(dir, "sp")}
	p := startRun(t, append(common, "--rate", "10000", "-v")...)
	waitFor(t, p, "a checkpoint", func() bool { return strings.Contains(p.stderr.String(), "checkpoint complete") })
	p.cancel()
	if err := p.wait(t); err != nil {
		t.Fatalf("stop with savepoint: %v\n%s", err, p.stderr.String())
	}
	m := regexp.MustCompile(`stopped with savepoint (\S+)\n`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no savepoint path on stderr:\n%s", p.stderr.String())
	}

	p = startRun(t, append(common, "--restore", m[1], "--rate", "0", "--parallelism", "1")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	g := regexp.MustCompile(`q1 \(append\): (\d+) events generated in this run, (\d+) rows`).FindStringSubmatch(p.stderr.String())
	if g == nil {
		t.Fatalf("no summary on stderr:\n%s", p.stderr.String())
	}
	if n, _ := strconv.Atoi(g[1]); n <= 0 || n >= 20000 {
		t.Fatalf("the restored run generated %d of 20000 events; want the rest after the savepoint", n)
	}
}

// TestRunDemo: the demo's pipeline runs to its end with checkpoints; a
// restore from its final checkpoint generates nothing more.
func TestRunDemo(t *testing.T) {
	t.Parallel()
	out, errOut, err := run(t, "run", "demo", "--events", "20000", "--rate", "0", "--parallelism", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "done: 20000 payments") || !strings.Contains(out, "ALERT ") {
		t.Fatalf("no alerts or summary:\nstdout %.300s\nstderr %s", out, errOut)
	}
	chk := t.TempDir()
	_, errOut, err = run(t, "run", "demo", "--events", "20000", "--rate", "0", "--parallelism", "2",
		"--checkpoint-dir", chk, "--checkpoint-interval", "20ms", "--state-backend", "pebble", "--state-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "done: 20000 payments") {
		t.Fatalf("checkpointed demo: no summary of 20000 payments:\n%s", errOut)
	}
	_, errOut, err = run(t, "run", "demo", "--events", "20000", "--rate", "0", "--parallelism", "3",
		"--checkpoint-dir", chk, "--restore", "latest")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "done: 0 payments") {
		t.Fatalf("restored from the final checkpoint: want no new payments:\n%s", errOut)
	}
}

// TestRunFlagErrors: bad flags are refused before the job starts, naming
// the flag.
func TestRunFlagErrors(t *testing.T) {
	in, out, other := t.TempDir(), t.TempDir(), t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "name a job"},
		{[]string{"run", "nope"}, `unknown job "nope"`},
		{[]string{"run", "sums", "--input", in}, "--output"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--savepoint-dir", other}, "--savepoint-dir needs checkpointing: set --checkpoint-dir"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--restore", "latest"}, "--restore latest needs --checkpoint-dir"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--state-backend", "rocks"}, "--state-backend"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--parallelism", "0"}, "--parallelism"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--parallelism", "4", "--max-parallelism", "2"}, "--max-parallelism"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--checkpoint-dir", other, "--checkpoint-interval", "0s"}, "--checkpoint-interval"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--allow-checkpoint-fallback"}, "--allow-checkpoint-fallback applies to --restore latest"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--checkpoint-dir", filepath.Join(in, "chk")}, "--checkpoint-dir: sums: the checkpoint directory"},
		{[]string{"run", "sums", "--input", in, "--output", out, "--state-dir", in}, "--state-dir: sums: the state directory"},
		{[]string{"run", "nexmark", "--query", "q99"}, `unknown query "q99"`},
		{[]string{"run", "demo", "--accounts", "0"}, "--accounts"},
		{[]string{"run", "sums", "--input", in, "--output", in}, "is the input directory"},
		{[]string{"run", "sums", "--input", in, "--output", filepath.Join(in, "out")}, "is inside the input directory"},
		{[]string{"run", "sums", "--input", in + "/", "--output", filepath.Join(in, "..", filepath.Base(in), "a", "b")}, "is inside the input directory"},
		{[]string{"run", "demo", "--rate", "NaN", "--events", "10"}, "--rate"},
		{[]string{"run", "nexmark", "--query", "q0", "--rate", "Inf", "--events", "10"}, "--rate"},
		{[]string{"run", "sums", "--input", in, "--output", t.TempDir(), "--rate", "NaN"}, "--rate"},
	} {
		_, _, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
