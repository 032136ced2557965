// Package crashtest runs example binaries as child processes for crash
// tests: it builds them, starts and SIGKILLs them, waits for conditions on
// the file system with deadlines, and reads checkpoint directories.
//
// It is for tests only. Every child's output goes to one log file, which
// the test prints when it fails.
package crashtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the main package pkg into bin, with -race when the test
// itself runs with -race (the packages are then already compiled); it skips
// the test when no go command is at hand.
func Build(t testing.TB, bin, pkg string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binaries")
	}
	args := append([]string{"build"}, BuildFlags()...)
	args = append(args, "-o", bin, pkg)
	if out, err := exec.Command(goBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
}

// BuildFlags are the go build flags that make a child binary like the
// test binary: -race when the test runs with -race, so that the child
// reuses the packages the test build compiled, and no symbol table or
// DWARF (-s -w), which halves the link of a binary the size of weir's;
// stack traces and race reports read the pclntab, which stays.
func BuildFlags() []string {
	if raceEnabled {
		return []string{"-race", "-ldflags=-s -w"}
	}
	return []string{"-ldflags=-s -w"}
}

// LatestCheckpoint returns the highest id of a checkpoint in dir that has
// metadata (0 if none).
func LatestCheckpoint(t testing.TB, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "chk-")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata")); err == nil && id > last {
			last = id
		}
	}
	return last
}

// Child is a process the test runs.
type Child struct {
	cmd  *exec.Cmd
	done chan error // receives the result of Wait
	log  *os.File
}

// Start runs bin with args, appending its output to the file logPath.
// The child is SIGKILLed when the test ends, if it still runs.
func Start(t testing.TB, bin, logPath string, args ...string) *Child {
	t.Helper()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(log, "=== %s %v\n", filepath.Base(bin), args)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatal(err)
	}
	c := &Child{cmd: cmd, done: make(chan error, 1), log: log}
	go func() { c.done <- cmd.Wait() }()
	// A test that fails (t.Fatal) while the child runs leaves no orphan
	// holding its resources (a replication slot, a port); killing a child
	// that already ended does nothing.
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return c
}

// Signal sends sig and waits for the child; it reports whether the child
// had exited on its own before (with its error). A clean exit after
// SIGTERM or SIGINT counts as stopped, not as exited on its own.
func (c *Child) Signal(sig syscall.Signal) (exited bool, err error) {
	defer c.log.Close()
	select {
	case err := <-c.done:
		return true, err
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	err = <-c.done
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == sig {
			return false, nil
		}
	}
	if err == nil && (sig == syscall.SIGTERM || sig == syscall.SIGINT) {
		return false, nil // stopped cleanly
	}
	// It exited by itself between the check and the signal.
	return true, err
}

// Kill is Signal(SIGKILL).
func (c *Child) Kill() (exited bool, err error) { return c.Signal(syscall.SIGKILL) }

// KillRun is the step of a kill loop: it kills run's child with SIGKILL
// and reports whether the job had ended by itself before; an end with an
// error fails the test.
func (c *Child) KillRun(t testing.TB, run int) (ended bool) {
	t.Helper()
	exited, err := c.Kill()
	if exited && err != nil {
		t.Fatalf("run %d failed: %v", run, err)
	}
	return exited
}

// WaitUntil polls cond every few milliseconds until it holds, the child
// exits, or the deadline passes (which fails the test).
func (c *Child) WaitUntil(t testing.TB, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for !cond() {
		select {
		case err := <-c.done:
			c.done <- err // for Signal
			return
		case <-timeout:
			t.Fatalf("no %s within %v", what, deadline)
		case <-tick.C:
		}
	}
}

// Pause returns after d or when the child exits.
func (c *Child) Pause(d time.Duration) {
	select {
	case err := <-c.done:
		c.done <- err
	case <-time.After(d):
	}
}

// WaitFor waits up to d for the child to exit by itself; it reports
// whether it did, and its error. If it did not, the child is SIGKILLed.
func (c *Child) WaitFor(d time.Duration) (exited bool, err error) {
	select {
	case err := <-c.done:
		c.log.Close()
		return true, err
	case <-time.After(d):
		c.Kill()
		return false, nil
	}
}

// KillRuns starts bin kills times, each run with args(run), and SIGKILLs
// every run at a random instant drawn from rng: every fourth run while it
// starts and restores (within 300 ms), the others within 80 ms after a
// checkpoint of their own completed in chkDir. A run that exits by itself
// fails the test. It returns how many kills were made while starting.
func KillRuns(t testing.TB, bin, logPath, chkDir string, kills int, rng *rand.Rand, args func(run int) []string) (early int) {
	t.Helper()
	for run := range kills {
		before := LatestCheckpoint(t, chkDir)
		c := Start(t, bin, logPath, args(run)...)
		if run%4 == 3 {
			c.Pause(time.Duration(rng.IntN(300)) * time.Millisecond) // while starting and restoring
			early++
		} else {
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return LatestCheckpoint(t, chkDir) > before })
			c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		}
		if exited, err := c.Kill(); exited {
			t.Fatalf("run %d exited by itself: %v", run, err)
		}
	}
	return early
}

// Binaries builds the child binaries of a test binary's crash tests once:
// tests of a package that run the same main package share one build
// (linking a race-instrumented binary costs seconds of CPU, and go build
// relinks every time). Declare one Binaries per test package and call
// Remove from its TestMain, after m.Run. It is safe for parallel tests;
// a build runs under its lock, so parallel callers wait for it.
type Binaries struct {
	mu struct {
		sync.Mutex
		dir   string
		built map[string]*builtBinary // by package
	}
}

// builtBinary is the outcome of one Build.
type builtBinary struct {
	path    string
	ok      bool // the build succeeded
	skipped bool // no go command: the callers skip
}

// Path returns the path of the binary of the main package pkg (a path as
// go build takes it, relative to the test's package), building it under
// the given file name on the first call. A test whose build failed fails,
// and so do the later callers for that package; without a go command they
// skip.
func (b *Binaries) Path(t testing.TB, name, pkg string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.mu.built[pkg]; ok {
		switch {
		case e.ok:
			return e.path
		case e.skipped:
			t.Skip("no go command to build the binaries")
		default:
			t.Fatalf("building %s failed in an earlier test", pkg)
		}
	}
	if b.mu.dir == "" {
		dir, err := os.MkdirTemp("", "weir-crashtest-")
		if err != nil {
			t.Fatal(err)
		}
		b.mu.dir = dir
		b.mu.built = map[string]*builtBinary{}
	}
	// A directory per package: two packages may give the same name.
	sub := filepath.Join(b.mu.dir, strconv.Itoa(len(b.mu.built)))
	e := &builtBinary{path: filepath.Join(sub, name)}
	b.mu.built[pkg] = e
	defer func() { e.skipped = t.Skipped() }()
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	Build(t, e.path, pkg) // fails or skips t on error
	e.ok = true
	return e.path
}

// RunTests is the TestMain of a package whose crash tests share b: it
// runs the tests, deletes the binaries they built and exits with the
// tests' status.
func (b *Binaries) RunTests(m *testing.M) {
	code := m.Run()
	if err := b.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// Remove deletes the binaries built so far.
func (b *Binaries) Remove() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mu.dir == "" {
		return nil
	}
	err := os.RemoveAll(b.mu.dir)
	b.mu.dir, b.mu.built = "", nil
	if err != nil {
		return fmt.Errorf("crashtest: removing the built binaries: %w", err)
	}
	return nil
}
