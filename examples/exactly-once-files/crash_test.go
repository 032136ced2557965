package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"github.com/weirstream/weir/internal/crashtest"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCrashRestore is the acceptance test of exactly-once output with
// files: it runs the example as a child process, SIGKILLs it at random
// moments (shortly after a checkpoint completed, or while it is starting
// and restoring), restarts it from the latest checkpoint at varying
// parallelism, lets it finish, and checks that the committed output holds
// every input record exactly once with the running sums of an
// uninterrupted run.
//
// Where a kill can land, and why the output stays exact:
//   - writing a checkpoint: data files are synced before the metadata,
//     which is written to a temporary file and renamed, so a checkpoint
//     either has whole metadata or none; directories without metadata are
//     removed at the next start and the previous checkpoint is restored;
//   - between a checkpoint's completion and its commit, or in the middle of
//     the commit's renames: the restarted job commits every staged part
//     file of the restored checkpoint again, and a rename already done is
//     recognised (final name present, staged file gone);
//   - while the restarted job commits those files or deletes leftovers:
//     the same checkpoint is restored once more;
//   - with records in an in-progress or staged part file no completed
//     checkpoint names: the file is deleted at the next start and its
//     records are replayed from the restored source positions;
//   - during the final checkpoint (after every task finished) or its
//     commit: the final checkpoint, if complete, is restored, its files
//     committed, and the job ends at once; otherwise the last periodic one.
func TestCrashRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary many times")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "exactly-once-files")
	crashtest.Build(t, bin, ".")
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	logPath := filepath.Join(dir, "runs.log")
	if b, err := exec.Command(bin, "-generate", "2000", "-files", "20", "-keys", "4", "-input", in).CombinedOutput(); err != nil {
		t.Fatalf("generating input: %v\n%s", err, b)
	}
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	// Runs alternate between the state backends (a period prime to that
	// of the parallelism), so restores go Pebble → Pebble (native files,
	// rescaled), Pebble → heap and heap → Pebble.
	backends := []string{"pebble", "heap", "pebble", "pebble", "heap"}
	runs := 0
	args := func(p int) []string {
		b := backends[runs%len(backends)]
		runs++
		return []string{"-input", in, "-output", out, "-checkpoint-dir", chk, "-checkpoint-interval", "50ms",
			"-restore", "latest", "-rate", "6000", "-parallelism", strconv.Itoa(p), "-v",
			"-state-backend", b, "-state-dir", filepath.Join(dir, "state")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Parallelism of the runs, in turn: 1 -> 3 right after the first kill.
	pars := []int{1, 3, 2, 1, 2, 3}
	// 20 kills take about 2 s of the 6.7 s of input at 6000 lines per
	// second; on a machine so slow that the job ends first, 10 suffice.
	const wantKills, minKills = 20, 10
	kills, early, ended := 0, 0, false
	start := time.Now()
	for run := 0; kills < wantKills && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, args(pars[run%len(pars)])...)
		if run%4 == 3 {
			// While the job starts: restoring state, committing the
			// restored checkpoint's files, cleaning up leftovers.
			c.Pause(time.Duration(rng.IntN(40)) * time.Millisecond)
			early++
		} else {
			// After a new checkpoint: its commit, the next checkpoint's
			// writes or the records in between are under way.
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(60)) * time.Millisecond)
		}
		exited, err := c.Kill()
		switch {
		case exited && err != nil:
			t.Fatalf("run %d failed: %v", run, err)
		case exited:
			ended = true
			t.Logf("run %d ended by itself after %d kills", run, kills)
		default:
			kills++
		}
	}
	if kills < minKills {
		t.Fatalf("only %d kills before the job ended: the input is too small for this machine", kills)
	}
	committed := len(readOutput(t, out))
	t.Logf("%d kills (%d while starting) in %v; %d of 40000 records committed", kills, early, time.Since(start).Round(time.Millisecond), committed)
	if !ended && committed == 0 {
		t.Fatal("nothing committed after the kills: no checkpoint survived them")
	}
	// Kills near the end: the last checkpoints, the final checkpoint taken
	// after every task finished, and its commit.
	tail := 0
	for run := 0; run < 4 && !ended; run++ {
		c := crashtest.Start(t, bin, logPath, args(pars[run%len(pars)])...)
		// The last 0.05 to 0.55 s of input at 6000 lines per second (and
		// as much again on a loaded machine, where commits lag).
		near := 40000 - 300 - rng.IntN(3000)
		c.WaitUntil(t, "nearly complete output", 40*time.Second, func() bool { return countLines(t, out) >= near })
		c.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		exited, err := c.Kill()
		if exited && err != nil {
			t.Fatalf("run near the end failed: %v", err)
		}
		if exited {
			break // the job ended: later runs would only restore the final checkpoint
		}
		tail++
	}
	t.Logf("%d kills near the end", tail)
	// The final run, then one more from the final checkpoint: it commits
	// nothing new.
	for _, p := range []int{3, 2} {
		c := crashtest.Start(t, bin, logPath, args(p)...)
		exited, err := c.WaitFor(40 * time.Second)
		if !exited {
			t.Fatalf("final run at parallelism %d did not finish", p)
		}
		if err != nil {
			t.Fatalf("final run at parallelism %d: %v", p, err)
		}
	}
	checkOutput(t, in, out)
}

// countLines counts the lines of the committed part files.
func countLines(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte{'\n'})
	}
	return n
}

// readOutput returns the records of the committed part files.
func readOutput(t *testing.T, dir string) []Output {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []Output
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		recs = append(recs, readJSONLines[Output](t, filepath.Join(dir, e.Name()))...)
	}
	return recs
}

func readJSONLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		recs = append(recs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

type keySeq struct {
	key string
	seq int64
}

// checkOutput compares the committed output with the running sums computed
// from the input files, and checks that no uncommitted file is left.
func checkOutput(t *testing.T, in, out string) {
	t.Helper()
	want := map[keySeq]int64{}
	files, err := filepath.Glob(filepath.Join(in, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("input files: %v %v", files, err)
	}
	for _, f := range files {
		sums := map[string]int64{}
		next := map[string]int64{}
		for _, r := range readJSONLines[Input](t, f) {
			if r.Seq != next[r.Key] {
				t.Fatalf("input %s: key %s seq %d out of order", f, r.Key, r.Seq)
			}
			next[r.Key]++
			sums[r.Key] += r.Value
			ks := keySeq{r.Key, r.Seq}
			if _, dup := want[ks]; dup {
				t.Fatalf("input: key %s in several files", r.Key)
			}
			want[ks] = sums[r.Key]
		}
	}
	got := map[keySeq]int64{}
	for _, o := range readOutput(t, out) {
		ks := keySeq{o.Key, o.Seq}
		if prev, dup := got[ks]; dup {
			t.Fatalf("output: key %s seq %d committed twice (sums %d and %d)", o.Key, o.Seq, prev, o.Sum)
		}
		got[ks] = o.Sum
		w, ok := want[ks]
		if !ok {
			t.Fatalf("output: key %s seq %d is not in the input", o.Key, o.Seq)
		}
		if o.Sum != w {
			t.Fatalf("output: key %s seq %d has sum %d, want %d", o.Key, o.Seq, o.Sum, w)
		}
	}
	if len(got) != len(want) {
		for ks := range want {
			if _, ok := got[ks]; !ok {
				t.Fatalf("output: %d of %d records; missing e.g. key %s seq %d", len(got), len(want), ks.key, ks.seq)
			}
		}
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			t.Errorf("output: leftover %s", e.Name())
		}
	}
}
