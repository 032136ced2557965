package parquet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/connector/file/parquet"
)

type row struct {
	Key  string  `parquet:"key"`
	Seq  int64   `parquet:"seq"`
	Val  float64 `parquet:"val"`
	Note *string `parquet:"note,optional"`
}

var errFail = errors.New("injected failure")

func job(dir, chk string, p int, n, failAfter int64) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: chk},
		Restore:     "latest",
	})
	var in []int64
	for i := range n {
		in = append(in, i)
	}
	var seen atomic.Int64
	rows := weir.TryMap(weir.FromSource[int64](env, slowSource(in), weir.NoWatermarks[int64](), "seq").SetParallelism(1).UID("seq"),
		func(i int64) (row, error) {
			if failAfter > 0 && seen.Add(1) >= failAfter {
				if m, _ := filepath.Glob(filepath.Join(dir, "part-*")); len(m) > 0 {
					return row{}, errFail
				}
			}
			r := row{Key: string(rune('a' + i%5)), Seq: i, Val: float64(i) / 4}
			if i%3 == 0 {
				s := strings.Repeat("x", int(i%7))
				r.Note = &s
			}
			return r, nil
		})
	rows.SinkTo(parquet.ExactlyOnceSink[row](dir, file.ExactlyOnceOptions{MaxPartSize: 4096}, pq.MaxRowsPerRowGroup(100))).UID("sink")
	return env.Execute(context.Background())
}

// TestParquetExactlyOnce fails a job writing Parquet several times: the
// committed Parquet files hold every row once, and no uncommitted file
// stays.
func TestParquetExactlyOnce(t *testing.T) {
	const n = 3000
	dir, chk := t.TempDir(), t.TempDir()
	fails := 0
	for _, p := range []int{2, 1, 3} {
		err := job(dir, chk, p, n, 700)
		if err == nil {
			// A machine so loaded that checkpoints came late.
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
	if err := job(dir, chk, 2, n, 0); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") || !strings.HasSuffix(e.Name(), ".parquet") {
			t.Fatalf("unexpected file %s", e.Name())
		}
		rows, err := pq.ReadFile[row](filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for _, r := range rows {
			if r.Key != string(rune('a'+r.Seq%5)) || r.Val != float64(r.Seq)/4 || (r.Seq%3 == 0) != (r.Note != nil) {
				t.Fatalf("%s: bad row %+v", e.Name(), r)
			}
			if r.Note != nil && *r.Note != strings.Repeat("x", int(r.Seq%7)) {
				t.Fatalf("%s: bad note in %+v", e.Name(), r)
			}
			seqs = append(seqs, r.Seq)
		}
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i) {
			t.Fatalf("committed rows: position %d holds seq %d (duplicate or gap); %d rows", i, s, len(seqs))
		}
	}
	if len(seqs) != n {
		t.Fatalf("%d rows committed, want %d", len(seqs), n)
	}
	if len(ents) < 4 {
		t.Fatalf("%d part files: rolling by size or checkpoint did not happen", len(ents))
	}
}

func TestBadRecordType(t *testing.T) {
	dir := t.TempDir()
	w, err := parquet.ExactlyOnceSink[chan int](dir, file.ExactlyOnceOptions{}).CreateWriter(weir.SinkContext{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(t.Context(), make(chan int), 0); err == nil {
		t.Fatal("writing a channel as Parquet succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("%d files left behind, first %s", len(ents), ents[0].Name())
	}
}

// slowSource emits its values a few per poll, waiting a millisecond
// between polls, so that checkpoints fall in the middle; it stores its
// position.
type slowSource []int64

func (s slowSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int64], error) {
	r := &slowReader{vals: s, time: ctx.Time}
	for _, it := range ctx.Restored {
		if len(it) != 8 {
			return nil, errors.New("bad position")
		}
		for i := range 8 {
			r.next |= int(it[i]) << (8 * i)
		}
	}
	return r, nil
}

type slowReader struct {
	vals []int64
	next int
	time weir.ProcessingTimeService
	wait bool
}

func (r *slowReader) Poll(_ context.Context, out *weir.SourceOutput[int64]) (weir.PollStatus, error) {
	if r.wait {
		r.wait = false
		r.time.Schedule(r.time.Now()+1, func(int64) error { return nil })
		return weir.NothingAvailable, nil
	}
	for i := 0; i < 20 && r.next < len(r.vals); i++ {
		out.Collect(r.vals[r.next])
		r.next++
	}
	if r.next == len(r.vals) {
		return weir.EndOfInput, nil
	}
	r.wait = true
	return weir.MoreAvailable, nil
}

func (r *slowReader) SnapshotState(int64) ([][]byte, error) {
	b := make([]byte, 8)
	for i := range 8 {
		b[i] = byte(r.next >> (8 * i))
	}
	return [][]byte{b}, nil
}

func (r *slowReader) Close() error { return nil }
