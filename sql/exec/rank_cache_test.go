package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

func topCacheRows(vs ...int64) []row.Row {
	rs := make([]row.Row, len(vs))
	for i, v := range vs {
		rs[i] = row.Of(row.Int(v))
	}
	return rs
}

// checkTopCache checks the cache's bookkeeping: the weight is the sum of
// its entries', every entry is in the list its rows say, and it is within
// the limit unless a single decoded top exceeds it.
func checkTopCache(t *testing.T, c *topCache) {
	t.Helper()
	var w int64
	seen := 0
	for l, decoded := range map[*topEntry]bool{&c.tops: true, &c.bars: false} {
		for e := l.next; e != l; e = e.next {
			if (e.rows != nil) != decoded {
				t.Fatalf("entry %q (rows %d) in the wrong list", e.key, len(e.rows))
			}
			if !decoded && !e.full {
				t.Fatalf("entry %q has neither rows nor a bar", e.key)
			}
			if c.m[e.key] != e {
				t.Fatalf("entry %q listed but not in the map", e.key)
			}
			w += e.weight()
			seen++
		}
	}
	if seen != len(c.m) || w != c.weight {
		t.Fatalf("%d entries listed, %d in the map; weight %d, counted %d", seen, len(c.m), w, c.weight)
	}
	if c.weight > c.limit && len(c.m) > 1 {
		t.Fatalf("weight %d over the limit %d with %d entries", c.weight, c.limit, len(c.m))
	}
}

// TestTopCache: decoded tops give up their rows, least recently used
// first, and keep their bars; bars are dropped only when no other decoded
// top is left; a read top is kept decoded only if that evicts nothing; an
// entry is not served from its expiry on.
func TestTopCache(t *testing.T) {
	const n = 5
	c := newTopCache(10)
	c.put("a", topCacheRows(1, 2, 3, 4, 5), n, 0)
	c.put("b", topCacheRows(1, 2, 3, 4, 6), n, 0)
	checkTopCache(t, c)
	if c.get("a", 0) == nil { // a is now the most recently used
		t.Fatal("a not cached")
	}
	c.put("c", topCacheRows(1, 2, 3, 4, 7), n, 0)
	checkTopCache(t, c)
	// 15 rows: b (least recently used) gives its rows up, then a.
	for k, want := range map[string]int64{"a": 5, "b": 6} {
		e := c.m[k]
		if e == nil || e.rows != nil || !e.full || e.bar.Fields[0].Int() != want {
			t.Fatalf("%s: want only the bar %d, got %+v", k, want, e)
		}
	}
	if e := c.get("c", 0); e == nil || len(e.rows) != 5 {
		t.Fatalf("c: want its decoded top, got %+v", e)
	}
	// 14 rows: c, older than d, gives its rows up.
	c.put("d", topCacheRows(1, 2), n, 0)
	c.put("e", topCacheRows(1, 2, 3, 4, 5), n, 0)
	checkTopCache(t, c)
	if c.m["c"].rows != nil || c.m["d"].rows == nil || c.m["e"].rows == nil {
		t.Fatalf("after e: c %+v, d %+v, e %+v", c.m["c"], c.m["d"], c.m["e"])
	}
	// A top not full has no bar: given up, it is dropped (then e, older
	// than e2, gives its rows up).
	c.put("e2", topCacheRows(1, 2, 3, 4, 5), n, 0)
	checkTopCache(t, c)
	if c.m["d"] != nil || c.m["e"].rows != nil || c.m["e2"].rows == nil {
		t.Fatalf("after e2: d %+v, e %+v, e2 %+v", c.m["d"], c.m["e"], c.m["e2"])
	}
	// A read top that does not fit is kept as its bar only; one that fits
	// stays decoded.
	c.putRead("f", topCacheRows(1, 2, 3, 4, 9), n, 0)
	checkTopCache(t, c)
	if e := c.m["f"]; e.rows != nil || e.bar.Fields[0].Int() != 9 {
		t.Fatalf("f: want only the bar 9, got %+v", e)
	}
	small := newTopCache(100)
	small.putRead("f", topCacheRows(1, 2, 3, 4, 9), n, 0)
	if small.m["f"].rows == nil {
		t.Fatal("a read top that fits is not kept decoded")
	}
	// New bars push the last decoded top (e2) down to its bar, then drop
	// the least recently used bars (b, then a).
	for i := range 8 {
		c.putRead(fmt.Sprintf("g%d", i), topCacheRows(1, 2, 3, 4, 5), n, 0)
		checkTopCache(t, c)
	}
	if c.m["a"] != nil || c.m["b"] != nil || c.m["e2"] == nil || c.m["e2"].rows != nil || c.m["g7"] == nil {
		t.Fatalf("want a and b dropped, e2 and g7 as bars: a %+v, b %+v, e2 %+v, g7 %+v", c.m["a"], c.m["b"], c.m["e2"], c.m["g7"])
	}
	// Expiry.
	c.put("h", topCacheRows(1), n, 1000)
	if c.get("h", 999) == nil {
		t.Fatal("h dropped before its expiry")
	}
	if c.get("h", 1000) != nil || c.m["h"] != nil {
		t.Fatal("h served at its expiry")
	}
	checkTopCache(t, c)
}

