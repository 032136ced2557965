package exec

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/weirstream/weir/row"
)

// frameMember reports, from the frame's definition, whether row j of
// the sorted partition is in row i's frame: ROWS by position; RANGE by
// the key values (rows with a NULL key: the NULL rows are their frame
// for an offset bound; a non-NULL key's offset bound never reaches a
// NULL, which sorts before or after every value).
func frameMember(c BatchOverCall, k OrderKey, keys []row.Value, i, j int) bool {
	pos := func(b FrameBound, lower bool) bool {
		switch b.Kind {
		case BoundUnboundedPreceding:
			return lower
		case BoundUnboundedFollowing:
			return !lower
		}
		if c.Rows {
			at := i
			switch b.Kind {
			case BoundPreceding:
				at = i - int(b.Rows)
			case BoundFollowing:
				at = i + int(b.Rows)
			}
			if lower {
				return j >= at
			}
			return j <= at
		}
		x, y := keys[i], keys[j]
		if b.Kind == BoundCurrentRow {
			// Peers and beyond.
			c := cmpKey(y, x, k)
			if lower {
				return c >= 0
			}
			return c <= 0
		}
		if x.IsNull() || y.IsNull() {
			if x.IsNull() && y.IsNull() {
				return true
			}
			// y NULL sorts first (before every bound) unless NullsLast;
			// x NULL: the bound is NULL, every value is after (first) or
			// before (last) it.
			yBefore := y.IsNull() != k.NullsLast
			if lower {
				return !yBefore
			}
			return yBefore
		}
		// The bound's value: preceding is smaller ascending, larger
		// descending.
		d := b.Range.Int()
		if (b.Kind == BoundPreceding) != k.Desc {
			d = -d
		}
		bound := x.Int() + d
		yv := y.Int()
		if k.Desc {
			if lower {
				return yv <= bound
			}
			return yv >= bound
		}
		if lower {
			return yv >= bound
		}
		return yv <= bound
	}
	return pos(c.Start, true) && pos(c.End, false)
}

func cmpKey(a, b row.Value, k OrderKey) int {
	return compareByKeys(row.Of(a), row.Of(b), []OrderKey{{Col: 0, Desc: k.Desc, NullsLast: k.NullsLast}}, []row.Type{row.IntType()})
}

// naive computes an aggregate of the values of a frame by its definition.
func naive(f Func, vals []row.Value) row.Value {
	var nn []int64
	for _, v := range vals {
		if !v.IsNull() {
			nn = append(nn, v.Int())
		}
	}
	switch f {
	case Count:
		return row.Int(int64(len(nn)))
	case CountStar:
		return row.Int(int64(len(vals)))
	}
	if len(nn) == 0 {
		return row.Null()
	}
	switch f {
	case Sum:
		s := int64(0)
		for _, x := range nn {
			s += x
		}
		return row.Int(s)
	case Min:
		return row.Int(slices.Min(nn))
	case Max:
		return row.Int(slices.Max(nn))
	case FirstValue:
		return row.Int(nn[0])
	case LastValue:
		return row.Int(nn[len(nn)-1])
	}
	panic(fmt.Sprint("no naive ", f))
}

