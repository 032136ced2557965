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
	"github.com/weirstream/weir/operator"
)

// eventLog records, in order, what the recorder operators of a job see.
type eventLog struct {
	mu  sync.Mutex
	log []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.log = append(l.log, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *eventLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.log)
}

// recorder is a per-record operator (it has no batch path): it logs every
// record, watermark and status change under its name and forwards them.
type recorder[T any] struct {
	name string
	log  *eventLog
	out  operator.Output[T]
}

func (r *recorder[T]) Open(*operator.Context) error { return nil }
func (r *recorder[T]) Finish() error                { return nil }
func (r *recorder[T]) Close() error                 { return nil }
func (r *recorder[T]) ProcessElement(v T, ts int64) error {
	r.log.add("%s rec %v @%d", r.name, v, ts)
	return r.out.ProcessElement(v, ts)
}
func (r *recorder[T]) ProcessWatermark(wm int64) error {
	r.log.add("%s wm %d", r.name, wm)
	return r.out.ProcessWatermark(wm)
}
func (r *recorder[T]) ProcessWatermarkStatus(idle bool) error {
	r.log.add("%s idle %v", r.name, idle)
	return r.out.ProcessWatermarkStatus(idle)
}

func record[T any](s weir.Stream[T], name string, log *eventLog) weir.Stream[T] {
	return weir.Transform(s, name, func(out operator.Output[T]) operator.OneInput[T] {
		return &recorder[T]{name: name, log: log, out: out}
	})
}

// mixedSource emits, per poll, runs of timestamped records longer than a
// source's batch, with watermarks, idleness and side-output records in
// between, so that every kind of event interrupts a pending batch.
type mixedSource struct{ polls, perPoll int }

var oddTag = weir.NewOutputTag[int]("odd-hundreds")

func (m mixedSource) CreateReader(weir.SourceContext) (weir.SourceReader[int], error) {
	return &mixedReader{src: m}, nil
}

type mixedReader struct {
	src  mixedSource
	poll int
	next int
}

func (r *mixedReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for i := 0; i < r.src.perPoll; i++ {
		v := r.next
		r.next++
		switch {
		case v%701 == 700:
			out.MarkIdle()
		case v%300 == 299:
			out.EmitWatermark(int64(v) - 50)
		case v%100 == 37:
			weir.EmitSide(out, oddTag, v, int64(v))
		}
		// Timestamps a little out of order.
		out.CollectWithTimestamp(v, int64(v+v%7))
	}
	r.poll++
	if r.poll == r.src.polls {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

func (r *mixedReader) Close() error { return nil }

// mixedChainLog runs source → map → flatMap → filter → recorder → map → filter →
// recorder, with a recorder on the source's side output, and returns the
// recorders' log. perRecordHead puts a per-record operator right after the
// source: the source then hands records down one by one, and so does every
// operator after it (the reference).
func mixedChainLog(t *testing.T, perRecordHead bool, opts weir.Options) []string {
	t.Helper()
	log := &eventLog{}
	env := weir.NewEnvironment(opts)
	strategy := weir.ForBoundedOutOfOrderness[int](10 * time.Millisecond)
	src := weir.FromSource[int](env, mixedSource{polls: 7, perPoll: 1000}, strategy, "mixed")
	record(weir.SideOutput(src, oddTag), "side", log)
	s := src
	if perRecordHead {
		s = weir.Transform(s, "head", func(out operator.Output[int]) operator.OneInput[int] {
			return &recorder[int]{name: "head", log: &eventLog{}, out: out}
		})
	}
	m := weir.Map(s, func(v int) int { return v * 3 })
	// 0, 1 or 2 records per input; 700 for some, to fill several runs.
	m = weir.FlatMap(m, func(v int, out weir.Collector[int]) error {
		k := v % 3
		if v%1000 == 3 {
			k = 700
		}
		for i := range k {
			out.Collect(v*1000 + i)
		}
		return nil
	})
	m = m.Filter(func(v int) bool { return v%4 != 0 })
	m = record(m, "mid", log)
	m = weir.Map(m, func(v int) int { return v + 1 }).Filter(func(v int) bool { return v%5 != 0 })
	record(m, "end", log).SinkTo(discardSink[int]{})
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return log.lines()
}

type discardSink[T any] struct{}

func (discardSink[T]) CreateWriter(weir.SinkContext) (weir.SinkWriter[T], error) {
	return discardWriter[T]{}, nil
}

type discardWriter[T any] struct{}

func (discardWriter[T]) Write(context.Context, T, int64) error { return nil }
func (discardWriter[T]) Flush(context.Context, bool) error     { return nil }
func (discardWriter[T]) Close() error                          { return nil }

// TestBatchPathSameOrder checks that a chain whose operators take runs of
// records (the batch path) sees the same records, timestamps, watermarks,
// idleness and side-output records, in the same order, as the per-record
// path, for every interval of periodic watermarks (after every poll, and
// on a timer).
func TestBatchPathSameOrder(t *testing.T) {
	for _, interval := range []time.Duration{-1, time.Millisecond} {
		opts := weir.Options{Parallelism: 1, AutoWatermarkInterval: interval}
		want := mixedChainLog(t, true, opts)
		got := mixedChainLog(t, false, opts)
		if len(want) < 5000 || !slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "end wm") }) ||
			!slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "mid idle true") }) ||
			!slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "side rec") }) {
			t.Fatalf("interval %v: the reference log misses events (%d lines)", interval, len(want))
		}
		if interval < 0 && !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("interval %v: line %d: got %q, want %q (%d vs %d lines)", interval, i, got[i], want[i], len(got), len(want))
				}
			}
			t.Fatalf("interval %v: got %d lines, want %d", interval, len(got), len(want))
		}
		if interval > 0 {
			// A timer's watermarks fall between polls wherever the clock
			// says: compare the records and check that no watermark
			// overtakes a record it follows.
			recs := func(l []string) []string {
				return slices.DeleteFunc(slices.Clone(l), func(s string) bool { return !strings.Contains(s, " rec ") })
			}
			if !slices.Equal(recs(got), recs(want)) {
				t.Fatalf("interval %v: records differ", interval)
			}
			checkNoLateRecords(t, got)
		}
	}
}

