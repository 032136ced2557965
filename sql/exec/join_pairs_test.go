package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// TestRegularJoinListPairsSameRows: an insert-only side kept as a list
// (join_append.go: matches in arrival order, decoded through the probe
// cache, copied into pairs) joined with an updating side (inserts,
// updates, deletes; the updating side inner or outer, on the left or the
// right; a residual condition rejecting about half of the candidates)
// over more keys than the probe cache holds: for every input row, the
// rows emitted are exactly those of the same join with the insert-only
// side kept in the map layout, in kind and fields (the final-table tests
// do not see a pair emitted with the wrong kind and retracted again).
// Every emitted row is overwritten as soon as it is taken, as a Calc
// downstream may do: a pair must share no field slot with another pair
// or with state. (Written for a version that decoded uncached list rows
// straight into their pairs, branch sqljoinemit; it caught a pair slot
// handed on after its row was accepted.)
func TestRegularJoinListPairsSameRows(t *testing.T) {
	types := []row.Type{row.BigInt(), row.BigInt(), row.String()}
	outTypes := append(slices.Clone(types), types...)
	cond := func(l, r []row.Value) (bool, error) { return l[1].Int() <= r[1].Int()+5, nil }
	for _, tc := range []struct {
		jt         JoinType
		listIsLeft bool
	}{
		{InnerJoin, true}, {RightJoin, true}, {InnerJoin, false}, {LeftJoin, false},
	} {
		t.Run(fmt.Sprintf("%s/list-left=%t", tc.jt, tc.listIsLeft), func(t *testing.T) {
			seed := 2 * uint64(tc.jt)
			if tc.listIsLeft {
				seed++
			}
			rng := rand.New(rand.NewPCG(11, seed))
			spec := JoinSpec{Type: tc.jt, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
				Condition: cond}
			lists := spec
			if tc.listIsLeft {
				lists.LeftAppendOnly = true
			} else {
				lists.RightAppendOnly = true
			}
			if !lists.listSide(tc.listIsLeft) {
				t.Fatal("the insert-only side is not a list side")
			}
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
			got, want := start(lists), start(spec)
			listIn, updIn := 0, 1
			if !tc.listIsLeft {
				listIn, updIn = 1, 0
			}
			var live []row.Row // rows of the updating side in the join
			rows, probes := 0, 0
			for i := range 2500 {
				k := int64(rng.IntN(700)) // more keys than cache slots
				if rng.IntN(2) == 0 {
					k = int64(i / 40) // recent keys, as Nexmark's
				}
				fresh := row.Of(row.Int(k), row.Int(int64(rng.IntN(20))), row.Str(fmt.Sprint("s", i)))
				in, r := listIn, fresh
				switch n := rng.IntN(10); {
				case n < 5: // a row of the insert-only side
				case n < 7 || len(live) == 0:
					in = updIn
					live = append(live, fresh)
				case n < 9: // an update: -U of a live row, then +U
					j := rng.IntN(len(live))
					old := live[j]
					upd := row.Of(old.Fields[0], row.Int(int64(rng.IntN(20))), row.Str(fmt.Sprint("u", i)))
					upd.Kind = row.UpdateAfter
					live[j] = upd
					pairStep(t, got, want, updIn, old.WithKind(row.UpdateBefore), outTypes, &rows)
					in, r = updIn, upd
				default:
					j := rng.IntN(len(live))
					in, r = updIn, live[j].WithKind(row.Delete)
					live = slices.Delete(live, j, j+1)
				}
				if in == updIn && r.Kind.IsAccumulate() {
					probes++
				}
				pairStep(t, got, want, in, r, outTypes, &rows)
			}
			if rows < 800 || probes < 400 {
				t.Fatalf("only %d rows out, %d probes from the updating side: the test needs more", rows, probes)
			}
		})
	}
}

// pairRun is one join under test: its two inputs and its output.
type pairRun struct {
	ins [2]*weirtest.Input[row.Row]
	out *weirtest.Output[row.Row]
}

// pairStep pushes r into input in of both runs and compares what they emit
// (sorted: the map layout orders matches by encoding, the list by
// arrival), then overwrites every emitted row's fields.
func pairStep(t *testing.T, got, want *pairRun, in int, r row.Row, types []row.Type, n *int) {
	t.Helper()
	if err := got.ins[in].Push(r, 0); err != nil {
		t.Fatal(err)
	}
	if err := want.ins[in].Push(r, 0); err != nil {
		t.Fatal(err)
	}
	gr, wr := got.out.Take(), want.out.Take()
	if d := cmp.Diff(formatSortedRows(wr, types), formatSortedRows(gr, types)); d != "" {
		t.Fatalf("input %d row %s (-map layout +list layout):\n%s", in, row.FormatRow(r, types[:3]), d)
	}
	*n += len(gr)
	for _, o := range gr {
		for j := range o.Fields {
			o.Fields[j] = row.Str("overwritten")
		}
	}
}
