package datagen_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/internal/crashtest"
)

// store is the "external system" of txSink: a transaction becomes visible
// at most once, whatever the number of commits.
type store struct {
	mu   sync.Mutex
	txns map[string][]int64
}

func (s *store) all() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, t := range s.txns {
		out = append(out, t...)
	}
	return out
}

type txSink struct{ s *store }

func (s txSink) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[int64], error) {
	return &txWriter{s: s.s, name: fmt.Sprintf("%d-%d", time.Now().UnixNano(), ctx.Subtask)}, nil
}

type txWriter struct {
	s    *store
	name string
	buf  []int64
}

// Write checks the record's timestamp: the generator's is seq*10.
func (w *txWriter) Write(_ context.Context, v int64, ts int64) error {
	if ts != v*10 {
		return fmt.Errorf("record %d has timestamp %d, want %d", v, ts, v*10)
	}
	w.buf = append(w.buf, v)
	return nil
}
func (w *txWriter) Flush(context.Context, bool) error { return nil }
func (w *txWriter) Close() error                      { return nil }

// PreCommit encodes the transaction: its name, then the records.
func (w *txWriter) PreCommit(_ context.Context, id int64) ([][]byte, error) {
	b := fmt.Appendf(nil, "%s-%d\n", w.name, id)
	for _, v := range w.buf {
		b = binary.AppendVarint(b, v)
	}
	w.buf = nil
	return [][]byte{b}, nil
}

func (w *txWriter) Commit(ctx context.Context, items [][]byte) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, it := range items {
		i := 0
		for it[i] != '\n' {
			i++
		}
		name, rest := string(it[:i]), it[i+1:]
		if _, done := w.s.txns[name]; done {
			continue
		}
		var vs []int64
		for len(rest) > 0 {
			v, n := binary.Varint(rest)
			if n <= 0 {
				return errors.New("corrupt transaction")
			}
			vs = append(vs, v)
			rest = rest[n:]
		}
		w.s.txns[name] = vs
	}
	return nil
}

var errFail = errors.New("injected failure")

func genJob(dir string, p int, n, failAfter int64, s *store) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: dir},
		Restore:     "latest",
	})
	var seen atomic.Int64
	gen := datagen.New(func(seq int64) int64 { return seq },
		datagen.Options{Count: n, BatchSize: 16, RecordsPerSecond: 20000, Timestamp: func(seq int64) int64 { return seq * 10 }})
	// The generator waits at the failure point until a transaction
	// committed, so the run fails there even on a machine so loaded that
	// its first checkpoint comes after the end of the input (1 of 20 runs
	// under load finished without the failure).
	held := crashtest.Hold(gen, func() bool { return failAfter > 0 && seen.Load() >= failAfter && len(s.all()) == 0 })
	src := weir.FromSource[int64](env, held, weir.NoWatermarks[int64](), "gen").UID("gen")
	checked := weir.TryMap(src, func(v int64) (int64, error) {
		if failAfter > 0 && seen.Add(1) >= failAfter && len(s.all()) > 0 {
			return 0, errFail
		}
		return v, nil
	})
	checked.SinkTo(txSink{s}).UID("sink")
	return env.Execute(context.Background())
}

// TestRestoreAtOtherParallelism fails a generator job several times and
// restores it at another parallelism each time: every sequence number is
// committed exactly once.
func TestRestoreAtOtherParallelism(t *testing.T) {
	const n = 6000
	dir := t.TempDir()
	s := &store{txns: map[string][]int64{}}
	fails := 0
	for _, p := range []int{3, 2, 1, 4} {
		err := genJob(dir, p, n, 1000, s)
		if err == nil {
			// The input ended before this run's failure point.
			t.Logf("p=%d finished without the failure", p)
			break
		}
		if !errors.Is(err, errFail) {
			t.Fatalf("p=%d: %v, want the injected failure", p, err)
		}
		fails++
	}
	if fails < 2 {
		t.Fatalf("only %d runs failed", fails)
	}
	if len(s.all()) == 0 {
		t.Fatal("nothing committed after the failures")
	}
	if err := genJob(dir, 2, n, 0, s); err != nil {
		t.Fatalf("final run: %v", err)
	}
	seen := make([]bool, n)
	all := s.all()
	for _, v := range all {
		if v < 0 || v >= n {
			t.Fatalf("record %d out of range", v)
		}
		if seen[v] {
			t.Fatalf("record %d committed twice", v)
		}
		seen[v] = true
	}
	if len(all) != n {
		t.Fatalf("%d of %d records committed", len(all), n)
	}
}
