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

// startDedup builds spec's deduplication over a new input of h, captures
// its output and starts h.
func startDedup(t *testing.T, h *weirtest.Harness, spec DedupSpec) (*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
	t.Helper()
	in := weirtest.NewInput[row.Row](h)
	s, err := Deduplicate(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	out := weirtest.Capture(h, s)
	h.Start(t)
	return in, out
}

// runReviewDedup runs spec over rows at parallelism 1, restoring into
// spec2 (another plan, backend) after cut rows when spec2 is set.
func runReviewDedup(t *testing.T, rows []row.Row, spec DedupSpec, cut int, spec2 *DedupSpec, backend string) ([]row.Row, error) {
	t.Helper()
	h := weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t))
	in, out := startDedup(t, h, spec)
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
	in2, out2 := startDedup(t, h2, *spec2)
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
	in, out := startDedup(t, h, spec)
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
	in2, out2 := startDedup(t, h2, spec2)
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

// runReviewSteps runs the rows (a watermark of the rowtime seen so far
// after every 11th) through spec's deduplication at parallelism 1, then,
// after cut rows, snapshots and restores into spec2 on backend at
// parallelism p2; it returns each key's emitted rows in order.
func runReviewSteps(t *testing.T, rows []row.Row, spec DedupSpec, cut int, spec2 DedupSpec, backend string, p2 int) (map[string][]string, error) {
	t.Helper()
	perKey := map[string][]string{}
	collect := func(rs []row.Row) {
		for _, r := range rs {
			k := r.Fields[0].Str()
			perKey[k] = append(perKey[k], row.FormatRow(r, reviewTypes))
		}
	}
	var wm int64
	feed := func(in *weirtest.Input[row.Row], rows []row.Row) error {
		for i, r := range rows {
			ts := int64(0)
			if !r.Fields[2].IsNull() {
				ts = r.Fields[2].Millis()
			}
			if err := in.Push(r, ts); err != nil {
				return err
			}
			wm = max(wm, ts)
			if i%11 == 10 {
				if err := in.Watermark(wm - 5000); err != nil {
					return err
				}
			}
		}
		return nil
	}
	h := weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t))
	in, out := startDedup(t, h, spec)
	if err := feed(in, rows[:cut]); err != nil {
		return perKey, err
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	collect(out.Values())
	h2 := weirtest.Restore(config{p: p2, backend: backend}.options(t), snap)
	in2, out2 := startDedup(t, h2, spec2)
	err = feed(in2, rows[cut:])
	if err == nil {
		err = in2.End()
	}
	collect(out2.Values())
	return perKey, err
}

