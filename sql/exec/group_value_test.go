package exec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// TestGroupValueState: a group's value encodes its accumulators as
// "group-aggs" held them and its DISTINCT entries as "group-distinct-sets"
// did, decodes back to the same bytes, and its copy (what the heap backend
// hands out while a snapshot encodes the original) shares nothing that
// changes in place.
func TestGroupValueState(t *testing.T) {
	spec := valueFixtureSpec()
	set, err := spec.compile()
	if err != nil {
		t.Fatal(err)
	}
	f := &groupAggFn{spec: spec, set: set}
	f.inPlace = &inPlaceDistinct{}
	f.shared = set.useSharedDistinct(f.inPlace, false)
	f.tmpl = make([]accumulator, len(set.calls))
	for i, k := range set.calls {
		f.tmpl[i] = k.acc
	}
	v := &groupValue{accs: f.newAccs()}
	apply := func(r row.Row) {
		t.Helper()
		if err := f.bindAccs(v); err != nil {
			t.Fatal(err)
		}
		f.inPlace.cur, f.inPlace.loaded, f.inPlace.owner = v.sets, true, v
		f.set.apply(r, r.Kind.IsRetract())
		f.shared.flush()
		v.rows = f.set.rows
	}
	for i := range 20 {
		apply(row.Of(row.Str("k"), row.Int(int64(i%7)), row.Str(fmt.Sprintf("s%d", i%5)), row.Bool(i%3 == 0)))
	}
	if v.sets == nil || v.sets.len() != 7+5 {
		t.Fatalf("DISTINCT entries %v, want 12", v.sets)
	}
	// The accumulators' part is aggSet's encoding (same results and row
	// count decoded; a multiset's order is a map's), the whole round
	// trips.
	describe := func(v *groupValue) string {
		t.Helper()
		d := &groupValue{enc: string(v.appendAccs(nil))}
		g := &groupAggFn{spec: spec, set: set, tmpl: f.tmpl}
		if err := g.bindAccs(d); err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(d.rows, row.FormatRow(row.Row{Fields: set.appendValues(nil)}, set.resultTypes()))
		var entries []string
		if v.sets != nil {
			v.sets.each(func(k distinctKey, c []int64) { entries = append(entries, fmt.Sprint(k, c)) })
		}
		slices.Sort(entries)
		return fmt.Sprint(out, entries)
	}
	want := describe(v)
	if err := set.decode(set.encode()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v.rows, row.FormatRow(row.Row{Fields: set.appendValues(nil)}, set.resultTypes())); !strings.HasPrefix(want, got) {
		t.Fatalf("decoded value %s, want %s", want, got)
	}
	c := codec.Must[*groupValue]()
	enc := c.Append(nil, v)
	d, n, err := c.Decode(enc)
	if err != nil || n != len(enc) {
		t.Fatalf("decode: %v (%d of %d bytes)", err, n, len(enc))
	}
	if d.accs != nil || d.enc == "" {
		t.Fatalf("decoded accumulators %q (accs %v), want the encoding kept", d.enc, d.accs)
	}
	if got := describe(d); got != want {
		t.Fatalf("decoded %s, want %s", got, want)
	}
	// A copy, then more rows on the original: the copy keeps what it had.
	cp := v.CopyState()
	if got := describe(cp); got != want {
		t.Fatalf("copy %s, want %s", got, want)
	}
	for i := range 20 {
		apply(row.Of(row.Str("k"), row.Int(int64(100+i)), row.Str(fmt.Sprintf("t%d", i)), row.Bool(true)))
	}
	if got := describe(cp); got != want {
		t.Fatalf("the copy changed with the original: %s, want %s", got, want)
	}
	if describe(v) == want {
		t.Fatal("the original did not change")
	}
	// The copy's accumulators, decoded on its group's next row, are the
	// copied ones.
	if err := f.bindAccs(cp); err != nil {
		t.Fatal(err)
	}
	if got := describe(cp); got != want || cp.rows != 20 {
		t.Fatalf("the copy decoded: %s (rows %d), want %s", got, cp.rows, want)
	}
}

