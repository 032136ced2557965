package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/row"
)

// Review of sqlq16d (a view's typed DISTINCT counts inside its intTable
// entries as int32s; counts beyond int32, counts of another number and the
// key MinInt64 in the side map odd).

// revq16dKeys returns, per view, the integers its typed keys take: the
// edges (MinInt64 is the tables' empty mark) and enough others that the
// tables grow to 256 entries with side-map keys present.
func revq16dKeys(r *rand.Rand, views, n int) [][]int64 {
	edge := []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, -1, 0, 1,
		math.MinInt32, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32 - 1}
	out := make([][]int64, views)
	for v := range out {
		pool := slices.Clone(edge)
		for len(pool) < n {
			pool = append(pool, r.Int64N(1<<40)-1<<39)
		}
		out[v] = pool
	}
	return out
}

// revq16dPlace reports where s holds the typed key k: in its view's table,
// in odd, or both.
func revq16dPlace(s *distinctSets, k distinctKey) (inTable, inOdd bool) {
	if t := s.table(k); t != nil && k.n != intEmpty {
		_, inTable = t.find(k.n)
	}
	_, inOdd = s.odd[k]
	return inTable, inOdd
}

// revq16dEligible reports whether a typed key with counts c belongs in its
// view's table (of width w, 0: no table yet).
func revq16dEligible(k distinctKey, c []int64, w int) bool {
	if k.n == math.MinInt64 || len(c) == 0 || (w != 0 && w != len(c)) {
		return false
	}
	for _, x := range c {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return false
		}
	}
	return true
}

// revq16dParse decodes distinctSets' state bytes independently of its
// code (the layout of "sql/exec.distinctSets/1": the number of entries,
// then per entry the key's length and bytes, the number of counts and the
// counts as varints) into key bytes -> counts.
func revq16dParse(t *testing.T, b []byte) map[string][]int64 {
	t.Helper()
	u := func() uint64 {
		x, w := binary.Uvarint(b)
		if w <= 0 {
			t.Fatalf("bad uvarint in %x", b)
		}
		b = b[w:]
		return x
	}
	out := map[string][]int64{}
	for range u() {
		kl := u()
		k := string(b[:kl])
		b = b[kl:]
		var c []int64
		for range u() {
			x, w := binary.Varint(b)
			if w <= 0 {
				t.Fatalf("bad varint in %x", b)
			}
			b = b[w:]
			c = append(c, x)
		}
		if _, dup := out[k]; dup {
			t.Fatalf("key %x twice in the encoding", k)
		}
		out[k] = c
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes left after the entries", len(b))
	}
	return out
}

// revq16dKeyBytes returns a key's state bytes, built here: a typed key is
// its view's index, the non-NULL flag 1 and the integer's varint.
func revq16dKeyBytes(k distinctKey) string {
	if len(k.s) != 1 {
		return k.s
	}
	return string(binary.AppendVarint([]byte{k.s[0], 1}, k.n))
}

