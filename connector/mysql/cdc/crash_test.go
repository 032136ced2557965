package cdc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// crashOut is a line of the crash job's output (crashjob.Out).
type crashOut struct {
	Op     string  `json:"op"`
	Before []int64 `json:"before"`
	After  []int64 `json:"after"`
	Pos    string  `json:"pos"`
}

// countLines counts the lines of the committed part files.
func countLines(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	must(t, err)
	n := 0
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		must(t, err)
		n += bytes.Count(b, []byte{'\n'})
	}
	return n
}

// countReads counts the snapshot reads among the committed changes.
func countReads(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, o := range readCrashOutput(t, dir) {
		if o.Op == "r" {
			n++
		}
	}
	return n
}

// readCrashOutput returns the committed changes in commit order: part
// files by their number, lines in order.
func readCrashOutput(t *testing.T, dir string) []crashOut {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	type part struct {
		n    int
		name string
	}
	var parts []part
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "part-0-")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(rest, ".jsonl"))
		if err != nil {
			t.Fatalf("part file %s", e.Name())
		}
		parts = append(parts, part{n, e.Name()})
	}
	slices.SortFunc(parts, func(a, b part) int { return a.n - b.n })
	var out []crashOut
	for _, p := range parts {
		f, err := os.Open(filepath.Join(dir, p.name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var o crashOut
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			out = append(out, o)
		}
		f.Close()
	}
	return out
}

// crashFiles returns where a test's runs of the crash job write, in a
// temporary directory: the committed output, the checkpoints and the log
// of the runs, which the test logs if it fails.
func crashFiles(t *testing.T) (out, chk, logPath string) {
	t.Helper()
	dir := t.TempDir()
	out, chk, logPath = filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "runs.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	})
	return out, chk, logPath
}

// replayCrashOutput applies the committed changes in dir, in commit
// order, to a new model.
func replayCrashOutput(t *testing.T, dir string) *model {
	t.Helper()
	m := newModel(t)
	for _, o := range readCrashOutput(t, dir) {
		m.apply(Change{Op: Op(o.Op[0]), Before: anys(o.Before), After: anys(o.After), Position: Position{File: o.Pos}})
	}
	return m
}

func anys(v []int64) []any {
	if v == nil {
		return nil
	}
	a := make([]any, len(v))
	for i, x := range v {
		a[i] = x
	}
	return a
}

// TestCrashExactlyOnce SIGKILLs a job (source → exactly-once file sink)
// at random instants, during the snapshot, around its hand-over to the
// binlog and while streaming, with writers changing the table all along;
// each run restores the latest checkpoint. The committed output replays,
// change by change, to the table's final state, each update and delete
// finding the row its Before says: every change exactly once, in order
// per key. It runs with each snapshot algorithm.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the crash job many times")
	}
	bin := binaries.Path(t, "crashjob", "./internal/crashjob")
	for _, alg := range []SnapshotAlgorithm{ConsistentSnapshot, WatermarkSnapshot} {
		t.Run(alg.String(), func(t *testing.T) { testCrashExactlyOnce(t, bin, alg) })
	}
}

