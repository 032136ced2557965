package exec

import (
	"os"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/weirtest"
)

// mbStep is one step fed to a join: a row of side 0 (left) or 1 (right),
// or (side -1) processing time moved forward by adv ms.
type mbStep struct {
	side int
	r    row.Row
	adv  int64
}

var mbTypes = []row.Type{row.BigInt(), row.BigInt()}

// genMBSteps draws valid changelogs of both sides (every retraction
// retracts a row the side holds), interleaved, with inserts, deletes,
// updates (-U, +U), a row deleted and inserted again (-D, +I) and a row
// inserted and deleted again (+I, -D), and steps of processing time.
func genMBSteps(t *rapid.T, insertOnlyLeft bool) []mbStep {
	var steps []mbStep
	live := [2][]row.Row{}
	mk := func(label string) row.Row {
		k := row.Int(rapid.Int64Range(0, 3).Draw(t, label+"k"))
		if rapid.IntRange(0, 9).Draw(t, label+"null") == 0 {
			k = row.Null()
		}
		return row.Of(k, row.Int(rapid.Int64Range(0, 2).Draw(t, label+"v")))
	}
	n := rapid.IntRange(0, 60).Draw(t, "n")
	for range n {
		if rapid.IntRange(0, 7).Draw(t, "time") == 0 {
			steps = append(steps, mbStep{side: -1, adv: rapid.Int64Range(1, 150).Draw(t, "adv")})
			continue
		}
		s := rapid.IntRange(0, 1).Draw(t, "side")
		op := rapid.IntRange(0, 4).Draw(t, "op")
		if s == 0 && insertOnlyLeft {
			op = 0
		}
		if len(live[s]) == 0 && op != 0 && op != 4 {
			op = 0
		}
		switch op {
		case 0: // insert
			r := mk("ins")
			live[s] = append(live[s], r)
			steps = append(steps, mbStep{side: s, r: r})
		case 1: // delete
			i := rapid.IntRange(0, len(live[s])-1).Draw(t, "del")
			steps = append(steps, mbStep{side: s, r: live[s][i].WithKind(row.Delete)})
			live[s] = slices.Delete(live[s], i, i+1)
		case 2: // update
			i := rapid.IntRange(0, len(live[s])-1).Draw(t, "upd")
			r := mk("upd")
			steps = append(steps, mbStep{side: s, r: live[s][i].WithKind(row.UpdateBefore)}, mbStep{side: s, r: r.WithKind(row.UpdateAfter)})
			live[s][i] = r
		case 3: // delete and insert again
			i := rapid.IntRange(0, len(live[s])-1).Draw(t, "again")
			steps = append(steps, mbStep{side: s, r: live[s][i].WithKind(row.Delete)}, mbStep{side: s, r: live[s][i]})
		case 4: // insert and delete again
			r := mk("gone")
			steps = append(steps, mbStep{side: s, r: r}, mbStep{side: s, r: r.WithKind(row.Delete)})
		}
	}
	return steps
}

