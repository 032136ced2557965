package exec

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestRankArenaSameChangelog compares the append-only Top-N on the heap
// with its tops in the arena form (rank_arena.go) against the decoded
// rows (noArena), row for row per partition, with and without the row
// number (the row pushed out is then a -D decoded from the arena), with
// -U, with an offset (with and without the row number), and ordered by
// two columns (a nullable integer and a string); then across restores:
// each form's snapshot, taken in the middle, restored into the other form
// (and into Pebble) at another parallelism, must go on as the
// uninterrupted run did. The two forms write the same state bytes
// (rankTop's layout), so this is also the restore of a snapshot written
// before the arena form.
func TestRankArenaSameChangelog(t *testing.T) {
	log := rankArenaLog(41, 3000, 13)
	half := len(log) / 2
	types := []row.Type{row.String(), row.BigInt(), row.String(), row.BigInt(), row.String()}
	for _, v := range []struct {
		name string
		spec RankSpec
	}{
		{"top10-desc", RankSpec{RankStart: 1, RankEnd: 10, OutputRankNumber: true,
			OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}}}},
		{"top4-ub-two-keys", RankSpec{RankStart: 1, RankEnd: 4, OutputRankNumber: true, GenerateUpdateBefore: true,
			OrderBy: []OrderKey{{Col: 1}, {Col: 2, Desc: true}}}},
		{"offset-ub", RankSpec{RankStart: 3, RankEnd: 7, OutputRankNumber: true, GenerateUpdateBefore: true,
			OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}}}},
		{"no-rownum", RankSpec{RankStart: 1, RankEnd: 5,
			OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}, {Col: 2}}}},
		{"offset-no-rownum-ub", RankSpec{RankStart: 2, RankEnd: 5, GenerateUpdateBefore: true,
			OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}}}},
	} {
		outTypes := slices.Clone(types)
		if v.spec.OutputRankNumber {
			outTypes = append(outTypes, row.BigInt())
		}
		format := func(rows []row.Row) map[string][]string {
			got := map[string][]string{}
			for _, r := range rows {
				got[r.Fields[0].Str()] = append(got[r.Fields[0].Str()], row.FormatRow(r, outTypes))
			}
			return got
		}
		type form struct {
			name    string
			backend string
			noArena bool
		}
		arena := form{"arena", weir.StateHeap, false}
		rows := form{"rows", weir.StateHeap, true}
		pebbleForm := form{"pebble", weir.StatePebble, false}
		run := func(t *testing.T, f form, p int, snap *weirtest.Snapshot, rows []row.Row, takeSnap bool) ([]row.Row, *weirtest.Snapshot) {
			t.Helper()
			spec := v.spec
			spec.Types, spec.PartitionKeys, spec.noArena = types, []int{0}, f.noArena
			return runRankStage(t, spec, f.backend, p, snap, rows, takeSnap)
		}
		t.Run(v.name, func(t *testing.T) {
			want, _ := run(t, rows, 2, nil, log, false)
			if got, _ := run(t, arena, 2, nil, log, false); !cmp.Equal(format(want), format(got)) {
				t.Fatalf("arena form's changelog per partition differs from the decoded rows' (-want +got):\n%.3000s",
					cmp.Diff(format(want), format(got)))
			}
			for _, dir := range [][2]form{{arena, rows}, {rows, arena}, {arena, pebbleForm}, {pebbleForm, arena}, {arena, arena}} {
				before, snap := run(t, dir[0], 2, nil, log[:half], true)
				after, _ := run(t, dir[1], 3, snap, log[half:], false)
				if diff := cmp.Diff(format(want), format(append(before, after...))); diff != "" {
					t.Errorf("%s snapshot restored into %s: changelog per partition differs from the uninterrupted run's (-want +got):\n%.3000s",
						dir[0].name, dir[1].name, diff)
				}
			}
		})
	}
}