// TestDistinctSetsInt32BoundaryModel runs, next to a Go map of counts,
// what GroupAggregate does to a group's DISTINCT sets (a view's load into
// its scratch or in place, counts changed by one, the entry put back or
// removed at all zero) over typed keys of three views of different
// widths with the edge integers (MinInt64, MaxInt64, negatives), counts
// walking across the int32 bounds both ways, entries of another number
// of counts (restored from a job with other calls), removals and
// re-insertions while the tables grow, and a bytes-form view; with, at
// intervals, a copy (state.Copier: it must keep the values of the copy's
// time while the original goes on), an encoding checked by an
// independent parser (the layout is unchanged) and a decoding the run
// then goes on with (a restore mid-sequence). After every put the key is
// in its table if and only if its counts fit there, and never in both.
func TestDistinctSetsInt32BoundaryModel(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 4))
	widths := []int{2, 3, 1, 2} // counts per view; view 3 has bytes-form keys
	ints := revq16dKeys(r, 3, 400)
	near := []int64{0, 1, 2, math.MaxInt32 - 1, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32 + 1,
		math.MinInt32, math.MinInt32 - 1, -1, 1 << 40, math.MaxInt64, math.MinInt64}
	var k distinctKey
	var v int
	pick := func() {
		if r.IntN(2) == 0 && k.s != "" {
			return // the same key again: runs across the bounds
		}
		v = r.IntN(len(widths))
		if v == 3 {
			k, _ = distinctKeyOf([]byte{3, 1, 1, byte('a' + r.IntN(12))})
			return
		}
		k = distinctKey{s: typedMarks[v], n: ints[v][r.IntN(len(ints[v]))]}
	}
	s := newDistinctSets()
	model := map[distinctKey][]int64{}
	scratch := make([][]int64, len(widths))
	for i, w := range widths {
		scratch[i] = make([]int64, w)
	}
	tableWidth := func(k distinctKey) int {
		if t := s.table(k); t != nil {
			return t.w
		}
		return 0
	}
	checkPlace := func(s *distinctSets, k distinctKey, c []int64, w int) {
		t.Helper()
		if len(k.s) != 1 {
			return
		}
		inTable, inOdd := revq16dPlace(s, k)
		if inTable && inOdd {
			t.Fatalf("key %d of view %d in its table and in odd", k.n, k.s[0])
		}
		if want := revq16dEligible(k, c, w); inTable != want {
			t.Fatalf("key %d of view %d with counts %v (table width %d): in the table %v, want %v", k.n, k.s[0], c, w, inTable, want)
		}
	}
	check := func(s *distinctSets, model map[distinctKey][]int64) {
		t.Helper()
		if s.len() != len(model) {
			t.Fatalf("len %d, want %d", s.len(), len(model))
		}
		for k, want := range model {
			if got, ok := s.get(k, nil); !ok || !slices.Equal(got, want) {
				t.Fatalf("get %q %d = %v %v, want %v", k.s, k.n, got, ok, want)
			}
		}
		seen := map[distinctKey]bool{}
		s.each(func(k distinctKey, c []int64) {
			if seen[k] {
				t.Fatalf("each: %q %d twice", k.s, k.n)
			}
			seen[k] = true
			if want, ok := model[k]; !ok || !slices.Equal(c, want) {
				t.Fatalf("each: %q %d = %v, want %v %v", k.s, k.n, c, want, ok)
			}
		})
		// Every side-map entry of a typed key is there because it must be.
		for k, e := range s.odd {
			w := 0
			if t := s.table(k); t != nil {
				w = t.w
			}
			checkPlace(s, k, s.slab(e), w)
		}
	}
	var frozen *distinctSets
	var frozenModel map[distinctKey][]int64
	moves := 0 // puts that moved a typed key between its table and odd
	for i := range 40000 {
		pick()
		w := widths[v]
		switch op := r.IntN(20); {
		case op < 12:
			// A row: the view loads the entry (counts of another number
			// start from zero), changes a count, and flush puts it back
			// or removes it at all zero.
			c, ok := s.get(k, scratch[v])
			if !ok || len(c) != w {
				c = scratch[v]
				clear(c)
			}
			want := slices.Clone(c)
			if m, ok := model[k]; ok && len(m) == w {
				if !slices.Equal(m, want) {
					t.Fatalf("op %d: load %q %d = %v, want %v", i, k.s, k.n, want, m)
				}
			}
			slot := r.IntN(w)
			switch d := r.IntN(8); {
			case d < 3:
				c[slot]++
			case d < 6:
				c[slot]--
			default:
				c[slot] = near[r.IntN(len(near))]
			}
			var before bool
			if len(k.s) == 1 {
				before, _ = revq16dPlace(s, k)
			}
			if !slices.ContainsFunc(c, func(x int64) bool { return x != 0 }) {
				s.remove(k)
				delete(model, k)
				break
			}
			model[k] = slices.Clone(c)
			s.put(k, c)
			checkPlace(s, k, model[k], tableWidth(k))
			if after, _ := revq16dPlace(s, k); len(k.s) == 1 && before != after {
				moves++
			}
		case op < 14 && tableWidth(k) != 0:
			// An entry of another number of counts (a restore from a job
			// with other calls), once the view's table has its width.
			n := max(1, w+1-2*r.IntN(2))
			c := make([]int64, n)
			for j := range c {
				c[j] = int64(1 + r.IntN(3))
			}
			model[k] = slices.Clone(c)
			s.put(k, c)
			checkPlace(s, k, c, tableWidth(k))
		case op < 17:
			s.remove(k)
			delete(model, k)
			if len(k.s) == 1 {
				if inTable, inOdd := revq16dPlace(s, k); inTable || inOdd {
					t.Fatalf("op %d: removed key %d still in table %v odd %v", i, k.n, inTable, inOdd)
				}
			}
		default:
			// Removed and put again at once (the hole its removal left
			// must not hide it or others).
			s.remove(k)
			c := make([]int64, w)
			c[r.IntN(w)] = int64(1 + r.IntN(2))
			model[k] = slices.Clone(c)
			s.put(k, c)
			checkPlace(s, k, c, tableWidth(k))
		}
		if got, ok := s.get(k, nil); ok != (model[k] != nil) || !slices.Equal(got, model[k]) {
			t.Fatalf("op %d: get %q %d = %v %v, want %v", i, k.s, k.n, got, ok, model[k])
		}
		if i%500 != 499 {
			continue
		}
		check(s, model)
		if frozen != nil {
			check(frozen, frozenModel)
		}
		frozen = s.CopyState()
		frozenModel = map[distinctKey][]int64{}
		for k, c := range model {
			frozenModel[k] = slices.Clone(c)
		}
		enc := s.AppendState(nil)
		parsed := revq16dParse(t, enc)
		if len(parsed) != len(model) {
			t.Fatalf("op %d: %d entries encoded, want %d", i, len(parsed), len(model))
		}
		for k, c := range model {
			if got := parsed[revq16dKeyBytes(k)]; !slices.Equal(got, c) {
				t.Fatalf("op %d: %q %d encoded as %v, want %v", i, k.s, k.n, got, c)
			}
		}
		d := newDistinctSets()
		if n, err := d.DecodeState(enc); err != nil || n != len(enc) {
			t.Fatalf("op %d: decode: %d of %d bytes, %v", i, n, len(enc), err)
		}
		check(d, model)
		if r.IntN(2) == 0 {
			s = d // go on with the restored sets
		}
	}
	check(s, model)
	if moves < 200 {
		t.Fatalf("only %d moves between the tables and odd", moves)
	}
	var big, oddKeys int
	for _, c := range model {
		if !revq16dEligible(distinctKey{}, c, 0) {
			big++
		}
	}
	oddKeys = len(s.odd)
	for v, tab := range s.ints[:3] {
		if tab.w != widths[v] {
			t.Fatalf("view %d's table has width %d, want %d", v, tab.w, widths[v])
		}
	}
	if big == 0 || oddKeys == 0 || s.ints[0].mask < 255 {
		t.Fatalf("the run ends with %d entries beyond int32, %d side-map keys, a table of %d entries", big, oddKeys, s.ints[0].mask+1)
	}
	t.Logf("%d entries, %d beyond int32, %d in odd, %d moves, tables of %d entries", len(model), big, oddKeys, moves, s.ints[0].mask+1)
}

