package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// latestCheckpoint returns the highest id of a checkpoint in dir that has
// metadata (0 if none).
func latestCheckpoint(t *testing.T, dir string) int64 {
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

// child is a process the test runs.
type child struct {
	cmd  *exec.Cmd
	done chan error // receives the result of Wait
	log  *os.File
}

func startChild(t *testing.T, bin, logPath string, args ...string) *child {
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
	c := &child{cmd: cmd, done: make(chan error, 1), log: log}
	go func() { c.done <- cmd.Wait() }()
	return c
}

// signal sends sig and waits for the child; it reports whether the child
// had exited on its own before (with its error).
func (c *child) signal(sig syscall.Signal) (exited bool, err error) {
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
	if err == nil && sig == syscall.SIGTERM {
		return false, nil // stopped cleanly
	}
	return true, err
}

// waitUntil polls cond every few milliseconds until it holds, the child
// exits, or the deadline passes.
func (c *child) waitUntil(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for !cond() {
		select {
		case err := <-c.done:
			c.done <- err // for signal
			return
		case <-timeout:
			t.Fatalf("no %s within %v", what, deadline)
		case <-tick.C:
		}
	}
}

// pause returns after d or when the child exits.
func (c *child) pause(d time.Duration) {
	select {
	case err := <-c.done:
		c.done <- err
	case <-time.After(d):
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCrashRestore is the acceptance test of exactly-once output to
// Kafka: the broker runs in its own process (weir dev kafka with a data
// directory), input arrives at a steady rate, and the example job is
// SIGKILLed at random moments (shortly after a checkpoint completed, or
// while it starts and restores) and restarted with -restore latest at
// varying parallelism; once, the broker itself is stopped and restarted
// under the running job. A read_committed consumer then finds every input
// (key, seq) exactly once in the output topic, with correct sums.
//
// Where a kill can land, and why the output stays exact:
//   - before a checkpoint completes: its transactions are open; the
//     restarted job re-initialises every transactional id of the sink,
//     which aborts them, and replays the input from the restored offsets;
//   - after a checkpoint completed, before or during its commit: the
//     restarted job commits the restored checkpoint's transactions by
//     their producer id and epoch (a repeated commit is accepted) before
//     aborting leftovers;
//   - while the restarted job commits or aborts: the same checkpoint is
//     restored and committed once more.
func TestCrashRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example and the weir binary many times")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binaries")
	}
	dir := t.TempDir()
	bin, weirBin := filepath.Join(dir, "kafka-exactly-once"), filepath.Join(dir, "weir")
	for _, b := range [][2]string{{bin, "."}, {weirBin, "../../cmd/weir"}} {
		if out, err := exec.Command(goBin, "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", b[1], err, out)
		}
	}
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	port := freePort(t)
	brokers := fmt.Sprint("127.0.0.1:", port)
	brokerArgs := []string{"dev", "kafka", "--port", strconv.Itoa(port), "--data-dir", filepath.Join(dir, "kafka"),
		"--topics", "input:4,output:4"}
	startBroker := func() *child {
		b := startChild(t, weirBin, logPath, brokerArgs...)
		b.waitUntil(t, "broker", 20*time.Second, func() bool {
			c, err := net.Dial("tcp", brokers)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return b
	}
	broker := startBroker()
	defer func() { broker.signal(syscall.SIGTERM) }()

	// 16000 records at 4000 per second: the kills happen while input
	// arrives.
	const n = 16000
	gen := startChild(t, bin, logPath, "-brokers", brokers, "-generate", strconv.Itoa(n), "-keys", "8", "-rate", "4000")
	chk := filepath.Join(dir, "chk")
	args := func(p int) []string {
		return []string{"-brokers", brokers, "-checkpoint-dir", chk, "-checkpoint-interval", "50ms",
			"-restore", "latest", "-parallelism", strconv.Itoa(p), "-v"}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	pars := []int{1, 3, 2, 1, 2, 3}
	const wantKills = 12
	kills, early := 0, 0
	start := time.Now()
	for run := 0; kills < wantKills; run++ {
		before := latestCheckpoint(t, chk)
		c := startChild(t, bin, logPath, args(pars[run%len(pars)])...)
		switch {
		case run%4 == 3:
			// While the job starts: restoring, committing the restored
			// transactions, aborting leftovers.
			c.pause(time.Duration(rng.IntN(150)) * time.Millisecond)
			early++
		case run == 5:
			// The broker restarts under the running job.
			c.waitUntil(t, "new checkpoint", 30*time.Second, func() bool { return latestCheckpoint(t, chk) > before })
			if _, err := broker.signal(syscall.SIGTERM); err != nil {
				t.Fatalf("stopping the broker: %v", err)
			}
			broker = startBroker()
			mid := latestCheckpoint(t, chk)
			c.waitUntil(t, "checkpoint after the broker restart", 60*time.Second, func() bool { return latestCheckpoint(t, chk) > mid })
			t.Logf("job survived a broker restart: checkpoint %d after %d", latestCheckpoint(t, chk), mid)
		default:
			c.waitUntil(t, "new checkpoint", 30*time.Second, func() bool { return latestCheckpoint(t, chk) > before })
			c.pause(time.Duration(rng.IntN(60)) * time.Millisecond)
		}
		exited, err := c.signal(syscall.SIGKILL)
		if exited {
			t.Fatalf("run %d exited by itself: %v", run, err)
		}
		kills++
	}
	t.Logf("%d kills (%d while starting) in %v", kills, early, time.Since(start).Round(time.Millisecond))
	select {
	case err := <-gen.done:
		gen.log.Close()
		if err != nil {
			t.Fatalf("generating input: %v", err)
		}
	case <-time.After(60 * time.Second):
		gen.signal(syscall.SIGKILL)
		t.Fatal("input generation did not finish")
	}
	final := startChild(t, bin, logPath, args(2)...)
	out, err := exec.Command(bin, "-brokers", brokers, "-verify", "-timeout", "60s").CombinedOutput()
	if exited, ferr := final.signal(syscall.SIGTERM); exited {
		t.Errorf("final run exited by itself: %v", ferr)
	}
	t.Logf("verify: %s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !strings.Contains(string(out), fmt.Sprintf("input %d records", n)) {
		t.Fatalf("verify read another input than the %d generated records", n)
	}
}
