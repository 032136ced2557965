package cdc_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestMain runs the crash test's child job when the test binary is started
// as one.
func TestMain(m *testing.M) {
	if table := os.Getenv("CDC_CRASH_CHILD"); table != "" {
		if err := crashChild(table, os.Getenv("CDC_CRASH_DIR")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild runs the source → exactly-once file sink job on table, with
// its checkpoints and output under dir, restoring the latest checkpoint,
// until SIGTERM.
func crashChild(table, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 40 * time.Millisecond, Dir: filepath.Join(dir, "chk"), Retained: 2},
		Restore:     "latest",
	})
	opts := baseOpts(table)
	opts.Logger = testLogger()
	pipeline(env, opts, filepath.Join(dir, "out"), func(o Out) (Out, error) {
		if o.Op == "r" {
			time.Sleep(time.Millisecond) // a slow consumer (3 s of snapshot): kills land in the snapshot too
		}
		return o, nil
	})
	err := env.Execute(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// TestCrashExactlyOnce SIGKILLs a child process running the source into an
// exactly-once file sink at random instants (during the snapshot, at the
// hand-over to the stream, while streaming), restarting it each time from
// its latest checkpoint, while a workload changes the table. The committed
// output then holds, per key, the snapshot read of one state and every
// later change exactly once, in commit order, ending with the table's
// state.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills child processes")
	}
	c := connect(t)
	name := names(t, c)
	w := newWorkload(name, 3000, 5)
	w.createTable(t, c, true, 3000)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	t.Setenv("CDC_CRASH_CHILD", name)
	t.Setenv("CDC_CRASH_DIR", dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writer := w.run(ctx, t, 2*time.Millisecond)
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const kills = 12
	out := filepath.Join(dir, "out")
	for i := range kills {
		// Each run is killed at a random instant after it completed a
		// checkpoint of its own, so that the job progresses from run to
		// run: through the snapshot, over the hand-over, into the stream.
		last := committedParts(t, out)
		child := crashtest.Start(t, os.Args[0], logPath, "-test.run=^$")
		child.WaitUntil(t, "a checkpoint with output", 60*time.Second, func() bool { return committedParts(t, out) > last })
		// Short lives first (kills in the snapshot), then longer ones
		// (kills at the hand-over and in the stream).
		life := 150
		if i >= kills/3 {
			life = 1000
		}
		if i > 0 { // the first run dies right after its first output, inside the snapshot on any machine
			child.Pause(time.Duration(rng.IntN(life)) * time.Millisecond)
		}
		if exited, err := child.Kill(); exited {
			t.Fatalf("run %d exited by itself: %v", i, err)
		}
	}
	final := crashtest.Start(t, os.Args[0], logPath, "-test.run=^$")
	final.Pause(500 * time.Millisecond)
	cancel()
	if err := <-writer; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every change in the committed output", 60*time.Second, func() error { return w.check(readParts(t, out)) })
	if exited, err := final.Signal(syscall.SIGTERM); exited {
		t.Fatalf("the final run exited by itself: %v", err)
	}
	lsns := map[uint64]int{}
	outs := readParts(t, out)
	for _, o := range outs {
		if o.Op == "r" {
			lsns[o.LSN]++
		}
	}
	if os.Getenv("CDC_DEBUG") != "" {
		b, _ := os.ReadFile(logPath)
		t.Logf("log of the runs:\n%s", b)
	}
	streamed := 0
	for _, o := range outs {
		if o.Op != "r" {
			streamed++
		}
	}
	if len(lsns) < 2 || streamed < 300 {
		t.Fatalf("snapshot reads per snapshot LSN %v, %d streamed changes: the kills did not land in the snapshot and the stream", lsns, streamed)
	}
	t.Logf("%d kills; %d changes committed; snapshot reads per snapshot LSN %v; %d workload transactions", kills, len(outs), lsns, w.n)
}

// committedParts counts the committed part files in dir.
func committedParts(t testing.TB, dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "part-") {
			n++
		}
	}
	return n
}