// runMBJoin runs the join of spec over steps on a harness at parallelism
// par and returns its output in order. With snapAt >= 0 it checkpoints
// before step snapAt and goes on in a job restored from the checkpoint,
// with mini-batch as in spec2.
func runMBJoin(t *rapid.T, spec, spec2 JoinSpec, steps []mbStep, par, snapAt int, dir string) []row.Row {
	opts := weir.Options{Parallelism: par}
	if snapAt >= 0 {
		opts.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: dir}
	}
	start := func(h *weirtest.Harness, spec JoinSpec) ([2]*weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		out, err := RegularJoin(l.Stream(), r.Stream(), spec)
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out.UID("join"))
		if err := h.StartErr(); err != nil {
			t.Fatal(err)
		}
		return [2]*weirtest.Input[row.Row]{l, r}, o
	}
	h := weirtest.New(opts)
	ins, o := start(h, spec)
	var got []row.Row
	for i, s := range steps {
		if i == snapAt {
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, o.Take()...)
			h = weirtest.Restore(opts, snap)
			ins, o = start(h, spec2)
		}
		var err error
		if s.side < 0 {
			err = h.SetProcessingTime(h.ProcessingTime() + s.adv)
		} else {
			err = ins[s.side].Push(s.r, weir.NoTimestamp)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range ins {
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	return append(got, o.Take()...)
}

// foldedSteps is the model of Flink's mini-batch join buffer
// (InputSideHasNoUniqueKeyBundle, CountCoBundleTrigger, the
// processing-time mini-batch watermark): the rows a mini-batch join of
// type jt joins, in the order it joins them, when it receives steps
// with batches of size rows and an interval of iv ms, the processing time
// starting at 0.
func foldedSteps(steps []mbStep, jt JoinType, size, iv int64) []mbStep {
	type held struct {
		r    row.Row
		dead bool
	}
	type side struct {
		keys []string
		rows map[string][]held
	}
	var (
		sides [2]side
		count int64
		now   int64
		timer int64 = -1
		out   []mbStep
	)
	reset := func() {
		for i := range sides {
			sides[i] = side{rows: map[string][]held{}}
		}
	}
	reset()
	flush := func() {
		order := []int{1, 0}
		if jt == RightJoin {
			order = []int{0, 1}
		}
		for _, i := range order {
			for _, k := range sides[i].keys {
				for _, h := range sides[i].rows[k] {
					if !h.dead {
						out = append(out, mbStep{side: i, r: h.r})
					}
				}
			}
		}
		reset()
		count = 0
	}
	for _, s := range steps {
		if s.side < 0 {
			now += s.adv
			if timer >= 0 && now >= timer {
				timer = -1
				flush()
			}
			continue
		}
		sd := &sides[s.side]
		key := row.FormatRow(row.Of(s.r.Fields[0]), mbTypes[:1])
		rs, ok := sd.rows[key]
		if !ok {
			sd.keys = append(sd.keys, key)
		}
		fields := row.FormatRow(s.r.WithKind(row.Insert), mbTypes)
		folded := false
		for j := len(rs) - 1; j >= 0; j-- {
			if !rs[j].dead && row.FormatRow(rs[j].r.WithKind(row.Insert), mbTypes) == fields {
				if rs[j].r.Kind.IsAccumulate() != s.r.Kind.IsAccumulate() {
					rs[j].dead, folded = true, true
				}
				break
			}
		}
		if !folded {
			rs = append(rs, held{r: s.r})
		}
		sd.rows[key] = rs
		count++
		if timer < 0 {
			timer = now - now%iv + iv
		}
		if count >= size {
			flush()
		}
	}
	flush()
	return out
}

func formatChangelog(rows []row.Row, types []row.Type) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = row.FormatRow(r, types)
	}
	return out
}

// TestMiniBatchJoinSameAnswer: over random changelogs of both sides
// (updates, deletes, rows deleted and inserted again in a batch, NULL
// keys, duplicates, an optional residual condition and an insert-only
// left side), for every join type:
//
//   - the mini-batch join's changelog is exactly the join without
//     mini-batch of the rows Flink's buffer leaves (foldedSteps), in the
//     order Flink's operator joins them: updates disappear where the fold
//     removes rows, nowhere else;
//   - its final table, at parallelism 2 across a checkpoint taken with
//     rows held and a restore with mini-batch on or off, is the join's
//     without mini-batch.
func TestMiniBatchJoinSameAnswer(t *testing.T) {
	outTypes := append(slices.Clone(mbTypes), mbTypes...)
	cond := func(l, r []row.Value) (bool, error) { return l[1].Int() <= r[1].Int()+1, nil }
	base := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		jt := rapid.SampledFrom([]JoinType{InnerJoin, LeftJoin, RightJoin, FullJoin}).Draw(t, "type")
		insertOnlyLeft := rapid.Bool().Draw(t, "insertOnlyLeft")
		steps := genMBSteps(t, insertOnlyLeft)
		size := rapid.Int64Range(1, 12).Draw(t, "size")
		const iv = 100
		spec := JoinSpec{Type: jt, LeftTypes: mbTypes, RightTypes: mbTypes, LeftKeys: []int{0}, RightKeys: []int{0},
			LeftAppendOnly: insertOnlyLeft}
		if rapid.Bool().Draw(t, "cond") {
			spec.Condition = cond
		}
		mb := spec
		mb.MiniBatch = MiniBatch{Interval: iv * time.Millisecond, Size: size}
		got := runMBJoin(t, mb, mb, steps, 1, -1, "")
		want := runMBJoin(t, spec, spec, foldedSteps(steps, jt, size, iv), 1, -1, "")
		if g, w := formatChangelog(got, outTypes), formatChangelog(want, outTypes); !slices.Equal(g, w) {
			t.Fatalf("%s join, size %d: mini-batch changelog\n%q\nwant (the join of Flink's folded batches)\n%q", jt, size, g, w)
		}

		plain := table(t, outTypes, runMBJoin(t, spec, spec, steps, 1, -1, ""))
		after := spec
		if rapid.Bool().Draw(t, "restoreOn") {
			after = mb
		}
		snapAt := rapid.IntRange(0, len(steps)).Draw(t, "snapAt")
		restored := table(t, outTypes, runMBJoin(t, mb, after, steps, 2, snapAt, tempDir(t, base)))
		if !slices.Equal(restored, plain) {
			t.Fatalf("%s join, size %d, restored at step %d (mini-batch after: %t): final table\n%q\nwant (without mini-batch)\n%q",
				jt, size, snapAt, after.MiniBatch.Enabled(), restored, plain)
		}
	})
}