// TestReviewDedupMiniBatchSameRows: with mini-batch (on processing time
// and on event time, with and without compact changes), a deduplication
// that emits no -U rows emits those of the same plan with -U, -U rows
// left out; restored across the two (with -U into without) and across
// mini-batch on and off, heap and Pebble, rescaled 1 -> 3 and 1 -> 2.
// On event time without compact changes both also emit, per key, the rows
// Flink's per-row function emits (mini-batch only delays them; on
// processing time keep-last emits a batch's last row only).
func TestReviewDedupMiniBatchSameRows(t *testing.T) {
	rows := reviewRows(11, 400)
	mb := MiniBatch{Interval: time.Hour, Size: 7}
	for _, keepLast := range []bool{true, false} {
		for _, rowTime := range []bool{true, false} {
			if !rowTime && !keepLast {
				continue
			}
			for _, compactChanges := range []bool{false, true} {
				if compactChanges && !rowTime {
					continue
				}
				base := DedupSpec{Types: reviewTypes, Keys: []int{0}, KeepLast: keepLast, RowTime: rowTime, TimeCol: 2,
					GenerateInsert: true, CompactChanges: compactChanges}
				name := fmt.Sprintf("last=%v/rowtime=%v/compact-changes=%v", keepLast, rowTime, compactChanges)
				flink := map[string][]string{}
				for _, r := range flinkDedup(rows, keepLast, rowTime, false) {
					k := r[3:strings.Index(r, ",")]
					flink[k] = append(flink[k], r)
				}
				i := 0
				for _, fromMB := range []bool{false, true} {
					for _, toMB := range []bool{false, true} {
						if !fromMB && !toMB {
							continue
						}
						i++
						backend := []string{weir.StateHeap, weir.StatePebble}[i%2]
						p2 := 2 + i%2
						with, without := base, base
						with.GenerateUpdateBefore = true
						if fromMB {
							with.MiniBatch, without.MiniBatch = mb, mb
						}
						to := without
						to.MiniBatch = MiniBatch{}
						if toMB {
							to.MiniBatch = mb
						}
						ub, err := runReviewSteps(t, rows, with, 200, func() DedupSpec { s := to; s.GenerateUpdateBefore = true; return s }(), backend, p2)
						if err != nil {
							t.Fatal(err)
						}
						for k, rs := range ub {
							ub[k] = withoutUB(rs)
						}
						for _, from := range []DedupSpec{with, without} {
							got, err := runReviewSteps(t, rows, from, 200, to, backend, p2)
							if err != nil {
								t.Fatal(err)
							}
							for k, rs := range got {
								got[k] = withoutUB(rs) // the first half's, when from emits -U
							}
							tag := fmt.Sprintf("%s mini-batch %v->%v, from ub=%v, %s p1->p%d", name, fromMB, toMB, from.GenerateUpdateBefore, backend, p2)
							if diff := cmp.Diff(ub, got); diff != "" {
								t.Errorf("%s: rows per key (-with -U, left out +without -U):\n%s", tag, diff)
							}
							if rowTime && !compactChanges {
								if diff := cmp.Diff(flink, got); diff != "" {
									t.Errorf("%s: rows per key (-flink +weir):\n%s", tag, diff)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestReviewDedupRefusal: a savepoint of a deduplication without -U (on
// processing time with +I: the keys it has seen; on event time: their
// rowtimes), or one holding keys in both layouts (rows restored from a
// plan with -U, some replaced since), restored into a plan that emits -U
// rows (mini-batch on, rescaled, Pebble) fails the job at the first row
// of a subtask holding such keys; no row of a key the savepoint holds
// goes out before.
func TestReviewDedupRefusal(t *testing.T) {
	rows := reviewRows(5, 200)
	inState := map[string]bool{}
	for _, r := range rows[:100] {
		inState[r.Fields[0].Str()] = true
	}
	for _, rowTime := range []bool{false, true} {
		compact := DedupSpec{Types: reviewTypes, Keys: []int{0}, KeepLast: true, RowTime: rowTime, TimeCol: 2, GenerateInsert: true}
		ub := compact
		ub.GenerateUpdateBefore = true
		ub.MiniBatch = MiniBatch{Interval: time.Hour, Size: 3}
		for _, both := range []bool{false, true} {
			from := compact
			if both {
				from = ub // its rows restore into compact, then a snapshot
			}
			h := weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t))
			in, _ := startDedup(t, h, from)
			for _, r := range rows[:100] {
				if err := in.Push(r, 0); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if both {
				h = weirtest.Restore(config{p: 2, backend: weir.StatePebble}.options(t), snap)
				in, _ = startDedup(t, h, compact)
				// A later rowtime for a third of the keys: they move.
				for i, r := range rows[:100] {
					if i%3 == 0 {
						r = row.Of(r.Fields[0], row.Int(-1), row.Timestamp(100_000, 0))
						if err := in.Push(r, 0); err != nil {
							t.Fatal(err)
						}
					}
				}
				if snap, err = h.Snapshot(); err != nil {
					t.Fatal(err)
				}
			}
			h2 := weirtest.Restore(config{p: 3, backend: weir.StatePebble}.options(t), snap)
			in2, out := startDedup(t, h2, ub)
			var perr error
			for _, r := range rows[100:] {
				if perr = in2.Push(r, 0); perr != nil {
					break
				}
			}
			if perr == nil {
				perr = in2.End()
			}
			tag := fmt.Sprintf("rowtime=%v both-layouts=%v", rowTime, both)
			if perr == nil || !strings.Contains(perr.Error(), "this plan emits -U rows") {
				t.Fatalf("%s: error %v, want the refusal", tag, perr)
			}
			t.Logf("%s: %v", tag, perr)
			// What the state holds: on processing time, no rowtime; and no
			// advice the engine cannot follow (one operator's state cannot
			// be left out of a restore).
			if held := strings.Contains(perr.Error(), "rowtime"); held != rowTime {
				t.Errorf("%s: the refusal speaks of a rowtime: %v", tag, perr)
			}
			if strings.Contains(perr.Error(), "without this operator's state") {
				t.Errorf("%s: the refusal advises starting without the operator's state: %v", tag, perr)
			}
			for _, r := range out.Values() {
				if inState[r.Fields[0].Str()] {
					t.Errorf("%s: %s emitted for a key the savepoint holds", tag, row.FormatRow(r, reviewTypes))
				}
			}
		}
	}
}
