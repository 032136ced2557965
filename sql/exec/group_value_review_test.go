package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// reviewValueSpec is a GroupAggregate with DISTINCT calls (so that
// "group-value" is used on the heap without TTL) and every built-in
// call the fast path handles over retracting input: COUNT, SUM, AVG,
// MIN/MAX (multisets), DISTINCT with and without FILTER, over nullable
// arguments.
func reviewValueSpec() GroupAggSpec {
	in := []row.Type{row.String(), row.IntType(), row.String(), row.Boolean(), row.Boolean()}
	return GroupAggSpec{InputTypes: in, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs: []AggCall{
			Call(CountStar),
			Call(CountStar).WithFilter(3),
			Call(Count, 1),
			Call(Sum, 1),
			Call(Avg, 1).WithFilter(4),
			Call(Min, 1),
			Call(Max, 2),
			Call(Min, 1).WithFilter(3),
			Call(Count, 1).WithDistinct(),
			Call(Count, 1).WithDistinct().WithFilter(3),
			Call(Sum, 1).WithDistinct().WithFilter(4),
			Call(Max, 1).WithDistinct(),
			Call(Count, 2).WithDistinct(),
			Call(Count, 2).WithDistinct().WithFilter(4),
		}}
}

// reviewValueSteps is a random changelog over few groups: runs of rows of
// one group (the "same group as the previous row" shortcut), retractions
// of random live rows, and groups retracted to empty (their row deleted)
// and re-created right after; with unseen, retractions of rows never
// inserted into groups without live rows too (ignored without mini-batch;
// a mini-batch folds them with the rows of its bundle, as Flink's
// MiniBatchGroupAggFunction does, so they are left out for it).
func reviewValueSteps(seed uint64, n int, unseen bool) []step {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	var steps []step
	live := map[string][]row.Row{}
	newRow := func(k string) row.Row {
		v := row.Value{}
		if rng.IntN(6) != 0 {
			v = row.Int(int64(rng.IntN(12)) - 3)
		}
		s := row.Value{}
		if rng.IntN(5) != 0 {
			s = row.Str(fmt.Sprintf("s%d", rng.IntN(6)))
		}
		b := row.Value{}
		if rng.IntN(7) != 0 {
			b = row.Bool(rng.IntN(2) == 0)
		}
		r := row.Of(row.Str(k), v, s, b, row.Bool(rng.IntN(3) != 0))
		if rng.IntN(4) == 0 {
			r = r.WithKind(row.UpdateAfter)
		}
		return r
	}
	retract := func(k string, i int) {
		r := live[k][i]
		live[k] = append(live[k][:i], live[k][i+1:]...)
		kind := row.Delete
		if rng.IntN(2) == 0 {
			kind = row.UpdateBefore
		}
		steps = append(steps, step{r: r.WithKind(kind), ts: weir.NoTimestamp})
	}
	for len(steps) < n {
		k := fmt.Sprintf("k%d", rng.IntN(5))
		switch x := rng.IntN(10); {
		case x < 5: // a run of inserts into one group
			for range 1 + rng.IntN(4) {
				r := newRow(k)
				live[k] = append(live[k], r.WithKind(row.Insert))
				steps = append(steps, step{r: r, ts: weir.NoTimestamp})
			}
		case x < 8: // retractions in one group
			for range 1 + rng.IntN(3) {
				if len(live[k]) == 0 {
					break
				}
				retract(k, rng.IntN(len(live[k])))
			}
		case x < 9: // the group emptied, then maybe re-created at once
			for len(live[k]) > 0 {
				retract(k, rng.IntN(len(live[k])))
			}
			if rng.IntN(2) == 0 {
				r := newRow(k)
				live[k] = append(live[k], r.WithKind(row.Insert))
				steps = append(steps, step{r: r, ts: weir.NoTimestamp})
			}
		default: // a retraction of a row never seen (ignored)
			if !unseen || len(live[k]) > 0 {
				continue
			}
			r := newRow(k)
			steps = append(steps, step{r: r.WithKind(row.Delete), ts: weir.NoTimestamp})
		}
	}
	return steps
}

