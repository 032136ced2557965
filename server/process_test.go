package server

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// weirBin is the weir binary TestMain builds for the tests that run a
// real server process ("" with -short or without a go command).
var weirBin string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "weir-server-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if goBin, err := exec.LookPath("go"); err == nil {
			bin := filepath.Join(dir, "weir")
			// With the test's -race, so the build reuses its packages.
			args := append([]string{"build"}, crashtest.BuildFlags()...)
			args = append(args, "-o", bin, "github.com/weirstream/weir/cmd/weir")
			if out, err := exec.Command(goBin, args...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building weir: %v\n%s", err, out)
				return 1
			}
			weirBin = bin
		}
		return m.Run()
	}()
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if weirBin == "" {
		t.Skip("no weir binary (-short, or no go command)")
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serverProc is a `weir server` child process.
type serverProc struct {
	*crashtest.Child
	url string
}

func startServer(t *testing.T, logPath, dir string, extra ...string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"server", "--dir", dir, "--addr", addr, "--checkpoint-interval", "50ms",
		"--metrics-interval", "100ms", "--rate-limit", "-1", "-v"}, extra...)
	c := crashtest.Start(t, weirBin, logPath, args...)
	p := &serverProc{Child: c, url: "http://" + addr}
	c.WaitUntil(t, "server up", 60*time.Second, func() bool {
		resp, err := http.Get(p.url + "/overview")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return p
}

// getJSON GETs url into out; it reports false when the server is not
// answering.
func getJSON(url string, out any) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(out) == nil
}

// crashJob is a SQL job with window state and an exactly-once sink:
// generated rows (deterministic per row number) → a 1-second tumbling
// window count and sum per key → CSV part files committed with
// checkpoints. %[1]d is the rate, %[2]d the rows, %[3]s the output
// directory, %[4]d the number of keys.
const crashJob = `
CREATE TABLE src (
  id BIGINT,
  k AS CAST(MOD(id, %[4]d) AS STRING),
  v AS id * 3,
  ts AS TO_TIMESTAMP_LTZ(id * 10, 3),
  WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '%[1]d',
  'number-of-rows' = '%[2]d',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '%[2]d'
);
CREATE TABLE dst (k STRING, wstart BIGINT, cnt BIGINT, total BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '%[3]s', 'format' = 'csv');
INSERT INTO dst
SELECT k, UNIX_TIMESTAMP(CAST(window_start AS STRING)) AS wstart, COUNT(*), SUM(v)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY k, window_start, window_end;
`

// expectedRows computes crashJob's result independently: row id has key
// id mod keys, value 3*id and event time 10*id ms.
func expectedRows(rows, keys int64) []string {
	type agg struct{ cnt, sum int64 }
	want := map[string]agg{}
	for id := int64(1); id <= rows; id++ {
		key := fmt.Sprintf("%d,%d", id%keys, (id*10)/1000)
		a := want[key]
		a.cnt++
		a.sum += 3 * id
		want[key] = a
	}
	var lines []string
	for k, a := range want {
		lines = append(lines, fmt.Sprintf("%s,%d,%d", k, a.cnt, a.sum))
	}
	sort.Strings(lines)
	return lines
}

