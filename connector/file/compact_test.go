package file_test

import (
	"context"
	"errors"
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

// visibleParts returns the names of the committed part files of dir.
func visibleParts(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range names(t, dir) {
		if !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out
}

// checkSeqs checks that the committed part files of dir hold the records
// 0..n-1 of key k exactly once.
func checkSeqs(t *testing.T, dir string, n int) {
	t.Helper()
	seen := map[int64]bool{}
	for _, p := range visibleParts(t, dir) {
		for _, r := range readLines[kout](t, filepath.Join(dir, p)) {
			if seen[r.Seq] {
				t.Fatalf("record %d committed twice", r.Seq)
			}
			seen[r.Seq] = true
		}
	}
	for i := range n {
		if !seen[int64(i)] {
			t.Fatalf("record %d not committed (%d of %d)", i, len(seen), n)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d records committed, want %d", len(seen), n)
	}
}

// TestRollOnInactivity: a part file without records for
// InactivityInterval rolls at the next processing-time check, with no
// record arriving; one that receives records does not.
func TestRollOnInactivity(t *testing.T) {
	dir := t.TempDir()
	s := file.ExactlyOnceJSONSink[kout](dir, file.ExactlyOnceOptions{InactivityInterval: time.Hour, CheckInterval: time.Second})
	w := newTPC(t, s, 0, 1)
	ptw, ok := w.(weir.ProcessingTimeWriter)
	if !ok {
		t.Fatalf("%T is not a ProcessingTimeWriter", w)
	}
	if got := ptw.ProcessingTimeInterval(); got != time.Second {
		t.Fatalf("check interval %v, want 1s", got)
	}
	write(t, w, 0, 2)
	now := time.Now()
	if err := ptw.OnProcessingTime(t.Context(), now.Add(59*time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	write(t, w, 2, 3) // still the first part file
	if err := ptw.OnProcessingTime(t.Context(), time.Now().Add(time.Hour+time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	// Rolled: the next record opens part 1.
	write(t, w, 3, 4)
	c, err := w.PreCommit(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 2 {
		t.Fatalf("%d committables, want 2 (rolled by inactivity, then at the checkpoint)", len(c))
	}
	if err := w.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if got, want := visibleParts(t, dir), []string{"part-0-0.jsonl", "part-0-1.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("parts %v, want %v", got, want)
	}
	if n := len(readLines[kout](t, filepath.Join(dir, "part-0-0.jsonl"))); n != 3 {
		t.Fatalf("part 0 holds %d records, want 3", n)
	}
	// Without a time-based policy there is no check.
	w2 := newTPC(t, file.ExactlyOnceJSONSink[kout](t.TempDir(), file.ExactlyOnceOptions{}), 0, 1)
	if iv := w2.(weir.ProcessingTimeWriter).ProcessingTimeInterval(); iv != 0 {
		t.Fatalf("check interval %v without a time-based policy, want 0", iv)
	}
}

// TestRolloverOnProcessingTime: RolloverInterval is also checked by the
// processing-time check.
func TestRolloverOnProcessingTime(t *testing.T) {
	dir := t.TempDir()
	w := newTPC(t, file.ExactlyOnceJSONSink[kout](dir, file.ExactlyOnceOptions{RolloverInterval: time.Hour}), 0, 1)
	ptw := w.(weir.ProcessingTimeWriter)
	if got := ptw.ProcessingTimeInterval(); got != file.DefaultCheckInterval {
		t.Fatalf("check interval %v, want the default %v", got, file.DefaultCheckInterval)
	}
	write(t, w, 0, 1)
	if err := ptw.OnProcessingTime(t.Context(), time.Now().Add(30*time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	write(t, w, 1, 2)
	if err := ptw.OnProcessingTime(t.Context(), time.Now().Add(61*time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	c, err := w.PreCommit(t.Context(), 1)
	if err != nil || len(c) != 1 {
		t.Fatalf("%d committables (%v), want 1: rolled by the check, nothing open at the checkpoint", len(c), err)
	}
}

// tickSink's writers count their processing-time calls.
type tickSink struct{ ticks chan int64 }

func (s tickSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int], error) {
	return tickWriter(s), nil
}

type tickWriter tickSink

func (tickWriter) Write(context.Context, int, int64) error { return nil }
func (tickWriter) Flush(context.Context, bool) error       { return nil }
func (tickWriter) Close() error                            { return nil }
func (tickWriter) ProcessingTimeInterval() time.Duration   { return 5 * time.Millisecond }
func (w tickWriter) OnProcessingTime(_ context.Context, now int64) error {
	select {
	case w.ticks <- now:
	default:
	}
	return nil
}

// TestSinkProcessingTimeWithoutRecords: the sink operator calls a
// ProcessingTimeWriter's OnProcessingTime while no record arrives: the
// second record waits for three calls.
func TestSinkProcessingTimeWithoutRecords(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	ticks := make(chan int64, 16)
	var waitErr error
	in := weir.Map(weir.FromSlice(env, []int{1, 2}), func(v int) int {
		if v == 2 {
			for range 3 {
				select {
				case <-ticks:
				case <-time.After(30 * time.Second):
					waitErr = errors.New("no processing-time call within 30 s")
					return v
				}
			}
		}
		return v
	})
	in.SinkTo(tickSink{ticks: ticks}).DisableChaining()
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if waitErr != nil {
		t.Fatal(waitErr)
	}
}

// TestCompaction: with Compact, the part files a checkpoint closed are
// merged into files of up to CompactTargetSize; nothing is visible before
// the commit, and only compacted files after it.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	// Records of 30 to 32 bytes: each part file holds 4 (MaxPartSize 100),
	// and 3 part files make a unit (target 400).
	opts := file.ExactlyOnceOptions{MaxPartSize: 100, Compact: true, CompactTargetSize: 400}
	w := newTPC(t, file.ExactlyOnceJSONSink[kout](dir, opts), 0, 1)
	write(t, w, 0, 40) // 10 part files
	c, err := w.PreCommit(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 4 {
		t.Fatalf("%d compaction units, want 4 (3+3+3+1 files)", len(c))
	}
	if v := visibleParts(t, dir); len(v) != 0 {
		t.Fatalf("visible before the commit: %v", v)
	}
	if err := w.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{"part-0-0.jsonl", "part-0-3.jsonl", "part-0-6.jsonl", "part-0-9.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("after the commit: %v, want %v", got, want)
	}
	checkSeqs(t, dir, 40)
	if r := readLines[kout](t, filepath.Join(dir, "part-0-3.jsonl")); len(r) != 12 || r[0].Seq != 12 || r[11].Seq != 23 {
		t.Fatalf("part-0-3 holds %+v, want records 12..23 in order", r)
	}
	// A second commit of the same units (after a restore) changes nothing.
	if err := w.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, dir, 40)
	// The next checkpoint continues the part numbers.
	write(t, w, 40, 41)
	c, err = w.PreCommit(t.Context(), 2)
	if err != nil || len(c) != 1 {
		t.Fatalf("%d units (%v), want 1", len(c), err)
	}
	if err := w.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if v := visibleParts(t, dir); len(v) != 5 || !slices.Contains(v, "part-0-10.jsonl") {
		t.Fatalf("parts %v: want part-0-10 added", v)
	}
	checkSeqs(t, dir, 41)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCompactionInterrupted: a commit that stopped after the compacted
// file was renamed in place, before the small files were removed, is
// completed by the restore's commit; and two subtasks committing the same
// restored units at once (after a rescale) leave each record once.
func TestCompactionInterrupted(t *testing.T) {
	dir := t.TempDir()
	opts := file.ExactlyOnceOptions{MaxPartSize: 100, Compact: true, CompactTargetSize: 1000}
	w := newTPC(t, file.ExactlyOnceJSONSink[kout](dir, opts), 0, 1)
	write(t, w, 0, 20)
	c, err := w.PreCommit(t.Context(), 1)
	if err != nil || len(c) != 1 {
		t.Fatalf("%d units (%v), want 1", len(c), err)
	}
	// Keep copies of the pending files, to put them back after the commit
	// as a crash before their removal would have left them.
	saved := map[string][]byte{}
	ents, err := filepath.Glob(filepath.Join(dir, ".part-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		saved[e] = b
	}
	if len(saved) != 5 {
		t.Fatalf("%d pending files, want 5", len(saved))
	}
	if err := w.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	for p, b := range saved {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The restore: new writers of two subtasks commit the unit at once.
	s := file.ExactlyOnceJSONSink[kout](dir, opts)
	ws := []tpc{newTPC(t, s, 0, 2), newTPC(t, s, 1, 2)}
	errs := make(chan error, 2)
	for _, w := range ws {
		go func() { errs <- w.Commit(context.Background(), c) }()
	}
	for range ws {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := names(t, dir), []string{"part-0-0.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("after the restore's commit: %v, want %v", got, want)
	}
	checkSeqs(t, dir, 20)
	// Both start cleanly (nothing left to remove) and write on.
	for i, w := range ws {
		if _, err := w.PreCommit(t.Context(), 2); err != nil {
			t.Fatalf("subtask %d: %v", i, err)
		}
	}
}

// TestCompactionOptions: formats that cannot merge part files refuse
// Compact, naming the option.
func TestCompactionOptions(t *testing.T) {
	for _, tc := range []struct {
		s      weir.Sink[kout]
		option string
	}{
		{file.ExactlyOnceCSVSink[kout](t.TempDir(), file.ExactlyOnceOptions{Compact: true}), "Compact"},
		{file.ExactlyOnceJSONSink[kout](t.TempDir(), file.ExactlyOnceOptions{CompactTargetSize: -1}), "CompactTargetSize"},
		{file.ExactlyOnceJSONSink[kout](t.TempDir(), file.ExactlyOnceOptions{InactivityInterval: -1}), "InactivityInterval"},
		{file.ExactlyOnceJSONSink[kout](t.TempDir(), file.ExactlyOnceOptions{CheckInterval: -1}), "CheckInterval"},
	} {
		_, err := tc.s.CreateWriter(weir.SinkContext{Parallelism: 1})
		if !errors.Is(err, file.ErrOptions) || !strings.HasPrefix(fmt.Sprint(err), "file: option "+tc.option+": ") {
			t.Errorf("err %v, want an invalid option error on %s", err, tc.option)
		}
	}
}
