package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// groupValueFixture is a savepoint of edgeDistinctSpec's GroupAggregate
// (heap backend, parallelism 2) after the first half of edgeDistinctSteps,
// written by main at 1e9c8e0, whose groups were "group-value" with the
// DISTINCT entries' counts in a slab (before they moved into the intTable
// entries as int32s, with the same encoding). Rewrite it (only on purpose:
// it is the layout later code must keep restoring) from a checkout of
// 1e9c8e0 with this file copied in:
// WEIR_WRITE_GROUP_VALUE_FIXTURE=1 go test ./sql/exec/ -run TestGroupValueEdgeFixture.
const groupValueFixture = "testdata/fixtures/group-value-1e9c8e0"

// edgeDistinctSpec has DISTINCT calls over a BIGINT column (typed keys),
// with and without FILTER, a SUM(DISTINCT) and a DISTINCT call over a
// string column.
func edgeDistinctSpec() GroupAggSpec {
	in := []row.Type{row.String(), row.BigInt(), row.String(), row.Boolean()}
	return GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{
			Call(CountStar),
			Call(Count, 1).WithDistinct(),
			Call(Count, 1).WithDistinct().WithFilter(3),
			Call(Sum, 1).WithDistinct(),
			Call(Count, 2).WithDistinct(),
		}}
}

// edgeDistinctSteps is a changelog of 1200 rows over 5 groups, a quarter
// retractions, whose integers include MinInt64, MaxInt64, negatives and
// NULL, and about 120 distinct values per group.
func edgeDistinctSteps() []step {
	r := rand.New(rand.NewPCG(16, 6))
	edge := []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, -1, 0}
	pool := slices.Clone(edge)
	for len(pool) < 300 {
		pool = append(pool, r.Int64N(1<<40)-1<<39)
	}
	var steps []step
	var live []row.Row
	for range 1200 {
		if len(live) > 0 && r.IntN(4) == 0 {
			steps = append(steps, retractRandom(r, &live))
			continue
		}
		x := row.Value{}
		switch n := r.IntN(8); {
		case n == 0:
		case n < 3:
			x = row.Int(edge[r.IntN(len(edge))])
		default:
			x = row.Int(pool[r.IntN(len(pool))])
		}
		rw := row.Of(row.Str(fmt.Sprintf("k%d", r.IntN(5))), x, row.Str(fmt.Sprintf("s%d", r.IntN(10))), row.Bool(r.IntN(3) == 0))
		live = append(live, rw)
		steps = append(steps, step{r: rw, ts: weir.NoTimestamp})
	}
	return steps
}

// TestGroupValueEdgeFixture writes groupValueFixture when asked to, and
// otherwise checks that it is there.
func TestGroupValueEdgeFixture(t *testing.T) {
	if !writingFixture(t, "WEIR_WRITE_GROUP_VALUE_FIXTURE", groupValueFixture) {
		return
	}
	h := weirtest.New(fixtureOptions(t))
	in := weirtest.NewInput[row.Row](h)
	s, err := GroupAggregate(in.Stream(), edgeDistinctSpec())
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, s)
	h.Start(t)
	steps := edgeDistinctSteps()
	for _, st := range steps[:len(steps)/2] {
		if err := in.Push(st.r, st.ts); err != nil {
			t.Fatal(err)
		}
	}
	writeFixture(t, h, groupValueFixture)
}

// TestGroupValueRestoresEdgeFixture restores groupValueFixture (written by
// 1e9c8e0: the DISTINCT counts of "group-value" in a slab) on the heap
// (the counts move into the intTable entries, MinInt64's to odd), on the
// heap with the "group-aggs" + "group-distinct-sets" layout and with the
// map layout, and on Pebble, at parallelism 1 and 3, runs the second half
// of the steps, and requires every group the second half changed to end
// as in an uninterrupted run.
func TestGroupValueRestoresEdgeFixture(t *testing.T) {
	spec := edgeDistinctSpec()
	sets := spec
	sets.groupAggsLayout = true
	mapSpec := spec
	mapSpec.mapDistinct = true
	restoreFixtureFinal(t, groupValueFixture, spec, edgeDistinctSteps(), []fixtureCase{
		{"heap", weir.StateHeap, spec}, {"heap-sets", weir.StateHeap, sets}, {"heap-map", weir.StateHeap, mapSpec},
		{"pebble", weir.StatePebble, spec}})
}