// checkNoLateRecords fails if a recorder saw a record whose timestamp is
// at or below a watermark it saw before (the source's strategy bounds the
// disorder, so only a watermark overtaking records makes one late).
func checkNoLateRecords(t *testing.T, log []string) {
	t.Helper()
	wm := map[string]int64{}
	for _, l := range log {
		var name, kind string
		var v, ts int64
		if n, _ := fmt.Sscanf(l, "%s rec %d @%d", &name, &v, &ts); n == 3 {
			if ts <= wm[name] && wm[name] != 0 {
				t.Fatalf("%q after watermark %d", l, wm[name])
			}
			continue
		}
		if n, _ := fmt.Sscanf(l, "%s %s %d", &name, &kind, &v); n == 3 && kind == "wm" {
			wm[name] = v
		}
	}
}

// TestBatchPathMatchesExchange compares the chained batch path with the
// same job without chaining (every operator behind an exchange).
func TestBatchPathMatchesExchange(t *testing.T) {
	want := mixedChainLog(t, true, weir.Options{Parallelism: 1, AutoWatermarkInterval: -1})
	got := mixedChainLog(t, false, weir.Options{Parallelism: 1, AutoWatermarkInterval: -1, DisableChaining: true})
	// Recorders on different subtasks interleave freely: compare each
	// recorder's own sequence.
	for _, name := range []string{"side", "mid", "end"} {
		only := func(l []string) []string {
			return slices.DeleteFunc(slices.Clone(l), func(s string) bool { return !strings.HasPrefix(s, name+" ") })
		}
		if g, w := only(got), only(want); !slices.Equal(g, w) {
			t.Fatalf("%s: %d lines without chaining, %d chained (first: %v / %v)", name, len(g), len(w), g[:min(3, len(g))], w[:min(3, len(w))])
		}
	}
}

// TestBatchDeadLetterMidBatch rejects one record in the middle of a
// source's batch, after a map on the batch path: exactly that record goes
// to the dead-letter output, every other reaches the main output in order.
func TestBatchDeadLetterMidBatch(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	values := make([]int, 1000)
	for i := range values {
		values[i] = i
	}
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	policy := weir.DeadLetterTo(dlq)
	doubled := weir.Map(weir.FromSlice(env, values), func(v int) int { return 2 * v })
	checked := weir.Process[int, int](doubled, weir.ProcessFunc[int, int](func(ctx *weir.Context[int], v int) error {
		if v == 2*77 || v == 2*600 {
			return weir.Reject(ctx, policy, weir.DeadLetter{Source: fmt.Sprintf("value %d", v), Reason: "unlucky"})
		}
		ctx.Collect(v)
		return nil
	}))
	var mu sync.Mutex
	var main []int
	var dead []string
	weir.Map(checked, func(v int) int { return v + 1 }).SinkTo(funcSink[int](func(v int) { mu.Lock(); main = append(main, v); mu.Unlock() }))
	weir.SideOutput(checked, dlq).SinkTo(funcSink[weir.DeadLetter](func(d weir.DeadLetter) { mu.Lock(); dead = append(dead, d.Source); mu.Unlock() }))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dead, []string{"value 154", "value 1200"}) {
		t.Fatalf("dead letters %v", dead)
	}
	var want []int
	for _, v := range values {
		if v != 77 && v != 600 {
			want = append(want, 2*v+1)
		}
	}
	if !slices.Equal(main, want) {
		t.Fatalf("main output: %d records, want %d", len(main), len(want))
	}
}

