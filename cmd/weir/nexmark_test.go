package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
)

// TestNexmarkGenerateRun writes events with `nexmark generate`, runs
// queries over them with `nexmark run` and compares the rows with the
// batch reference over the files' events.
func TestNexmarkGenerateRun(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, _, err := run(t, "nexmark", "generate", "--events", "5000", "--seed", "3", "--rate", "100", "--out", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wrote 100 persons, 300 auctions, 4600 bids") {
		t.Fatalf("generate output %q", out)
	}
	events, err := nexmark.ReadFiles(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"q3", "q4", "q7"} {
		q, _ := nexmark.Lookup(name)
		file := filepath.Join(dir, name+".jsonl")
		if _, _, err := run(t, "nexmark", "run", "--query", name, "--input", data, "--output", file, "--parallelism", "2"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for _, r := range q.Reference(events) {
			want.Write(r)
			want.WriteByte('\n')
		}
		if want.Len() == 0 || string(b) != want.String() {
			t.Errorf("%s: rows\n%s\nwant\n%s", name, b, want.String())
		}
	}
	if _, _, err := run(t, "nexmark", "run", "--query", "q99", "--input", data, "--output", filepath.Join(dir, "x")); err == nil {
		t.Error("unknown query: no error")
	}
	if _, _, err := run(t, "nexmark", "run", "--input", data, "--output", filepath.Join(dir, "x")); err == nil || !strings.Contains(err.Error(), "--query is required") {
		t.Errorf("no --query: error %v, want one saying --query is required", err)
	}
}

func TestBenchNexmark(t *testing.T) {
	out, errOut, err := run(t, "bench", "nexmark", "--query", "q0,q5", "--events", "20000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if errOut != "" {
		t.Errorf("stderr %q, want nothing", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 result lines, got %q", out)
	}
	for i, want := range []string{"q0", "q5"} {
		var r nexmark.BenchResult
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if r.Query != want || r.Events != 20000 || r.CPUSeconds <= 0 || r.EventsPerCoreSecond <= 0 || r.PeakRSSBytes <= 0 {
			t.Errorf("result %+v", r)
		}
	}
	// q0 passes every bid through: 46 of every 50 events.
	var r nexmark.BenchResult
	_ = json.Unmarshal([]byte(lines[0]), &r)
	if r.Rows != 18400 {
		t.Errorf("q0 rows %d, want 18400", r.Rows)
	}
	// q0 emits per event: latency measured from each row's input.
	if r.LatencyFrom != "event" || r.LatencyRows != 18400/8 || !(r.LatencyP50Ms > 0 && r.LatencyP50Ms <= r.LatencyP99Ms) {
		t.Errorf("q0 latency: from %q, %d rows, p50 %v, p99 %v", r.LatencyFrom, r.LatencyRows, r.LatencyP50Ms, r.LatencyP99Ms)
	}
	if !strings.Contains(lines[0], `"latency_p99_ms":`) || !strings.Contains(lines[0], `"latency_p50_ms":`) {
		t.Errorf("q0 JSON without latency fields: %s", lines[0])
	}
	if _, _, err := run(t, "bench", "nexmark", "--query", "q6"); err == nil {
		t.Error("q6: no error")
	}
}

// TestBenchNexmarkTable: the text table has latency columns, and nothing
// goes to stderr when it is not a terminal.
func TestBenchNexmarkTable(t *testing.T) {
	out, errOut, err := run(t, "bench", "nexmark", "--query", "q1,q12", "--events", "10000")
	if err != nil {
		t.Fatal(err)
	}
	if errOut != "" {
		t.Errorf("stderr %q, want nothing (not a terminal)", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.Contains(lines[2], "p50 ms") || !strings.Contains(lines[2], "p99 ms") {
		t.Fatalf("table %q", out)
	}
	if f := strings.Fields(lines[3]); len(f) != 10 || f[0] != "q1" || f[7] == "-" || f[8] == "-" {
		t.Errorf("q1 row %q: want p50 and p99", lines[3])
	}
	if f := strings.Fields(lines[4]); len(f) != 10 || f[0] != "q12" || f[7] != "-" || f[8] != "-" {
		t.Errorf("q12 row %q: want no latency", lines[4])
	}
}

// TestBenchNexmarkSQL: --sql adds each query's SQL run, with its ratio to
// the DataStream version.
func TestBenchNexmarkSQL(t *testing.T) {
	out, _, err := run(t, "bench", "nexmark", "--query", "q0,q12", "--events", "10000", "--sql")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sqlRow []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "q0-sql" {
			sqlRow = f
		}
	}
	if len(sqlRow) != 11 || sqlRow[1] != "10000" {
		t.Fatalf("no q0-sql row with 11 columns in %q", out)
	}
	if r, err := strconv.ParseFloat(sqlRow[10], 64); err != nil || r <= 0 {
		t.Errorf("q0-sql ratio %q: want a positive number", sqlRow[10])
	}
}

// signalWriter is a progress line's terminal: it keeps what is written
// and signals a write to a receiver waiting on wrote (unbuffered).
type signalWriter struct {
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

// TestProgressLine runs a benchmark under withProgress and waits, after
// it ended, for one more redraw: it shows every event counted.
func TestProgressLine(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{})}
	q, _ := nexmark.Lookup("q0")
	cfg := nexmark.DefaultConfig(20000, 1)
	var p nexmark.Progress
	err := withProgress(w, "q0", cfg.Events, &p, time.Millisecond, func() error {
		if _, err := nexmark.Bench(context.Background(), q, cfg, weir.Options{Parallelism: 1}, &p); err != nil {
			return err
		}
		// A draw signalled while this waits was written after the run;
		// the next one read the counter after the run.
		<-w.wrote
		<-w.wrote
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := w.buf.String()
	if !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("progress line not erased at the end: %q", s)
	}
	draws := strings.Split(strings.TrimSuffix(s, "\r\x1b[K"), "\r")
	last := draws[len(draws)-1]
	if !strings.HasPrefix(last, "q0  20000 / 20000 events (100%)") {
		t.Errorf("last progress line %q, want all 20000 events", last)
	}
	if isTerminal(&w.buf) {
		t.Error("a buffer is a terminal")
	}
}
