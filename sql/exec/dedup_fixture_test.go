package exec

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// dedupRowFixture is a savepoint (heap backend, parallelism 2) of
// dedupFixtureJob after the first half of dedupFixtureSteps, written by
// fc3f498, whose event-time deduplication without -U kept each key's whole
// row (its encoding, value state "dedup-row"). Rewrite it (only on
// purpose: it is the old layout that later code must keep restoring) with
// WEIR_WRITE_DEDUP_ROW_FIXTURE=1 go test ./sql/exec/ -run TestDedupRowFixture.
const dedupRowFixture = "testdata/fixtures/dedup-row-fc3f498"

// dedupFixtureTypes are the columns of dedupFixtureSteps: key, payload,
// rowtime.
var dedupFixtureTypes = []row.Type{row.BigInt(), row.String(), row.TimestampType(6)}

// dedupFixtureSpec is an event-time deduplication of dedupFixtureSteps
// that emits no -U (keep-last or keep-first).
func dedupFixtureSpec(keepLast bool) DedupSpec {
	return DedupSpec{Types: dedupFixtureTypes, Keys: []int{0}, KeepLast: keepLast, RowTime: true, TimeCol: 2,
		GenerateInsert: true}
}

// dedupFixtureJob deduplicates its input twice, keeping the last and the
// first row of each key.
func dedupFixtureJob(in weir.Stream[row.Row], last, first DedupSpec) (weir.Stream[row.Row], weir.Stream[row.Row], error) {
	l, err := Deduplicate(in, last)
	if err != nil {
		return weir.Stream[row.Row]{}, weir.Stream[row.Row]{}, err
	}
	f, err := Deduplicate(in, first)
	return l, f, err
}

// dedupFixtureSteps are 800 rows of 40 keys whose rowtimes rise, tie (same
// millisecond, and same millisecond with other nanoseconds), go back and
// are sometimes NULL, with a payload string.
func dedupFixtureSteps() []step {
	rng := rand.New(rand.NewPCG(21, 4))
	var steps []step
	ms := int64(1_700_000_000_000)
	for i := range 800 {
		ms += int64(rng.IntN(5)) - 1
		tv := row.Timestamp(ms, int32(rng.IntN(3))*1000)
		if rng.IntN(50) == 0 {
			tv = row.Null()
		}
		r := row.Of(row.Int(int64(rng.IntN(40))), row.Str(fmt.Sprintf("payload-%d-%d", i, rng.IntN(1000))), tv)
		steps = append(steps, step{r: r, ts: ms})
	}
	return steps
}

// TestDedupRowFixture writes dedupRowFixture when asked to, and otherwise
// checks that it is there.
func TestDedupRowFixture(t *testing.T) {
	if !writingFixture(t, "WEIR_WRITE_DEDUP_ROW_FIXTURE", dedupRowFixture) {
		return
	}
	steps := dedupFixtureSteps()
	h := weirtest.New(fixtureOptions(t))
	in := weirtest.NewInput[row.Row](h)
	l, f, err := dedupFixtureJob(in.Stream(), dedupFixtureSpec(true), dedupFixtureSpec(false))
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, l)
	weirtest.Capture(h, f)
	h.Start(t)
	for _, st := range steps[:len(steps)/2] {
		if err := in.Push(st.r, st.ts); err != nil {
			t.Fatal(err)
		}
	}
	writeFixture(t, h, dedupRowFixture)
}

// dedupFixtureRun is a harness running dedupFixtureJob, started.
type dedupFixtureRun struct {
	h           *weirtest.Harness
	in          *weirtest.Input[row.Row]
	last, first *weirtest.Output[row.Row]
}

func startDedupFixtureJob(t *testing.T, h *weirtest.Harness, last, first DedupSpec) dedupFixtureRun {
	t.Helper()
	in := weirtest.NewInput[row.Row](h)
	l, f, err := dedupFixtureJob(in.Stream(), last, first)
	if err != nil {
		t.Fatal(err)
	}
	r := dedupFixtureRun{h: h, in: in, last: weirtest.Capture(h, l), first: weirtest.Capture(h, f)}
	h.Start(t)
	return r
}

func (r dedupFixtureRun) push(t *testing.T, steps []step) {
	t.Helper()
	for _, st := range steps {
		if err := r.in.Push(st.r, st.ts); err != nil {
			t.Fatal(err)
		}
	}
}

// dedupSuffix returns, per key, the rows of all that come after those of
// prefix (prefix's rows per key are a prefix of all's: an event-time
// deduplication without mini-batch emits at once, key by key in input
// order).
func dedupSuffix(t *testing.T, all, prefix map[int64][]string) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	for k, rows := range all {
		p := prefix[k]
		if len(p) > len(rows) || !slices.Equal(rows[:len(p)], p) {
			t.Fatalf("key %d: the first half's rows %v are not a prefix of the whole run's %v", k, p, rows)
		}
		if len(rows) > len(p) {
			out[k] = rows[len(p):]
		}
	}
	return out
}

