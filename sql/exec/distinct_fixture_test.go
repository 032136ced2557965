package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// groupDistinctFixture is a savepoint of distinctFixtureSpec's
// GroupAggregate (heap backend, parallelism 2) after the first half of
// distinctFixtureSteps, written by ea5ca14, whose shared DISTINCT entries
// were map state "group-distinct-shared" on every backend (before
// "group-distinct-sets"). Rewrite it (only on purpose: it is the old layout
// that later code must keep restoring) with
// WEIR_WRITE_GROUP_DISTINCT_FIXTURE=1 go test ./sql/exec/ -run TestGroupDistinctFixture.
const groupDistinctFixture = "testdata/fixtures/group-distinct-ea5ca14"

// distinctFixtureSpec has DISTINCT calls over an integer column (typed
// keys) and a string column, with and without FILTER.
func distinctFixtureSpec() GroupAggSpec {
	in := []row.Type{row.String(), row.IntType(), row.String(), row.Boolean()}
	return GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{
			Call(CountStar),
			Call(Count, 1).WithDistinct(),
			Call(Count, 1).WithDistinct().WithFilter(3),
			Call(Sum, 1).WithDistinct(),
			Call(Count, 2).WithDistinct(),
			Call(Count, 2).WithDistinct().WithFilter(3),
		}}
}

// distinctFixtureSteps is a changelog of 600 rows over 6 groups.
func distinctFixtureSteps() []step {
	rng := rand.New(rand.NewPCG(3, 5))
	var steps []step
	var live []row.Row
	for range 600 {
		if len(live) > 0 && rng.IntN(4) == 0 {
			steps = append(steps, retractRandom(rng, &live))
			continue
		}
		v := row.Value{}
		if rng.IntN(8) != 0 {
			v = row.Int(int64(rng.IntN(40)) - 5)
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(6))), v, row.Str(fmt.Sprintf("s%d", rng.IntN(15))), row.Bool(rng.IntN(3) == 0))
		live = append(live, r)
		steps = append(steps, step{r: r, ts: weir.NoTimestamp})
	}
	return steps
}

// TestGroupDistinctFixture writes groupDistinctFixture when asked to, and
// otherwise checks that it is there.
func TestGroupDistinctFixture(t *testing.T) {
	writeGroupFixture(t, "WEIR_WRITE_GROUP_DISTINCT_FIXTURE", groupDistinctFixture, distinctFixtureSpec())
}

// writeGroupFixture writes the fixture dir when env asks to (and otherwise
// checks that it is there): a savepoint of spec's GroupAggregate after
// the first half of distinctFixtureSteps.
func writeGroupFixture(t *testing.T, env, dir string, spec GroupAggSpec) {
	if !writingFixture(t, env, dir) {
		return
	}
	h := weirtest.New(fixtureOptions(t))
	in := weirtest.NewInput[row.Row](h)
	s, err := GroupAggregate(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, s)
	h.Start(t)
	steps := distinctFixtureSteps()
	for _, st := range steps[:len(steps)/2] {
		if err := in.Push(st.r, st.ts); err != nil {
			t.Fatal(err)
		}
	}
	writeFixture(t, h, dir)
}

// TestGroupDistinctRestoresMapLayout restores groupDistinctFixture (the map
// layout, written by ea5ca14) on the heap (entries move into the groups'
// in-place sets), on the heap with the map layout kept, and on Pebble, at
// parallelism 1 and 3, runs the second half of the steps, and requires
// every group the second half changed to end as in an uninterrupted run.
func TestGroupDistinctRestoresMapLayout(t *testing.T) {
	spec := distinctFixtureSpec()
	mapSpec := spec
	mapSpec.mapDistinct = true
	restoreFixtureFinal(t, groupDistinctFixture, spec, distinctFixtureSteps(), []fixtureCase{
		{"heap", weir.StateHeap, spec}, {"heap-map", weir.StateHeap, mapSpec}, {"pebble", weir.StatePebble, spec}})
}
