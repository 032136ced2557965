package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// logSink logs, in order, what its writer is called with: records with
// their timestamps, watermarks, flushes, and (tpc) the records staged at
// each PreCommit and every Commit. batch makes the writer a
// weir.BatchWriter; batches counts its WriteBatch calls.
type logSink struct {
	batch, tpc bool
	log        *eventLog
	batches    *int64
	// committed receives the records of each Commit, in commit order.
	committed *[]int
	mu        *sync.Mutex
}

func newLogSink(batch, tpc bool) logSink {
	return logSink{batch: batch, tpc: tpc, log: &eventLog{}, batches: new(int64), committed: new([]int), mu: &sync.Mutex{}}
}

func (s logSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int], error) {
	w := &logWriter{s: s}
	switch {
	case s.batch && s.tpc:
		return &batchTPCLogWriter{tpcLogWriter{w}}, nil
	case s.batch:
		return &batchLogWriter{w}, nil
	case s.tpc:
		return &tpcLogWriter{w}, nil
	}
	return w, nil
}

type logWriter struct {
	s       logSink
	written []int // since the last PreCommit
}

func (w *logWriter) Write(_ context.Context, v int, ts int64) error {
	w.s.log.add("rec %d @%d", v, ts)
	w.written = append(w.written, v)
	return nil
}
func (w *logWriter) WriteWatermark(_ context.Context, wm int64) error {
	w.s.log.add("wm %d", wm)
	return nil
}
func (w *logWriter) Flush(_ context.Context, end bool) error {
	w.s.log.add("flush %v", end)
	return nil
}
func (w *logWriter) Close() error { return nil }

type batchLogWriter struct{ *logWriter }

func (w *batchLogWriter) WriteBatch(ctx context.Context, recs []weir.Rec[int]) (int, error) {
	w.s.mu.Lock()
	*w.s.batches++
	w.s.mu.Unlock()
	for _, r := range recs {
		if err := w.Write(ctx, r.V, r.TS); err != nil {
			return 0, err
		}
	}
	return len(recs), nil
}

type tpcLogWriter struct{ *logWriter }

func (w *tpcLogWriter) PreCommit(_ context.Context, id int64) ([][]byte, error) {
	item := fmt.Sprint(w.written)
	w.s.log.add("precommit %d: %d records", id, len(w.written))
	w.written = w.written[:0]
	return [][]byte{[]byte(item)}, nil
}

func (w *tpcLogWriter) Commit(_ context.Context, items [][]byte) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, it := range items {
		for _, f := range strings.Fields(strings.Trim(string(it), "[]")) {
			var v int
			if _, err := fmt.Sscan(f, &v); err != nil {
				return err
			}
			*w.s.committed = append(*w.s.committed, v)
		}
	}
	return nil
}

type batchTPCLogWriter struct{ tpcLogWriter }

func (w *batchTPCLogWriter) WriteBatch(ctx context.Context, recs []weir.Rec[int]) (int, error) {
	return (&batchLogWriter{w.logWriter}).WriteBatch(ctx, recs)
}

// sinkChainLog runs the mixed source (watermarks, idleness, side output)
// through map → flatMap → filter into sink and returns its writer's log.
func sinkChainLog(t *testing.T, sink logSink) []string {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	strategy := weir.ForBoundedOutOfOrderness[int](10 * time.Millisecond)
	src := weir.FromSource[int](env, mixedSource{polls: 5, perPoll: 1000}, strategy, "mixed")
	m := weir.Map(src, func(v int) int { return v * 3 })
	m = weir.FlatMap(m, func(v int, out weir.Collector[int]) error {
		for i := range v / 3 % 3 {
			out.Collect(v*10 + i)
		}
		return nil
	})
	m.Filter(func(v int) bool { return v%4 != 0 }).SinkTo(sink)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink.log.lines()
}

// TestBatchWriterSameAsWrite checks that a sink writer implementing
// weir.BatchWriter gets the same records, timestamps, watermarks and
// flushes, in the same order, as one that has only Write, and that its
// batch path is used.
func TestBatchWriterSameAsWrite(t *testing.T) {
	for _, tpc := range []bool{false, true} {
		t.Run(fmt.Sprintf("tpc=%v", tpc), func(t *testing.T) {
			want := sinkChainLog(t, newLogSink(false, tpc))
			bs := newLogSink(true, tpc)
			got := sinkChainLog(t, bs)
			if *bs.batches == 0 {
				t.Fatalf("WriteBatch never called (%d events: %q)", len(got), got[:min(5, len(got))])
			}
			if len(want) < 1000 {
				t.Fatalf("only %d events logged", len(want))
			}
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("event %d: WriteBatch path %q, Write path %q", i, got[i], want[i])
					}
				}
				t.Fatalf("WriteBatch path logged %d events, Write path %d", len(got), len(want))
			}
		})
	}
}

