package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"slices"
	"strings"
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
// recomputed frames and the RANGE bounds' forward search against the
// frames' definition, on random partitions with ties and NULLs, ROWS and
// RANGE, ascending and descending keys, NULLs first and last; the
// partition in memory, or spilled (a budget of one byte: every row a run
// of its own; or of about two rows), leaving no file behind.
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
	spillDir := t.TempDir()
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
		// The frames are computed with the partition in memory and, with
		// a budget of a few rows, spilled.
		spec.MemoryBudget = []int64{0, 1, 200}[iter%3]
		fn := &batchOverFn{spec: spec, codec: row.NewCodec(types), spill: spillFiles{base: spillDir}}
		var enc []string
		for _, r := range rows {
			enc = append(enc, string(fn.codec.Append(nil, r)))
		}
		p, err := fn.sortPartition(enc)
		if err != nil {
			t.Fatal(err)
		}
		if spec.MemoryBudget == 1 && (p.file != nil) != (n > 1) {
			t.Fatalf("budget %d, %d rows: spilled %v", spec.MemoryBudget, n, p.file != nil)
		}
		var out [][]row.Value
		if err := fn.emit(p, func(r row.Row) { out = append(out, r.Fields[len(types):]) }); err != nil {
			t.Fatal(err)
		}
		if err := fn.spill.close(); err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(rows, func(a, b row.Row) int { return compareByKeys(a, b, spec.OrderBy, types) })
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
	if ents, err := os.ReadDir(spillDir); err != nil || len(ents) != 0 {
		t.Fatalf("spill directory after the partitions: %v, %v", ents, err)
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

// TestBatchOverSpillSortStable sorts 1000 rows with many equal keys
// through runs of a few rows (a budget of 1 KiB: about 90 runs, merged
// 16 at a time into 6, then into one) and reads them back by the cursors
// forwards and by seeks: the order is the in-memory stable sort's.
func TestBatchOverSpillSortStable(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	types := []row.Type{row.IntType(), row.BigInt()}
	spec := BatchOverSpec{Types: types, OrderBy: []OrderKey{{Col: 0, Desc: true, NullsLast: false}}, MemoryBudget: 1 << 10}
	fn := &batchOverFn{spec: spec, codec: row.NewCodec(types), spill: spillFiles{base: t.TempDir()}}
	var rows []row.Row
	var enc []string
	for i := range 1000 {
		k := row.Int(int64(rng.Intn(20)))
		if rng.Intn(10) == 0 {
			k = row.Null()
		}
		rows = append(rows, row.Of(k, row.Int(int64(i))))
		enc = append(enc, string(fn.codec.Append(nil, rows[i])))
	}
	p, err := fn.sortPartition(enc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := fn.spill.close(); err != nil {
			t.Error(err)
		}
	}()
	if p.file == nil {
		t.Fatal("not spilled")
	}
	slices.SortStableFunc(rows, func(a, b row.Row) int { return compareByKeys(a, b, spec.OrderBy, types) })
	fwd, jump := p.cursor(), p.cursor()
	for i, want := range rows {
		if got := fwd.at(i); got.Fields[1].Int() != want.Fields[1].Int() {
			t.Fatalf("row %d: id %d, want %d", i, got.Fields[1].Int(), want.Fields[1].Int())
		}
		j := rng.Intn(len(rows))
		if got := jump.at(j); got.Fields[1].Int() != rows[j].Fields[1].Int() {
			t.Fatalf("row %d by a seek: id %d, want %d", j, got.Fields[1].Int(), rows[j].Fields[1].Int())
		}
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
}

// spilledPartition sorts 500 rows with a budget of 1 KiB into a spill
// file under dir.
func spilledPartition(t *testing.T, dir string) (*batchOverFn, *sortedPart) {
	t.Helper()
	types := []row.Type{row.IntType(), row.BigInt()}
	c := BatchOverCall{Func: OverAgg, Agg: Call(Sum, 1), Start: FrameBound{Kind: BoundPreceding, Range: row.Int(3)}, End: FrameBound{Kind: BoundCurrentRow}}
	spec := BatchOverSpec{Types: types, OrderBy: []OrderKey{{Col: 0}}, MemoryBudget: 1 << 10,
		Calls: []BatchOverCall{c, {Func: OverLag, Arg: 1, Default: -1, Offset: 5}, {Func: OverCumeDist}}}
	if err := spec.check(); err != nil {
		t.Fatal(err)
	}
	fn := &batchOverFn{spec: spec, codec: row.NewCodec(types), spill: spillFiles{base: dir}}
	var enc []string
	for i := range 500 {
		enc = append(enc, string(fn.codec.Append(nil, row.Of(row.Int(int64(i*7%50)), row.Int(int64(i))))))
	}
	p, err := fn.sortPartition(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p.file == nil {
		t.Fatal("500 rows did not spill with a budget of 1 KiB")
	}
	return fn, p
}

// spillFailed checks that emitting p failed with an error naming its file
// and matching want, and that the spill directory is emptied.
func spillFailed(t *testing.T, fn *batchOverFn, p *sortedPart, dir string, want func(error) bool) int {
	t.Helper()
	rows := 0
	err := fn.emit(p, func(row.Row) { rows++ })
	if err == nil || !strings.Contains(err.Error(), p.file.Name()) || !want(err) {
		t.Fatalf("after %d rows: %v; want an error naming %s", rows, err, p.file.Name())
	}
	if err := fn.spill.close(); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("left in the spill directory: %v, %v", ents, err)
	}
	return rows
}

// TestBatchOverSpillReadError cuts a partition's spill file short
// between the sort and the computation: the computation fails with an
// error naming the file, not a panic, and the files are removed.
func TestBatchOverSpillReadError(t *testing.T) {
	dir := t.TempDir()
	fn, p := spilledPartition(t, dir)
	if err := p.file.Truncate(p.size / 2); err != nil {
		t.Fatal(err)
	}
	rows := spillFailed(t, fn, p, dir, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) })
	if rows == 0 || rows >= 500 {
		t.Fatalf("%d rows emitted before the cut", rows)
	}
}