// TestInPlaceDistinctSnapshotInFlight drives the heap backend's
// copy-on-write with the group's distinctSets as GroupAggregate changes
// them in place (the views' accumulate and retract, flush): snapshots are
// captured in the middle of the sequence and written on other goroutines
// while the task goes on (the race detector sees memory a copy would
// share), over typed keys with the edge integers, a NULL and string keys,
// counts seeded next to the int32 bound (as a restore of such counts
// would) and crossing it both ways by one, keys moving between the table
// and odd, tables growing. Each snapshot restores to the sets of its
// capture; the task's sets have every change.
func TestInPlaceDistinctSnapshotInFlight(t *testing.T) {
	in := []row.Type{row.String(), row.BigInt(), row.String(), row.Boolean()}
	spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", Aggs: []AggCall{
		Call(Count, 1).WithDistinct(),
		Call(Count, 1).WithDistinct().WithFilter(3),
		Call(Sum, 1).WithDistinct(),
		Call(Count, 2).WithDistinct(),
	}}
	set, err := spec.compile()
	if err != nil {
		t.Fatal(err)
	}
	newState := func() (*statebackend.KeyContext[string], *heap.Backend[string], *heap.Value[string, struct{}, *distinctSets]) {
		kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
		b := heap.New(kc, func() int64 { return 0 })
		v := heap.NewValue[string, struct{}, *distinctSets](b, statebackend.TTL{})
		v.SetName("group-distinct-sets")
		return kc, b, v
	}
	kc, b, st := newState()
	ip := &inPlaceDistinct{st: st}
	sd := set.useSharedDistinct(ip, false)
	if len(sd.views) != 2 || sd.views[0].ncalls != 3 || sd.views[1].ncalls != 1 || !sd.views[0].intArg {
		t.Fatalf("views: %d", len(sd.views))
	}
	r := rand.New(rand.NewPCG(16, 5))
	ints := revq16dKeys(r, 1, 300)[0]
	type entryKey struct {
		view int
		arg  string // "null", an integer or a string
	}
	argsOf := func(k entryKey) []row.Value {
		switch {
		case k.arg == "null":
			return []row.Value{{}}
		case k.view == 0:
			var n int64
			fmt.Sscan(k.arg, &n)
			return []row.Value{row.Int(n)}
		}
		return []row.Value{row.Str(k.arg)}
	}
	type groupModel map[entryKey][]int64
	live := map[string]groupModel{}
	clone := func(m map[string]groupModel) map[string]groupModel {
		c := map[string]groupModel{}
		for g, gm := range m {
			c[g] = groupModel{}
			for k, v := range gm {
				c[g][k] = slices.Clone(v)
			}
		}
		return c
	}
	// checkSets compares a group's sets with its model.
	checkSets := func(what, g string, s *distinctSets, gm groupModel) {
		t.Helper()
		if s == nil {
			if len(gm) != 0 {
				t.Fatalf("%s: group %s has no sets, want %d entries", what, g, len(gm))
			}
			return
		}
		if n := s.len(); n != len(gm) {
			t.Fatalf("%s: group %s has %d entries, want %d", what, g, n, len(gm))
		}
		for k, want := range gm {
			got, ok := s.get(sd.views[k.view].keyOf(argsOf(k)), nil)
			if !ok || !slices.Equal(got, want) {
				t.Fatalf("%s: group %s view %d %s = %v %v, want %v", what, g, k.view, k.arg, got, ok, want)
			}
		}
	}
	type inflight struct {
		want   map[string]groupModel
		groups map[int][]byte
		done   chan error
	}
	var fl []*inflight
	var k entryKey
	var g string
	crossings := 0
	for i := range 2400 {
		if i%600 == 300 {
			write, err := b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			f := &inflight{want: clone(live), groups: map[int][]byte{}, done: make(chan error, 1)}
			go func() {
				f.done <- write(func(kg int, sec []byte) { f.groups[kg] = append(f.groups[kg], sec...) })
			}()
			fl = append(fl, f)
		}
		if r.IntN(2) == 0 || g == "" {
			g = fmt.Sprintf("g%d", r.IntN(4))
			switch v := r.IntN(5); {
			case v == 0:
				k = entryKey{1, fmt.Sprintf("s%d", r.IntN(30))}
			case v == 1 && r.IntN(4) == 0:
				k = entryKey{0, "null"}
			default:
				k = entryKey{0, fmt.Sprint(ints[r.IntN(len(ints))])}
			}
		}
		_ = kc.Set(g)
		view := sd.views[k.view]
		gm := live[g]
		if gm == nil {
			gm = groupModel{}
			live[g] = gm
		}
		c := gm[k]
		if c == nil {
			c = make([]int64, view.ncalls)
		}
		wasBig := !revq16dEligible(distinctKey{}, c, 0)
		slot := r.IntN(view.ncalls)
		switch op := r.IntN(10); {
		case op == 0:
			// Counts next to the int32 bound, as a restore would bring.
			for j := range c {
				c[j] = math.MaxInt32 - 1 + int64(r.IntN(4))
			}
			dk := view.keyOf(argsOf(k))
			if len(dk.s) != 1 {
				dk.s = string([]byte(dk.s))
			}
			ip.Put(dk, slices.Clone(c))
			ip.done()
		case op < 6:
			if view.accumulate(slot, argsOf(k)) != (c[slot] == 0) {
				t.Fatalf("op %d: accumulate of a count %d", i, c[slot])
			}
			c[slot]++
			sd.flush()
		default:
			if view.retract(slot, argsOf(k)) != (c[slot] == 1) {
				t.Fatalf("op %d: retract of a count %d", i, c[slot])
			}
			c[slot] = max(0, c[slot]-1)
			sd.flush()
		}
		if slices.ContainsFunc(c, func(x int64) bool { return x != 0 }) {
			gm[k] = c
		} else {
			delete(gm, k)
		}
		if big := !revq16dEligible(distinctKey{}, c, 0); big != wasBig && k.view == 0 && k.arg != "null" {
			crossings++
		}
	}
	if crossings < 50 {
		t.Fatalf("only %d crossings of the int32 bound", crossings)
	}
	t.Logf("%d crossings of the int32 bound", crossings)
	for g, gm := range live {
		_ = kc.Set(g)
		s, _ := st.Value()
		checkSets("live", g, s, gm)
	}
	for n, f := range fl {
		if err := <-f.done; err != nil {
			t.Fatal(err)
		}
		rkc, rb, rst := newState()
		if err := rb.SetRestore(f.groups); err != nil {
			t.Fatal(err)
		}
		if err := rb.Seal(); err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"g0", "g1", "g2", "g3"} {
			_ = rkc.Set(g)
			s, _ := rst.Value()
			checkSets(fmt.Sprintf("snapshot %d", n), g, s, f.want[g])
		}
	}
}

