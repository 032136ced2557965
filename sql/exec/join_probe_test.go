package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/weirtest"
)

// TestRowCacheDecodes: the cache answers every encoding with its own
// fields, also when many rows (more than the slots) share slots and keys.
func TestRowCacheDecodes(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String(), row.TimestampType(3)}
	c := row.NewCodec(types)
	cache := newRowCache()
	rng := rand.New(rand.NewPCG(7, 8))
	var encs []string
	var rows []row.Row
	for i := range 4 * joinCacheSlots {
		s := row.Str(fmt.Sprint("s", i))
		if i%7 == 0 {
			s = row.Null()
		}
		r := row.Of(row.Int(int64(i)), s, row.Timestamp(int64(i)*1000, 0))
		rows = append(rows, r)
		encs = append(encs, string(c.Append(nil, r)))
	}
	for range 20000 {
		i := rng.IntN(len(encs))
		if rng.IntN(2) == 0 {
			i = rng.IntN(50) // a hot set, mostly hits
		}
		// Few keys, so that positions of one key's list collide with
		// those of others.
		key := fmt.Sprint(i % 3)
		got, err := cache.decode(c, key, i/3, encs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !row.EqualRows(row.Row{Fields: got}, rows[i], types) {
			t.Fatalf("row %d: got %v, want %v", i, got, rows[i].Fields)
		}
	}
}

// TestRegularJoinCachedRowsNotShared: an operator downstream may write
// over the fields of the rows it receives (the Calc does); the rows a
// later probe of the same stored row emits must not change with them.
func TestRegularJoinCachedRowsNotShared(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	spec := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		LeftAppendOnly: true, RightAppendOnly: true}
	h := weirtest.New(weir.Options{Parallelism: 1})
	l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	out, err := RegularJoin(l.Stream(), r.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out)
	h.Start(t)
	if err := l.Push(row.Of(row.Int(1), row.Str("auction")), 0); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := r.Push(row.Of(row.Int(1), row.Str(fmt.Sprint("bid", i))), 0); err != nil {
			t.Fatal(err)
		}
		got := o.Take()
		if len(got) != 1 {
			t.Fatalf("bid %d: %d rows out, want 1", i, len(got))
		}
		want := fmt.Sprintf("+I[1, auction, 1, bid%d]", i)
		if d := cmp.Diff(want, row.FormatRow(got[0], append(slices.Clone(types), types...))); d != "" {
			t.Fatalf("bid %d (-want +got):\n%s", i, d)
		}
		// What a downstream Calc may do.
		for j := range got[0].Fields {
			got[0].Fields[j] = row.Str("overwritten")
		}
	}
}

// TestRegularJoinAppendOnlySameAnswer: an inner join of two insert-only
// inputs over many keys (more rows than the probe cache holds, strings
// and a residual condition) gives the batch answer across restores,
// parallelism and backends.
func TestRegularJoinAppendOnlySameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	types := []row.Type{row.BigInt(), row.BigInt(), row.String()}
	var left, right []row.Row
	var inputs []int
	for i := range 3000 {
		k := int64(rng.IntN(400))
		if rng.IntN(2) == 0 {
			k = int64(i / 30) // recent keys, as Nexmark's bids
		}
		r := row.Of(row.Int(k), row.Int(int64(rng.IntN(100))), row.Str(fmt.Sprint("x", i)))
		if rng.IntN(4) == 0 {
			left = append(left, r)
			inputs = append(inputs, 0)
		} else {
			right = append(right, r)
			inputs = append(inputs, 1)
		}
	}
	var steps []joinFeedStep
	li, ri := 0, 0
	for _, in := range inputs {
		if in == 0 {
			steps = append(steps, joinFeedStep{input: 0, r: &left[li]})
			li++
		} else {
			steps = append(steps, joinFeedStep{input: 1, r: &right[ri]})
			ri++
		}
	}
	cond := func(l, r []row.Value) (bool, error) { return l[1].Int() <= r[1].Int()+20, nil }
	outTypes := append(slices.Clone(types), types...)
	var want []row.Row
	for _, l := range left {
		for _, r := range right {
			if l.Fields[0].Int() == r.Fields[0].Int() && l.Fields[1].Int() <= r.Fields[1].Int()+20 {
				want = append(want, joinRows(row.Insert, l.Fields, r.Fields))
			}
		}
	}
	if len(want) < 1000 {
		t.Fatalf("only %d pairs: the test needs many probes", len(want))
	}
	spec := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		Condition: cond, LeftAppendOnly: true, RightAppendOnly: true}
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return RegularJoin(s[0], s[1], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})
}

