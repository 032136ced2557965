package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// TestGroupAggCacheOffWhereUnsafe checks that the accumulator cache is off
// where the operator's state must be written per row or is not the fast
// path's: state TTL (each write refreshes the group's time to live),
// mini-batch, the two-phase global aggregate and the general path.
func TestGroupAggCacheOffWhereUnsafe(t *testing.T) {
	in := []row.Type{row.String(), row.BigInt()}
	base := GroupAggSpec{InputTypes: in, GroupKeys: []int{0},
		Aggs: []AggCall{{Func: CountStar, Filter: NoFilter}, {Func: Sum, Args: []int{1}, Filter: NoFilter}}}
	if n := cacheSlotsOf(t, base); n != accCacheSlots {
		t.Fatalf("plain spec: %d cache slots, want %d", n, accCacheSlots)
	}
	ttl := base
	ttl.StateTTL = time.Hour
	mb := base
	mb.MiniBatch = MiniBatch{Interval: time.Second, Size: 10}
	general := base
	general.generalPath = true
	for name, s := range map[string]GroupAggSpec{"ttl": ttl, "minibatch": mb, "general": general} {
		set, err := s.compile()
		if err != nil {
			t.Fatal(err)
		}
		f := &groupAggFn{spec: s, set: set, fast: !s.generalPath && !set.canFail()}
		if s.MiniBatch.Enabled() {
			f.mb = &bundle{rows: map[string]*keyRows{}}
		}
		if c := newAccCache(f); c != nil {
			t.Errorf("%s: cache with %d slots, want none", name, len(c.slots))
		}
	}
	set, err := base.compile()
	if err != nil {
		t.Fatal(err)
	}
	if c := newAccCache(&groupAggFn{spec: base, set: set, fast: true, global: true}); c != nil {
		t.Errorf("global: cache with %d slots, want none", len(c.slots))
	}
}

// TestGroupAggCacheSnapshotsGoOn takes a checkpoint every 241 rows of a job
// that goes on after each (the cache keeps its groups, now clean, and
// later evicts them) and requires the changelog of the job without the
// cache; then each checkpoint, restored into a job without the cache that
// plays the remaining rows, must give the same changelog too: every
// snapshot holds what the cache held.
func TestGroupAggCacheSnapshotsGoOn(t *testing.T) {
	in := []row.Type{row.String(), row.BigInt(), row.String(), row.Boolean()}
	calls := []AggCall{
		{Func: CountStar, Filter: NoFilter},
		{Func: Sum, Args: []int{1}, Filter: 3},
		{Func: Count, Args: []int{2}, Distinct: true, Filter: NoFilter},
	}
	for _, distinct := range []bool{false, true} {
		aggs := calls
		if !distinct {
			aggs = calls[:2]
		}
		spec := GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", Aggs: aggs, GenerateUpdateBefore: true, cacheSlots: 3}
		plain := spec
		plain.noCache = true
		outTypes, err := spec.OutputTypes()
		if err != nil {
			t.Fatal(err)
		}
		steps := cacheChangelog(rand.New(rand.NewPCG(11, 3)), false, false)
		const every = 241
		for _, c := range []config{{p: 1, backend: weir.StateHeap}, {p: 3, backend: weir.StatePebble}} {
			t.Run(fmt.Sprintf("distinct=%v/%s", distinct, c), func(t *testing.T) {
				run := func(s GroupAggSpec, from *weirtest.Snapshot, start int, snapEvery int) ([]row.Row, []weirtest.Snapshot, []int) {
					opts := c.options(t)
					opts.Checkpoints.Retained = 100 // every snapshot is restored below
					var h *weirtest.Harness
					if from == nil {
						h = weirtest.New(opts)
					} else {
						h = weirtest.Restore(opts, *from)
					}
					src := weirtest.NewInput[row.Row](h)
					st, err := GroupAggregate(src.Stream(), s)
					if err != nil {
						t.Fatal(err)
					}
					out := weirtest.Capture(h, st)
					h.Start(t)
					var snaps []weirtest.Snapshot
					var at []int
					for i := start; i < len(steps); i++ {
						if snapEvery > 0 && i > start && i%snapEvery == 0 {
							snap, err := h.Snapshot()
							if err != nil {
								t.Fatal(err)
							}
							snaps, at = append(snaps, snap), append(at, len(out.Values()))
						}
						if err := src.Push(steps[i].r, steps[i].ts); err != nil {
							t.Fatal(err)
						}
					}
					if err := src.End(); err != nil {
						t.Fatal(err)
					}
					return out.Values(), snaps, at
				}
				want, _, _ := run(plain, nil, 0, 0)
				got, snaps, at := run(spec, nil, 0, every)
				if diff := cmp.Diff(perGroup(want, outTypes), perGroup(got, outTypes)); diff != "" {
					t.Fatalf("changelog with snapshots (-without cache +with):\n%s", diff)
				}
				for j, snap := range snaps {
					// The snapshot before row i = every*(j+1): restore it
					// without the cache and play the rest.
					i := every * (j + 1)
					rest, _, _ := run(plain, &snap, i, 0)
					all := append(append([]row.Row{}, got[:at[j]]...), rest...)
					if diff := cmp.Diff(perGroup(want, outTypes), perGroup(all, outTypes)); diff != "" {
						t.Fatalf("restored before row %d (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}