// committedLines returns the lines of the visible (committed) files under
// dir: in-progress files are hidden (their names start with '.').
func committedLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func checkExactlyOnce(t *testing.T, name string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	bad := 0
	for _, l := range want {
		if seen[l] != 1 && bad < 10 {
			t.Errorf("%s: row %q committed %d times, want once", name, l, seen[l])
			bad++
		}
		delete(seen, l)
	}
	for l, n := range seen {
		if bad < 10 {
			t.Errorf("%s: unexpected row %q committed %d times", name, l, n)
			bad++
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows committed, want %d", name, len(got), len(want))
	}
}

// TestServerCrash submits two SQL jobs with exactly-once file sinks to a
// real `weir server` process, kills it with SIGKILL at random instants
// (after new checkpoints of both jobs, or while it resumes them) and once
// with SIGTERM (stop-with-savepoint of both), restarts it each time, and
// checks that both jobs resume and finish and that their committed
// output holds every row exactly once, against a computation done here.
func TestServerCrash(t *testing.T) {
	needBinary(t)
	const rate, keys = 4000, 7
	rows := []int64{30000, 20000}
	dir := t.TempDir()
	srvDir := filepath.Join(dir, "srv")
	logPath := filepath.Join(dir, "server.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server log:\n%s", b)
		}
	}()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	p := startServer(t, logPath, srvDir)
	outs := []string{filepath.Join(dir, "out0"), filepath.Join(dir, "out1")}
	var ids []string
	for i, n := range rows {
		body := fmt.Sprintf(`{"sql": %q, "parallelism": %d, "name": "crash-%d"}`, fmt.Sprintf(crashJob, rate, n, outs[i], keys), 2-i, i)
		resp, err := http.Post(p.url+"/jobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			JobID  string   `json:"jobid"`
			Errors []string `json:"errors"`
		}
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("submit %d: %s %v", i, resp.Status, res.Errors)
		}
		ids = append(ids, res.JobID)
	}
	chkDir := func(id string) string { return filepath.Join(srvDir, "jobs", id, "checkpoints") }

	// finished reports whether the server says job i finished.
	finished := func(p *serverProc, i int) bool {
		var res struct {
			Jobs []struct{ ID, Status string } `json:"jobs"`
		}
		if !getJSON(p.url+"/jobs", &res) {
			return false
		}
		for _, j := range res.Jobs {
			if j.ID == ids[i] {
				return j.Status == stateFinished
			}
		}
		return false
	}
	// restored reports whether the server says job i was restored from a
	// checkpoint or savepoint.
	restoredFrom := func(p *serverProc, i int) string {
		var res struct {
			Latest struct {
				Restored *struct {
					Path string `json:"external_path"`
				} `json:"restored"`
			} `json:"latest"`
		}
		if !getJSON(p.url+"/jobs/"+ids[i]+"/checkpoints", &res) || res.Latest.Restored == nil {
			return ""
		}
		return res.Latest.Restored.Path
	}
	restored := func(p *serverProc, i int) bool { return restoredFrom(p, i) != "" }
	kills, terms, ended := 0, 0, false
	for run := 0; kills+terms < 5 && !ended; run++ {
		if run > 0 {
			p = startServer(t, logPath, srvDir)
		}
		sig := syscall.SIGKILL
		switch {
		case run == 2:
			sig = syscall.SIGTERM
			fallthrough
		case run%3 != 1:
			before := []int64{crashtest.LatestCheckpoint(t, chkDir(ids[0])), crashtest.LatestCheckpoint(t, chkDir(ids[1]))}
			p.WaitUntil(t, "new checkpoints of both jobs", 60*time.Second, func() bool {
				for i := range ids {
					if crashtest.LatestCheckpoint(t, chkDir(ids[i])) <= before[i] && !finished(p, i) {
						return false
					}
				}
				return true
			})
			ended = finished(p, 0) && finished(p, 1)
			for i := range ids {
				// Every run after the first had checkpoints to resume from.
				if run > 0 && !finished(p, i) && !restored(p, i) {
					t.Errorf("run %d: job %d runs without having restored a checkpoint", run, i)
				}
				// After the SIGTERM: from the stop's savepoint.
				if from := restoredFrom(p, i); run == 3 && !finished(p, i) && !strings.Contains(from, string(filepath.Separator)+"savepoints"+string(filepath.Separator)) {
					t.Errorf("run 3: job %d restored %q, want the savepoint of the SIGTERM's stop", i, from)
				}
			}
			p.Pause(time.Duration(rng.IntN(80)) * time.Millisecond)
		default:
			// While the server resumes the jobs.
			p.Pause(time.Duration(rng.IntN(40)) * time.Millisecond)
		}
		exited, err := p.Signal(sig)
		if exited {
			t.Fatalf("run %d: the server exited by itself: %v", run, err)
		}
		if sig == syscall.SIGTERM {
			terms++
			recs, err := registry{dir: srvDir}.load()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.State != stateSuspended && r.State != stateFinished || r.State == stateSuspended && r.Savepoint == "" {
					t.Errorf("after SIGTERM: job %s is %s (savepoint %q), want SUSPENDED with a savepoint", r.ID, r.State, r.Savepoint)
				}
			}
		} else {
			kills++
		}
	}
	if kills < 3 || terms < 1 {
		t.Fatalf("only %d SIGKILLs and %d SIGTERMs before the jobs ended: the input is too small for this machine", kills, terms)
	}
	// The last server runs both jobs to their end.
	recs, err := registry{dir: srvDir}.load()
	if err != nil {
		t.Fatal(err)
	}
	doneBefore := map[string]bool{}
	for _, r := range recs {
		doneBefore[r.ID] = r.State == stateFinished
	}
	p = startServer(t, logPath, srvDir)
	p.WaitUntil(t, "both jobs FINISHED", 90*time.Second, func() bool {
		var res struct {
			Jobs []struct {
				ID, Status string
			} `json:"jobs"`
		}
		if !getJSON(p.url+"/jobs", &res) || len(res.Jobs) != 2 {
			return false
		}
		for _, j := range res.Jobs {
			if j.Status == stateFailed {
				t.Fatalf("job %s failed", j.ID)
			}
			if j.Status != stateFinished {
				return false
			}
		}
		return true
	})
	for i := range ids {
		if !doneBefore[ids[i]] && !restored(p, i) {
			t.Errorf("final run: job %d ran without having restored a checkpoint", i)
		}
	}
	var job struct {
		Vertices []struct {
			Metrics map[string]float64 `json:"metrics"`
		} `json:"vertices"`
	}
	if getJSON(p.url+"/jobs/"+ids[0], &job) && len(job.Vertices) != 2 {
		t.Errorf("job %s has %d vertices, want 2 (source, window)", ids[0], len(job.Vertices))
	}
	if exited, err := p.Signal(syscall.SIGTERM); exited {
		t.Fatalf("final server exited by itself: %v", err)
	}
	t.Logf("%d SIGKILLs, %d SIGTERMs", kills, terms)
	for i, n := range rows {
		checkExactlyOnce(t, "job "+strconv.Itoa(i), committedLines(t, outs[i]), expectedRows(n, keys))
	}
}
