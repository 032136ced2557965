package file_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/state"
)

type kin struct {
	Key   string `json:"key" csv:"key"`
	Seq   int64  `json:"seq" csv:"seq"`
	Value int64  `json:"value" csv:"value"`
}

type kout struct {
	Key string `json:"key" csv:"key"`
	Seq int64  `json:"seq" csv:"seq"`
	Sum int64  `json:"sum" csv:"sum"`
}

type sumFn struct{ sum state.Value[int64] }

func (s *sumFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	s.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (s *sumFn) ProcessElement(ctx *weir.KeyedContext[string, kout], in kin) error {
	v, _ := s.sum.Value()
	v += in.Value
	s.sum.Update(v)
	ctx.Collect(kout{Key: in.Key, Seq: in.Seq, Sum: v})
	return nil
}

// writeInput writes files of n records; a key's records are all in one
// file, in order. csv adds a header and, every badEvery lines (if > 0), a
// line that does not decode. It returns the running sums by key and seq
// and the dead letters' sources.
func writeInput(t *testing.T, dir string, files, n int, csv bool, badEvery int) (map[string]int64, []string) {
	t.Helper()
	want := map[string]int64{}
	var bad []string
	for f := range files {
		name := filepath.Join(dir, fmt.Sprintf("in-%02d.%s", f, map[bool]string{true: "csv", false: "jsonl"}[csv]))
		var b strings.Builder
		line := 0
		if csv {
			b.WriteString("seq,key,value\n")
			line++
		}
		sums := map[string]int64{}
		seqs := map[string]int64{}
		for i := range n {
			if badEvery > 0 && i%badEvery == badEvery-1 {
				b.WriteString("x,not a number,y\n")
				line++
				bad = append(bad, fmt.Sprintf("file %s line %d", name, line))
			}
			k := fmt.Sprintf("f%d-k%d", f, i%3)
			v := int64((f*31+i*17)%100) - 40
			sums[k] += v
			want[fmt.Sprintf("%s/%d", k, seqs[k])] = sums[k]
			if csv {
				fmt.Fprintf(&b, "%d,%s,%d\n", seqs[k], k, v)
			} else {
				fmt.Fprintf(&b, "{\"key\":%q,\"seq\":%d,\"value\":%d}\n", k, seqs[k], v)
			}
			line++
			seqs[k]++
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(bad)
	return want, bad
}

// committedOutput reads the committed part files of dir and fails on
// hidden leftovers if noLeftovers.
func committedOutput(t *testing.T, dir string, csv, noLeftovers bool) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return got
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			if noLeftovers {
				t.Errorf("leftover %s in the output", e.Name())
			}
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		first := true
		for sc.Scan() {
			var o kout
			if csv {
				if first {
					first = false
					if sc.Text() != "key,seq,sum" {
						t.Fatalf("%s: header %q", e.Name(), sc.Text())
					}
					continue
				}
				if _, err := fmt.Sscanf(strings.ReplaceAll(sc.Text(), ",", " "), "%s %d %d", &o.Key, &o.Seq, &o.Sum); err != nil {
					t.Fatalf("%s: %q: %v", e.Name(), sc.Text(), err)
				}
			} else if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("%s: %q: %v", e.Name(), sc.Text(), err)
			}
			k := fmt.Sprintf("%s/%d", o.Key, o.Seq)
			if _, dup := got[k]; dup {
				t.Fatalf("%s committed twice", k)
			}
			got[k] = o.Sum
		}
		f.Close()
	}
	return got
}

var errFail = errors.New("injected failure")

// sumJob reads in, sums per key and writes out exactly once; it fails once
// it has seen failAfter records in this run (if > 0) and some output is
// committed, so that it restores from a checkpoint, not from the start.
func sumJob(in, out, chk string, p int, csv bool, failAfter int64) (*weir.Collected[weir.DeadLetter], error) {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 10 * time.Millisecond, Dir: chk},
		Restore:     "latest",
	})
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	opts := file.SourceOptions{LinesPerSecond: 10000, LinesPerPoll: 50, OnError: weir.DeadLetterTo(dlq)}
	src := file.JSONSource[kin](in, opts)
	if csv {
		src = file.CSVSource[kin](in, opts)
	}
	s := weir.FromSource[kin](env, src, weir.NoWatermarks[kin](), "in").UID("in")
	dead := weir.Collect(weir.SideOutput(s, dlq))
	var seen atomic.Int64
	checked := weir.TryMap(s, func(v kin) (kin, error) {
		if failAfter > 0 && seen.Add(1) >= failAfter {
			if ents, _ := filepath.Glob(filepath.Join(out, "part-*")); len(ents) > 0 {
				return v, errFail
			}
		}
		return v, nil
	})
	sums := weir.ProcessKeyed[string, kin, kout](weir.KeyBy(checked, func(v kin) string { return v.Key }), &sumFn{}).UID("sums")
	var sink weir.Sink[kout] = file.ExactlyOnceJSONSink[kout](out, file.ExactlyOnceOptions{MaxPartSize: 2000})
	if csv {
		sink = file.ExactlyOnceCSVSink[kout](out, file.ExactlyOnceOptions{MaxPartSize: 2000})
	}
	sums.SinkTo(sink).UID("out")
	return dead, env.Execute(context.Background())
}

