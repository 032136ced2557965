package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestGroupDistinctMovedEntriesTwoPhase restores a two-phase aggregate's
// snapshot of the map layout ("group-distinct-shared") into the in-place
// layout on the heap. The global aggregate moves a group's restored
// entries into its sets on the group's first batch; a batch that brings
// no DISTINCT tuple (a NULL argument) must not leave that group's sets as
// the ones the next group's batch reads and writes.
func TestGroupDistinctMovedEntriesTwoPhase(t *testing.T) {
	in := []row.Type{row.String(), row.IntType()}
	spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{Call(CountStar), Call(Count, 1).WithDistinct()}}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	r := func(k string, v row.Value) step { return step{r: row.Of(row.Str(k), v), ts: weir.NoTimestamp} }
	steps := []step{
		r("a", row.Int(1)), r("b", row.Int(2)), r("c", row.Int(5)), // before the snapshot
		r("a", row.Value{}), r("b", row.Int(2)), r("a", row.Int(2)), // after the restore
	}
	mini := miniBatchOf(spec, 1)
	mapSpec := mini
	mapSpec.mapDistinct = true
	want := materializeUpsert(t, runSteps(t, config{p: 1, backend: weir.StateHeap}, steps, twoPhase(mini)), outTypes, 1, true)
	c := config{p: 1, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}
	got := materializeUpsert(t, runStepsRebuilt(t, c, steps, twoPhase(mapSpec), twoPhase(mini)), outTypes, 1, true)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("final table after a restore of the map layout (-want +got):\n%s", diff)
	}
}

// TestIntTableCollidingKeys runs random sets and deletes on an intTable
// over keys whose homes collide near the end of the table at its first
// size (runs that wrap around), next to a Go map: deletion's backward
// shift must keep every entry findable.
func TestIntTableCollidingKeys(t *testing.T) {
	probe := newIntTable(1)
	var keys []int64
	for k := int64(-5000); len(keys) < 24 && k < 5000; k++ {
		if h := probe.home(k); h >= 6 || h == 0 {
			keys = append(keys, k)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		tab := newIntTable(1)
		model := map[int64]int64{}
		for i := range 300 {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				tab.delete(k)
				delete(model, k)
			} else {
				n := int64(1 + rng.IntN(9))
				tab.set(k, []int64{int64(n)})
				model[k] = n
			}
			if tab.n != len(model) {
				t.Fatalf("round %d op %d: n %d, want %d", round, i, tab.n, len(model))
			}
			for mk, mn := range model {
				j, ok := tab.find(mk)
				if !ok || int64(tab.at(j)[0]) != mn {
					t.Fatalf("round %d op %d: key %d lost (found %v, count %d, want %d)", round, i, mk, ok, tab.at(j)[0], mn)
				}
			}
		}
	}
}

// TestGroupDistinctMigratedEntriesTwoPhase is
// TestGroupDistinctMovedEntriesTwoPhase for entries of the per-call
// layout ("group-distinct", from a one-phase aggregate) that the global
// aggregate migrates into the group's in-place sets.
func TestGroupDistinctMigratedEntriesTwoPhase(t *testing.T) {
	in := []row.Type{row.String(), row.IntType()}
	spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{Call(CountStar), Call(Count, 1).WithDistinct()}}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	r := func(k string, v row.Value) step { return step{r: row.Of(row.Str(k), v), ts: weir.NoTimestamp} }
	steps := []step{
		r("a", row.Int(1)), r("b", row.Int(2)), r("c", row.Int(5)),
		r("a", row.Value{}), r("b", row.Int(2)), r("a", row.Int(2)),
	}
	mini := miniBatchOf(spec, 1)
	perCall := spec
	perCall.perCallDistinct = true
	want := materializeUpsert(t, runSteps(t, config{p: 1, backend: weir.StateHeap}, steps, twoPhase(mini)), outTypes, 1, true)
	c := config{p: 1, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}
	// The map takes the local aggregate's place, so that the capture
	// sink (named by its position) restores its state.
	one := func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		return GroupAggregate(weir.Map(s, func(r row.Row) row.Row { return r }), perCall)
	}
	got := materializeUpsert(t, runStepsRebuilt(t, c, steps, one, twoPhase(mini)), outTypes, 1, true)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("final table after a restore of the per-call layout (-want +got):\n%s", diff)
	}
}