// TestDedupRestoresRowLayout restores dedupRowFixture (each key's whole
// row, written by fc3f498) into compact deduplications (which keep only
// the rowtime: restored keys move on their first row) and into ones that
// emit -U (which keep the rows, as before), on heap and Pebble at
// parallelism 1 and 3; after the second half of the steps, every key's
// rows since the savepoint must be those of an uninterrupted run (-U rows
// included: the row they retract is the restored one). The compact jobs
// are snapshotted after a quarter more (keys in both layouts) and
// restored on the other backend at parallelism 2 to finish the same way.
func TestDedupRestoresRowLayout(t *testing.T) {
	steps := dedupFixtureSteps()
	half, threeq := len(steps)/2, 3*len(steps)/4
	fixture, err := filepath.Abs(dedupRowFixture)
	if err != nil {
		t.Fatal(err)
	}
	perKeyAll := func(rows []row.Row) map[int64][]string {
		m := map[int64][]string{}
		for _, r := range rows {
			k := r.Fields[0].Int()
			m[k] = append(m[k], r.Kind.String()+row.FormatRow(r, dedupFixtureTypes))
		}
		return m
	}
	for _, ub := range []bool{false, true} {
		last, first := dedupFixtureSpec(true), dedupFixtureSpec(false)
		last.GenerateUpdateBefore, first.GenerateUpdateBefore = ub, ub
		// The uninterrupted runs: the first half alone, and all steps.
		ref := func(steps []step) (map[int64][]string, map[int64][]string) {
			r := startDedupFixtureJob(t, weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t)), last, first)
			r.push(t, steps)
			if err := r.in.End(); err != nil {
				t.Fatal(err)
			}
			return perKeyAll(r.last.Values()), perKeyAll(r.first.Values())
		}
		l1, f1 := ref(steps[:half])
		lAll, fAll := ref(steps)
		wantLast, wantFirst := dedupSuffix(t, lAll, l1), dedupSuffix(t, fAll, f1)
		if len(wantLast) < 20 || len(wantFirst) < 3 {
			t.Fatalf("the second half changes %d keys' last rows and %d keys' first rows", len(wantLast), len(wantFirst))
		}
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			for _, par := range []int{1, 3} {
				t.Run(fmt.Sprintf("ub=%v/%s/p%d", ub, backend, par), func(t *testing.T) {
					r := startDedupFixtureJob(t, restoreFixture(t, fixture, par, backend), last, first)
					var gotL, gotF []row.Row
					if ub {
						r.push(t, steps[half:])
					} else {
						r.push(t, steps[half:threeq])
						snap, err := r.h.Snapshot()
						if err != nil {
							t.Fatal(err)
						}
						gotL, gotF = r.last.Values(), r.first.Values()
						other := weir.StatePebble
						if backend == other {
							other = weir.StateHeap
						}
						r = startDedupFixtureJob(t, weirtest.Restore(config{p: 2, backend: other}.options(t), snap), last, first)
						r.push(t, steps[threeq:])
					}
					if err := r.in.End(); err != nil {
						t.Fatal(err)
					}
					gotL, gotF = append(gotL, r.last.Values()...), append(gotF, r.first.Values()...)
					if diff := cmp.Diff(wantLast, perKeyAll(gotL)); diff != "" {
						t.Errorf("keep-last rows per key after the restore (-uninterrupted +restored):\n%s", diff)
					}
					if diff := cmp.Diff(wantFirst, perKeyAll(gotF)); diff != "" {
						t.Errorf("keep-first rows per key after the restore (-uninterrupted +restored):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestDedupRefusesRowtimeOnlyState: a compact deduplication's savepoint
// (rowtimes only) restored into a plan that emits -U rows, which needs
// the rows, fails the job with an error that says so, instead of emitting
// +I rows for keys that have one (no -U could retract the old row).
func TestDedupRefusesRowtimeOnlyState(t *testing.T) {
	steps := dedupFixtureSteps()
	compactL, compactF := dedupFixtureSpec(true), dedupFixtureSpec(false)
	r := startDedupFixtureJob(t, weirtest.New(config{p: 2, backend: weir.StateHeap}.options(t)), compactL, compactF)
	r.push(t, steps[:100])
	snap, err := r.h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		ubL, ubF := compactL, compactF
		ubL.GenerateUpdateBefore, ubF.GenerateUpdateBefore = true, true
		r := startDedupFixtureJob(t, weirtest.Restore(config{p: 1, backend: backend}.options(t), snap), ubL, ubF)
		var perr error
		for _, st := range steps[100:] {
			if perr = r.in.Push(st.r, st.ts); perr != nil {
				break
			}
		}
		if perr == nil {
			perr = r.in.End()
		}
		if perr == nil || !strings.Contains(perr.Error(), "holds only the rowtime") {
			t.Fatalf("%s: restoring rowtimes into a plan that emits -U: error %v", backend, perr)
		}
		if n := len(r.last.Values()) + len(r.first.Values()); n != 0 {
			t.Fatalf("%s: %d rows emitted before the refusal", backend, n)
		}
	}
}