// TestGroupValueSameChangelog: the changelog of every group is the same
// with the groups in "group-value", in "group-aggs" + "group-distinct-sets"
// and on the general path, over random rows with retractions, FILTER and
// a MAX over retractions, and across restores from either layout into the
// other, into mini-batch and into Pebble.
func TestGroupValueSameChangelog(t *testing.T) {
	spec := valueFixtureSpec()
	steps := distinctFixtureSteps()
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	old := spec
	old.groupAggsLayout = true
	general := spec
	general.generalPath = true
	build := func(spec GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(s, spec) }
	}
	perGroup := func(log []row.Row) map[string][]string {
		m := map[string][]string{}
		for _, r := range log {
			k := r.Fields[0].Str()
			m[k] = append(m[k], row.FormatRow(r, outTypes))
		}
		return m
	}
	heap1 := config{p: 1, backend: weir.StateHeap}
	want := perGroup(runSteps(t, heap1, steps, build(old)))
	if len(want) < 4 {
		t.Fatalf("only %d groups", len(want))
	}
	if diff := cmp.Diff(want, perGroup(runSteps(t, heap1, steps, build(general)))); diff != "" {
		t.Fatalf("general path against group-aggs (-want +got):\n%s", diff)
	}
	mb := spec
	mb.MiniBatch = MiniBatch{Interval: time.Hour, Size: 1}
	for _, c := range []struct {
		name     string
		from, to GroupAggSpec
		cfg      config
	}{
		{"value", spec, spec, heap1},
		{"value-p3", spec, spec, config{p: 3, backend: weir.StateHeap}},
		{"value-to-value", spec, spec, config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StateHeap}}},
		{"sets-to-value", old, spec, config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StateHeap}}},
		{"value-to-sets", spec, old, config{p: 3, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StateHeap}}},
		{"value-to-pebble", spec, spec, config{p: 1, backend: weir.StateHeap, then: &config{p: 2, backend: weir.StatePebble}}},
		{"pebble-to-value", spec, spec, config{p: 2, backend: weir.StatePebble, then: &config{p: 1, backend: weir.StateHeap}}},
		{"value-to-minibatch", spec, mb, config{p: 2, backend: weir.StateHeap, then: &config{p: 2, backend: weir.StateHeap}}},
	} {
		t.Run(c.name+"/"+c.cfg.String(), func(t *testing.T) {
			log := runStepsRebuilt(t, c.cfg, steps, build(c.from), build(c.to))
			if c.to.MiniBatch.Enabled() {
				// A bundle of one row emits what a row does.
				if diff := cmp.Diff(materialize(t, runSteps(t, heap1, steps, build(old)), outTypes, 1), materialize(t, log, outTypes, 1)); diff != "" {
					t.Fatalf("final table (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(want, perGroup(log)); diff != "" {
				t.Fatalf("changelog per group (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupValueRestoresSetsLayout restores groupSetsFixture (written by
// main at fc3f498: "group-aggs" + "group-distinct-sets") on the heap (the
// groups move into "group-value"), on the heap with the old layout kept,
// and on Pebble, at parallelism 1 and 3, runs the second half of the steps,
// and requires every group the second half changed to end as in an
// uninterrupted run.
func TestGroupValueRestoresSetsLayout(t *testing.T) {
	spec := valueFixtureSpec()
	old := spec
	old.groupAggsLayout = true
	restoreFixtureFinal(t, groupSetsFixture, spec, distinctFixtureSteps(), []fixtureCase{
		{"heap", weir.StateHeap, spec}, {"heap-sets", weir.StateHeap, old}, {"pebble", weir.StatePebble, spec}})
}

type fixtureCase struct {
	name    string
	backend string
	spec    GroupAggSpec
}

// restoreFixtureFinal restores the savepoint at fixture (taken after the
// first half of steps) into each case, at parallelism 1 and 3, runs the
// second half, and compares the last row of each group the second half
// changed with an uninterrupted run of spec.
func restoreFixtureFinal(t *testing.T, fixture string, spec GroupAggSpec, steps []step, cases []fixtureCase) {
	t.Helper()
	second := steps[len(steps)/2:]
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	full := materialize(t, runSteps(t, config{p: 1, backend: weir.StateHeap}, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		return GroupAggregate(s, spec)
	}), outTypes, 1)
	fixture, err = filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, par := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p%d", c.name, par), func(t *testing.T) {
				h := restoreFixture(t, fixture, par, c.backend)
				in := weirtest.NewInput[row.Row](h)
				s, err := GroupAggregate(in.Stream(), c.spec)
				if err != nil {
					t.Fatal(err)
				}
				out := weirtest.Capture(h, s)
				h.Start(t)
				touched := map[string]bool{}
				for _, st := range second {
					touched[st.r.Fields[0].Str()] = true
					if err := in.Push(st.r, st.ts); err != nil {
						t.Fatal(err)
					}
				}
				if err := in.End(); err != nil {
					t.Fatal(err)
				}
				last := map[string]string{}
				for _, r := range out.Values() {
					key := r.Fields[0].Str()
					switch r.Kind {
					case row.Insert, row.UpdateAfter:
						last[key] = row.FormatRow(r.WithKind(row.Insert), outTypes)
					case row.Delete:
						delete(last, key)
					}
				}
				var got, want []string
				for _, v := range last {
					got = append(got, v)
				}
				for _, v := range full {
					if touched[v[len("+I["):len("+I[k0")]] {
						want = append(want, v)
					}
				}
				slices.Sort(got)
				if len(want) < 4 {
					t.Fatalf("the second half changed only %d groups", len(want))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("final rows of the groups changed after the restore (-want +got):\n%s", diff)
				}
			})
		}
	}
}
