package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// reviewTypes are the columns of the review's rows: key, payload, rowtime.
var reviewTypes = []row.Type{row.String(), row.BigInt(), row.TimestampType(3)}

// reviewRows are n rows of 12 keys whose rowtimes go up, back, tie and
// are sometimes NULL.
func reviewRows(seed uint64, n int) []row.Row {
	rng := rand.New(rand.NewPCG(seed, 9))
	var rows []row.Row
	for i := range n {
		tv := row.Timestamp(int64(rng.IntN(30))*1000, 0)
		if rng.IntN(25) == 0 {
			tv = row.Null()
		}
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(12))), row.Int(int64(i)), tv))
	}
	return rows
}

// flinkDedup is Flink's deduplication of rows without mini-batch
// (DeduplicateFunctionHelper: processLastRowOnProcTime, and
// RowTimeDeduplicateFunction's isDuplicate then updateDeduplicateResult),
// +I for a key's first row, -U (when ub) and +U for a replacing one. The
// NULL rowtime orders as row.Compare orders it (Flink refuses NULL rowtimes
// earlier, at the watermark assigner).
func flinkDedup(rows []row.Row, keepLast, rowTime, ub bool) []string {
	kept := map[string]row.Row{}
	var out []string
	for _, r := range rows {
		k := r.Fields[0].Str()
		prev, ok := kept[k]
		if rowTime && ok {
			c := row.Compare(prev.Fields[2], r.Fields[2], reviewTypes[2])
			if keepLast && c > 0 || !keepLast && c <= 0 {
				continue
			}
		}
		if !rowTime && !keepLast && ok {
			continue
		}
		kept[k] = r
		if !ok {
			out = append(out, row.FormatRow(r.WithKind(row.Insert), reviewTypes))
			continue
		}
		if ub {
			out = append(out, row.FormatRow(prev.WithKind(row.UpdateBefore), reviewTypes))
		}
		out = append(out, row.FormatRow(r.WithKind(row.UpdateAfter), reviewTypes))
	}
	return out
}

func reviewFormat(rows []row.Row) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, row.FormatRow(r, reviewTypes))
	}
	return out
}

// withoutUB drops the -U rows.
func withoutUB(rows []string) []string {
	var out []string
	for _, r := range rows {
		if !strings.HasPrefix(r, "-U") {
			out = append(out, r)
		}
	}
	return out
}

// runReviewDedup runs spec over rows at parallelism 1, restoring into
// spec2 (another plan, backend) after cut rows when spec2 is set.
func runReviewDedup(t *testing.T, rows []row.Row, spec DedupSpec, cut int, spec2 *DedupSpec, backend string) ([]row.Row, error) {
	t.Helper()
	h := weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t))
	in := weirtest.NewInput[row.Row](h)
	s, err := Deduplicate(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	out := weirtest.Capture(h, s)
	h.Start(t)
	first := rows
	if spec2 != nil {
		first = rows[:cut]
	}
	for _, r := range first {
		if err := in.Push(r, 0); err != nil {
			return out.Values(), err
		}
	}
	if spec2 == nil {
		return out.Values(), in.End()
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got := out.Values()
	h2 := weirtest.Restore(config{p: 1, backend: backend}.options(t), snap)
	in2 := weirtest.NewInput[row.Row](h2)
	s2, err := Deduplicate(in2.Stream(), *spec2)
	if err != nil {
		t.Fatal(err)
	}
	out2 := weirtest.Capture(h2, s2)
	h2.Start(t)
	for _, r := range rows[cut:] {
		if err := in2.Push(r, 0); err != nil {
			return append(got, out2.Values()...), err
		}
	}
	err = in2.End()
	return append(got, out2.Values()...), err
}

// TestReviewDedupAgainstFlink: every deduplication without mini-batch
// (keep-last and keep-first, rowtime with ties and NULLs, processing
// time) emits Flink's rows, with and without -U; and restored across
// plans: a plan emitting -U into one that does not (its rows restore),
// on heap and Pebble, emits the uninterrupted run's rows.
func TestReviewDedupAgainstFlink(t *testing.T) {
	rows := reviewRows(7, 300)
	for _, keepLast := range []bool{true, false} {
		for _, rowTime := range []bool{true, false} {
			if !rowTime && !keepLast {
				continue // keep-first on processing time keeps "dedup-seen" only
			}
			for _, ub := range []bool{true, false} {
				spec := DedupSpec{Types: reviewTypes, Keys: []int{0}, KeepLast: keepLast, RowTime: rowTime, TimeCol: 2,
					GenerateUpdateBefore: ub, GenerateInsert: true}
				want := flinkDedup(rows, keepLast, rowTime, ub)
				name := fmt.Sprintf("last=%v/rowtime=%v/ub=%v", keepLast, rowTime, ub)
				got, err := runReviewDedup(t, rows, spec, 0, nil, "")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, reviewFormat(got)); diff != "" {
					t.Errorf("%s (-flink +weir):\n%s", name, diff)
				}
				if !ub {
					continue
				}
				// A plan that emits -U restored into one that does not.
				to := spec
				to.GenerateUpdateBefore = false
				for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
					got, err := runReviewDedup(t, rows, spec, 150, &to, backend)
					if err != nil {
						t.Fatal(err)
					}
					// The -U rows of the first half stay; the second half has none.
					first := flinkDedup(rows[:150], keepLast, rowTime, true)
					exp := append(first, withoutUB(want[len(first):])...)
					if diff := cmp.Diff(exp, reviewFormat(got)); diff != "" {
						t.Errorf("%s restored without -U on %s (-flink +weir):\n%s", name, backend, diff)
					}
				}
			}
		}
	}
}

