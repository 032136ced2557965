package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
}

func TestBenchNexmark(t *testing.T) {
	out, _, err := run(t, "bench", "nexmark", "--query", "q0,q5", "--events", "20000", "--json")
	if err != nil {
		t.Fatal(err)
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
	if _, _, err := run(t, "bench", "nexmark", "--query", "q6"); err == nil {
		t.Error("q6: no error")
	}
}
