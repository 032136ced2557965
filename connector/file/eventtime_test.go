package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/window"
)

// TestEventTimeWindows runs tumbling event-time windows over CSV files, one
// file per subtask, timestamps from a field: every record lands in its
// window, none is late, and the end of the files closes the last windows.
func TestEventTimeWindows(t *testing.T) {
	in := events(1000) // 1.5 s apart, spread round-robin over 4 files
	dir := t.TempDir()
	writeCSVFiles(t, filepath.Join(dir, "in"), in, 4)

	type count struct {
		User string
		N    int
	}
	want := map[string]int{} // "user@windowEnd-1" -> count
	for _, e := range in {
		ms := e.At.UnixMilli()
		want[fmt.Sprintf("%s@%d", e.User, ms-ms%10_000+9_999)]++
	}

	env := weir.NewEnvironment(weir.Options{Parallelism: 4, AutoWatermarkInterval: -1}) // a watermark after every poll
	strategy := weir.ForMonotonousTimestamps[event]().WithTimestamps(func(e event) int64 { return e.At.UnixMilli() })
	src := weir.FromSource(env, file.CSVSource[event](filepath.Join(dir, "in"), file.SourceOptions{LinesPerPoll: 3}), strategy, "events")
	counts := weir.Map(src, func(e event) count { return count{e.User, 1} })
	ws := weir.Window(weir.KeyBy(counts, func(c count) string { return c.User }), window.TumblingEventTime[count](10*time.Second))
	got := weir.Collect(weir.WindowReduce(ws, func(a, b count) (count, error) { return count{a.User, a.N + b.N}, nil }))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	gotMap := map[string]int{}
	for _, r := range got.Timestamped() {
		k := fmt.Sprintf("%s@%d", r.Value.User, r.TS)
		if _, dup := gotMap[k]; dup {
			t.Fatalf("window %s fired twice", k)
		}
		gotMap[k] = r.Value.N
	}
	if len(gotMap) != len(want) {
		t.Fatalf("%d windows fired, want %d", len(gotMap), len(want))
	}
	var bad []string
	for k, n := range want {
		if gotMap[k] != n {
			bad = append(bad, fmt.Sprintf("%s: %d, want %d", k, gotMap[k], n))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Fatalf("wrong window counts: %v", bad)
	}
}

// TestReproducibleLateness: with one line per poll and a watermark after
// every poll, a record older than the watermark of the lines before it is
// late whatever the read speed, so the late side output gets exactly it
// (with the default 200 ms watermark interval a small file is read before
// the first watermark and nothing is late).
func TestReproducibleLateness(t *testing.T) {
	type reading struct {
		Sensor string `json:"sensor"`
		TS     int64  `json:"ts"`
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "readings.jsonl")
	lines := ""
	for i := range 1800 {
		ts := int64(i) * 1000
		if i == 1000 {
			ts -= 270_000 // 270 s late: its window [720 s, 780 s) closed long before
		}
		lines += fmt.Sprintf("{\"sensor\":\"s\",\"ts\":%d}\n", ts)
	}
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the same answer every time
		env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
		strategy := weir.ForMonotonousTimestamps[reading]().WithTimestamps(func(r reading) int64 { return r.TS })
		src := weir.FromSource(env, file.JSONSource[reading](path, file.SourceOptions{LinesPerPoll: 1}), strategy, "readings")
		late := weir.NewOutputTag[reading]("late")
		ws := weir.Window(weir.KeyBy(src, func(r reading) string { return r.Sensor }),
			window.TumblingEventTime[reading](time.Minute)).SideOutputLateData(late)
		counts := weir.WindowAggregate(ws, countReadings[reading]{})
		lateOut := weir.Collect(weir.SideOutput(counts, late))
		total := weir.Collect(counts)
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := lateOut.Values(); len(got) != 1 || got[0].TS != 730_000 {
			t.Fatalf("late records %v, want the one at 730 s", got)
		}
		n := 0
		for _, c := range total.Values() {
			n += c
		}
		if n != 1799 {
			t.Fatalf("windows counted %d records, want 1799 (all but the late one)", n)
		}
	}
}

type countReadings[T any] struct{}

func (countReadings[T]) CreateAccumulator() int        { return 0 }
func (countReadings[T]) Add(acc int, _ T) (int, error) { return acc + 1, nil }
func (countReadings[T]) Result(acc int) (int, error)   { return acc, nil }
func (countReadings[T]) Merge(a, b int) (int, error)   { return a + b, nil }