// table applies a changelog to a table (failing on a retraction of a row
// it does not hold) and returns its sorted rows.
func table(t *rapid.T, types []row.Type, rows []row.Row) []string {
	tb := result.NewTable(types, nil)
	for _, r := range rows {
		if err := tb.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	return tb.Sorted()
}

// tempDir is a fresh directory under base for a rapid check's
// checkpoints.
func tempDir(t *rapid.T, base string) string {
	d, err := os.MkdirTemp(base, "chk")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMiniBatchJoinHoldsWatermarks: a watermark that comes while rows are
// held (a large size, a long interval) waits for the batch's end and
// reaches the sink after the joined rows, so that none is emitted behind a
// watermark that passed it (Flink's operator finishes its bundle before a
// watermark goes on); with no row held it goes on at once.
func TestMiniBatchJoinHoldsWatermarks(t *testing.T) {
	h := weirtest.New(weir.Options{})
	l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	spec := JoinSpec{Type: InnerJoin, LeftTypes: mbTypes, RightTypes: mbTypes, LeftKeys: []int{0}, RightKeys: []int{0},
		MiniBatch: MiniBatch{Interval: time.Second, Size: 1000}}
	out, err := RegularJoin(l.Stream(), r.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out.UID("join"))
	h.Start(t)
	if err := h.SetProcessingTime(10_400); err != nil {
		t.Fatal(err)
	}
	both := func(wm int64) {
		t.Helper()
		if err := l.Watermark(wm); err != nil {
			t.Fatal(err)
		}
		if err := r.Watermark(wm); err != nil {
			t.Fatal(err)
		}
	}
	both(50)
	if !slices.Contains(o.Watermarks(), int64(50)) {
		t.Fatalf("with no row held, watermark 50 did not go on: %v", o.Watermarks())
	}
	for i := range 3 {
		if err := l.Push(row.Of(row.Int(int64(i)), row.Int(1)), 10); err != nil {
			t.Fatal(err)
		}
		if err := r.Push(row.Of(row.Int(int64(i)), row.Int(2)), 10); err != nil {
			t.Fatal(err)
		}
	}
	both(100)
	if slices.Contains(o.Watermarks(), int64(100)) {
		t.Fatalf("watermark 100 reached the sink while the rows before it were held: %v", o.Watermarks())
	}
	if got := o.Take(); len(got) != 0 {
		t.Fatalf("rows joined before the batch was flushed: %v", got)
	}
	if err := h.SetProcessingTime(11_000); err != nil {
		t.Fatal(err)
	}
	if got := o.Take(); len(got) != 3 {
		t.Fatalf("%d joined rows at the batch's end, want 3: %v", len(got), got)
	}
	if !slices.Contains(o.Watermarks(), int64(100)) {
		t.Fatalf("watermark 100 did not go on at the batch's end: %v", o.Watermarks())
	}
	for _, in := range []*weirtest.Input[row.Row]{l, r} {
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
}
