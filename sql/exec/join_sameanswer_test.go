package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// sameAnswerRun feeds inputs (per input: rows with timestamps; a nil row
// is a watermark at ts on every input) to a pipeline on a harness at
// parallelism p1 and backend b1, checkpoints after half of the steps,
// restores into a job at p2 and backend b2, feeds the rest, and returns
// the materialised output.
type joinFeedStep struct {
	input int
	r     *row.Row
	ts    int64
}

func joinSameAnswerRun(t *testing.T, nIn int, outTypes []row.Type, build func([]weir.Stream[row.Row]) (weir.Stream[row.Row], error),
	steps []joinFeedStep, p1 int, b1 string, p2 int, b2 string) *result.Table {
	t.Helper()
	return keyedSameAnswerRun(t, nIn, outTypes, nil, build, steps, p1, b1, p2, b2)
}

// keyedSameAnswerRun is joinSameAnswerRun materialising the output by
// upsert on key (nil: by retract).
func keyedSameAnswerRun(t *testing.T, nIn int, outTypes []row.Type, key []int, build func([]weir.Stream[row.Row]) (weir.Stream[row.Row], error),
	steps []joinFeedStep, p1 int, b1 string, p2 int, b2 string) *result.Table {
	t.Helper()
	chk := t.TempDir()
	opts := func(p int, b string) weir.Options {
		return weir.Options{Parallelism: p, StateBackend: b, Pebble: pebble.New(), StateDir: t.TempDir(),
			Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: chk}}
	}
	table := result.NewTable(outTypes, key)
	start := func(h *weirtest.Harness) ([]*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		ins := make([]*weirtest.Input[row.Row], nIn)
		ss := make([]weir.Stream[row.Row], nIn)
		for i := range ins {
			ins[i] = weirtest.NewInput[row.Row](h)
			ss[i] = ins[i].Stream()
		}
		out, err := build(ss)
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out.UID("op"))
		h.Start(t)
		return ins, o
	}
	feed := func(ins []*weirtest.Input[row.Row], o *weirtest.Output[row.Row], steps []joinFeedStep) {
		for _, s := range steps {
			var err error
			if s.r == nil {
				for _, in := range ins {
					if err = in.Watermark(s.ts); err != nil {
						break
					}
				}
			} else {
				err = ins[s.input].Push(*s.r, s.ts)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range o.Take() {
			if err := table.Apply(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	h1 := weirtest.New(opts(p1, b1))
	ins, o := start(h1)
	half := len(steps) / 2
	feed(ins, o, steps[:half])
	snap, err := h1.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h2 := weirtest.Restore(opts(p2, b2), snap)
	ins, o = start(h2)
	feed(ins, o, steps[half:])
	return table
}

type joinSameAnswerConfig struct {
	p1 int
	b1 string
	p2 int
	b2 string
}

var joinSameAnswerConfigs = []joinSameAnswerConfig{
	{1, weir.StateHeap, 1, weir.StateHeap},
	{4, weir.StatePebble, 4, weir.StatePebble},
	{1, weir.StateHeap, 4, weir.StatePebble},
	{4, weir.StatePebble, 1, weir.StateHeap},
}

func checkJoinSameAnswer(t *testing.T, want []string, run func(c joinSameAnswerConfig) *result.Table) {
	t.Helper()
	for _, c := range joinSameAnswerConfigs {
		got := run(c).Sorted()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("p=%d %s -> p=%d %s: final table differs from the batch answer (-want +got):\n%s", c.p1, c.b1, c.p2, c.b2, diff)
		}
	}
}

// randomChangelog returns inserts and retractions of rows made by mk, with
// the final multiset of rows.
func randomJoinChangelog(rng *rand.Rand, n int, mk func() row.Row) (log []row.Row, final []row.Row) {
	var live []row.Row
	for range n {
		if len(live) > 0 && rng.IntN(4) == 0 {
			i := rng.IntN(len(live))
			log = append(log, live[i].WithKind(row.Delete))
			live = slices.Delete(live, i, i+1)
			continue
		}
		r := mk()
		live = append(live, r)
		log = append(log, r)
	}
	return log, live
}

func formatSortedRows(rows []row.Row, types []row.Type) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = row.FormatRow(r, types)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// TestRegularJoinSameAnswer: a FULL OUTER JOIN with a residual condition
// over random changelogs gives, at every parallelism and backend and across
// a checkpoint and restore, the batch FULL OUTER JOIN of the final rows.
func TestRegularJoinSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := []row.Type{row.BigInt(), row.BigInt()}
	mk := func() row.Row {
		k := row.Int(int64(rng.IntN(6)))
		if rng.IntN(10) == 0 {
			k = row.Null()
		}
		return row.Of(k, row.Int(int64(rng.IntN(20))))
	}
	llog, lfinal := randomJoinChangelog(rng, 300, mk)
	rlog, rfinal := randomJoinChangelog(rng, 300, mk)
	cond := func(l, r []row.Value) (bool, error) { return l[1].Int() <= r[1].Int()+5, nil }
	var steps []joinFeedStep
	for i := 0; i < len(llog) || i < len(rlog); i++ {
		if i < len(llog) {
			steps = append(steps, joinFeedStep{input: 0, r: &llog[i]})
		}
		if i < len(rlog) {
			steps = append(steps, joinFeedStep{input: 1, r: &rlog[i]})
		}
	}
	// The batch answer.
	outTypes := append(slices.Clone(types), types...)
	var want []row.Row
	rMatched := make([]bool, len(rfinal))
	for _, l := range lfinal {
		matched := false
		for j, r := range rfinal {
			if !l.Fields[0].IsNull() && !r.Fields[0].IsNull() && l.Fields[0].Int() == r.Fields[0].Int() && l.Fields[1].Int() <= r.Fields[1].Int()+5 {
				want = append(want, joinRows(row.Insert, l.Fields, r.Fields))
				matched, rMatched[j] = true, true
			}
		}
		if !matched {
			want = append(want, joinRows(row.Insert, l.Fields, make([]row.Value, 2)))
		}
	}
	for j, r := range rfinal {
		if !rMatched[j] {
			want = append(want, joinRows(row.Insert, make([]row.Value, 2), r.Fields))
		}
	}
	spec := JoinSpec{Type: FullJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0}, Condition: cond}
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return RegularJoin(s[0], s[1], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})

	// SEMI and ANTI over the same changelogs.
	var semi, anti []row.Row
	for _, l := range lfinal {
		has := false
		for _, r := range rfinal {
			if !l.Fields[0].IsNull() && !r.Fields[0].IsNull() && l.Fields[0].Int() == r.Fields[0].Int() && l.Fields[1].Int() <= r.Fields[1].Int()+5 {
				has = true
			}
		}
		if has {
			semi = append(semi, l)
		} else {
			anti = append(anti, l)
		}
	}
	for _, tc := range []struct {
		jt   JoinType
		want []row.Row
	}{{SemiJoin, semi}, {AntiJoin, anti}} {
		spec := spec
		spec.Type = tc.jt
		checkJoinSameAnswer(t, formatSortedRows(tc.want, types), func(c joinSameAnswerConfig) *result.Table {
			return joinSameAnswerRun(t, 2, types, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return RegularJoin(s[0], s[1], spec)
			}, steps, c.p1, c.b1, c.p2, c.b2)
		})
	}
}