// TestBatchTryMapFailsMidBatch fails a TryMap on one record in the middle
// of a batch: the records before it reach the sink, none after it, and
// the job's error names the operator and the record's error.
func TestBatchTryMapFailsMidBatch(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	values := make([]int, 1000)
	for i := range values {
		values[i] = i
	}
	var mu sync.Mutex
	var got []int
	bad := errors.New("bad record")
	checked := weir.TryMap(weir.FromSlice(env, values), func(v int) (int, error) {
		if v == 300 {
			return 0, fmt.Errorf("value %d: %w", v, bad)
		}
		return v, nil
	}).Name("check")
	checked.Filter(func(v int) bool { return v%2 == 0 }).SinkTo(funcSink[int](func(v int) { mu.Lock(); got = append(got, v); mu.Unlock() }))
	err := env.Execute(context.Background())
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), `operator "check": value 300`) {
		t.Fatalf("error %v", err)
	}
	var want []int
	for v := 0; v < 300; v += 2 {
		want = append(want, v)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sink got %d records (last %v), want the %d before the failing one", len(got), got[max(len(got)-1, 0):], len(want))
	}
}

// funcSink calls fn for every record.
type funcSink[T any] func(T)

func (f funcSink[T]) CreateWriter(weir.SinkContext) (weir.SinkWriter[T], error) {
	return funcWriter[T](f), nil
}

type funcWriter[T any] func(T)

func (f funcWriter[T]) Write(_ context.Context, v T, _ int64) error { f(v); return nil }
func (funcWriter[T]) Flush(context.Context, bool) error             { return nil }
func (funcWriter[T]) Close() error                                  { return nil }

// positionCheck is a per-record operator after a batching chain: at every
// snapshot it records how many records it saw, beside the position the
// source reader stored in the same snapshot.
type positionCheck struct {
	seen  int
	pairs *positionPairs
	out   operator.Output[int]
}

type positionPairs struct {
	mu       sync.Mutex
	readerAt map[int64]int // checkpoint id → reader position
	seenAt   map[int64]int // checkpoint id → records seen after the chain
}

func (p *positionCheck) Open(*operator.Context) error { return nil }
func (p *positionCheck) Finish() error                { return nil }
func (p *positionCheck) Close() error                 { return nil }
func (p *positionCheck) ProcessElement(v int, ts int64) error {
	p.seen++
	return p.out.ProcessElement(v, ts)
}
func (p *positionCheck) ProcessWatermark(wm int64) error { return p.out.ProcessWatermark(wm) }
func (p *positionCheck) ProcessWatermarkStatus(idle bool) error {
	return p.out.ProcessWatermarkStatus(idle)
}
func (p *positionCheck) SnapshotState(id int64, _ *operator.StateWriter) error {
	p.pairs.mu.Lock()
	p.pairs.seenAt[id] = p.seen
	p.pairs.mu.Unlock()
	return nil
}

// positionSource is slowCounter whose reader reports every position it
// stores.
type positionSource struct {
	slowCounter
	pairs *positionPairs
}

func (s positionSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	r, err := s.slowCounter.CreateReader(ctx)
	if err != nil {
		return nil, err
	}
	return &positionReader{slowReader: r.(*slowReader), pairs: s.pairs}, nil
}

type positionReader struct {
	*slowReader
	pairs *positionPairs
}

func (r *positionReader) SnapshotState(id int64) ([][]byte, error) {
	r.pairs.mu.Lock()
	r.pairs.readerAt[id] = r.next
	r.pairs.mu.Unlock()
	return r.slowReader.SnapshotState(id)
}

// TestBatchCheckpointPosition takes checkpoints while a source emits polls
// longer than its batch: at each, every record the reader emitted before
// the position it stores has passed the batching chain (map, filter)
// before the barrier, and none after it.
func TestBatchCheckpointPosition(t *testing.T) {
	pairs := &positionPairs{readerAt: map[int64]int{}, seenAt: map[int64]int{}}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 2 * time.Millisecond, Dir: t.TempDir()},
	})
	src := weir.FromSource[int](env, positionSource{slowCounter{n: 40_000, perPoll: 700}, pairs}, weir.NoWatermarks[int](), "counter").UID("counter")
	kept := weir.Map(src, func(v int) int { return v * 3 }).Filter(func(v int) bool { return v%2 == 0 })
	checked := weir.Transform(kept, "check", func(out operator.Output[int]) operator.OneInput[int] {
		return &positionCheck{pairs: pairs, out: out}
	}).UID("check")
	checked.SinkTo(discardSink[int]{})
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(pairs.readerAt) == 0 {
		t.Fatal("no snapshot taken")
	}
	for id, pos := range pairs.readerAt {
		// Of 0..pos-1, the filter keeps the even numbers (3v is even iff v is).
		if want := (pos + 1) / 2; pairs.seenAt[id] != want {
			t.Fatalf("checkpoint %d: reader at %d, %d records passed the chain, want %d", id, pos, pairs.seenAt[id], want)
		}
	}
}