// TestRankArenaRestoresFixture restores rankTopFixture (written by main's
// code, from decoded rows) into the arena form, into the decoded rows and
// into Pebble, at parallelism 1 and 3, and runs the second half of the
// log: the fixture job's output before it (this code's, at parallelism
// 2, which TestRankArenaSameChangelog shows is the decoded rows') and the
// restored job's after it must be, per partition, the uninterrupted
// run's changelog. The restored arena job's snapshot then restores into
// the decoded rows and finishes the same way.
func TestRankArenaRestoresFixture(t *testing.T) {
	spec := rankTopFixtureSpec()
	log := rankTopFixtureLog()
	half := len(log) / 2
	outTypes := append(slices.Clone(spec.Types), row.BigInt())
	format := func(rows []row.Row) map[string][]string {
		got := map[string][]string{}
		for _, r := range rows {
			got[r.Fields[0].Str()] = append(got[r.Fields[0].Str()], row.FormatRow(r, outTypes))
		}
		return got
	}
	start := func(t *testing.T, h *weirtest.Harness, noArena bool) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		in := weirtest.NewInput[row.Row](h)
		s := spec
		s.noArena = noArena
		out, err := Rank(in.Stream(), s)
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out.UID("op"))
		h.Start(t)
		return in, o
	}
	push := func(t *testing.T, in *weirtest.Input[row.Row], rows []row.Row) {
		for _, r := range rows {
			if err := in.Push(row.Row{Kind: r.Kind, Fields: slices.Clone(r.Fields)}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := weirtest.New(fixtureOptions(t))
	in, o := start(t, h, false)
	push(t, in, log[:half])
	before := o.Take()
	push(t, in, log[half:])
	want := format(append(slices.Clone(before), o.Take()...))

	for _, v := range []struct {
		name    string
		backend string
		noArena bool
	}{{"arena", weir.StateHeap, false}, {"rows", weir.StateHeap, true}, {"pebble", weir.StatePebble, false}} {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p%d", v.name, p), func(t *testing.T) {
				h := restoreFixture(t, rankTopFixture, p, v.backend)
				in, o := start(t, h, v.noArena)
				push(t, in, log[half:half+300])
				mid := o.Take()
				snap, err := h.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				// The rest, once in this job and once in a job restoring
				// its snapshot into the decoded rows at parallelism 2.
				push(t, in, log[half+300:])
				got := append(append(slices.Clone(before), mid...), o.Take()...)
				if diff := cmp.Diff(want, format(got)); diff != "" {
					t.Fatalf("changelog per partition after the fixture's restore differs from the uninterrupted run's (-want +got):\n%.3000s", diff)
				}
				opts := fixtureOptions(t)
				opts.StateDir, opts.Pebble = t.TempDir(), pebble.New()
				h2 := weirtest.Restore(opts, snap)
				in2, o2 := start(t, h2, true)
				push(t, in2, log[half+300:])
				got = append(append(slices.Clone(before), mid...), o2.Take()...)
				if diff := cmp.Diff(want, format(got)); diff != "" {
					t.Fatalf("changelog per partition after a second restore differs from the uninterrupted run's (-want +got):\n%.3000s", diff)
				}
			})
		}
	}
}

// runRankStage runs spec's Rank over rows (each pushed with fields the
// operator does not own, as a Calc hands them over) on backend at
// parallelism p, restored from snap if set, and returns what it emitted
// and, if takeSnap, a snapshot taken after the rows.
func runRankStage(t *testing.T, spec RankSpec, backend string, p int, snap *weirtest.Snapshot, rows []row.Row, takeSnap bool) ([]row.Row, *weirtest.Snapshot) {
	t.Helper()
	opts := weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	var h *weirtest.Harness
	if snap != nil {
		h = weirtest.Restore(opts, *snap)
	} else {
		h = weirtest.New(opts)
	}
	in := weirtest.NewInput[row.Row](h)
	out, err := Rank(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out.UID("op"))
	h.Start(t)
	for _, r := range rows {
		if err := in.Push(row.Row{Kind: r.Kind, Fields: slices.Clone(r.Fields)}, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	if !takeSnap {
		return o.Take(), nil
	}
	s, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return o.Take(), &s
}