// TestRankSameAnswer: a retractable Top-3 with row numbers ends with the
// batch Top-3 of the final rows (sort keys are distinct, so the answer is
// unique).
func TestRankSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	types := []row.Type{row.String(), row.BigInt()}
	perm := rng.Perm(1000)
	next := 0
	mk := func() row.Row {
		v := perm[next]
		next++
		return row.Of(row.Str(fmt.Sprintf("c%d", rng.IntN(4))), row.Int(int64(v)))
	}
	log, final := randomJoinChangelog(rng, 400, mk)
	var steps []joinFeedStep
	for i := range log {
		steps = append(steps, joinFeedStep{r: &log[i]})
	}
	byCat := map[string][]row.Row{}
	for _, r := range final {
		byCat[r.Fields[0].Str()] = append(byCat[r.Fields[0].Str()], r)
	}
	outTypes := append(slices.Clone(types), row.BigInt())
	var want []row.Row
	for _, rs := range byCat {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Fields[1].Int() > rs[j].Fields[1].Int() })
		for i := 0; i < len(rs) && i < 3; i++ {
			want = append(want, row.Of(rs[i].Fields[0], rs[i].Fields[1], row.Int(int64(i+1))))
		}
	}
	spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}},
		RankStart: 1, RankEnd: 3, OutputRankNumber: true, Updating: true, GenerateUpdateBefore: true}
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 1, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Rank(s[0], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})
	// The append-only variant over the inserts only.
	var ins []joinFeedStep
	byCat = map[string][]row.Row{}
	for i := range log {
		if log[i].Kind == row.Insert {
			ins = append(ins, joinFeedStep{r: &log[i]})
			byCat[log[i].Fields[0].Str()] = append(byCat[log[i].Fields[0].Str()], log[i])
		}
	}
	want = want[:0]
	for _, rs := range byCat {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Fields[1].Int() > rs[j].Fields[1].Int() })
		for i := 0; i < len(rs) && i < 3; i++ {
			want = append(want, row.Of(rs[i].Fields[0], rs[i].Fields[1], row.Int(int64(i+1))))
		}
	}
	spec.Updating = false
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 1, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Rank(s[0], spec)
		}, ins, c.p1, c.b1, c.p2, c.b2)
	})
	// A snapshot of the append-only input taken in the retractable layout
	// (before append-only inputs had their own) restores into the
	// append-only one.
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		builds := 0
		return joinSameAnswerRun(t, 1, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			builds++
			spec := spec
			spec.retractable = builds == 1
			return Rank(s[0], spec)
		}, ins, c.p1, c.b1, c.p2, c.b2)
	})
}