// TestRankAppendCacheFreshAfterRestore: a job restored from a checkpoint
// into the same function value (as a restart of the job does) serves
// nothing its cache held before: the rows that entered after the
// checkpoint are gone with their cached top.
func TestRankAppendCacheFreshAfterRestore(t *testing.T) {
	types := []row.Type{row.String(), row.BigInt()}
	spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 1}}, RankStart: 1, RankEnd: 2, CacheSize: 2}
	fn := newRankAppendFn(spec)
	chk := t.TempDir()
	opts := func(p int) weir.Options {
		return weir.Options{Parallelism: p, StateBackend: weir.StatePebble, Pebble: pebble.New(), StateDir: t.TempDir(),
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: chk}}
	}
	start := func(h *weirtest.Harness) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		in := weirtest.NewInput[row.Row](h)
		ks := weir.KeyBy(in.Stream(), joinKeySelector(spec.PartitionKeys, spec.Types))
		o := weirtest.Capture(h, weir.ProcessKeyed[string, row.Row, row.Row](ks, fn).UID("op"))
		h.Start(t)
		return in, o
	}
	push := func(in *weirtest.Input[row.Row], o *weirtest.Output[row.Row], vs ...int64) []string {
		for _, v := range vs {
			if err := in.Push(row.Of(row.Str("a"), row.Int(v)), weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for _, r := range o.Take() {
			out = append(out, row.FormatRow(r, types))
		}
		return out
	}
	h1 := weirtest.New(opts(1))
	in, o := start(h1)
	push(in, o, 10, 20)
	snap, err := h1.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// After the checkpoint the top is [5, 6], cached.
	if got := push(in, o, 5, 6, 30); len(got) != 4 {
		t.Fatalf("after the checkpoint: %q", got)
	}
	for _, p := range []int{1, 2} {
		in, o := start(weirtest.Restore(opts(p), snap))
		// The checkpoint's top is [10, 20]: 15 enters (a stale [5, 6]
		// would turn it away).
		want := []string{"-D[a, 20]", "+I[a, 15]"}
		if diff := cmp.Diff(want, push(in, o, 15)); diff != "" {
			t.Fatalf("restored at p=%d (-want +got):\n%s", p, diff)
		}
	}
}

// TestRankAppendCacheSameAnswer: on random input (few partitions, many
// ties), the append-only Top-N emits per partition the same changelog with
// its cache of any size on Pebble and on the heap with a TTL (both use
// it) as without the cache on the heap, across a checkpoint and a restore
// at another parallelism and backend, with and without the row number
// and with an offset.
func TestRankAppendCacheSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	var log []row.Row
	for i := range 1500 {
		log = append(log, row.Of(row.Str(fmt.Sprintf("p%d", rng.IntN(7))), row.Int(int64(rng.IntN(60))), row.Int(int64(i))))
	}
	type run struct {
		cache         int64
		noCache       bool
		ttl           time.Duration
		b1, b2        string
		p1, p2, steps int
	}
	for _, v := range []struct {
		name          string
		start, end    int64
		rownum, desc  bool
		ub            bool
		partitionless bool
	}{
		{name: "rownum", start: 1, end: 5, rownum: true, ub: true},
		{name: "plain", start: 1, end: 4, desc: true},
		{name: "offset", start: 3, end: 6, rownum: true},
		{name: "one-partition", start: 1, end: 8, rownum: true, ub: true, partitionless: true},
	} {
		spec := RankSpec{Types: types, OrderBy: []OrderKey{{Col: 1, Desc: v.desc, NullsLast: v.desc}},
			RankStart: v.start, RankEnd: v.end, OutputRankNumber: v.rownum, GenerateUpdateBefore: v.ub}
		if !v.partitionless {
			spec.PartitionKeys = []int{0}
		}
		outTypes := types
		if v.rownum {
			outTypes = append(slices.Clone(types), row.BigInt())
		}
		do := func(r run) map[string][]string {
			s := spec
			s.CacheSize, s.noCache, s.StateTTL = r.cache, r.noCache, r.ttl
			chk := t.TempDir()
			opts := func(p int, b string) weir.Options {
				return weir.Options{Parallelism: p, StateBackend: b, Pebble: pebble.New(), StateDir: t.TempDir(),
					Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: chk}}
			}
			got := map[string][]string{}
			start := func(h *weirtest.Harness) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
				in := weirtest.NewInput[row.Row](h)
				out, err := Rank(in.Stream(), s)
				if err != nil {
					t.Fatal(err)
				}
				o := weirtest.Capture(h, out.UID("op"))
				h.Start(t)
				return in, o
			}
			feed := func(in *weirtest.Input[row.Row], o *weirtest.Output[row.Row], rows []row.Row) {
				for _, r := range rows {
					if err := in.Push(r, weir.NoTimestamp); err != nil {
						t.Fatal(err)
					}
				}
				for _, r := range o.Take() {
					got[r.Fields[0].Str()] = append(got[r.Fields[0].Str()], row.FormatRow(r, outTypes))
				}
			}
			h := weirtest.New(opts(r.p1, r.b1))
			in, o := start(h)
			half := len(log) / 2
			feed(in, o, log[:half])
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			in, o = start(weirtest.Restore(opts(r.p2, r.b2), snap))
			feed(in, o, log[half:])
			return got
		}
		want := do(run{noCache: true, b1: weir.StateHeap, b2: weir.StateHeap, p1: 1, p2: 1})
		if len(want) == 0 {
			t.Fatalf("%s: no output", v.name)
		}
		for _, r := range []run{
			{cache: 1, b1: weir.StatePebble, b2: weir.StatePebble, p1: 1, p2: 3},
			{cache: 2 * v.end, b1: weir.StatePebble, b2: weir.StateHeap, p1: 2, p2: 1},
			{cache: 0, b1: weir.StateHeap, b2: weir.StatePebble, p1: 1, p2: 2},
			{cache: 3 * v.end, ttl: time.Hour, b1: weir.StateHeap, b2: weir.StateHeap, p1: 2, p2: 2},
			{cache: 1, ttl: time.Hour, b1: weir.StatePebble, b2: weir.StateHeap, p1: 3, p2: 1},
		} {
			got := do(r)
			if diff := cmp.Diff(want, got); diff != "" {
				name := fmt.Sprintf("cache=%d ttl=%v %s p=%d -> %s p=%d", r.cache, r.ttl, r.b1, r.p1, r.b2, r.p2)
				t.Fatalf("%s: %s: the changelog per partition differs from the heap's without cache (-want +got):\n%s", v.name, name,
					strings.Join(strings.SplitN(diff, "\n", 40), "\n"))
			}
		}
	}
}