// reviewStage is one job of a chain: its configuration, the operator it
// builds, and the index of the step after which its snapshot is taken
// (the next stage restores it).
type reviewStage struct {
	name    string
	p       int
	backend string
	build   func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)
	until   int
	// snaps are steps after which a checkpoint is taken while the job
	// goes on (not restored).
	snaps []int
}

func buildGroupAgg(spec GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
	return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(s, spec) }
}

func buildTwoPhase(spec GroupAggSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
	return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		l, err := LocalGroupAggregate(s, spec)
		if err != nil {
			return l, err
		}
		return GlobalGroupAggregate(l, spec)
	}
}

// runChain runs steps through the stages in turn: each plays the steps up
// to its until (the last one to the end), takes its snapshot, and the next
// stage restores it. It returns every row the stages emitted, in order.
func runChain(t *testing.T, steps []step, stages []reviewStage) []row.Row {
	t.Helper()
	var log []row.Row
	var snap *weirtest.Snapshot
	from := 0
	for i, st := range stages {
		c := config{p: st.p, backend: st.backend}
		var h *weirtest.Harness
		if snap == nil {
			h = weirtest.New(c.options(t))
		} else {
			// The capture sink's state (none) is named by position: a
			// stage with two phases has one more operator before it.
			opts := c.options(t)
			opts.AllowNonRestoredState = true
			h = weirtest.Restore(opts, *snap)
		}
		in := weirtest.NewInput[row.Row](h)
		s, err := st.build(in.Stream())
		if err != nil {
			t.Fatal(err)
		}
		out := weirtest.Capture(h, s)
		h.Start(t)
		until := st.until
		if i == len(stages)-1 {
			until = len(steps)
		}
		for j := from; j < until; j++ {
			if err := in.Push(steps[j].r, steps[j].ts); err != nil {
				t.Fatal(err)
			}
			for _, x := range st.snaps {
				if x == j+1 {
					if _, err := h.Snapshot(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if i == len(stages)-1 {
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
			return append(log, out.Values()...)
		}
		sn, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		snap = &sn
		log = append(log, out.Values()...)
		from = until
	}
	return log
}

func reviewPerGroup(log []row.Row, types []row.Type) map[string][]string {
	m := map[string][]string{}
	for _, r := range log {
		k := r.Fields[0].Str()
		m[k] = append(m[k], row.FormatRow(r, types))
	}
	return m
}

// TestGroupValueReviewPaths compares, on random changelogs, GroupAggregate
// with its groups in "group-value" (heap, no TTL) with the paths that do
// not use it: the old heap layout, the general path, Pebble, a state TTL
// (final table only: a TTL emits unchanged updates), mini-batch and two
// phases (final table), at parallelism 1 and 3; and with checkpoints
// taken while the job goes on (between rows of one group, after a group
// was emptied).
func TestGroupValueReviewPaths(t *testing.T) {
	spec := reviewValueSpec()
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	old := spec
	old.groupAggsLayout = true
	general := spec
	general.generalPath = true
	ttl := spec
	ttl.StateTTL = time.Hour
	mb := spec
	mb.MiniBatch = MiniBatch{Interval: time.Hour, Size: 3}
	for _, seed := range []uint64{1, 2} {
		steps := reviewValueSteps(seed, 500, seed%2 == 0)
		want := runChain(t, steps, []reviewStage{{p: 1, backend: weir.StateHeap, build: buildGroupAgg(old)}})
		wantGroups := reviewPerGroup(want, outTypes)
		wantTable := materialize(t, want, outTypes, 1)
		var snaps []int
		for i := 3; i < len(steps); i += 7 {
			snaps = append(snaps, i)
		}
		for _, c := range []struct {
			name    string
			p       int
			backend string
			build   func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)
			final   bool
		}{
			{"value", 1, weir.StateHeap, buildGroupAgg(spec), false},
			{"value", 3, weir.StateHeap, buildGroupAgg(spec), false},
			{"general", 3, weir.StateHeap, buildGroupAgg(general), false},
			{"pebble", 1, weir.StatePebble, buildGroupAgg(spec), false},
			{"pebble", 3, weir.StatePebble, buildGroupAgg(spec), false},
			{"ttl", 3, weir.StateHeap, buildGroupAgg(ttl), true},
			{"minibatch", 3, weir.StateHeap, buildGroupAgg(mb), true},
			{"twophase", 3, weir.StateHeap, buildTwoPhase(mb), true},
		} {
			if c.final && seed%2 == 0 {
				continue // mini-batch: see reviewValueSteps
			}
			for _, withSnaps := range []bool{false, true} {
				name := fmt.Sprintf("seed%d/%s/p%d/snaps=%v", seed, c.name, c.p, withSnaps)
				t.Run(name, func(t *testing.T) {
					st := reviewStage{p: c.p, backend: c.backend, build: c.build}
					if withSnaps {
						st.snaps = snaps
					}
					log := runChain(t, steps, []reviewStage{st})
					if diff := cmp.Diff(wantTable, materialize(t, log, outTypes, 1)); diff != "" {
						t.Fatalf("final table (-want +got):\n%s", diff)
					}
					if c.final {
						return
					}
					if diff := cmp.Diff(wantGroups, reviewPerGroup(log, outTypes)); diff != "" {
						t.Fatalf("changelog per group (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestGroupValueReviewRestoreChains restores snapshots across every pair
// of layouts and configurations (group-value, the old heap layout, Pebble,
// TTL, mini-batch, two phases), with rescales 1 -> 3 -> 2, and snapshots
// holding groups in both layouts (a stage that touches only a few groups
// after a restore from the other layout).
func TestGroupValueReviewRestoreChains(t *testing.T) {
	spec := reviewValueSpec()
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	old := spec
	old.groupAggsLayout = true
	ttl := spec
	ttl.StateTTL = time.Hour
	mb := spec
	mb.MiniBatch = MiniBatch{Interval: time.Hour, Size: 2}
	type kind struct {
		name    string
		backend string
		build   func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)
		final   bool // only the final table is comparable
	}
	kinds := []kind{
		{"value", weir.StateHeap, buildGroupAgg(spec), false},
		{"sets", weir.StateHeap, buildGroupAgg(old), false},
		{"pebble", weir.StatePebble, buildGroupAgg(spec), false},
		{"ttl", weir.StateHeap, buildGroupAgg(ttl), true},
		{"minibatch", weir.StateHeap, buildGroupAgg(mb), true},
		{"twophase", weir.StatePebble, buildTwoPhase(mb), true},
		{"twophase-heap", weir.StateHeap, buildTwoPhase(mb), true},
	}
	steps := reviewValueSteps(11, 420, false)
	want := runChain(t, steps, []reviewStage{{p: 1, backend: weir.StateHeap, build: buildGroupAgg(old)}})
	wantGroups := reviewPerGroup(want, outTypes)
	wantTable := materialize(t, want, outTypes, 1)
	for _, a := range kinds {
		for _, b := range kinds {
			// a -> b with few rows (groups in both layouts) -> a.
			for _, cuts := range [][2]int{{150, 153}, {200, 320}} {
				t.Run(fmt.Sprintf("%s-%s-%s/%d-%d", a.name, b.name, a.name, cuts[0], cuts[1]), func(t *testing.T) {
					log := runChain(t, steps, []reviewStage{
						{p: 1, backend: a.backend, build: a.build, until: cuts[0]},
						{p: 3, backend: b.backend, build: b.build, until: cuts[1]},
						{p: 2, backend: a.backend, build: a.build},
					})
					if diff := cmp.Diff(wantTable, materialize(t, log, outTypes, 1)); diff != "" {
						t.Fatalf("final table (-want +got):\n%s", diff)
					}
					if a.final || b.final {
						return
					}
					if diff := cmp.Diff(wantGroups, reviewPerGroup(log, outTypes)); diff != "" {
						t.Fatalf("changelog per group (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// asyncReviewRow is the datagen row of sequence number s: every fifth a
// retraction of the row three before (an insert), else an insert into
// one of 12 groups, often of the previous row's group.
func asyncReviewRow(s int64) row.Row {
	if s%5 == 4 {
		return asyncReviewRow(s - 3).WithKind(row.Delete)
	}
	x := datagen.Mix(7, s)
	g := int64(x % 12)
	if x>>60 < 10 {
		g = int64(datagen.Mix(7, s-1) % 12) // a run of one group
	}
	v := row.Int(int64(x>>8%400) - 20)
	if x>>20%9 == 0 {
		v = row.Value{}
	}
	return row.Of(row.Str(fmt.Sprintf("k%d", g)), v, row.Str(fmt.Sprintf("s%d", x>>30%50)), row.Bool(x>>40%3 == 0), row.Bool(x>>44%2 == 0))
}

// TestGroupValueReviewAsyncCheckpoints runs the job for real (not
// stepwise), checkpointing every millisecond, so that the heap backend
// encodes snapshots on another goroutine while the task changes groups
// (copies handed out by Value, state.Copier): restoring any of the
// checkpoints and running the rest of the input must end every group
// the rest touches as the uninterrupted run does. Under -race, a value a
// snapshot encodes and the task changes is reported.
func TestGroupValueReviewAsyncCheckpoints(t *testing.T) {
	spec := reviewValueSpec()
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	const n = 60000
	run := func(dir, restore string) []row.Row {
		var mu sync.Mutex
		var out []row.Row
		env := weir.NewEnvironment(weir.Options{Parallelism: 2, StateBackend: weir.StateHeap, Restore: restore,
			Checkpoints: weir.CheckpointOptions{Interval: time.Millisecond, Dir: dir, Retained: 1000}})
		src := weir.FromSource[row.Row](env, datagen.New(asyncReviewRow, datagen.Options{Count: n, BatchSize: 64}), weir.WatermarkStrategy[row.Row]{}, "gen").SetParallelism(1).UID("gen")
		agg, err := GroupAggregate(src, spec)
		if err != nil {
			t.Fatal(err)
		}
		agg.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error {
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
			return nil
		})).UID("sink")
		if err := env.Execute(t.Context()); err != nil {
			t.Fatal(err)
		}
		return out
	}
	dir := t.TempDir()
	full := run(dir, "")
	want := map[string]string{}
	for _, r := range materialize(t, full, outTypes, 1) {
		want[r[len("+I["):strings.Index(r, ",")]] = r
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var chks []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata")); strings.HasPrefix(e.Name(), "chk-") && err == nil {
			chks = append(chks, filepath.Join(dir, e.Name()))
		}
	}
	t.Logf("%d checkpoints", len(chks))
	if len(chks) < 3 {
		t.Skipf("only %d checkpoints completed", len(chks))
	}
	step := max(1, len(chks)/12)
	for i := 0; i < len(chks); i += step {
		rest := run(t.TempDir(), chks[i])
		last := map[string]string{}
		for _, r := range rest {
			k := r.Fields[0].Str()
			switch r.Kind {
			case row.Insert, row.UpdateAfter:
				last[k] = row.FormatRow(r.WithKind(row.Insert), outTypes)
			case row.Delete:
				last[k] = ""
			}
		}
		for k, got := range last {
			if got != want[k] {
				t.Errorf("restored %s: group %s ends %q, want %q", filepath.Base(chks[i]), k, got, want[k])
			}
		}
	}
}

// TestGroupValueReviewOtherCalls: the calls whose accumulators keep lists
// or maps (FIRST_VALUE, LAST_VALUE, LISTAGG, COLLECT, ARRAY_AGG over
// retracting input) next to DISTINCT calls: "group-value" gives every
// group the changelog of the old heap layout, of Pebble and of the
// general path, with and without checkpoints between rows, and across
// restores from one layout into the other.
func TestGroupValueReviewOtherCalls(t *testing.T) {
	spec := reviewValueSpec()
	spec.Aggs = []AggCall{
		Call(FirstValue, 1),
		Call(LastValue, 2).WithFilter(3),
		Call(ListAgg, 2),
		Call(Collect, 1),
		Call(ArrayAgg, 2),
		Call(Count, 1).WithDistinct(),
		Call(ListAgg, 2).WithDistinct().WithFilter(4),
	}
	outTypes, err := spec.OutputTypes()
	if err != nil {
		t.Fatal(err)
	}
	old := spec
	old.groupAggsLayout = true
	general := spec
	general.generalPath = true
	steps := reviewValueSteps(21, 400, true)
	want := reviewPerGroup(runChain(t, steps, []reviewStage{{p: 1, backend: weir.StateHeap, build: buildGroupAgg(old)}}), outTypes)
	var snaps []int
	for i := 2; i < len(steps); i += 5 {
		snaps = append(snaps, i)
	}
	for name, stages := range map[string][]reviewStage{
		"value-p3":           {{p: 3, backend: weir.StateHeap, build: buildGroupAgg(spec), snaps: snaps}},
		"general-p3":         {{p: 3, backend: weir.StateHeap, build: buildGroupAgg(general)}},
		"pebble-p3":          {{p: 3, backend: weir.StatePebble, build: buildGroupAgg(spec)}},
		"value-sets-value":   {{p: 1, backend: weir.StateHeap, build: buildGroupAgg(spec), until: 130}, {p: 3, backend: weir.StateHeap, build: buildGroupAgg(old), until: 134}, {p: 2, backend: weir.StateHeap, build: buildGroupAgg(spec)}},
		"value-pebble-value": {{p: 1, backend: weir.StateHeap, build: buildGroupAgg(spec), until: 130}, {p: 3, backend: weir.StatePebble, build: buildGroupAgg(spec), until: 250}, {p: 2, backend: weir.StateHeap, build: buildGroupAgg(spec)}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(want, reviewPerGroup(runChain(t, steps, stages), outTypes)); diff != "" {
				t.Fatalf("changelog per group (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupValueReviewDeletedGroupsLeaveNoState: groups emptied by
// retractions (in "group-value", and after a restore from the old layout)
// leave no state: a snapshot restored afterwards ignores a retraction of
// each of them (the group has no state).
func TestGroupValueReviewDeletedGroupsLeaveNoState(t *testing.T) {
	spec := reviewValueSpec()
	old := spec
	old.groupAggsLayout = true
	var steps []step
	const groups = 60
	for i := range groups {
		for j := range 3 {
			steps = append(steps, step{r: row.Of(row.Str(fmt.Sprintf("g%d", i)), row.Int(int64(j)), row.Str("s"), row.Bool(true), row.Bool(j == 0)), ts: weir.NoTimestamp})
		}
	}
	for i := range groups {
		for j := range 3 {
			steps = append(steps, step{r: row.Of(row.Str(fmt.Sprintf("g%d", i)), row.Int(int64(j)), row.Str("s"), row.Bool(true), row.Bool(j == 0)).WithKind(row.Delete), ts: weir.NoTimestamp})
		}
	}
	for i := range groups {
		steps = append(steps, step{r: row.Of(row.Str(fmt.Sprintf("g%d", i)), row.Int(0), row.Str("s"), row.Bool(true), row.Bool(true)).WithKind(row.Delete), ts: weir.NoTimestamp})
	}
	for _, first := range []GroupAggSpec{spec, old} {
		t.Run(fmt.Sprintf("from-sets=%v", first.groupAggsLayout), func(t *testing.T) {
			// The inserts in first's layout, the retractions in
			// "group-value", then a restore that retracts once more.
			log := runChain(t, steps, []reviewStage{
				{p: 2, backend: weir.StateHeap, build: buildGroupAgg(first), until: groups * 3},
				{p: 2, backend: weir.StateHeap, build: buildGroupAgg(spec), until: groups * 6},
				{p: 3, backend: weir.StateHeap, build: func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					c := spec
					c.Counters = &Counters{}
					t.Cleanup(func() {
						if n := c.Counters.IgnoredRetractions.Load(); n != groups {
							t.Errorf("%d retractions ignored after the restore, want %d: a deleted group kept state", n, groups)
						}
					})
					return GroupAggregate(s, c)
				}},
			})
			_ = log
		})
	}
}
