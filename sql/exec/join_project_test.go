package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// TestRegularJoinProjectSameRows: a regular join with JoinSpec.Project
// emits, after every input row, exactly the projection of what the same
// join without it emits, in the same order and with the same kinds:
// INNER, LEFT, RIGHT and FULL joins (NULL padded rows retracted and
// emitted again), updating sides (inserts, -U/+U updates, deletes) and
// insert-only sides kept as lists, with and without mini-batch, a
// residual condition, and random projections (columns of either side,
// reordered, repeated, dropped). Every emitted row is overwritten at once,
// as a Calc downstream may do, so a projected row sharing its fields with
// another row, with state or with the NULL row of a side would show.
// Projections with runs of consecutive columns, one across the sides,
// are among them.
func TestRegularJoinProjectSameRows(t *testing.T) {
	ltypes := []row.Type{row.BigInt(), row.BigInt(), row.String()}
	rtypes := []row.Type{row.BigInt(), row.String(), row.BigInt(), row.BigInt()}
	all := append(slices.Clone(ltypes), rtypes...)
	cond := func(l, r []row.Value) (bool, error) { return l[1].Int() <= r[2].Int()+5, nil }
	for _, jt := range []JoinType{InnerJoin, LeftJoin, RightJoin, FullJoin} {
		for _, appendOnly := range []bool{false, true} {
			for _, mb := range []bool{false, true} {
				name := fmt.Sprintf("%s/insert-only=%t/mini-batch=%t", jt, appendOnly, mb)
				t.Run(name, func(t *testing.T) {
					seed := uint64(jt)*4 + uint64(len(name))
					rng := rand.New(rand.NewPCG(13, seed))
					for round := range 4 {
						proj := make([]int, 1+rng.IntN(len(all)+2))
						for i := range proj {
							proj[i] = rng.IntN(len(all))
						}
						switch round {
						case 0:
							// Every column, in reverse order.
							proj = proj[:0]
							for c := len(all) - 1; c >= 0; c-- {
								proj = append(proj, c)
							}
						case 1:
							// Runs of consecutive columns, one across
							// the two sides.
							proj = []int{1, 2, 3, 4, 0, 5, 6, 6}
						}
						spec := JoinSpec{Type: jt, LeftTypes: ltypes, RightTypes: rtypes, LeftKeys: []int{0}, RightKeys: []int{0},
							Condition: cond, LeftAppendOnly: appendOnly, RightAppendOnly: appendOnly}
						if mb {
							spec.MiniBatch = MiniBatch{Interval: time.Hour, Size: 4}
						}
						projected := spec
						projected.Project = proj
						projectRun(t, rng, spec, projected, all, appendOnly)
					}
				})
			}
		}
	}
}

// projectRun feeds both joins the same random changelogs and compares what
// they emit after every row.
func projectRun(t *testing.T, rng *rand.Rand, spec, projected JoinSpec, all []row.Type, appendOnly bool) {
	t.Helper()
	start := func(s JoinSpec) *pairRun {
		h := weirtest.New(weir.Options{Parallelism: 1})
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		out, err := RegularJoin(l.Stream(), r.Stream(), s)
		if err != nil {
			t.Fatal(err)
		}
		o := weirtest.Capture(h, out)
		h.Start(t)
		return &pairRun{ins: [2]*weirtest.Input[row.Row]{l, r}, out: o}
	}
	want, got := start(spec), start(projected)
	ptypes := make([]row.Type, len(projected.Project))
	for i, c := range projected.Project {
		ptypes[i] = all[c]
	}
	var live [2][]row.Row
	fresh := func(side, i int) row.Row {
		k := row.Int(int64(rng.IntN(12)))
		if rng.IntN(15) == 0 {
			k = row.Null() // never matches
		}
		if side == 0 {
			return row.Of(k, row.Int(int64(rng.IntN(20))), row.Str(fmt.Sprint("l", i)))
		}
		return row.Of(k, row.Str(fmt.Sprint("r", i)), row.Int(int64(rng.IntN(20))), row.Int(int64(i)))
	}
	rows, padded := 0, 0
	step := func(side int, r row.Row) {
		t.Helper()
		for _, run := range []*pairRun{want, got} {
			if err := run.ins[side].Push(r, 0); err != nil {
				t.Fatal(err)
			}
		}
		wr, gr := want.out.Take(), got.out.Take()
		exp := make([]string, len(wr))
		for i, w := range wr {
			p := make([]row.Value, len(projected.Project))
			for j, c := range projected.Project {
				p[j] = w.Fields[c]
			}
			exp[i] = w.Kind.String() + row.FormatRow(row.Row{Kind: w.Kind, Fields: p}, ptypes)
			if w.Fields[0].IsNull() != w.Fields[len(spec.LeftTypes)].IsNull() {
				padded++
			}
		}
		act := make([]string, len(gr))
		for i, g := range gr {
			act[i] = g.Kind.String() + row.FormatRow(g, ptypes)
		}
		if d := cmp.Diff(exp, act); d != "" {
			t.Fatalf("projection %v, input %d row %v (-projected join output +join with the projection):\n%s", projected.Project, side, r, d)
		}
		rows += len(gr)
		for _, o := range append(wr, gr...) {
			for j := range o.Fields {
				o.Fields[j] = row.Str("overwritten")
			}
		}
	}
	for i := range 400 {
		side := rng.IntN(2)
		switch n := rng.IntN(10); {
		case appendOnly || n < 6 || len(live[side]) == 0:
			r := fresh(side, i)
			live[side] = append(live[side], r)
			step(side, r)
		case n < 8: // an update: -U, then +U
			j := rng.IntN(len(live[side]))
			upd := fresh(side, i)
			upd.Fields[0] = live[side][j].Fields[0]
			step(side, live[side][j].WithKind(row.UpdateBefore))
			live[side][j] = upd
			step(side, upd.WithKind(row.UpdateAfter))
		default:
			j := rng.IntN(len(live[side]))
			step(side, live[side][j].WithKind(row.Delete))
			live[side] = slices.Delete(live[side], j, j+1)
		}
	}
	if rows < 200 {
		t.Fatalf("only %d rows out: the test needs more", rows)
	}
	if spec.Type != InnerJoin && padded == 0 {
		t.Fatalf("no NULL padded row out of a %s join", spec.Type)
	}
}
