package cdc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
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
	var src weir.Source[cdc.Change] = cdc.NewSource(opts)
	var reads atomic.Int64 // snapshot reads the hook (chained to the source) saw
	if marker := os.Getenv("CDC_CRASH_HOLD"); marker != "" {
		src = &holdSource{src: src, marker: marker, reads: &reads}
	}
	pipelineFrom(env, src, filepath.Join(dir, "out"), func(o Out) (Out, error) {
		if o.Op == "r" {
			reads.Add(1)
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
	w := newWorkload(name, crashKeys, 5)
	w.createTable(t, c, true, crashKeys)
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
	out, chk, marker := filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "held")
	for i := range kills {
		// Each run is killed at a random instant after it completed a
		// checkpoint of its own, so that the job progresses from run to
		// run: through the snapshot, over the hand-over, into the stream.
		last := committedParts(t, out)
		if i == 0 {
			// The first run dies inside the snapshot on any machine, however
			// loaded: its source stops after its first poll of snapshot rows
			// (holdReader), inside the snapshot, so every later checkpoint
			// stores that position, and the run is killed once one of them
			// completed. A kill timed after the first output instead let
			// the snapshot end first under load (1 of 12 runs): the reader
			// emits up to 2048 rows per poll, 2 s with the slow consumer,
			// and checkpoints fall only between polls.
			t.Setenv("CDC_CRASH_HOLD", marker)
			held := crashtest.Start(t, os.Args[0], logPath, "-test.run=^$")
			t.Setenv("CDC_CRASH_HOLD", "")
			held.WaitUntil(t, "a completed checkpoint inside the snapshot", 60*time.Second, func() bool {
				id, ok := holdCheckpoint(t, marker)
				return ok && crashtest.LatestCheckpoint(t, chk) >= id
			})
			if exited, err := held.Kill(); exited {
				t.Fatalf("run %d exited by itself: %v", i, err)
			}
			continue
		}
		child := crashtest.Start(t, os.Args[0], logPath, "-test.run=^$")
		child.WaitUntil(t, "a checkpoint with output", 60*time.Second, func() bool { return committedParts(t, out) > last })
		// Short lives first (kills in the snapshot, if it is still on),
		// then longer ones (kills at the hand-over and in the stream).
		life := 150
		if i >= kills/3 {
			life = 1000
		}
		child.Pause(time.Duration(rng.IntN(life)) * time.Millisecond)
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

// crashKeys is the number of rows (keys 0 to crashKeys-1) of the crash
// test's table.
const crashKeys = 3000

// holdSource wraps the source of the crash test's first run (holdReader).
type holdSource struct {
	src    weir.Source[cdc.Change]
	marker string
	reads  *atomic.Int64
}

func (s *holdSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[cdc.Change], error) {
	r, err := s.src.CreateReader(ctx)
	if err != nil {
		return nil, err
	}
	return &holdReader{r: r, marker: s.marker, reads: s.reads}, nil
}

// holdReader passes the cdc reader through until the first poll that
// emitted snapshot rows has returned (the hook, chained to the source,
// counted them in reads); from then on it emits nothing. That poll emitted
// at most 2048 events (the reader's maxPerPoll), fewer than the snapshot's
// rows (crashKeys, of which the workload deletes at most one in seven), so
// the position stays inside the snapshot, and every checkpoint from then on
// stores it: SnapshotState writes the first such checkpoint's id to the
// file marker ("missed" and the position if it is not inside the
// snapshot, before the last hundred keys, which the workload does not all
// delete before the next run reads them). Holding at a checkpoint instead
// of at a poll could miss the snapshot: a source task handles one mail of
// the checkpoint driver per poll, and under load the barrier after a
// completion notice came two polls (over 3000 rows) after the previous
// barrier.
type holdReader struct {
	r      weir.SourceReader[cdc.Change]
	marker string
	reads  *atomic.Int64
	held   bool
	marked bool
}

func (h *holdReader) Poll(ctx context.Context, out *weir.SourceOutput[cdc.Change]) (weir.PollStatus, error) {
	if h.held || h.reads.Load() > 0 {
		h.held = true
		return weir.NothingAvailable, nil
	}
	return h.r.Poll(ctx, out)
}

func (h *holdReader) Available() <-chan struct{} { return h.r.(weir.Availability).Available() }

func (h *holdReader) NotifyCheckpointComplete(id int64) error {
	return h.r.(weir.CheckpointListeningReader).NotifyCheckpointComplete(id)
}

func (h *holdReader) Close() error { return h.r.Close() }

func (h *holdReader) SnapshotState(id int64) ([][]byte, error) {
	items, err := h.r.(weir.CheckpointedReader).SnapshotState(id)
	if err != nil || !h.held || h.marked {
		return items, err
	}
	h.marked = true
	mark := strconv.FormatInt(id, 10)
	// The position is JSON (position.go).
	var pos struct {
		Phase   string   `json:"phase"`
		LastKey []string `json:"last_key"`
	}
	if len(items) != 1 || json.Unmarshal(items[0], &pos) != nil || pos.Phase != "snapshot" || len(pos.LastKey) != 1 {
		mark = fmt.Sprintf("missed %q", items)
	} else if k, err := strconv.ParseInt(pos.LastKey[0], 10, 64); err != nil || k >= crashKeys-100 {
		mark = fmt.Sprintf("missed %q", items)
	}
	tmp := h.marker + ".tmp"
	if err := os.WriteFile(tmp, []byte(mark), 0o644); err != nil {
		return nil, err
	}
	return items, os.Rename(tmp, h.marker)
}

// holdCheckpoint reads the id holdReader wrote to marker; ok is false
// while it wrote none. A missed hold fails the test.
func holdCheckpoint(t testing.TB, marker string) (id int64, ok bool) {
	t.Helper()
	b, err := os.ReadFile(marker)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(string(b), "missed") {
		t.Fatalf("the first run's held position is not inside the snapshot, before key %d: %s", crashKeys-100, b)
	}
	id, err = strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		t.Fatalf("hold marker %q: %v", b, err)
	}
	return id, true
}