// TestBatchWriterTwoPhaseCheckpoints takes checkpoints while a source
// emits polls longer than its run into a two-phase-commit sink that writes
// in batches: at each PreCommit the sink has written exactly the records
// the reader emitted before the position it stored in the same
// checkpoint, and the commits deliver every record once, in order.
func TestBatchWriterTwoPhaseCheckpoints(t *testing.T) {
	pairs := &positionPairs{readerAt: map[int64]int{}, seenAt: map[int64]int{}}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 2 * time.Millisecond, Dir: t.TempDir()},
	})
	const n = 40_000
	src := weir.FromSource[int](env, positionSource{slowCounter{n: n, perPoll: 700}, pairs}, weir.NoWatermarks[int](), "counter").UID("counter")
	sink := newLogSink(true, true)
	weir.Map(src, func(v int) int { return v * 3 }).Filter(func(v int) bool { return v%2 == 0 }).SinkTo(sink).UID("sink")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *sink.batches == 0 {
		t.Fatal("WriteBatch never called")
	}
	// Replay the log: records written before each checkpoint's PreCommit.
	written := 0
	staged := map[int64]int{}
	for _, l := range sink.log.lines() {
		var id int64
		var k int
		switch {
		case strings.HasPrefix(l, "rec "):
			written++
		case strings.HasPrefix(l, "precommit "):
			if _, err := fmt.Sscanf(l, "precommit %d: %d records", &id, &k); err != nil {
				t.Fatal(err)
			}
			staged[id] = written
		}
	}
	checked := 0
	pairs.mu.Lock()
	for id, pos := range pairs.readerAt {
		got, ok := staged[id]
		if !ok {
			continue // the sink's snapshot of an aborted checkpoint
		}
		checked++
		// Of 0..pos-1, the filter keeps the even numbers (3v is even iff v is).
		if want := (pos + 1) / 2; got != want {
			t.Errorf("checkpoint %d: reader at %d, sink wrote %d records before PreCommit, want %d", id, pos, got, want)
		}
	}
	pairs.mu.Unlock()
	if checked == 0 {
		t.Fatal("no checkpoint reached the sink")
	}
	var want []int
	for v := 0; v < n; v += 2 {
		want = append(want, v*3)
	}
	sink.mu.Lock()
	got := slices.Clone(*sink.committed)
	sink.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("committed %d records, want %d (every kept record once, in order)", len(got), len(want))
	}
}

// failingBatchSink's WriteBatch fails on the record failAt.
type failingBatchSink struct {
	failAt int
	got    *[]int
}

var errBatchWrite = errors.New("batch write failed")

func (s failingBatchSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int], error) {
	return &failingBatchWriter{s}, nil
}

type failingBatchWriter struct{ s failingBatchSink }

func (w *failingBatchWriter) Write(_ context.Context, v int, _ int64) error {
	if v == w.s.failAt {
		return errBatchWrite
	}
	*w.s.got = append(*w.s.got, v)
	return nil
}

func (w *failingBatchWriter) WriteBatch(ctx context.Context, recs []weir.Rec[int]) (int, error) {
	for i, r := range recs {
		if err := w.Write(ctx, r.V, r.TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}
func (w *failingBatchWriter) Flush(context.Context, bool) error { return nil }
func (w *failingBatchWriter) Close() error                      { return nil }

// TestBatchWriterError checks that an error from WriteBatch fails the job
// with the writer's error, naming the sink, after the records before it.
func TestBatchWriterError(t *testing.T) {
	var got []int
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	src := weir.FromSource[int](env, slowCounter{n: 5000, perPoll: 1000}, weir.NoWatermarks[int](), "counter")
	src.SinkTo(failingBatchSink{failAt: 1234, got: &got}).Name("failing-sink")
	err := env.Execute(context.Background())
	if !errors.Is(err, errBatchWrite) || !strings.Contains(err.Error(), "failing-sink") {
		t.Fatalf("err = %v, want %v naming the sink", err, errBatchWrite)
	}
	if len(got) != 1234 || got[len(got)-1] != 1233 {
		t.Fatalf("sink wrote %d records before failing, want 1234", len(got))
	}
}
