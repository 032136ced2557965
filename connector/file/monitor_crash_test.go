package file

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// monitorCrashEnv, when set (a directory), makes TestMonitorCrashChild run
// the child job of TestMonitorSurvivesKills.
const monitorCrashEnv = "WEIR_FILE_MONITOR_CRASH_CHILD"

// monitorCrashPar is the child's parallelism: it changes between runs, so
// that restores rescale the source (and the sink).
const monitorCrashPar = "WEIR_FILE_MONITOR_CRASH_P"

// crashRec is a record of the crash test: a unique id.
type crashRec struct {
	ID int `json:"id"`
}

// TestMonitorCrashChild is the child process of TestMonitorSurvivesKills:
// a continuous JSON source over dir/in at the parallelism the test sets
// (paced, so that
// kills land in the middle of files) into the exactly-once JSON sink
// dir/out, with 50 ms checkpoints, restoring the latest. It runs until
// killed.
func TestMonitorCrashChild(t *testing.T) {
	dir := os.Getenv(monitorCrashEnv)
	if dir == "" {
		t.Skip("the child process of TestMonitorSurvivesKills")
	}
	par, err := strconv.Atoi(os.Getenv(monitorCrashPar))
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: par,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: filepath.Join(dir, "chk"), Retained: 2},
		Restore:     "latest",
	})
	src := JSONSource[crashRec](filepath.Join(dir, "in"), SourceOptions{MonitorInterval: 15 * time.Millisecond, LinesPerSecond: 30000, LinesPerPoll: 64})
	weir.FromSource(env, src, weir.NoWatermarks[crashRec](), "files").UID("files").
		SinkTo(ExactlyOnceJSONSink[crashRec](filepath.Join(dir, "out"), ExactlyOnceOptions{})).UID("out")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorSurvivesKills: files appear in the directory of a continuous
// source while its job's process is SIGKILLed (mid-stream, after
// checkpoints) and restarted from the latest checkpoint, several times.
// Every line of every file must be in the committed output of the
// exactly-once sink exactly once: no file is read twice or skipped, and
// no file is re-read from its start after a restore, though the
// parallelism changes between runs (2, 3, 1, 2, 3, 2).
func TestMonitorSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	logPath := filepath.Join(dir, "child.log")
	t.Setenv(monitorCrashEnv, dir)
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("child log:\n%s", b)
		}
	}()
	const perFile, filesPerRun, kills = 1200, 3, 5
	nextID, nfile := 0, 0
	addFiles := func(n int) {
		for range n {
			var b strings.Builder
			for range perFile {
				nextID++
				fmt.Fprintf(&b, "{\"id\":%d}\n", nextID)
			}
			// Some in a new subdirectory each time.
			putFile(t, in, fmt.Sprintf("d%02d/f%03d.jsonl", nfile/2, nfile), b.String())
			nfile++
		}
	}
	addFiles(filesPerRun)
	rng := rand.New(rand.NewPCG(7, 11))
	chk := filepath.Join(dir, "chk")
	pars := []int{2, 3, 1, 2, 3, 2} // a run's parallelism
	for run := range kills {
		t.Setenv(monitorCrashPar, strconv.Itoa(pars[run]))
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, "-test.run=^TestMonitorCrashChild$", "-test.count=1")
		c.WaitUntil(t, "a checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
		addFiles(filesPerRun) // while the job runs
		c.Pause(time.Duration(20+rng.IntN(100)) * time.Millisecond)
		c.KillRun(t, run)
	}
	addFiles(filesPerRun) // while no job runs
	t.Setenv(monitorCrashPar, strconv.Itoa(pars[kills]))
	c := crashtest.Start(t, bin, logPath, "-test.run=^TestMonitorCrashChild$", "-test.count=1")
	var got map[int]int
	c.WaitUntil(t, "every line in the committed output", 120*time.Second, func() bool {
		got = committedIDs(t, filepath.Join(dir, "out"))
		return len(got) == nextID
	})
	c.KillRun(t, kills)
	if len(got) != nextID {
		t.Fatalf("%d of %d lines committed", len(got), nextID)
	}
	for id := 1; id <= nextID; id++ {
		if got[id] != 1 {
			t.Fatalf("line %d committed %d times", id, got[id])
		}
	}
	t.Logf("%d files, %d lines, %d runs", nfile, nextID, kills+1)
}

// committedIDs counts the ids in the committed part files of dir.
func committedIDs(t *testing.T, dir string) map[int]int {
	t.Helper()
	got := map[int]int{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r crashRec
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %q: %v", e.Name(), sc.Text(), err)
			}
			got[r.ID]++
		}
		f.Close()
	}
	return got
}
