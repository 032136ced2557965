package file_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// clockRec is a record of TestRollingFollowsProcessingTime: its file.
type clockRec struct {
	F string `json:"f"`
	N int    `json:"n"`
}

// putWhole writes n records of file name into dir under a hidden name,
// then renames it, as a continuous source's input should appear.
func putWhole(t *testing.T, dir, name string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"f\":%q,\"n\":%d}\n", name, i)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".jsonl")); err != nil {
		t.Fatal(err)
	}
}

// TestRollingFollowsProcessingTime: the time-based rolling policies
// measure a part file's age and inactivity in the job's processing time,
// the clock their check runs on (Flink's Bucket takes the creation and
// last-update times from the processing-time service). Under a Stepper,
// whose processing time starts at 0 and moves only when the test moves
// it, a part file that has had no record for two minutes of processing
// time rolls at the next check: the records that arrive after it go to a
// second part file. Compared with the wall clock (2026), the stepped time
// (1970) never made a file old enough.
func TestRollingFollowsProcessingTime(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	putWhole(t, in, "a", 2)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: filepath.Join(dir, "chk")}})
	src := file.JSONSource[clockRec](in, file.SourceOptions{MonitorInterval: time.Second})
	weir.FromSource(env, src, weir.NoWatermarks[clockRec](), "files").
		SinkTo(file.ExactlyOnceJSONSink[clockRec](out, file.ExactlyOnceOptions{InactivityInterval: time.Minute, CheckInterval: time.Second}))
	st, err := env.Stepwise(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// a's records are written; two minutes without a record pass.
	for ms := int64(1000); ms <= 120_000; ms += 1000 {
		if err := st.SetProcessingTime(ms); err != nil {
			t.Fatal(err)
		}
	}
	// b's records come after the inactivity roll.
	putWhole(t, in, "b", 2)
	for ms := int64(121_000); ms <= 125_000; ms += 1000 {
		if err := st.SetProcessingTime(ms); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var parts []string
	files := map[string][]string{}
	for _, n := range names(t, out) {
		if strings.HasPrefix(n, ".") {
			continue
		}
		parts = append(parts, n)
		for _, r := range readLines[clockRec](t, filepath.Join(out, n)) {
			files[n] = append(files[n], r.F)
		}
	}
	if !slices.Equal(parts, []string{"part-0-0.jsonl", "part-0-1.jsonl"}) {
		t.Fatalf("committed %v (%v), want part-0-0 with a's records (rolled after a minute of inactivity) and part-0-1 with b's", parts, files)
	}
	if !slices.Equal(files["part-0-0.jsonl"], []string{"a", "a"}) || !slices.Equal(files["part-0-1.jsonl"], []string{"b", "b"}) {
		t.Fatalf("part files hold %v, want a's records, then b's", files)
	}
}
