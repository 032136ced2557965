package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/weirstream/weir/demo/sums"
)

// TestRunDrainSignals: with --drain, SIGINT and SIGTERM both stop with
// drain (the run says so), the run exits 0 naming the savepoint, and the
// savepoint is usable: --restore latest resumes from it and the output
// holds every record exactly once.
func TestRunDrainSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			in, out, chk, sp := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
			common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms", "--savepoint-dir", sp}
			p := startRun(t, append(common, "--drain", "--rate", "2000")...)
			waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
			p.sigs <- sig
			if err := p.wait(t); err != nil {
				t.Fatalf("stop with drain: %v\n%s", err, p.stderr.String())
			}
			stderr := p.stderr.String()
			if !strings.Contains(stderr, "draining, then stopping with a savepoint") {
				t.Fatalf("%v did not stop with drain:\n%s", sig, stderr)
			}
			m := stoppedWith.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("no savepoint path on stderr:\n%s", stderr)
			}
			if _, err := os.Stat(filepath.Join(m[1], "_metadata")); err != nil {
				t.Fatalf("the drained savepoint: %v", err)
			}
			if n := committedLines(t, out); n >= sumsTotal {
				t.Fatalf("the job committed all %d records before it was stopped: nothing left to restore", n)
			}
			p = startRun(t, append(common, "--restore", "latest", "-v")...)
			if err := p.wait(t); err != nil {
				t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), filepath.Base(m[1])) {
				t.Errorf("the run did not restore the drained savepoint %s:\n%s", m[1], p.stderr.String())
			}
			if err := sums.Check(in, out); err != nil {
				t.Fatalf("after stop with drain and restore latest: %v", err)
			}
		})
	}
}

// TestRunDrainNeedsSavepointDir: --drain without --savepoint-dir is
// refused before the job starts (a stop with drain ends with a savepoint).
func TestRunDrainNeedsSavepointDir(t *testing.T) {
	dir := t.TempDir()
	in, out := sumsInput(t, dir), filepath.Join(dir, "out")
	p := startRun(t, "sums", "--input", in, "--output", out, "--checkpoint-dir", filepath.Join(dir, "chk"), "--drain")
	err := p.wait(t)
	if err == nil || !strings.Contains(err.Error(), "--drain needs --savepoint-dir") {
		t.Fatalf("--drain without --savepoint-dir: %v; want a refusal", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the refused run wrote output: %v", err)
	}
}

// TestRunDrainSecondSignal: a second signal during a stop with drain
// cancels the job at once (the run exits 0, as a cancel on request); the
// windows the drain fired are in no completed savepoint, so --restore
// latest resumes from the last checkpoint (or the savepoint, had it
// completed first) with every record exactly once.
func TestRunDrainSecondSignal(t *testing.T) {
	for _, drain := range []bool{true, false} {
		t.Run(map[bool]string{true: "drain", false: "no-drain"}[drain], func(t *testing.T) { testRunSecondSignal(t, drain) })
	}
}

func testRunSecondSignal(t *testing.T, drain bool) {
	dir := t.TempDir()
	in, out, chk, sp := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms", "--savepoint-dir", sp}
	args := append(common, "--rate", "2000")
	if drain {
		args = append(args, "--drain")
	}
	p := startRun(t, args...)
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.sigs <- syscall.SIGTERM
	p.sigs <- syscall.SIGINT
	if err := p.wait(t); err != nil {
		t.Fatalf("second signal during a drain: %v\n%s", err, p.stderr.String())
	}
	p = startRun(t, append(common, "--restore", "latest")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatalf("after a drain canceled by a second signal and restore latest: %v", err)
	}
}
