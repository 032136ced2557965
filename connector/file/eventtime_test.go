package file_test

import (
	"context"
	"fmt"
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