func testCrashExactlyOnce(t *testing.T, bin string, alg SnapshotAlgorithm) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	const rows = 3000
	fill(t, db, table, rows)
	out, chk, logPath := crashFiles(t)
	args := []string{"-addr", addr, "-table", table, "-output", out, "-checkpoint-dir", chk, "-restore", "latest", "-chunk", "30", "-algorithm", alg.String()}
	stop := make(chan struct{})
	var wg syncGroup
	for w := range uint64(2) {
		writer(t, db, table, 20+w, rows-1, stop, &wg.WaitGroup)
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	// logFrom is the log after offset from (a run's part of it).
	logFrom := func(from int) string {
		b, err := os.ReadFile(logPath)
		if errors.Is(err, fs.ErrNotExist) {
			return "" // before the first run
		}
		must(t, err)
		return string(b[min(from, len(b)):])
	}
	// snapshotDone: the run whose log starts at from has completed the
	// snapshot (in memory: its checkpoint may not hold it yet) or resumed
	// after it.
	snapshotDone := func(from int) bool {
		l := logFrom(from)
		return strings.Contains(l, "snapshot complete") || strings.Contains(l, "snapshot_done=true")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	kills, during, after := 0, 0, 0
	// A kill is classified by what the run after it restored: a resume
	// inside the snapshot (snapshot_done=false) or a fresh start follows a
	// kill during the snapshot, a resume after it a kill after. (The log
	// line "snapshot complete" of a killed run says nothing durable: under
	// load a run finishes the snapshot in memory and dies before its
	// checkpoint records it, and the next run resumes inside it.)
	classify := func() (during, after int) {
		b, err := os.ReadFile(logPath)
		must(t, err)
		runs := strings.Split(string(b), "=== crashjob [")
		for i, r := range runs {
			if i < 2 {
				continue // before the first run, and the first run
			}
			switch {
			case strings.Contains(r, "snapshot_done=true"):
				after++
			case strings.Contains(r, "snapshot_done=false") || strings.Contains(r, "starting fresh"):
				during++
			}
		}
		return during, after
	}
	// The schedule does not depend on how fast the child is (a -race
	// build reads the binlog several times slower than the writers write
	// it): while the snapshot runs, a run is killed only once it
	// committed new snapshot reads, so each run moves the snapshot on;
	// after a few kills inside the snapshot, one run is let live until it
	// logs the hand-over and is killed right after it.
	for run := 0; run < 60 && (kills < 12 || during < 3 || after < 4); run++ {
		before, beforeReads := countLines(t, out), countReads(t, out)
		from := len(logFrom(0))
		done := func() bool { return snapshotDone(from) }
		c := crashtest.Start(t, bin, logPath, args...)
		switch {
		case run%4 == 3:
			c.Pause(time.Duration(rng.IntN(60)) * time.Millisecond) // while starting
		case after == 0 && during < 6:
			// Once a checkpoint committed new snapshot rows: the
			// next chunks, changes and checkpoints are under way.
			c.WaitUntil(t, "new snapshot rows", 60*time.Second, func() bool {
				return done() || countReads(t, out) > beforeReads
			})
			// The first runs die at their first commit: inside the
			// snapshot.
			if during >= 3 {
				c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
			}
		case after == 0:
			// Around the hand-over to the binlog: right after this run
			// completes the snapshot, or (every other run, so that a
			// checkpoint comes to hold the hand-over) after the next
			// checkpoint.
			c.WaitUntil(t, "the end of the snapshot", 120*time.Second, done)
			if rng.IntN(2) == 0 {
				chkAt := crashtest.LatestCheckpoint(t, chk)
				c.WaitUntil(t, "a checkpoint after the snapshot", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > chkAt })
			}
			c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		default:
			c.WaitUntil(t, "new output", 30*time.Second, func() bool { return countLines(t, out) > before })
			c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		}
		exited, err := c.Kill()
		if exited {
			t.Fatalf("run %d exited by itself: %v", run, err)
		}
		kills++
		if testing.Verbose() {
			o := readCrashOutput(t, out)
			nr := 0
			for _, x := range o {
				if x.Op == "r" {
					nr++
				}
			}
			t.Logf("run %d: %d committed, %d reads, checkpoint %d, snapshot done %v", run, len(o), nr, crashtest.LatestCheckpoint(t, chk), snapshotDone(from))
		}
		during, after = classify()
	}
	close(stop)
	wg.Wait()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)")
	c := crashtest.Start(t, bin, logPath, args...)
	// Done once the committed output replays to the final table (the
	// last changes may come before the last snapshot chunk's rows).
	want := tableRows(t, db, table)
	replay := func() *model { return replayCrashOutput(t, out) }
	for deadline := time.Now().Add(60 * time.Second); !maps.Equal(replay().rows, want); {
		if time.Now().After(deadline) {
			c.Signal(syscall.SIGQUIT) // its goroutines go to the log
			t.Fatalf("the committed output did not reach the table's final state within 60s: %s", rowsDiff(replay().rows, want))
		}
		c.Pause(10 * time.Millisecond)
	}
	if exited, err := c.Signal(syscall.SIGTERM); exited {
		t.Fatalf("final run exited by itself: %v", err)
	}
	during, after = classify()
	t.Logf("%d kills: %d before the snapshot completed, %d after", kills, during, after)
	if during == 0 || after == 0 {
		t.Fatalf("kills did not straddle the hand-over (%d during, %d after)", during, after)
	}
	m := replay()
	m.check(db, table)
	t.Logf("%d changes committed exactly once", m.n)
}

// rowsDiff names the ids whose replayed row differs from the table's
// (at most 20): missing, extra, or with other (v, updates).
func rowsDiff(got, want map[int64][2]int64) string {
	var b strings.Builder
	n := 0
	note := func(format string, a ...any) {
		if n < 20 {
			fmt.Fprintf(&b, format, a...)
		}
		n++
	}
	for id, w := range want {
		if g, ok := got[id]; !ok {
			note(" id %d missing (table %v);", id, w)
		} else if g != w {
			note(" id %d replayed %v, table %v;", id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			note(" id %d replayed %v, not in the table;", id, g)
		}
	}
	return fmt.Sprintf("%d rows differ:%s", n, b.String())
}