// TestIntervalJoinSameAnswer: an inner event-time interval join of rows
// that are never late ends with every pair within the interval.
func TestIntervalJoinSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	types := []row.Type{row.BigInt(), row.TimestampType(3)}
	var steps []joinFeedStep
	var lefts, rights []row.Row
	ts := int64(100_000)
	for i := range 400 {
		ts += int64(rng.IntN(300))
		r := row.Of(row.Int(int64(rng.IntN(5))), row.Timestamp(ts, 0))
		side := rng.IntN(2)
		if side == 0 {
			lefts = append(lefts, r)
		} else {
			rights = append(rights, r)
		}
		steps = append(steps, joinFeedStep{input: side, r: &r, ts: ts})
		if i%20 == 19 {
			steps = append(steps, joinFeedStep{ts: ts - 1})
		}
	}
	lower, upper := 2*time.Second, time.Second
	var want []row.Row
	for _, l := range lefts {
		for _, r := range rights {
			lt, rt := l.Fields[1].Millis(), r.Fields[1].Millis()
			if l.Fields[0].Int() == r.Fields[0].Int() && lt >= rt-lower.Milliseconds() && lt <= rt+upper.Milliseconds() {
				want = append(want, joinRows(row.Insert, l.Fields, r.Fields))
			}
		}
	}
	outTypes := append(slices.Clone(types), types...)
	spec := IntervalJoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		LeftTime: 1, RightTime: 1, LowerBound: lower, UpperBound: upper}
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return IntervalJoin(s[0], s[1], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})
}

// TestDedupSameAnswer: keep-last deduplication ends with the last row of
// every key.
func TestDedupSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	types := []row.Type{row.String(), row.BigInt()}
	last := map[string]row.Row{}
	var steps []joinFeedStep
	for i := range 300 {
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(10))), row.Int(int64(i)))
		last[r.Fields[0].Str()] = r
		steps = append(steps, joinFeedStep{r: &r})
	}
	var want []row.Row
	for _, r := range last {
		want = append(want, r)
	}
	spec := DedupSpec{Types: types, Keys: []int{0}, KeepLast: true, GenerateUpdateBefore: true, GenerateInsert: true}
	checkJoinSameAnswer(t, formatSortedRows(want, types), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 1, types, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Deduplicate(s[0], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})
}