// TestBatchOverSpillDamagedLength overwrites the first row's length in a
// spill file with 2^62: the computation fails saying the file is damaged
// instead of allocating that much.
func TestBatchOverSpillDamagedLength(t *testing.T) {
	dir := t.TempDir()
	fn, p := spilledPartition(t, dir)
	if _, err := p.file.WriteAt(binary.AppendUvarint(nil, 1<<62), 0); err != nil {
		t.Fatal(err)
	}
	spillFailed(t, fn, p, dir, func(err error) bool { return strings.Contains(err.Error(), "the file is damaged") })
}

// BenchmarkBatchOverAggregate sorts and computes SUM over 10k rows of
// one partition per frame kind (reported per row), in memory and spilled
// (a budget of 64 KiB).
func BenchmarkBatchOverAggregate(b *testing.B) {
	types := []row.Type{row.IntType(), row.BigInt()}
	const n = 10000
	codec := row.NewCodec(types)
	enc := make([]string, n)
	for i := range enc {
		enc[i] = string(codec.Append(nil, row.Of(row.Int(int64(i/3)), row.Int(int64(i%97)))))
	}
	for _, tc := range []struct {
		name string
		c    BatchOverCall
	}{
		{"rows-unbounded-preceding", BatchOverCall{Rows: true, Start: FrameBound{Kind: BoundUnboundedPreceding}, End: FrameBound{Kind: BoundCurrentRow}}},
		{"rows-10-preceding-10-following", BatchOverCall{Rows: true, Start: FrameBound{Kind: BoundPreceding, Rows: 10}, End: FrameBound{Kind: BoundFollowing, Rows: 10}}},
		{"range-5-preceding-5-following", BatchOverCall{Start: FrameBound{Kind: BoundPreceding, Range: row.Int(5)}, End: FrameBound{Kind: BoundFollowing, Range: row.Int(5)}}},
		{"rows-10-preceding-distinct-recomputed", BatchOverCall{Rows: true, Start: FrameBound{Kind: BoundPreceding, Rows: 10}, End: FrameBound{Kind: BoundCurrentRow}}},
	} {
		for _, budget := range []int64{0, 64 << 10} {
			name := tc.name + "/mem"
			if budget > 0 {
				name = tc.name + "/spilled"
			}
			b.Run(name, func(b *testing.B) {
				c := tc.c
				c.Agg = Call(Sum, 1)
				if tc.name == "rows-10-preceding-distinct-recomputed" {
					c.Agg = c.Agg.WithDistinct()
				}
				fn := &batchOverFn{spec: BatchOverSpec{Types: types, OrderBy: []OrderKey{{Col: 0}}, Calls: []BatchOverCall{c}, MemoryBudget: budget},
					codec: codec, spill: spillFiles{base: b.TempDir()}}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					p, err := fn.sortPartition(enc)
					if err != nil {
						b.Fatal(err)
					}
					rows := 0
					if err := fn.emit(p, func(row.Row) { rows++ }); err != nil {
						b.Fatal(err)
					}
					if err := fn.spill.remove(p.file); err != nil || rows != n {
						b.Fatal(err, rows)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			})
		}
	}
}

func TestCompareShifted64Overflow(t *testing.T) {
	const maxI, minI = int64(^uint64(0) >> 1), -int64(^uint64(0)>>1) - 1
	for _, tc := range []struct {
		y, x, off int64
		neg       bool
		want      int
	}{
		{5, 3, 2, false, 0},
		{5, 3, 1, false, 1},
		{1, 3, 2, true, 0},
		{0, 3, 2, true, -1},
		{maxI, maxI - 1, 5, false, -1}, // the bound is above every value
		{minI, minI + 1, 5, true, 1},   // below every value
		{maxI, maxI, 0, false, 0},
	} {
		if got := compareShifted64(tc.y, tc.x, tc.off, tc.neg); got != tc.want {
			t.Errorf("compareShifted64(%d, %d, %d, %v) = %d, want %d", tc.y, tc.x, tc.off, tc.neg, got, tc.want)
		}
	}
}