// TestGroupDistinctEdgeIntKeysSameChangelog runs a random changelog whose
// DISTINCT integers (BIGINT) include MinInt64 (the tables' empty mark),
// MaxInt64, negatives and NULL, with enough distinct values per group that
// the tables grow to 256 entries, retractions that take values to zero
// (removed) and back, FILTER, SUM(DISTINCT) (wrapping) and a string view.
// Every group's changelog is that of the map layout ("group-distinct-
// shared", which keeps the counts as []int64) in every configuration that
// keeps the sets in place: the group-value fast path, the "group-aggs" +
// "group-distinct-sets" layout, restores at other parallelism from and
// into Pebble; mini-batch and two phases end with the same table; the
// final table is the one computed here from the rows that remain.
func TestGroupDistinctEdgeIntKeysSameChangelog(t *testing.T) {
	spec := edgeDistinctSpec()
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	steps := edgeDistinctSteps()
	var live []row.Row
	for _, st := range steps {
		if st.r.Kind == row.Insert {
			live = append(live, st.r)
			continue
		}
		want := row.FormatRow(st.r.WithKind(row.Insert), spec.InputTypes)
		i := slices.IndexFunc(live, func(r row.Row) bool { return row.FormatRow(r, spec.InputTypes) == want })
		if i < 0 {
			t.Fatalf("retraction of a row not there: %v", st.r)
		}
		live = slices.Delete(live, i, i+1)
	}
	type agg struct {
		n       int64
		x, xf   map[int64]bool
		strings map[string]bool
	}
	groups := map[string]*agg{}
	for _, rw := range live {
		g := groups[rw.Fields[0].Str()]
		if g == nil {
			g = &agg{x: map[int64]bool{}, xf: map[int64]bool{}, strings: map[string]bool{}}
			groups[rw.Fields[0].Str()] = g
		}
		g.n++
		g.strings[rw.Fields[2].Str()] = true
		if x := rw.Fields[1]; !x.IsNull() {
			g.x[x.Int()] = true
			if rw.Fields[3].Bool() {
				g.xf[x.Int()] = true
			}
		}
	}
	var want []string
	for k, g := range groups {
		sum := "NULL"
		if len(g.x) > 0 {
			var s int64
			for x := range g.x {
				s += x
			}
			sum = fmt.Sprint(s)
		}
		want = append(want, fmt.Sprintf("+I[%s, %d, %d, %d, %s, %d]", k, g.n, len(g.x), len(g.xf), sum, len(g.strings)))
	}
	slices.Sort(want)
	if len(want) != 5 {
		t.Fatalf("%d groups", len(want))
	}
	perGroup := func(log []row.Row) map[string][]string {
		m := map[string][]string{}
		for _, rw := range log {
			k := rw.Fields[0].Str()
			m[k] = append(m[k], row.FormatRow(rw, outTypes))
		}
		return m
	}
	build := func(spec GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(s, spec) }
	}
	mapSpec := spec
	mapSpec.mapDistinct = true
	sets := spec
	sets.groupAggsLayout = true
	heap1 := config{p: 1, backend: weir.StateHeap}
	refLog := runSteps(t, heap1, steps, build(mapSpec))
	if diff := cmp.Diff(want, materialize(t, refLog, outTypes, 1)); diff != "" {
		t.Fatalf("map layout: final table (-want +got):\n%s", diff)
	}
	ref := perGroup(refLog)
	for _, c := range []struct {
		name     string
		from, to GroupAggSpec
		cfg      config
	}{
		{"value", spec, spec, heap1},
		{"value-p2-to-p3", spec, spec, config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StateHeap}}},
		{"sets-p3-to-p1", sets, sets, config{p: 3, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}},
		{"value-to-pebble", spec, spec, config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StatePebble}}},
		{"pebble-to-sets", spec, sets, config{p: 2, backend: weir.StatePebble, then: &config{p: 1, backend: weir.StateHeap}}},
		{"map-to-value", mapSpec, spec, config{p: 1, backend: weir.StateHeap, then: &config{p: 2, backend: weir.StateHeap}}},
	} {
		t.Run(c.name+"/"+c.cfg.String(), func(t *testing.T) {
			log := runStepsRebuilt(t, c.cfg, steps, build(c.from), build(c.to))
			if diff := cmp.Diff(ref, perGroup(log)); diff != "" {
				t.Fatalf("changelog per group against the map layout (-want +got):\n%s", diff)
			}
		})
	}
	mini := miniBatchOf(spec, 7)
	for _, c := range []struct {
		name  string
		build func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)
		cfg   config
	}{
		{"minibatch", build(mini), config{p: 2, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}},
		{"twophase", twoPhase(mini), config{p: 1, backend: weir.StateHeap, then: &config{p: 2, backend: weir.StateHeap}}},
	} {
		t.Run(c.name+"/"+c.cfg.String(), func(t *testing.T) {
			if diff := cmp.Diff(want, materialize(t, runSteps(t, c.cfg, steps, c.build), outTypes, 1)); diff != "" {
				t.Fatalf("final table (-want +got):\n%s", diff)
			}
		})
	}
}
