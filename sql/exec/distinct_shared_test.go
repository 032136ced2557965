package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// TestGroupAggSharedDistinctSameAnswer runs a random changelog through a
// GroupAggregate whose DISTINCT calls share argument columns under
// different FILTERs (as Nexmark q15/q16: one map entry per distinct value,
// one count per call) under every configuration, restores across backends
// included, and compares the materialised result with a batch computation
// over the rows that remain.
func TestGroupAggSharedDistinctSameAnswer(t *testing.T) {
	t.Run("changelog", func(t *testing.T) { testSharedDistinct(t, false) })
	// Insert-only: the counts stop at 1, unchanged entries are not written.
	t.Run("insert-only", func(t *testing.T) { testSharedDistinct(t, true) })
}

func testSharedDistinct(t *testing.T, insertOnly bool) {
	in := []row.Type{row.String(), row.IntType(), row.String(), row.Boolean(), row.Boolean()}
	spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true, InsertOnly: insertOnly,
		Aggs: []AggCall{
			Call(CountStar),
			Call(Count, 2).WithDistinct(),
			Call(Count, 2).WithDistinct().WithFilter(3),
			Call(Count, 2).WithDistinct().WithFilter(4),
			Call(Sum, 1).WithDistinct().WithFilter(3),
			Call(Count, 1).WithDistinct(),
			Call(Count, 1).WithFilter(4),
		}}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 9))
	var steps []step
	var live []row.Row
	for range 700 {
		if !insertOnly && len(live) > 0 && rng.IntN(3) == 0 {
			steps = append(steps, retractRandom(rng, &live))
			continue
		}
		v := row.Value{}
		if rng.IntN(8) != 0 {
			v = row.Int(int64(rng.IntN(12)))
		}
		f2 := row.Value{}
		if rng.IntN(6) != 0 {
			f2 = row.Bool(rng.IntN(2) == 0)
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(7))), v, row.Str(fmt.Sprintf("s%d", rng.IntN(9))),
			row.Bool(rng.IntN(3) == 0), f2)
		live = append(live, r)
		steps = append(steps, step{r: r, ts: weir.NoTimestamp})
	}

	type agg struct {
		n, f2n           int64
		s, sf1, sf2      map[string]bool
		vf1, v           map[int64]bool
		hasVf1NonNullRow bool
	}
	groups := map[string]*agg{}
	for _, r := range live {
		k := r.Fields[0].Str()
		g := groups[k]
		if g == nil {
			g = &agg{s: map[string]bool{}, sf1: map[string]bool{}, sf2: map[string]bool{}, vf1: map[int64]bool{}, v: map[int64]bool{}}
			groups[k] = g
		}
		g.n++
		f1 := r.Fields[3].Bool()
		f2 := !r.Fields[4].IsNull() && r.Fields[4].Bool()
		s := r.Fields[2].Str()
		g.s[s] = true
		if f1 {
			g.sf1[s] = true
		}
		if f2 {
			g.sf2[s] = true
		}
		if v := r.Fields[1]; !v.IsNull() {
			g.v[v.Int()] = true
			if f1 {
				g.vf1[v.Int()] = true
			}
			if f2 {
				g.f2n++
			}
		}
	}
	var want []string
	for k, g := range groups {
		sum := "NULL"
		if len(g.vf1) > 0 {
			var x int64
			for v := range g.vf1 {
				x += v
			}
			sum = fmt.Sprint(x)
		}
		want = append(want, fmt.Sprintf("+I[%s, %d, %d, %d, %d, %s, %d, %d]", k, g.n, len(g.s), len(g.sf1), len(g.sf2), sum, len(g.v), g.f2n))
	}
	slices.Sort(want)

	groupAggFinalTable(t, spec, steps, outTypes, want)
	// A snapshot of the per-call layout (before DISTINCT calls shared
	// entries) restores into the shared one.
	perCall := spec
	perCall.perCallDistinct = true
	for _, c := range []config{{p: 1, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}},
		{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StatePebble}}} {
		t.Run("from-per-call/"+c.String(), func(t *testing.T) {
			log := runStepsRebuilt(t, c, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, perCall)
			}, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, spec)
			})
			if diff := cmp.Diff(want, materialize(t, log, outTypes, 1)); diff != "" {
				t.Fatalf("final table (-want +got):\n%s", diff)
			}
		})
	}
	// The map layout on the heap (as before the in-place sets) and the
	// in-place sets restore into each other, on the heap and on Pebble.
	mapSpec := spec
	mapSpec.mapDistinct = true
	for _, c := range []struct {
		name     string
		from, to GroupAggSpec
		cfg      config
	}{
		{"map-to-inplace", mapSpec, spec, config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StateHeap}}},
		{"inplace-to-map", spec, mapSpec, config{p: 3, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}},
		{"inplace-to-pebble", spec, spec, config{p: 1, backend: weir.StateHeap, then: &config{p: 2, backend: weir.StatePebble}}},
	} {
		t.Run(c.name+"/"+c.cfg.String(), func(t *testing.T) {
			log := runStepsRebuilt(t, c.cfg, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, c.from)
			}, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, c.to)
			})
			if diff := cmp.Diff(want, materialize(t, log, outTypes, 1)); diff != "" {
				t.Fatalf("final table (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDedupRowState: the kept row of Deduplicate encodes itself as the
// string of its row encoding the state held before (same schema, same
// bytes), and decodes back to the row.
func TestDedupRowState(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String(), row.TimestampType(3)}
	rc := row.NewCodec(types)
	r := row.Of(row.Int(42), row.Str("extra"), row.Timestamp(1700000000123, 0))
	if got, want := codec.Schema[dedupRow](), codec.Schema[string](); got != want {
		t.Fatalf("schema %q, want the old layout's %q", got, want)
	}
	oldEnc := codec.Must[string]().Append([]byte("p"), string(rc.Append(nil, r)))
	newEnc := codec.Must[dedupRow]().Append([]byte("p"), dedupRow{codec: rc, fields: r.Fields})
	if string(oldEnc) != string(newEnc) {
		t.Fatalf("encoding %x, want the old layout's %x", newEnc, oldEnc)
	}
	d, n, err := codec.Must[dedupRow]().Decode(oldEnc[1:])
	if err != nil || n != len(oldEnc)-1 {
		t.Fatalf("decode: %v (%d bytes)", err, n)
	}
	f := &dedupFn{codec: rc}
	got, err := f.load(d)
	if err != nil {
		t.Fatal(err)
	}
	if !row.EqualRows(got, r, types) {
		t.Fatalf("row %v, want %v", got, r)
	}
	// Encoded again from its bytes, it gives the same bytes.
	if again := codec.Must[dedupRow]().Append([]byte("p"), d); string(again) != string(oldEnc) {
		t.Fatalf("re-encoding %x, want %x", again, oldEnc)
	}
}
