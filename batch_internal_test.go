package weir

import (
	"errors"
	"slices"
	"testing"

	"github.com/weirstream/weir/internal/runtime"
)

// failAt is an output with a batch path that fails on one value.
type failAt struct {
	bad  int
	seen []int
}

var errFailAt = errors.New("failAt")

func (f *failAt) ProcessElement(v int, _ int64) error {
	f.seen = append(f.seen, v)
	if v == f.bad {
		return errFailAt
	}
	return nil
}
func (f *failAt) ProcessBatch(recs []runtime.Rec[int]) (int, error) {
	for i, r := range recs {
		if err := f.ProcessElement(r.V, r.TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}
func (f *failAt) ProcessWatermark(int64) error      { return nil }
func (f *failAt) ProcessWatermarkStatus(bool) error { return nil }

// TestBatchCountOnError checks the number of input records a chain of
// batch operators reports when an operator after them fails: the records
// up to and including the one whose processing failed, as the per-record
// path reports it (an exchange adds it to the task's records-in).
func TestBatchCountOnError(t *testing.T) {
	ctx := &runtime.OperatorContext{Name: "op", Metrics: &runtime.OperatorMetrics{}}
	recs := make([]runtime.Rec[int], 100)
	for i := range recs {
		recs[i] = runtime.Rec[int]{V: i, TS: int64(i)}
	}
	for _, c := range []struct{ perRecordTail, fused bool }{{false, true}, {true, true}, {false, false}, {true, false}} {
		perRecordTail := c.perRecordTail
		sink := &failAt{bad: 3 * 41}
		var tail runtime.Output[int] = sink
		if perRecordTail {
			tail = struct{ runtime.Output[int] }{sink} // hides the batch path
		}
		filter := &filterOp[int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: tail}}, fn: func(v int) bool { return v%2 == 1 }}
		filter.ctx = ctx
		mapper := &mapOp[int, int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: filter}}, fn: func(v int) int { return 3 * v }}
		mapper.ctx = ctx
		mapper.probed = !c.fused // unfused: the map's own run, then the filter
		n, err := mapper.ProcessBatch(recs)
		if (mapper.next != nil) != c.fused {
			t.Fatalf("fused %v: map's next filter %v", c.fused, mapper.next)
		}
		if !errors.Is(err, errFailAt) || n != 42 {
			t.Fatalf("per-record tail %v: got %d, %v; want 42 records handled (0..41) and the error", perRecordTail, n, err)
		}
		var want []int
		for v := 0; v <= 41; v++ {
			if 3*v%2 == 1 {
				want = append(want, 3*v)
			}
		}
		if !slices.Equal(sink.seen, want) {
			t.Fatalf("per-record tail %v: sink saw %v, want %v", perRecordTail, sink.seen, want)
		}
	}
	// A failing TryMap hands the records before the failing one down first.
	sink := &failAt{bad: -1}
	try := &tryMapOp[int, int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: sink}}, fn: func(v int) (int, error) {
		if v == 57 {
			return 0, errors.New("57")
		}
		return v, nil
	}}
	try.ctx = ctx
	if n, err := try.ProcessBatch(recs); err == nil || n != 58 || len(sink.seen) != 57 || sink.seen[56] != 56 {
		t.Fatalf("TryMap: got %d, %v, sink saw %d records", n, err, len(sink.seen))
	}
}

// TestBatchFlatMapCountOnError checks a FlatMap's batch path when the
// output fails, in a run handed down mid-input and at the end, and when
// the function fails: the count names the input record, and the records
// emitted before the failure went down.
func TestBatchFlatMapCountOnError(t *testing.T) {
	ctx := &runtime.OperatorContext{Name: "op", Metrics: &runtime.OperatorMetrics{}}
	recs := make([]runtime.Rec[int], 100)
	for i := range recs {
		recs[i] = runtime.Rec[int]{V: i, TS: int64(i)}
	}
	emit := func(v int, out Collector[int]) error {
		n := 3
		if v == 50 {
			n = 400 // a full run in the middle of one input record
		}
		for k := range n {
			out.Collect(v*1000 + k)
		}
		if v == 90 {
			return errors.New("ninety")
		}
		return nil
	}
	for _, c := range []struct {
		bad, want int
		fnErr     bool
	}{{bad: 10*1000 + 2, want: 11}, {bad: 50*1000 + 300, want: 51}, {bad: 70*1000 + 1, want: 71}, {bad: -1, want: 91, fnErr: true}} {
		sink := &failAt{bad: c.bad}
		op := &flatMapOp[int, int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: sink}}, fn: emit}
		op.ctx = ctx
		n, err := op.ProcessBatch(recs)
		if n != c.want || err == nil || errors.Is(err, errFailAt) == c.fnErr {
			t.Fatalf("failing at %d: got %d, %v; want %d", c.bad, n, err, c.want)
		}
		last := c.bad
		if c.fnErr {
			last = 90*1000 + 2
		}
		if got := sink.seen[len(sink.seen)-1]; got != last {
			t.Fatalf("failing at %d: last record handed down %d, want %d", c.bad, got, last)
		}
	}
}

// TestMapFilterFusedSameAnswer checks that a Map whose only output is a
// Filter (mapped and filtered in one pass) hands down the same records
// and timestamps, in the same runs, as the Map's run handed to the Filter.
func TestMapFilterFusedSameAnswer(t *testing.T) {
	ctx := &runtime.OperatorContext{Name: "op", Metrics: &runtime.OperatorMetrics{}}
	run := func(fused bool) []runtime.Rec[int] {
		var got []runtime.Rec[int]
		sink := batchFunc(func(recs []runtime.Rec[int]) { got = append(got, recs...) })
		filter := &filterOp[int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: sink}}, fn: func(v int) bool { return v%3 != 0 }}
		filter.ctx = ctx
		mapper := &mapOp[int, int]{forwardOp: forwardOp[int]{out: &outputs[int]{main: filter}}, fn: func(v int) int { return v*7 + v>>3 }}
		mapper.ctx = ctx
		mapper.probed = !fused
		for size := range 300 {
			recs := make([]runtime.Rec[int], size)
			for i := range recs {
				recs[i] = runtime.Rec[int]{V: size*1000 + i, TS: int64(size - i)}
			}
			if n, err := mapper.ProcessBatch(recs); err != nil || n != size {
				t.Fatalf("fused %v: run of %d: %d, %v", fused, size, n, err)
			}
		}
		if (mapper.next != nil) != fused {
			t.Fatalf("fused %v: map's next filter %v", fused, mapper.next)
		}
		return got
	}
	want, got := run(false), run(true)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("fused map/filter handed down %d records, unfused %d (or they differ)", len(got), len(want))
	}
}

// batchFunc is an output whose batch path calls fn.
type batchFunc func([]runtime.Rec[int])

func (f batchFunc) ProcessElement(v int, ts int64) error {
	f([]runtime.Rec[int]{{V: v, TS: ts}})
	return nil
}
func (f batchFunc) ProcessBatch(recs []runtime.Rec[int]) (int, error) { f(recs); return len(recs), nil }
func (batchFunc) ProcessWatermark(int64) error                        { return nil }
func (batchFunc) ProcessWatermarkStatus(bool) error                   { return nil }