// TestListRowKeepsBytes: encodings carved from chunks keep their bytes
// while later rows fill (and overflow) the chunk, also rows longer than
// the room a chunk keeps (a string of their own).
func TestListRowKeepsBytes(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	c := row.NewCodec(types)
	f := &regularJoinFn{}
	var got, want []string
	for i := range 3000 {
		n := i % 200
		switch i % 500 {
		case 0:
			n = joinChunk // more than a chunk holds
		case 250:
			n = joinChunk/16 - 20 // may or may not fit the chunk's room
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + (i+j)%26)
		}
		r := row.Row{Kind: row.UpdateAfter, Fields: []row.Value{row.Int(int64(i)), row.Str(string(b))}}
		got = append(got, f.listRow(c, r))
		want = append(want, string(c.Append(nil, r.WithKind(row.Insert))))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

// TestRegularJoinEmittedRowsKeepStrings: the rows a join emits share
// strings with its list state (decodeStored); they must keep their values
// while the operator goes on storing rows (chunks filling up and new ones
// started) and decoding them for later probes. Bids come before and after
// their auction, so that both sides' stored rows are decoded and emitted.
func TestRegularJoinEmittedRowsKeepStrings(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	outTypes := append(slices.Clone(types), types...)
	spec := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		LeftAppendOnly: true, RightAppendOnly: true}
	h := weirtest.New(weir.Options{Parallelism: 1})
	l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	out, err := RegularJoin(l.Stream(), r.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out)
	h.Start(t)
	long := func(k, i int) string { // ~200 bytes, different per row
		return fmt.Sprintf("k%d-i%d-", k, i) + string(slices.Repeat([]byte{byte('a' + (k+i)%26)}, 190))
	}
	var kept []row.Row
	var want []string
	for k := range 40 {
		for i := range 20 {
			if err := r.Push(row.Of(row.Int(int64(k)), row.Str(long(k, i))), 0); err != nil {
				t.Fatal(err)
			}
		}
		auction := fmt.Sprint("auction-", k, "-", string(slices.Repeat([]byte{'z'}, 100)))
		if err := l.Push(row.Of(row.Int(int64(k)), row.Str(auction)), 0); err != nil {
			t.Fatal(err)
		}
		for i := 20; i < 40; i++ {
			if err := r.Push(row.Of(row.Int(int64(k)), row.Str(long(k, i))), 0); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 40 {
			want = append(want, fmt.Sprintf("+I[%d, %s, %d, %s]", k, auction, k, long(k, i)))
		}
		kept = append(kept, o.Take()...)
	}
	got := formatSortedRows(kept, outTypes)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("rows kept from the join's output changed (-want +got):\n%s", d)
	}
}

// TestRowCacheFirstProbeScratch: a row met once is decoded into the probe
// scratch without allocating, and every row a probe decoded stays intact
// until the next probe, also when the probe outgrows the scratch; a row
// met twice is cached (the same fields on every later probe).
func TestRowCacheFirstProbeScratch(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String(), row.TimestampType(3)}
	c := row.NewCodec(types)
	cache := newRowCache()
	n := 3 * joinScratchMax / len(types) // several scratches in one probe
	var encs []string
	var want []row.Row
	for i := range n {
		s := row.Str(fmt.Sprint("s", i))
		if i%5 == 0 {
			s = row.Null()
		}
		r := row.Of(row.Int(int64(i)), s, row.Timestamp(int64(i)*1000, 0))
		want = append(want, r)
		encs = append(encs, string(c.Append(nil, r)))
	}
	// One probe over all rows of a key: each is met for the first time.
	cache.reset()
	got := make([][]row.Value, n)
	for i, enc := range encs {
		f, err := cache.decode(c, "k", i, enc)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = f
	}
	for i := range got {
		if !row.EqualRows(row.Row{Fields: got[i]}, want[i], types) {
			t.Fatalf("row %d after the probe: got %v, want %v", i, got[i], want[i].Fields)
		}
	}
	// A later probe meeting rows for the first time allocates nothing.
	other := make([]string, 64)
	for i := range other {
		other[i] = string(c.Append(nil, row.Of(row.Int(int64(-i)), row.Str("x"), row.Null())))
	}
	round := 0
	probe := func() {
		cache.reset()
		round++
		key := fmt.Sprint(round) // a new key: every slot met for the first time
		for i, enc := range other {
			if _, err := cache.decode(c, key, i, enc); err != nil {
				t.Fatal(err)
			}
		}
	}
	// AllocsPerRun counts every goroutine's allocations, also those of
	// goroutines earlier tests left winding down (a loaded machine): the
	// least of three measurements is the probe's own.
	allocs := testing.AllocsPerRun(20, probe)
	for range 2 {
		allocs = min(allocs, testing.AllocsPerRun(20, probe))
	}
	// fmt.Sprint allocates the key; nothing else may (a row met again in
	// its slot, 1 in 512 per row and round, is cached: allocates).
	if allocs > 2 {
		t.Errorf("a probe of 64 rows met once allocates %.1f times, want at most 2 (the key)", allocs)
	}
	// Met twice: cached; a third probe gets the same fields.
	cache.reset()
	if _, err := cache.decode(c, "z", 0, encs[1]); err != nil {
		t.Fatal(err)
	}
	cache.reset()
	second, err := cache.decode(c, "z", 0, encs[1])
	if err != nil {
		t.Fatal(err)
	}
	cache.reset()
	third, err := cache.decode(c, "z", 0, encs[1])
	if err != nil {
		t.Fatal(err)
	}
	if &second[0] != &third[0] {
		t.Error("a row met twice is not cached")
	}
	// Cached fields are not the scratch's: a probe of other rows leaves them.
	cache.reset()
	for i, enc := range other {
		if _, err := cache.decode(c, "w", i, enc); err != nil {
			t.Fatal(err)
		}
	}
	if !row.EqualRows(row.Row{Fields: third}, want[1], types) {
		t.Errorf("cached row changed: %v, want %v", third, want[1].Fields)
	}
}
