package file_test

import (
	"context"
	"encoding/json"
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

type tpc = weir.TwoPhaseCommitWriter[kout]

func newTPC(t *testing.T, s weir.Sink[kout], subtask, p int) tpc {
	t.Helper()
	w, err := s.CreateWriter(weir.SinkContext{Subtask: subtask, Parallelism: p})
	if err != nil {
		t.Fatal(err)
	}
	tw, ok := w.(tpc)
	if !ok {
		t.Fatalf("%T is not a two-phase-commit writer", w)
	}
	return tw
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if i := strings.Index(n, ".inprogress."); i >= 0 {
			n = n[:i] + ".inprogress" // drop the random suffix
		}
		out = append(out, n)
	}
	return out
}

func write(t *testing.T, w tpc, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.Write(t.Context(), kout{Key: "k", Seq: int64(i), Sum: int64(i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExactlyOnceLifecycle follows part files through in-progress,
// pending and committed, across a failure and a restore.
func TestExactlyOnceLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := file.ExactlyOnceJSONSink[kout](dir, file.ExactlyOnceOptions{})
	w := newTPC(t, s, 0, 1)
	write(t, w, 0, 3)
	if err := w.Flush(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{".part-0-0.jsonl.inprogress"}; !slices.Equal(got, want) {
		t.Fatalf("after writing: %v, want %v", got, want)
	}
	c1, err := w.PreCommit(t.Context(), 1)
	if err != nil || len(c1) != 1 {
		t.Fatalf("PreCommit: %d committables, %v", len(c1), err)
	}
	write(t, w, 3, 5)
	c2, err := w.PreCommit(t.Context(), 2)
	if err != nil || len(c2) != 1 {
		t.Fatalf("PreCommit: %d committables, %v", len(c2), err)
	}
	if c3, err := w.PreCommit(t.Context(), 3); err != nil || len(c3) != 0 {
		t.Fatalf("PreCommit without records: %d committables, %v", len(c3), err)
	}
	if err := w.Commit(t.Context(), c1); err != nil {
		t.Fatal(err)
	}
	// The job fails with records of a third file in progress; checkpoint 2
	// completed but was not committed.
	write(t, w, 5, 6)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{".part-0-1.jsonl.inprogress", "part-0-0.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("after the failure: %v, want %v", got, want)
	}
	// A leftover of another attempt, and one of a subtask that no longer
	// exists.
	for _, n := range []string{".part-0-7.jsonl.inprogress.0123", ".part-4-2.jsonl.inprogress.abcd", "other.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Restore at parallelism 2: both subtasks commit checkpoint 2 (and 1
	// again: idempotent), then clean up.
	w0, w1 := newTPC(t, s, 0, 2), newTPC(t, s, 1, 2)
	for _, w := range []tpc{w0, w1} {
		if err := w.Commit(t.Context(), append(c1, c2...)); err != nil {
			t.Fatalf("commit after restore: %v", err)
		}
	}
	if _, err := w1.PreCommit(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{".part-0-7.jsonl.inprogress", ".part-4-2.jsonl.inprogress", "other.txt", "part-0-0.jsonl", "part-0-1.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("after subtask 1 started: %v, want %v", got, want)
	}
	write(t, w0, 6, 8)
	if got, want := names(t, dir), []string{".part-0-8.jsonl.inprogress", "other.txt", "part-0-0.jsonl", "part-0-1.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("after subtask 0 started: %v, want %v", got, want)
	}
	c5, err := w0.PreCommit(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := w0.Commit(t.Context(), c5); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, n := range []string{"part-0-0.jsonl", "part-0-1.jsonl", "part-0-8.jsonl"} {
		for _, o := range readLines[kout](t, filepath.Join(dir, n)) {
			seqs = append(seqs, o.Seq)
		}
	}
	if want := []int64{0, 1, 2, 3, 4, 6, 7}; !slices.Equal(seqs, want) {
		t.Fatalf("committed records %v, want %v", seqs, want)
	}
	// Committing a part file whose staged and final files are both gone is
	// an error: its records are lost.
	if err := os.Remove(filepath.Join(dir, "part-0-8.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := w0.Commit(t.Context(), c5); err == nil {
		t.Fatal("commit of a lost part file succeeded")
	}
	if err := w0.Commit(t.Context(), [][]byte{[]byte("\x01\x03../\x01x")}); err == nil {
		t.Fatal("commit of a committable naming another directory succeeded")
	}
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	var out []T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		out = append(out, v)
	}
	return out
}

// TestExactlyOnceRolling rolls part files by size and by time; every CSV
// part file has its header.
func TestExactlyOnceRolling(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      file.ExactlyOnceOptions
		wantParts int
	}{
		{"checkpoint only", file.ExactlyOnceOptions{}, 1},
		// A header of 12 bytes and records "k,i,i\n" of 6 bytes (8 from
		// 10 on): parts roll after records 4 and 9, 10 to 12 are in a third.
		{"size", file.ExactlyOnceOptions{MaxPartSize: 40}, 3},
		{"time", file.ExactlyOnceOptions{RolloverInterval: 1}, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newTPC(t, file.ExactlyOnceCSVSink[kout](dir, tc.opts), 2, 3)
			write(t, w, 0, 13)
			c, err := w.PreCommit(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(c) != tc.wantParts {
				t.Fatalf("%d committables, want %d", len(c), tc.wantParts)
			}
			if err := w.Commit(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			got := committedOutput(t, dir, true, true)
			if len(got) != 13 {
				t.Fatalf("%d records committed, want 13", len(got))
			}
			if n := len(names(t, dir)); n != tc.wantParts {
				t.Fatalf("%d part files, want %d", n, tc.wantParts)
			}
		})
	}
}

func TestExactlyOnceOptions(t *testing.T) {
	for _, tc := range []struct {
		o      file.ExactlyOnceOptions
		option string
	}{{file.ExactlyOnceOptions{MaxPartSize: -1}, "MaxPartSize"}, {file.ExactlyOnceOptions{RolloverInterval: -1}, "RolloverInterval"}, {file.ExactlyOnceOptions{Comma: '"'}, "Comma"}} {
		_, err := file.ExactlyOnceCSVSink[kout](t.TempDir(), tc.o).CreateWriter(weir.SinkContext{Parallelism: 1})
		if !errors.Is(err, file.ErrOptions) || !weir.IsInvalidOption(err) || !strings.HasPrefix(fmt.Sprint(err), "file: option "+tc.option+": ") {
			t.Errorf("%+v: err %v, want an invalid option error on %s", tc.o, err, tc.option)
		}
	}
}

// TestExactlyOnceWithoutCheckpoints: without checkpoints the end of input
// commits everything.
func TestExactlyOnceWithoutCheckpoints(t *testing.T) {
	dir := t.TempDir()
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	var in []kout
	for i := range 100 {
		in = append(in, kout{Key: "k", Seq: int64(i), Sum: int64(i)})
	}
	weir.FromSlice(env, in).SetParallelism(2).SinkTo(file.ExactlyOnceJSONSink[kout](dir, file.ExactlyOnceOptions{MaxPartSize: 300}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := committedOutput(t, dir, false, true)
	for _, o := range in {
		if _, ok := got[fmt.Sprintf("k/%d", o.Seq)]; !ok {
			t.Fatalf("record %d not committed", o.Seq)
		}
	}
	if len(got) != len(in) {
		t.Fatalf("%d committed, want %d", len(got), len(in))
	}
}

// A fresh start (no restore) into a directory that holds another run's
// committed part files keeps them: part numbers continue above them.
func TestExactlyOnceFreshStartKeepsCommittedParts(t *testing.T) {
	dir := t.TempDir()
	run := func(from int) {
		env := weir.NewEnvironment(weir.Options{Parallelism: 2,
			Checkpoints: weir.CheckpointOptions{Interval: 10 * time.Millisecond, Dir: t.TempDir()}})
		var in []kout
		for i := from; i < from+100; i++ {
			in = append(in, kout{Key: "k", Seq: int64(i), Sum: int64(i)})
		}
		weir.FromSlice(env, in).SetParallelism(2).SinkTo(file.ExactlyOnceJSONSink[kout](dir, file.ExactlyOnceOptions{MaxPartSize: 300}))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	run(0)
	run(100)
	got := committedOutput(t, dir, false, true)
	if len(got) != 200 {
		t.Fatalf("%d records committed after two fresh runs, want 200 (a run overwrote the other's part files)", len(got))
	}
}