// TestIntervalJoinWatermarkDelay: the event-time interval join holds its
// output watermark back by the larger side of the interval (Flink's
// KeyedCoProcessOperatorWithWatermarkDelay); the processing-time one does
// not touch watermarks.
func TestIntervalJoinWatermarkDelay(t *testing.T) {
	types := []row.Type{row.BigInt(), row.TimestampType(3)}
	for _, proc := range []bool{false, true} {
		h := weirtest.New(weir.Options{})
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		out, err := IntervalJoin(l.Stream(), r.Stream(), IntervalJoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types,
			LeftTime: 1, RightTime: 1, LowerBound: 10 * time.Second, UpperBound: 5 * time.Second, ProcTime: proc})
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out)
		h.Start(t)
		for _, in := range []*weirtest.Input[row.Row]{l, r} {
			if err := in.Watermark(100_000); err != nil {
				t.Fatal(err)
			}
		}
		wms := o.Watermarks()
		want := int64(90_000)
		if proc {
			want = 100_000
		}
		if len(wms) == 0 || wms[len(wms)-1] != want {
			t.Errorf("proctime=%v: output watermarks %v, want the last %d", proc, wms, want)
		}
	}
}

// TestWindowOpsSameAnswer: window join (FULL) and window Top-N over rows
// of 1-second tumbling windows that are never late end with the batch
// answers.
func TestWindowOpsSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	types := []row.Type{row.TimestampType(3), row.TimestampType(3), row.BigInt(), row.BigInt()}
	var steps []joinFeedStep
	var sides [2][]row.Row
	ts := int64(0)
	for i := range 400 {
		ts += int64(rng.IntN(40))
		start := ts - ts%1000
		r := row.Of(row.Timestamp(start, 0), row.Timestamp(start+1000, 0), row.Int(int64(rng.IntN(4))), row.Int(int64(i)))
		side := rng.IntN(2)
		sides[side] = append(sides[side], r)
		steps = append(steps, joinFeedStep{input: side, r: &r, ts: ts})
		if i%25 == 24 {
			steps = append(steps, joinFeedStep{ts: ts - 1})
		}
	}
	steps = append(steps, joinFeedStep{ts: ts + 10_000})
	sameWindowKey := func(l, r row.Row) bool {
		return l.Fields[0].Millis() == r.Fields[0].Millis() && l.Fields[2].Int() == r.Fields[2].Int()
	}
	var want []row.Row
	rMatched := make([]bool, len(sides[1]))
	for _, l := range sides[0] {
		matched := false
		for j, r := range sides[1] {
			if sameWindowKey(l, r) {
				want = append(want, joinRows(row.Insert, l.Fields, r.Fields))
				matched, rMatched[j] = true, true
			}
		}
		if !matched {
			want = append(want, joinRows(row.Insert, l.Fields, make([]row.Value, 4)))
		}
	}
	for j, r := range sides[1] {
		if !rMatched[j] {
			want = append(want, joinRows(row.Insert, make([]row.Value, 4), r.Fields))
		}
	}
	outTypes := append(slices.Clone(types), types...)
	jspec := WindowJoinSpec{Type: FullJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{2}, RightKeys: []int{2},
		LeftWindowStart: 0, LeftWindowEnd: 1, RightWindowStart: 0, RightWindowEnd: 1}
	checkJoinSameAnswer(t, formatSortedRows(want, outTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return WindowJoin(s[0], s[1], jspec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})

	// Window Top-2 of the left rows per window and key by value DESC.
	groups := map[[2]int64][]row.Row{}
	var lsteps []joinFeedStep
	for _, s := range steps {
		if s.r == nil || s.input == 0 {
			lsteps = append(lsteps, joinFeedStep{r: s.r, ts: s.ts})
		}
		if s.r != nil && s.input == 0 {
			k := [2]int64{s.r.Fields[0].Millis(), s.r.Fields[2].Int()}
			groups[k] = append(groups[k], *s.r)
		}
	}
	rankTypes := append(slices.Clone(types), row.BigInt())
	want = want[:0]
	for _, rs := range groups {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Fields[3].Int() > rs[j].Fields[3].Int() })
		for i := 0; i < len(rs) && i < 2; i++ {
			want = append(want, row.Of(append(slices.Clone(rs[i].Fields), row.Int(int64(i+1)))...))
		}
	}
	rspec := WindowRankSpec{Types: types, PartitionKeys: []int{2}, WindowStart: 0, WindowEnd: 1,
		OrderBy: []OrderKey{{Col: 3, Desc: true, NullsLast: true}}, RankStart: 1, RankEnd: 2, OutputRankNumber: true}
	checkJoinSameAnswer(t, formatSortedRows(want, rankTypes), func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 1, rankTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return WindowRank(s[0], rspec)
		}, lsteps, c.p1, c.b1, c.p2, c.b2)
	})
}