// TestBatchOverFramesByDefinition checks the growing, sliding and
// recomputed frames and the RANGE bounds' binary search against the
// frames' definition, on random partitions with ties and NULLs, ROWS and
// RANGE, ascending and descending keys, NULLs first and last.
func TestBatchOverFramesByDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	types := []row.Type{row.IntType(), row.BigInt()}
	funcs := []Func{Sum, Count, CountStar, Min, Max, FirstValue, LastValue}
	kinds := []BoundKind{BoundUnboundedPreceding, BoundPreceding, BoundCurrentRow, BoundFollowing, BoundUnboundedFollowing}
	randValue := func(n int) row.Value {
		if rng.Intn(5) == 0 {
			return row.Null()
		}
		return row.Int(int64(rng.Intn(n)))
	}
	for iter := 0; iter < 3000; iter++ {
		n := rng.Intn(12)
		rows := make([]row.Row, n)
		for i := range rows {
			rows[i] = row.Of(randValue(8), randValue(100))
		}
		k := OrderKey{Col: 0, Desc: rng.Intn(2) == 0, NullsLast: rng.Intn(2) == 0}
		// A valid frame: start no later than end by kind.
		s, e := rng.Intn(4), 0
		e = s + rng.Intn(5-s)
		if s == 0 && e == 0 {
			e = 2
		}
		c := BatchOverCall{Func: OverAgg, Rows: rng.Intn(2) == 0,
			Start: FrameBound{Kind: kinds[s]}, End: FrameBound{Kind: kinds[e]}}
		for _, b := range []*FrameBound{&c.Start, &c.End} {
			b.Rows = int64(rng.Intn(4))
			b.Range = row.Int(int64(rng.Intn(4)))
		}
		f := funcs[rng.Intn(len(funcs))]
		c.Agg = Call(f, 1)
		if f == CountStar {
			c.Agg = Call(CountStar)
		}
		if rng.Intn(4) == 0 && f != CountStar {
			c.Agg = c.Agg.WithDistinct() // not retractable: recomputed
		}
		spec := BatchOverSpec{Types: types, OrderBy: []OrderKey{k}, Calls: []BatchOverCall{c}}
		if err := spec.check(); err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(rows, func(a, b row.Row) int { return compareByKeys(a, b, spec.OrderBy, types) })
		peerStart, peerEnd := make([]int, n), make([]int, n)
		for i := 0; i < n; {
			j := i + 1
			for j < n && compareByKeys(rows[i], rows[j], spec.OrderBy, types) == 0 {
				j++
			}
			for x := i; x < j; x++ {
				peerStart[x], peerEnd[x] = i, j
			}
			i = j
		}
		out := make([][]row.Value, n)
		fn := &batchOverFn{spec: spec}
		if err := fn.aggregate(c, rows, peerStart, peerEnd, out); err != nil {
			t.Fatal(err)
		}
		keys := make([]row.Value, n)
		for i, r := range rows {
			keys[i] = r.Fields[0]
		}
		for i := range rows {
			var vals []row.Value
			for j := range rows {
				if frameMember(c, k, keys, i, j) {
					vals = append(vals, rows[j].Fields[1])
				}
			}
			var want row.Value
			if c.Agg.Distinct {
				// DISTINCT: the distinct non-NULL values.
				var d []row.Value
				seen := map[int64]bool{}
				for _, v := range vals {
					if !v.IsNull() && !seen[v.Int()] {
						seen[v.Int()] = true
						d = append(d, v)
					}
				}
				want = naive(f, d)
			} else {
				want = naive(f, vals)
			}
			got := out[i][0]
			if row.Compare(got, want, row.BigInt()) != 0 || got.IsNull() != want.IsNull() {
				t.Fatalf("iter %d: %v over %+v, key %+v, row %d of %v: got %s, want %s (frame values %v)",
					iter, c.Agg, c, k, i, rows, row.Format(got, row.BigInt()), row.Format(want, row.BigInt()), vals)
			}
		}
	}
}

func TestNtile(t *testing.T) {
	// 6 rows in 4 buckets: 2, 2, 1, 1; 5 in 2: 3, 2; 2 in 5: 1, 2.
	for _, tc := range []struct {
		n, k int64
		want []int64
	}{
		{6, 4, []int64{1, 1, 2, 2, 3, 4}},
		{5, 2, []int64{1, 1, 1, 2, 2}},
		{2, 5, []int64{1, 2}},
		{4, 4, []int64{1, 2, 3, 4}},
	} {
		var got []int64
		for i := range tc.n {
			got = append(got, ntile(i, tc.n, tc.k))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("NTILE(%d) over %d rows: %v, want %v", tc.k, tc.n, got, tc.want)
		}
	}
}