// ttlStep is a row pushed at a processing time (ms).
type ttlStep struct {
	at int64
	r  row.Row
}

// runTTL pushes steps into spec's deduplication, moving processing time
// to each step's; with spec2 set, the job is snapshotted before step cut
// and the rest goes to spec2's restored deduplication. It returns the
// rows emitted from step cut on.
func runTTL(t *testing.T, steps []ttlStep, spec DedupSpec, cut int, spec2 DedupSpec) []string {
	t.Helper()
	h := weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t))
	in := weirtest.NewInput[row.Row](h)
	s, err := Deduplicate(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	out := weirtest.Capture(h, s)
	h.Start(t)
	push := func(h *weirtest.Harness, in *weirtest.Input[row.Row], st ttlStep) {
		if err := h.SetProcessingTime(st.at); err != nil {
			t.Fatal(err)
		}
		if err := in.Push(st.r, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range steps[:cut] {
		push(h, in, st)
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	out.Take()
	h2 := weirtest.Restore(config{p: 1, backend: weir.StateHeap}.options(t), snap)
	in2 := weirtest.NewInput[row.Row](h2)
	s2, err := Deduplicate(in2.Stream(), spec2)
	if err != nil {
		t.Fatal(err)
	}
	out2 := weirtest.Capture(h2, s2)
	h2.Start(t)
	for _, st := range steps[cut:] {
		push(h2, in2, st)
	}
	return reviewFormat(out2.Values())
}

// TestReviewDedupTTL: with table.exec.state.ttl, a key whose state
// expired starts again (its next row is +I, as in Flink, whose state
// TTL is OnCreateAndWrite / NeverReturnExpired): a row that the
// deduplication drops (keep-first: a later rowtime; keep-last: an
// earlier one) does not write the state, so does not extend its life.
// The same when the state was restored from a plan that emitted -U (the
// rows, "dedup-row") into one that emits none (which keeps rowtimes).
func TestReviewDedupTTL(t *testing.T) {
	ts := func(s int64) row.Value { return row.Timestamp(s*1000, 0) }
	for _, keepLast := range []bool{false, true} {
		// The dropped row: later for keep-first, earlier for keep-last.
		dropped := ts(20)
		if keepLast {
			dropped = ts(5)
		}
		steps := []ttlStep{
			{0, row.Of(row.Str("a"), row.Int(1), ts(10))},
			{50_000, row.Of(row.Str("a"), row.Int(2), dropped)},
			// TTL 60 s since the write at 0: expired.
			{70_000, row.Of(row.Str("a"), row.Int(3), ts(30))},
		}
		want := []string{"+I[a, 3, 1970-01-01 00:00:30.000]"}
		for _, fromUB := range []bool{true, false} {
			for _, toUB := range []bool{true, false} {
				from := DedupSpec{Types: reviewTypes, Keys: []int{0}, KeepLast: keepLast, RowTime: true, TimeCol: 2,
					GenerateUpdateBefore: fromUB, GenerateInsert: true, StateTTL: time.Minute}
				to := from
				to.GenerateUpdateBefore = toUB
				if !fromUB && toUB {
					continue // refused (TestReviewDedupRefusal)
				}
				for _, cut := range []int{1, 2} {
					got := runTTL(t, steps, from, cut, to)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("last=%v ub %v then %v, restored before step %d: rows after the restore %q, want %q",
							keepLast, fromUB, toUB, cut, got, want)
					}
				}
			}
		}
	}
}
