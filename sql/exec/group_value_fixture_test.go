package exec

import (
	"testing"

	"github.com/weirstream/weir/row"
)

// groupSetsFixture is a savepoint of valueFixtureSpec's GroupAggregate
// (heap backend, parallelism 2) after the first half of
// distinctFixtureSteps, written by main at fc3f498, whose groups were
// "group-aggs" (encoded accumulators) and "group-distinct-sets" (DISTINCT
// entries in place), before "group-value". Rewrite it (only on purpose: it
// is the old layout that later code must keep restoring) from a checkout
// of fc3f498 with this file, fixture_helpers_test.go and writeGroupFixture copied in:
// WEIR_WRITE_GROUP_SETS_FIXTURE=1 go test ./sql/exec/ -run TestGroupSetsFixture.
const groupSetsFixture = "testdata/fixtures/group-sets-fc3f498"

// valueFixtureSpec has, besides DISTINCT calls over an integer and a
// string column with and without FILTER, COUNT(*) with and without FILTER
// and a MAX over the retracting input (a multiset accumulator), as
// Nexmark's q16.
func valueFixtureSpec() GroupAggSpec {
	in := []row.Type{row.String(), row.IntType(), row.String(), row.Boolean()}
	return GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{
			Call(Max, 2),
			Call(CountStar),
			Call(CountStar).WithFilter(3),
			Call(Count, 1).WithDistinct(),
			Call(Count, 1).WithDistinct().WithFilter(3),
			Call(Sum, 1).WithDistinct(),
			Call(Count, 2).WithDistinct(),
			Call(Count, 2).WithDistinct().WithFilter(3),
		}}
}

// TestGroupSetsFixture writes groupSetsFixture when asked to, and
// otherwise checks that it is there.
func TestGroupSetsFixture(t *testing.T) {
	writeGroupFixture(t, "WEIR_WRITE_GROUP_SETS_FIXTURE", groupSetsFixture, valueFixtureSpec())
}