// TestSourceAndSinkRestore fails a job reading files several times and
// restores it at another parallelism each time: the committed output holds
// every record once with the right running sums, and dead letters keep
// their line numbers.
func TestSourceAndSinkRestore(t *testing.T) {
	for _, csv := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "csv"}[csv], func(t *testing.T) {
			in, out, chk := t.TempDir(), t.TempDir(), t.TempDir()
			badEvery := 0
			if csv {
				badEvery = 97
			}
			want, bad := writeInput(t, in, 7, 900, csv, badEvery)
			fails := 0
			var deadSeen []string
			for _, p := range []int{2, 3, 1, 2} {
				dead, err := sumJob(in, out, chk, p, csv, 1200)
				for _, d := range dead.Values() {
					deadSeen = append(deadSeen, d.Source)
				}
				if errors.Is(err, errFail) {
					fails++
					continue
				}
				if err != nil {
					t.Fatalf("p=%d: %v", p, err)
				}
				// A machine so loaded that checkpoints came late.
				t.Logf("p=%d finished without the failure", p)
				break
			}
			if fails < 2 {
				t.Fatalf("only %d runs failed", fails)
			}
			if mid := committedOutput(t, out, csv, false); len(mid) == 0 {
				t.Fatal("nothing committed after the failures")
			}
			dead, err := sumJob(in, out, chk, 3, csv, 0)
			if err != nil {
				t.Fatalf("final run: %v", err)
			}
			for _, d := range dead.Values() {
				deadSeen = append(deadSeen, d.Source)
			}
			got := committedOutput(t, out, csv, true)
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
			// Dead letters go to a plain side output: replayed ones come
			// twice, but each names its true line.
			slices.Sort(deadSeen)
			if d := slices.Compact(deadSeen); !slices.Equal(d, bad) {
				t.Fatalf("dead letters from %d places, want %d; first %v, want %v", len(d), len(bad), d[:min(len(d), 3)], bad[:3])
			}
		})
	}
}

// failingCommit wraps the exactly-once sink; its writers fail every
// commit after the end of input: a crash after the final checkpoint
// completed and before its files were committed.
type failingCommit struct{ s weir.Sink[kout] }

func (f failingCommit) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[kout], error) {
	w, err := f.s.CreateWriter(ctx)
	if err != nil {
		return nil, err
	}
	return &failingWriter{TwoPhaseCommitWriter: w.(weir.TwoPhaseCommitWriter[kout])}, nil
}

type failingWriter struct {
	weir.TwoPhaseCommitWriter[kout]
	ended bool
}

func (w *failingWriter) Flush(ctx context.Context, end bool) error {
	w.ended = w.ended || end
	return w.TwoPhaseCommitWriter.Flush(ctx, end)
}

func (w *failingWriter) Commit(ctx context.Context, items [][]byte) error {
	if w.ended {
		return errFail
	}
	return w.TwoPhaseCommitWriter.Commit(ctx, items)
}

// TestFinalCheckpointCommittedAfterRestore: a job whose only checkpoint is
// the final one fails while committing it; the next run restores the final
// checkpoint, commits its files and ends without reading anything again
// (its input is deleted in between).
func TestFinalCheckpointCommittedAfterRestore(t *testing.T) {
	in, out, chk := t.TempDir(), t.TempDir(), t.TempDir()
	want, _ := writeInput(t, in, 3, 200, false, 0)
	run := func(p int, fail bool) error {
		env := weir.NewEnvironment(weir.Options{
			Parallelism: p,
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: chk},
			Restore:     "latest",
		})
		s := weir.FromSource[kin](env, file.JSONSource[kin](in, file.SourceOptions{}), weir.NoWatermarks[kin](), "in").UID("in")
		sums := weir.ProcessKeyed[string, kin, kout](weir.KeyBy(s, func(v kin) string { return v.Key }), &sumFn{}).UID("sums")
		var sink weir.Sink[kout] = file.ExactlyOnceJSONSink[kout](out, file.ExactlyOnceOptions{})
		if fail {
			sink = failingCommit{sink}
		}
		sums.SinkTo(sink).UID("out")
		return env.Execute(context.Background())
	}
	if err := run(2, true); !errors.Is(err, errFail) {
		t.Fatalf("first run: %v, want the injected commit failure", err)
	}
	if got := committedOutput(t, out, false, false); len(got) != 0 {
		t.Fatalf("%d records committed by the failed run", len(got))
	}
	// The input is gone: a fresh start would commit nothing, the restore
	// of the final checkpoint finds its files finished.
	ents, err := os.ReadDir(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(in, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(3, false); err != nil {
		t.Fatalf("run from the final checkpoint: %v", err)
	}
	got := committedOutput(t, out, false, true)
	if len(got) != len(want) {
		t.Fatalf("%d records committed, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: sum %d, want %d", k, got[k], w)
		}
	}
}
