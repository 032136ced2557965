package exec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// updatableHarnessTypes are the columns of Flink's TopNFunctionTestBase:
// (partition key, unique key, sort key).
var updatableHarnessTypes = []row.Type{row.String(), row.BigInt(), row.IntType()}

// updatableHarnessSpec is Flink's test setup: PARTITION BY f0 ORDER BY f2
// ASC, unique key (f0, f1), ROW_NUMBER 1..2.
func updatableHarnessSpec(ub, rankNumber bool) RankSpec {
	return RankSpec{Types: updatableHarnessTypes, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 2}},
		RankStart: 1, RankEnd: 2, OutputRankNumber: rankNumber, Updating: true, GenerateUpdateBefore: ub,
		UpdateKey: []int{0, 1}}
}

func hrow(k row.Kind, cat string, id int64, v int64) row.Row {
	r := row.Of(row.Str(cat), row.Int(id), row.Int(v))
	r.Kind = k
	return r
}

// runUpdatable pushes rows into Rank(spec) and returns the output
// printed.
func runUpdatable(t *testing.T, spec RankSpec, in []row.Row) []string {
	t.Helper()
	h := weirtest.New(weir.Options{Parallelism: 1})
	src := weirtest.NewInput[row.Row](h)
	out, err := Rank(src.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out)
	h.Start(t)
	for _, r := range in {
		if err := src.Push(r, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	types := slices.Clone(spec.Types)
	if spec.OutputRankNumber {
		types = append(types, row.BigInt())
	}
	var got []string
	for _, r := range o.Take() {
		got = append(got, row.FormatRow(r, types))
	}
	return got
}

// TestUpdatableTopNFunctionHarness ports the expectations of Flink's
// UpdatableTopNFunctionTest (testSortKeyChanges*: a Top-2 by f2 ASC whose
// rows' sort keys only decrease), with and without the row number and
// UPDATE_BEFORE rows.
func TestUpdatableTopNFunctionHarness(t *testing.T) {
	in := []row.Row{
		hrow(row.Insert, "book", 2, 19),
		hrow(row.Insert, "book", 3, 16),
		hrow(row.UpdateAfter, "book", 2, 11),
		hrow(row.UpdateAfter, "book", 3, 15),
		hrow(row.Insert, "book", 4, 2),
		hrow(row.UpdateAfter, "book", 2, 1),
	}
	cases := []struct {
		name           string
		ub, rankNumber bool
		want           []string
	}{
		{"testSortKeyChangesWhenOutputRankNumber", true, true, []string{
			"+I[book, 2, 19, 1]",
			"-U[book, 2, 19, 1]", "+U[book, 3, 16, 1]", "+I[book, 2, 19, 2]",
			"-U[book, 3, 16, 1]", "-U[book, 2, 19, 2]", "+U[book, 2, 11, 1]", "+U[book, 3, 16, 2]",
			"-U[book, 3, 16, 2]", "+U[book, 3, 15, 2]",
			"-U[book, 2, 11, 1]", "+U[book, 4, 2, 1]", "-U[book, 3, 15, 2]", "+U[book, 2, 11, 2]",
			"-U[book, 4, 2, 1]", "-U[book, 2, 11, 2]", "+U[book, 2, 1, 1]", "+U[book, 4, 2, 2]",
		}},
		{"testSortKeyChangesWhenOutputRankNumberAndNotGenerateUpdateBefore", false, true, []string{
			"+I[book, 2, 19, 1]",
			"+U[book, 3, 16, 1]", "+I[book, 2, 19, 2]",
			"+U[book, 2, 11, 1]", "+U[book, 3, 16, 2]",
			"+U[book, 3, 15, 2]",
			"+U[book, 4, 2, 1]", "+U[book, 2, 11, 2]",
			"+U[book, 2, 1, 1]", "+U[book, 4, 2, 2]",
		}},
		{"testSortKeyChangesWhenNotOutputRankNumber", true, false, []string{
			"+I[book, 2, 19]", "+I[book, 3, 16]",
			"-U[book, 2, 19]", "+U[book, 2, 11]",
			"-U[book, 3, 16]", "+U[book, 3, 15]",
			"-D[book, 3, 15]", "+I[book, 4, 2]",
			"-U[book, 2, 11]", "+U[book, 2, 1]",
		}},
		{"testSortKeyChangesWhenNotOutputRankNumberAndNotGenerateUpdateBefore", false, false, []string{
			"+I[book, 2, 19]", "+I[book, 3, 16]",
			"+U[book, 2, 11]", "+U[book, 3, 15]",
			"-D[book, 3, 15]", "+I[book, 4, 2]",
			"+U[book, 2, 1]",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runUpdatable(t, updatableHarnessSpec(c.ub, c.rankNumber), in)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestUpdatableTopNUpdateKeepsTiePlace: a row updated without a change of
// its sort key keeps its place among its ties (+U at its rank), where the
// retractable Top-N retracts it and puts it after them.
func TestUpdatableTopNUpdateKeepsTiePlace(t *testing.T) {
	in := []row.Row{
		hrow(row.Insert, "book", 1, 5),
		hrow(row.Insert, "book", 2, 5),
		hrow(row.UpdateAfter, "book", 1, 5),
	}
	spec := updatableHarnessSpec(true, true)
	spec.RankEnd = 3
	got := runUpdatable(t, spec, in)
	want := []string{"+I[book, 1, 5, 1]", "+I[book, 2, 5, 2]", "-U[book, 1, 5, 1]", "+U[book, 1, 5, 1]"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	// A -U or -D row is refused: the planner gives this operator +I and
	// +U rows only.
	h := weirtest.New(weir.Options{Parallelism: 1})
	src := weirtest.NewInput[row.Row](h)
	out, err := Rank(src.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, out)
	h.Start(t)
	err = src.Push(hrow(row.Insert, "book", 1, 5), weir.NoTimestamp)
	if err == nil {
		err = src.Push(hrow(row.Delete, "book", 1, 5), weir.NoTimestamp)
	}
	if err == nil || !strings.Contains(err.Error(), "UpdatableTopN") {
		t.Fatalf("a -D row: error %v, want one naming UpdatableTopN", err)
	}
}

// TestUpdatableTopNRestoreOfRetractableStateFails: a snapshot of the
// retractable Top-N restored into the updatable one (same uid: the plan
// changed strategy) fails with an error naming the operator and both
// strategies, instead of starting from an empty Top-N.
func TestUpdatableTopNRestoreOfRetractableStateFails(t *testing.T) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		t.Run(backend, func(t *testing.T) {
			opts := weir.Options{Parallelism: 1, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			old := updatableHarnessSpec(true, true)
			old.UpdateKey = nil
			h := weirtest.New(opts)
			src := weirtest.NewInput[row.Row](h)
			out, err := Rank(src.Stream(), old)
			if err != nil {
				t.Fatal(err)
			}
			weirtest.Capture(h, out.UID("rank"))
			h.Start(t)
			if err := src.Push(hrow(row.Insert, "book", 1, 5), weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h2 := weirtest.Restore(opts, snap)
			src2 := weirtest.NewInput[row.Row](h2)
			out2, err := Rank(src2.Stream(), updatableHarnessSpec(true, true))
			if err != nil {
				t.Fatal(err)
			}
			weirtest.Capture(h2, out2.UID("rank"))
			err = h2.StartErr()
			if err == nil {
				err = src2.Push(hrow(row.UpdateAfter, "book", 1, 4), weir.NoTimestamp)
			}
			if !errors.Is(err, errRankLayout) || !strings.Contains(err.Error(), "UpdatableTopN") || !strings.Contains(err.Error(), "RetractStrategy") {
				t.Fatalf("restore of retractable state: error %v, want errRankLayout naming UpdatableTopN and RetractStrategy", err)
			}
		})
	}
}

// monotonicLog is an upsert changelog of (cat, id, v) rows whose v only
// grows per (cat, id), and the retract changelog of the same changes
// (each +U preceded by -U of the previous row). Every v is distinct, so
// that the top rows do not depend on how ties are ordered.
func monotonicLog(draw func(n int) int, n int) (upsert, retract []row.Row) {
	cur := map[[2]int64]int64{}
	for i := range n {
		cat := int64(draw(3))
		id := int64(draw(12))
		k := [2]int64{cat, id}
		v := (int64(i)+1)*100 + id // distinct, grows with i
		r := row.Of(row.Str(fmt.Sprintf("c%d", cat)), row.Int(id), row.Int(v))
		if old, ok := cur[k]; ok {
			prev := row.Of(row.Str(fmt.Sprintf("c%d", cat)), row.Int(id), row.Int(old))
			upsert = append(upsert, r.WithKind(row.UpdateAfter))
			retract = append(retract, prev.WithKind(row.UpdateBefore), r.WithKind(row.UpdateAfter))
		} else {
			upsert = append(upsert, r)
			retract = append(retract, r)
		}
		cur[k] = v
	}
	return upsert, retract
}

// TestUpdatableTopNSameAnswer: on random monotonic upsert input, the
// updatable Top-N's final table equals the retractable Top-N's on the same
// changes (with -U rows), for each output variant (row number or not, an
// offset, with or without UPDATE_BEFORE), across a checkpoint and restore
// at other parallelisms and backends.
func TestUpdatableTopNSameAnswer(t *testing.T) {
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	variants := []struct {
		start, end int64
		number, ub bool
	}{{1, 3, true, true}, {1, 3, false, true}, {1, 3, false, false}, {2, 4, true, false}, {2, 3, false, true}}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 120).Draw(rt, "n")
		seed := rapid.Uint64().Draw(rt, "seed")
		rng := rand.New(rand.NewPCG(seed, 1))
		upsert, retract := monotonicLog(rng.IntN, n)
		v := variants[rapid.IntRange(0, len(variants)-1).Draw(rt, "variant")]
		cfg := joinSameAnswerConfigs[rapid.IntRange(0, len(joinSameAnswerConfigs)-1).Draw(rt, "config")]
		spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 2, Desc: true, NullsLast: true}},
			RankStart: v.start, RankEnd: v.end, OutputRankNumber: v.number, Updating: true, GenerateUpdateBefore: v.ub}
		outTypes := slices.Clone(types)
		if v.number {
			outTypes = append(outTypes, row.BigInt())
		}
		steps := func(rs []row.Row) []joinFeedStep {
			out := make([]joinFeedStep, len(rs))
			for i := range rs {
				out[i] = joinFeedStep{r: &rs[i]}
			}
			return out
		}
		// Without UPDATE_BEFORE rows the output is an upsert stream: keyed
		// by the unique key, or with the row number by partition and rank.
		var key []int
		if !v.ub {
			key = []int{0, 1}
			if v.number {
				key = []int{0, 3}
			}
		}
		tt := t
		want := keyedSameAnswerRun(tt, 1, outTypes, key, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Rank(s[0], spec)
		}, steps(retract), 1, weir.StateHeap, 1, weir.StateHeap).Sorted()
		fast := spec
		fast.UpdateKey = []int{0, 1}
		got := keyedSameAnswerRun(tt, 1, outTypes, key, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Rank(s[0], fast)
		}, steps(upsert), cfg.p1, cfg.b1, cfg.p2, cfg.b2).Sorted()
		if d := cmp.Diff(want, got); d != "" {
			rt.Fatalf("%+v %+v: updatable final table differs from the retractable one (-want +got):\n%s", v, cfg, d)
		}
		// The retractable answer is the batch one.
		if !v.number && v.start == 1 {
			final := map[string][]int64{}
			last := map[[2]string]int64{}
			for _, r := range upsert {
				last[[2]string{r.Fields[0].Str(), fmt.Sprint(r.Fields[1].Int())}] = r.Fields[2].Int()
			}
			var rows []string
			for k, val := range last {
				final[k[0]] = append(final[k[0]], val)
			}
			for cat, vals := range final {
				sort.Slice(vals, func(i, j int) bool { return vals[i] > vals[j] })
				for i := 0; i < len(vals) && int64(i) < v.end; i++ {
					rows = append(rows, fmt.Sprintf("+I[%s, %d, %d]", cat, vals[i]%100, vals[i]))
				}
			}
			sort.Strings(rows)
			if len(rows) == 0 {
				rows = nil
			}
			if d := cmp.Diff(rows, want); d != "" {
				rt.Fatalf("retractable final table is not the batch answer (-want +got):\n%s", d)
			}
		}
	})
}
