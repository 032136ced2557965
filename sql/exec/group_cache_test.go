package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestGroupAggCacheSameChangelog runs random changelogs over more groups
// than the accumulator cache has slots (groups leave it and come back)
// through GroupAggregate with and without the cache, and requires each
// group's very same output changelog, under every configuration of
// sameAnswerConfigs (checkpoints taken mid-stream and restored at other
// parallelisms and backends: a group's changes the cache holds must be in
// the snapshot) and across the switch (a snapshot without the cache
// restored with it and back: the state is the same).
func TestGroupAggCacheSameChangelog(t *testing.T) {
	in := []row.Type{row.String(), row.BigInt(), row.String(), row.Boolean()}
	bounded := []AggCall{
		{Func: CountStar, Filter: NoFilter},
		{Func: CountStar, Filter: 3},
		{Func: Count, Args: []int{1}, Filter: NoFilter},
		{Func: Sum, Args: []int{1}, Filter: NoFilter},
		{Func: Avg, Args: []int{1}, Filter: 3},
	}
	insertOnly := append(append([]AggCall{}, bounded...),
		AggCall{Func: Min, Args: []int{1}, Filter: NoFilter},
		AggCall{Func: Max, Args: []int{2}, Filter: 3},
		AggCall{Func: FirstValue, Args: []int{2}, Filter: NoFilter},
		AggCall{Func: LastValue, Args: []int{1}, Filter: NoFilter})
	withDistinct := append(append([]AggCall{}, bounded...),
		AggCall{Func: Count, Args: []int{2}, Distinct: true, Filter: NoFilter},
		AggCall{Func: Max, Args: []int{1}, Filter: NoFilter})
	for _, v := range []struct {
		name       string
		calls      []AggCall
		insertOnly bool
		ub         bool
		slots      int // cache slots wanted
		uniform    bool
	}{
		{"retract", bounded, false, true, 3, false},
		{"upsert", bounded, false, false, 3, false},
		{"insertonly", insertOnly, true, true, 3, false},
		{"distinct", withDistinct, false, true, 1, false},
		{"maxretract", []AggCall{{Func: Max, Args: []int{1}, Filter: NoFilter}}, false, true, 1, false},
		// Groups taken uniformly: windows of 16 rows with fewer than 2
		// hits turn the cache off for 256 rows, then on again.
		{"bypass", bounded, false, true, 3, true},
		{"bypass-distinct", withDistinct, false, true, 1, true},
	} {
		steps := cacheChangelog(rand.New(rand.NewPCG(5, 8)), v.insertOnly, v.uniform)
		spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", Aggs: v.calls,
			InsertOnly: v.insertOnly, GenerateUpdateBefore: v.ub, cacheSlots: 3}
		if v.uniform {
			spec.cacheWindow = 16
		}
		plain := spec
		plain.noCache = true
		if got := cacheSlotsOf(t, spec); got != v.slots {
			t.Fatalf("%s: %d cache slots, want %d", v.name, got, v.slots)
		}
		if got := cacheSlotsOf(t, plain); got != 0 {
			t.Fatalf("%s: noCache has %d cache slots", v.name, got)
		}
		agg := func(s GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return func(st weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(st, s) }
		}
		outTypes, err := spec.OutputTypes()
		if err != nil {
			t.Fatal(err)
		}
		// The reference: each group's changelog without the cache, once,
		// under the first configuration. A group's changelog does not
		// depend on the configuration (the rebuilt runs below, and the
		// same-answer tests, require that), so comparing every
		// configuration's run with the cache against it checks as much as
		// a run without the cache per configuration did, for 7 fewer runs
		// per variant; the runs without the cache before or after a
		// restore (the loop over dir) still run it at parallelism 4 and on
		// Pebble.
		var want map[string][]string
		if !t.Run(v.name+"/reference", func(t *testing.T) {
			want = perGroup(runSteps(t, sameAnswerConfigs[0], steps, agg(plain)), outTypes)
			if n := len(want); n < 30 {
				t.Fatalf("only %d groups in the output", n)
			}
		}) {
			continue
		}
		for _, c := range sameAnswerConfigs {
			t.Run(fmt.Sprintf("%s/%s", v.name, c), func(t *testing.T) {
				if diff := cmp.Diff(want, perGroup(runSteps(t, c, steps, agg(spec)), outTypes)); diff != "" {
					t.Fatalf("changelog per group (-without cache +with):\n%s", diff)
				}
				if c.then == nil {
					return
				}
				for _, dir := range [][2]GroupAggSpec{{plain, spec}, {spec, plain}} {
					got := perGroup(runStepsRebuilt(t, c, steps, agg(dir[0]), agg(dir[1])), outTypes)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("changelog per group, cache %v then %v (-want +got):\n%s", !dir[0].noCache, !dir[1].noCache, diff)
					}
				}
			})
		}
	}
}

// cacheSlotsOf returns the number of cache slots GroupAggregate of spec
// uses (0: no cache).
func cacheSlotsOf(t *testing.T, spec GroupAggSpec) int {
	t.Helper()
	set, err := spec.compile()
	if err != nil {
		t.Fatal(err)
	}
	f := &groupAggFn{spec: spec, set: set, fast: !set.canFail()}
	c := newAccCache(f)
	if c == nil {
		return 0
	}
	return len(c.slots)
}

// cacheChangelog returns 1500 rows over 50 groups, half of them of 4 hot
// groups unless uniform (so that rows find their group in a 3-slot cache,
// or not), with
// NULLs and FILTER flags, and (unless insertOnly) retractions of rows
// inserted before, so that groups empty (in the cache or not) and come
// back.
func cacheChangelog(rng *rand.Rand, insertOnly, uniform bool) []step {
	var steps []step
	var live []row.Row
	for range 1500 {
		if !insertOnly && len(live) > 0 && rng.IntN(3) == 0 {
			steps = append(steps, retractRandom(rng, &live))
			continue
		}
		k := rng.IntN(4)
		if uniform || rng.IntN(2) == 0 {
			k = rng.IntN(50)
		}
		v := row.Value{}
		if rng.IntN(6) != 0 {
			v = row.Int(int64(rng.IntN(40) - 10))
		}
		f := row.Value{}
		if rng.IntN(5) != 0 {
			f = row.Bool(rng.IntN(2) == 0)
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", k)), v, row.Str(fmt.Sprintf("s%d", rng.IntN(6))), f)
		live = append(live, r)
		steps = append(steps, step{r: r, ts: weir.NoTimestamp})
	}
	return steps
}

// perGroup formats a changelog as each group's rows in order (the order
// across groups depends on the parallelism).
func perGroup(log []row.Row, types []row.Type) map[string][]string {
	out := map[string][]string{}
	for _, r := range log {
		k := r.Fields[0].Str()
		out[k] = append(out[k], row.FormatRow(r, types))
	}
	return out
}

// BenchmarkGroupAggregateCache is BenchmarkGroupAggregate's job (10k
// groups taken in turn, so every row misses the cache: its worst case)
// with and without the accumulator cache, on both backends.
func BenchmarkGroupAggregateCache(b *testing.B) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, noCache := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/nocache=%v", backend, noCache), func(b *testing.B) {
				runBench(b, backend, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					return GroupAggregate(s, GroupAggSpec{InputTypes: benchTypes, GroupKeys: []int{1}, Aggs: benchAggs,
						InsertOnly: true, GenerateUpdateBefore: true, noCache: noCache})
				})
			})
		}
	}
}
