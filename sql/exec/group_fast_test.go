package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestGroupAggFastPathSameChangelog runs random changelogs through
// GroupAggregate twice, computing results as the fast path does (once
// per emitted row, before the row only where reached or needed) and as
// the general path does (every result before and after every row), and
// requires the very same output changelog, row by row: -U/+U pairs,
// suppressed unchanged updates, -D of emptied groups, with and without
// UPDATE_BEFORE, state TTL and insert-only input.
func TestGroupAggFastPathSameChangelog(t *testing.T) {
	in := []row.Type{row.String(), row.IntType(), row.String(), row.Boolean(), row.DecimalType(10, 2)}
	calls := []AggCall{
		{Func: CountStar, Filter: NoFilter},
		{Func: CountStar, Filter: 3},
		{Func: Count, Args: []int{1}, Filter: NoFilter},
		{Func: Sum, Args: []int{1}, Filter: NoFilter},
		{Func: Sum, Args: []int{4}, Filter: 3},
		{Func: Avg, Args: []int{4}, Filter: NoFilter},
		{Func: Min, Args: []int{1}, Filter: NoFilter},
		{Func: Max, Args: []int{1}, Filter: 3},
		{Func: Count, Args: []int{2}, Distinct: true, Filter: NoFilter},
		{Func: Count, Args: []int{2}, Distinct: true, Filter: 3},
		{Func: Sum, Args: []int{1}, Distinct: true, Filter: NoFilter},
		{Func: FirstValue, Args: []int{2}, Filter: NoFilter},
		{Func: LastValue, Args: []int{1}, Filter: 3},
	}
	for _, insertOnly := range []bool{false, true} {
		for _, ub := range []bool{true, false} {
			for _, ttl := range []time.Duration{0, time.Hour} {
				name := fmt.Sprintf("insertonly=%v/ub=%v/ttl=%v", insertOnly, ub, ttl)
				t.Run(name, func(t *testing.T) {
					steps := randomChangelog(rand.New(rand.NewPCG(11, 13)), insertOnly)
					spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", Aggs: calls,
						InsertOnly: insertOnly, GenerateUpdateBefore: ub, StateTTL: ttl}
					general := spec
					general.generalPath = true
					outTypes, err := spec.OutputTypes()
					if err != nil {
						t.Fatal(err)
					}
					c := config{p: 1, backend: weir.StateHeap}
					run := func(s GroupAggSpec) []string {
						log := runSteps(t, c, steps, func(st weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
							return GroupAggregate(st, s)
						})
						out := make([]string, len(log))
						for i, r := range log {
							out[i] = row.FormatRow(r, outTypes)
						}
						return out
					}
					want, got := run(general), run(spec)
					if len(want) < len(steps)/4 {
						t.Fatalf("only %d output rows for %d input rows", len(want), len(steps))
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("changelog (-general +fast):\n%s", diff)
					}
				})
			}
		}
	}
}

// randomChangelog returns inserts over few groups with NULLs, repeated
// values and FILTER flags, and (unless insertOnly) retractions of rows
// inserted before, so that groups empty and come back.
func randomChangelog(rng *rand.Rand, insertOnly bool) []step {
	var steps []step
	var live []row.Row
	for range 800 {
		if !insertOnly && len(live) > 0 && rng.IntN(3) == 0 {
			steps = append(steps, retractRandom(rng, &live))
			continue
		}
		v := row.Value{}
		if rng.IntN(6) != 0 {
			v = row.Int(int64(rng.IntN(12) - 3))
		}
		f := row.Value{}
		if rng.IntN(5) != 0 {
			f = row.Bool(rng.IntN(2) == 0)
		}
		d := row.Value{}
		if rng.IntN(5) != 0 {
			d = row.Int(int64(rng.IntN(2000) - 500)) // compact DECIMAL(10, 2): unscaled
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(5))), v, row.Str(fmt.Sprintf("s%d", rng.IntN(4))), f, d)
		live = append(live, r)
		steps = append(steps, step{r: r, ts: weir.NoTimestamp})
	}
	return steps
}
