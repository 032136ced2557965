package file_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/internal/crashtest"
)

// compactChild makes the test binary the child job of
// TestCompactionCrash: "in,out,chk,parallelism".
var compactChild = flag.String("compact-crash-child", "", "run the compaction crash test's child job (in,out,chk,parallelism)")

// TestCompactionCrashChild is the child job of TestCompactionCrash: it
// reads in, sums per key and writes out exactly once with compaction (part
// files of about 3 records, merged into files of up to 12 KB per
// checkpoint), restoring the latest checkpoint of chk.
func TestCompactionCrashChild(t *testing.T) {
	if *compactChild == "" {
		t.Skip("only as the child of TestCompactionCrash")
	}
	a := strings.Split(*compactChild, ",")
	p, _ := strconv.Atoi(a[3])
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 40 * time.Millisecond, Dir: a[2], Retained: 2},
		Restore:     "latest",
	})
	s := weir.FromSource[kin](env, file.JSONSource[kin](a[0], file.SourceOptions{LinesPerSecond: 8000, LinesPerPoll: 20}), weir.NoWatermarks[kin](), "in").UID("in")
	sums := weir.ProcessKeyed[string, kin, kout](weir.KeyBy(s, func(v kin) string { return v.Key }), &sumFn{}).UID("sums")
	sums.SinkTo(file.ExactlyOnceJSONSink[kout](a[1], file.ExactlyOnceOptions{MaxPartSize: 100, Compact: true, CompactTargetSize: 12 << 10})).UID("out")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestCompactionCrash SIGKILLs a job writing with compaction at random
// moments — shortly after a checkpoint completed (during the compaction
// of its part files, their removal, or the writes after it) and while a
// run restores (committing the restored units again) — restarts it from
// the latest checkpoint at another parallelism, lets it finish, and
// checks that the visible files hold every record exactly once with the
// sums of an uninterrupted run, and that only compacted files are left.
func TestCompactionCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary as a child many times")
	}
	dir := t.TempDir()
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	for _, d := range []string{in, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := writeInput(t, in, 8, 3000, false, 0) // 24000 lines: 3 s at 8000/s
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := func(p int) []string {
		return []string{"-test.run=^TestCompactionCrashChild$", "-test.count=1",
			"-compact-crash-child=" + strings.Join([]string{in, out, chk, strconv.Itoa(p)}, ",")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	pars := []int{1, 3, 2, 2, 1, 3}
	kills, ended := 0, false
	for run := 0; kills < 12 && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, args(pars[run%len(pars)])...)
		if run%4 == 3 {
			c.Pause(time.Duration(rng.IntN(300)) * time.Millisecond)
		} else {
			c.WaitUntil(t, "new checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(40)) * time.Millisecond)
		}
		exited, err := c.Kill()
		// Right after the kill, whatever it interrupted: no record is
		// visible twice (a compacted file and a small file of its unit,
		// or two compacted files of one unit), and each visible one has
		// its running sum.
		for k, v := range committedOutput(t, out, false, false) {
			if want[k] != v {
				t.Fatalf("after kill %d: %s visible with sum %d, want %d", run, k, v, want[k])
			}
		}
		switch {
		case exited && err != nil:
			t.Fatalf("run %d failed: %v", run, err)
		case exited:
			ended = true
		default:
			kills++
		}
	}
	t.Logf("%d kills", kills)
	// The final run, then one from the final checkpoint that commits
	// nothing new.
	for _, p := range []int{2, 3} {
		c := crashtest.Start(t, bin, logPath, args(p)...)
		exited, err := c.WaitFor(90 * time.Second)
		if !exited {
			c.Signal(syscall.SIGQUIT) // its goroutines go to the log
		}
		if !exited || err != nil {
			t.Fatalf("final run at parallelism %d: exited %v, %v (%d records visible)", p, exited, err, len(committedOutput(t, out, false, false)))
		}
	}
	got := committedOutput(t, out, false, true) // fails on hidden leftovers
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("%s not committed (%d of %d)", k, len(got), len(want))
		}
		if g != w {
			t.Fatalf("%s: sum %d, want %d", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d records committed, want %d", len(got), len(want))
	}
	// Compaction happened: far fewer files than part files of 3 records.
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ents); n == 0 || n > len(want)/30 {
		t.Fatalf("%d visible files for %d records: not compacted", n, len(want))
	}
}