// TestMalformedRows: a row of the wrong width fails the job with an error
// naming the operator's package, never a panic.
func TestMalformedRows(t *testing.T) {
	two := []row.Type{row.BigInt(), row.TimestampType(3)}
	w := benchWindowTypes
	ops := map[string]func([]weir.Stream[row.Row]) (weir.Stream[row.Row], error){
		"join": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return RegularJoin(s[0], s[1], JoinSpec{LeftTypes: two, RightTypes: two, LeftKeys: []int{0}, RightKeys: []int{0}})
		},
		"interval": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return IntervalJoin(s[0], s[1], IntervalJoinSpec{LeftTypes: two, RightTypes: two, LeftKeys: []int{0}, RightKeys: []int{0}, LeftTime: 1, RightTime: 1})
		},
		"rank": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Rank(s[0], RankSpec{Types: two, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 1}}, RankStart: 1, RankEnd: 3})
		},
		"dedup": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return Deduplicate(s[0], DedupSpec{Types: two, Keys: []int{0}})
		},
		"wrank": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return WindowRank(s[0], WindowRankSpec{Types: w, WindowStart: 0, WindowEnd: 1, OrderBy: []OrderKey{{Col: 3}}, RankStart: 1, RankEnd: 3})
		},
		"wdedup": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return WindowDeduplicate(s[0], WindowDedupSpec{Types: w, WindowStart: 0, WindowEnd: 1, TimeCol: 0})
		},
		"wjoin": func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return WindowJoin(s[0], s[1], WindowJoinSpec{LeftTypes: w, RightTypes: w, LeftWindowEnd: 1, RightWindowEnd: 1})
		},
	}
	for name, build := range ops {
		h := weirtest.New(weir.Options{})
		ins := []*weirtest.Input[row.Row]{weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)}
		out, err := build([]weir.Stream[row.Row]{ins[0].Stream(), ins[1].Stream()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		weirtest.Capture(h, out)
		h.Start(t)
		err = ins[0].Push(row.Of(row.Int(1)), 0)
		if err == nil {
			err = h.Err()
		}
		if err == nil || !strings.Contains(err.Error(), "sql/exec:") {
			t.Errorf("%s: a one-field row gave %v, want an sql/exec error", name, err)
		}
	}
}

// TestRegularJoinListRestoresMapLayout: a snapshot of an inner join whose
// insert-only sides kept their rows in the map layout (before the list
// layout of join_append.go) restores into the list layout without losing
// a row: the answer is the batch join of all rows.
func TestRegularJoinListRestoresMapLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	types := []row.Type{row.BigInt(), row.BigInt()}
	var left, right []row.Row
	var steps []joinFeedStep
	for i := range 400 {
		r := row.Of(row.Int(int64(rng.IntN(8))), row.Int(int64(i)))
		if rng.IntN(2) == 0 {
			left = append(left, r)
			steps = append(steps, joinFeedStep{input: 0, r: &left[len(left)-1]})
		} else {
			right = append(right, r)
			steps = append(steps, joinFeedStep{input: 1, r: &right[len(right)-1]})
		}
	}
	// The pointers above must stay valid: rebuild them over the final slices.
	li, ri := 0, 0
	for i := range steps {
		if steps[i].input == 0 {
			steps[i].r = &left[li]
			li++
		} else {
			steps[i].r = &right[ri]
			ri++
		}
	}
	outTypes := append(slices.Clone(types), types...)
	var want []row.Row
	for _, l := range left {
		for _, r := range right {
			if l.Fields[0].Int() == r.Fields[0].Int() {
				want = append(want, joinRows(row.Insert, l.Fields, r.Fields))
			}
		}
	}
	for _, c := range joinSameAnswerConfigs {
		builds := 0
		got := joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			builds++
			spec := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
				LeftAppendOnly: builds > 1, RightAppendOnly: builds > 1}
			return RegularJoin(s[0], s[1], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2).Sorted()
		if diff := cmp.Diff(formatSortedRows(want, outTypes), got); diff != "" {
			t.Fatalf("p=%d %s (map layout) -> p=%d %s (list layout): differs from the batch join (-want +got):\n%s", c.p1, c.b1, c.p2, c.b2, diff)
		}
	}
}
