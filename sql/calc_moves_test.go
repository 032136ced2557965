package sql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// calcTestTypes are the input columns of the Calc tests: BIGINT and
// STRING alternating.
func calcTestTypes() []row.Type {
	return []row.Type{row.BigInt(), row.String(), row.BigInt(), row.String(), row.BigInt(), row.String(), row.BigInt(), row.String()}
}

// calcTestValue is a random value of t (BIGINT below ints, or a STRING),
// NULL one time in five.
func calcTestValue(rng *rand.Rand, t row.Type, ints int64) row.Value {
	switch {
	case rng.IntN(5) == 0:
		return row.Null()
	case t.Root == row.TypeBigInt:
		return row.Int(rng.Int64N(ints))
	default:
		return row.Str(fmt.Sprint("s", rng.IntN(100)))
	}
}

// TestCalcInPlaceMoves: an in-place Calc whose outputs are input columns
// at or after their position, or literals, rewrites the row without
// scratch (calcOp.moves); its rows equal those of the general in-place
// path for random projections and rows. Projections that read a column
// before their position, or compute, keep the general path, and a row
// too short for a reference fails as before.
func TestCalcInPlaceMoves(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	types := calcTestTypes()
	value := func(i int) row.Value { return calcTestValue(rng, types[i], 100) }
	open := func(projs []expr.Expr) *calcOp {
		t.Helper()
		c := newCalcOp(&calcSpec{projs: projs, inPlace: true, inTypes: types}, "test", nil)
		if err := c.Open(nil); err != nil {
			t.Fatal(err)
		}
		return c
	}
	moved := 0
	for round := range 2000 {
		n := 1 + rng.IntN(len(types))
		projs := make([]expr.Expr, n)
		for i := range projs {
			switch r := rng.IntN(10); {
			case r == 0:
				projs[i] = expr.Lit(row.Int(int64(round)), row.BigInt())
			case r == 1:
				projs[i] = expr.Lit(row.Null(), row.String())
			case r == 2: // any column, maybe before i
				j := rng.IntN(len(types))
				projs[i] = expr.Ref(j, types[j])
			default: // a column at or after i
				j := i + rng.IntN(len(types)-i)
				projs[i] = expr.Ref(j, types[j])
			}
		}
		outTypes := make([]row.Type, n)
		for i, p := range projs {
			outTypes[i] = p.Type()
		}
		fast, slow := open(projs), open(projs)
		slow.moves = nil
		if fast.moves != nil {
			moved++
		}
		for range 5 {
			in := make([]row.Value, len(types))
			for i := range in {
				in[i] = value(i)
			}
			a, okA, errA := fast.apply(row.Row{Kind: row.Insert, Fields: slices.Clone(in)}, 0)
			b, okB, errB := slow.apply(row.Row{Kind: row.Insert, Fields: slices.Clone(in)}, 0)
			if errA != nil || errB != nil || !okA || !okB {
				t.Fatalf("round %d: %v %v %v %v", round, okA, okB, errA, errB)
			}
			if fa, fb := row.FormatRow(a, outTypes), row.FormatRow(b, outTypes); fa != fb || len(a.Fields) != n || cap(a.Fields) != n {
				t.Fatalf("round %d, %v on %v: moves give %s (cap %d), the general path %s", round, projs, in, fa, cap(a.Fields), fb)
			}
		}
	}
	if moved < 100 || moved > 1900 {
		t.Fatalf("%d of 2000 Calcs took the moves: the cases do not cover both paths", moved)
	}
	// A computed output or a column read after it was overwritten: no moves.
	plus, err := expr.NewCall("+", expr.Ref(0, types[0]), expr.Ref(2, types[2]))
	if err != nil {
		t.Fatal(err)
	}
	for _, projs := range [][]expr.Expr{
		{expr.Ref(1, types[1]), expr.Ref(0, types[0])},
		{plus},
	} {
		if c := open(projs); c.moves != nil {
			t.Errorf("%v: moves %v", projs, c.moves)
		}
	}
	// A row without the column read: the general path's error.
	c := open([]expr.Expr{expr.Ref(6, types[6])})
	if c.moves == nil {
		t.Fatal("no moves for a single column")
	}
	if _, _, err := c.apply(row.Row{Fields: []row.Value{row.Int(1), row.Int(2)}}, 0); err == nil {
		t.Error("a row of 2 fields read at $6 passed")
	}
}
