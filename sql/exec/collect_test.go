package exec

import (
	"testing"

	"github.com/weirstream/weir/row"
)

// collectTestCalls are COLLECT calls over (k STRING, v INT, d DECIMAL(20, 2)).
func collectTestCalls() ([]row.Type, []AggCall) {
	in := []row.Type{row.String(), row.IntType(), row.DecimalType(20, 2)}
	return in, []AggCall{Call(Collect, 0), Call(Collect, 1).WithDistinct(), Call(Collect, 2)}
}

func collectTestRow(k string, v int64, d int64) row.Row {
	dv, _ := row.DecimalFromInt64Unscaled(d, row.DecimalType(20, 2))
	return row.Row{Fields: []row.Value{row.Str(k), row.Int(v), dv}}
}

func formatSet(s *aggSet) string {
	return row.FormatRow(row.Row{Fields: s.appendValues(nil)}, s.resultTypes())
}

// TestCollectAccumulator follows Flink's CollectAggFunction: NULLs are
// skipped, a retraction counts down and removes at zero, a retraction of
// a value not held is kept as count -1, and merge adds counts (keeping a
// sum of 0); the result is an empty multiset, not NULL, for no values.
func TestCollectAccumulator(t *testing.T) {
	in, calls := collectTestCalls()
	s, err := newAggSet(calls, in, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatSet(s), "+I[{}, {}, {}]"; got != want {
		t.Fatalf("empty: %s, want %s", got, want)
	}
	s.apply(collectTestRow("a", 1, 150), false)
	s.apply(collectTestRow("b", 1, 150), false)
	s.apply(collectTestRow("a", 2, 250), false)
	s.apply(row.Row{Fields: []row.Value{row.Null(), row.Null(), row.Null()}}, false)
	if got, want := formatSet(s), "+I[{a=2, b=1}, {1=1, 2=1}, {1.50=2, 2.50=1}]"; got != want {
		t.Fatalf("accumulated: %s, want %s", got, want)
	}
	s.apply(collectTestRow("a", 1, 150), true)
	s.apply(collectTestRow("b", 1, 150), true)
	s.apply(collectTestRow("z", 9, 900), true)
	if got, want := formatSet(s), "+I[{a=1, z=-1}, {2=1}, {2.50=1, 9.00=-1}]"; got != want {
		t.Fatalf("retracted: %s, want %s", got, want)
	}
	o, _ := newAggSet(calls, in, true)
	o.apply(collectTestRow("z", 9, 900), false)
	o.apply(collectTestRow("c", 3, 350), false)
	s.calls[0].acc.merge(o.calls[0].acc)
	s.calls[2].acc.merge(o.calls[2].acc)
	if got, want := formatSet(s), "+I[{a=1, c=1, z=0}, {2=1}, {2.50=1, 3.50=1, 9.00=0}]"; got != want {
		t.Fatalf("merged: %s, want %s", got, want)
	}
	enc := s.encode()
	s2, _ := newAggSet(calls, in, true)
	if err := s2.decode(enc); err != nil {
		t.Fatal(err)
	}
	if got, want := formatSet(s2), formatSet(s); got != want {
		t.Fatalf("decoded: %s, want %s", got, want)
	}
	s2.apply(collectTestRow("a", 2, 250), true)
	if got, want := formatSet(s2), "+I[{c=1, z=0}, {}, {3.50=1, 9.00=0}]"; got != want {
		t.Fatalf("retracted after decoding: %s, want %s", got, want)
	}
}

// FuzzCollectDecode checks that decoding arbitrary bytes as COLLECT's
// accumulators fails cleanly instead of panicking, and that what decodes
// encodes to bytes that decode to the same values and encoding.
//
// The calls have no DISTINCT: the DISTINCT wrapper encodes its map in Go's
// map order, so its encoding is not unique (it has tests of its own).
func FuzzCollectDecode(f *testing.F) {
	in, _ := collectTestCalls()
	calls := []AggCall{Call(Collect, 0), Call(Collect, 1), Call(Collect, 2)}
	set, err := newAggSet(calls, in, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(set.encode()))
	set.apply(collectTestRow("a", 1, 150), false)
	set.apply(collectTestRow("a", 1, 150), false)
	set.apply(collectTestRow("b", -2, -1), false)
	set.apply(collectTestRow("c", 3, 1), true) // count -1
	f.Add([]byte(set.encode()))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := newAggSet(calls, in, true)
		if _, err := s.decodeBytes(b); err != nil {
			return
		}
		vals := formatSet(s)
		enc := s.encode()
		s2, _ := newAggSet(calls, in, true)
		if err := s2.decode(enc); err != nil {
			t.Fatalf("%x decoded, its encoding %x does not: %v", b, enc, err)
		}
		if got := formatSet(s2); got != vals || s2.encode() != enc {
			t.Fatalf("%x decoded to %s, re-decoded to %s", b, vals, got)
		}
	})
}
