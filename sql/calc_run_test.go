package sql

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestCalcProjectedRun: a Calc that does not own its input and whose
// projections are a run of consecutive input columns (calcOp.runStart)
// emits that run of the input's fields, sharing them, capacity ending at
// the run; its rows equal the general path's for random runs, conditions
// and rows. Projections that are not such a run (a gap, a column out of
// order, a computed or literal output) and in-place Calcs take new fields
// or the moves, as before; a row too short for the run fails as before.
func TestCalcProjectedRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	types := calcTestTypes()
	value := func(i int) row.Value { return calcTestValue(rng, types[i], 4) }
	open := func(spec *calcSpec) *calcOp {
		t.Helper()
		c := newCalcOp(spec, "test", nil)
		if err := c.Open(nil); err != nil {
			t.Fatal(err)
		}
		return c
	}
	shared, kept := 0, 0
	for round := range 2000 {
		b := rng.IntN(len(types))
		n := 1 + rng.IntN(len(types)-b)
		projs := make([]expr.Expr, n)
		for i := range projs {
			projs[i] = expr.Ref(b+i, types[b+i])
		}
		isRun := true
		switch rng.IntN(6) {
		case 0: // a column out of order or a gap
			if n > 1 {
				i := 1 + rng.IntN(n-1)
				j := (b + i + 1 + rng.IntN(len(types)-1)) % len(types)
				if types[j].Equal(types[b+i]) && j != b+i {
					projs[i] = expr.Ref(j, types[j])
					isRun = false
				}
			}
		case 1: // a literal
			i := rng.IntN(n)
			projs[i] = expr.Lit(row.Null(), types[b+i])
			isRun = false
		}
		var cond expr.Expr
		if rng.IntN(2) == 0 {
			c := rng.IntN(len(types) / 2)
			eq, err := expr.NewCall("=", expr.Ref(2*c, types[2*c]), expr.Lit(row.Int(rng.Int64N(4)), row.BigInt()))
			if err != nil {
				t.Fatal(err)
			}
			cond = eq
		}
		outTypes := make([]row.Type, n)
		for i, p := range projs {
			outTypes[i] = p.Type()
		}
		fast := open(&calcSpec{projs: projs, cond: cond, inTypes: types})
		slow := open(&calcSpec{projs: projs, cond: cond, inTypes: types})
		slow.runStart = -1
		if (fast.runStart >= 0) != isRun {
			t.Fatalf("round %d: %v: runStart %d, want a run: %v", round, projs, fast.runStart, isRun)
		}
		inPlace := open(&calcSpec{projs: projs, cond: cond, inTypes: types, inPlace: true})
		if inPlace.runStart >= 0 {
			t.Fatalf("round %d: an in-place Calc takes the run path", round)
		}
		for range 5 {
			in := make([]row.Value, len(types))
			for i := range in {
				in[i] = value(i)
			}
			orig := slices.Clone(in)
			a, okA, errA := fast.apply(row.Row{Kind: row.UpdateAfter, Fields: in}, 0)
			c, okC, errC := slow.apply(row.Row{Kind: row.UpdateAfter, Fields: slices.Clone(orig)}, 0)
			if errA != nil || errC != nil || okA != okC {
				t.Fatalf("round %d: %v %v %v %v", round, okA, okC, errA, errC)
			}
			if !slices.Equal(in, orig) {
				t.Fatalf("round %d: the input changed: %v, was %v", round, in, orig)
			}
			if !okA {
				continue
			}
			kept++
			if fa, fc := row.FormatRow(a, outTypes), row.FormatRow(c, outTypes); fa != fc || a.Kind != c.Kind || len(a.Fields) != n || cap(a.Fields) != n {
				t.Fatalf("round %d, %v on %v: %s %s (cap %d), the general path %s %s", round, projs, orig, a.Kind, fa, cap(a.Fields), c.Kind, fc)
			}
			if fast.runStart >= 0 {
				shared++
				if unsafe.SliceData(a.Fields) != &in[b] {
					t.Fatalf("round %d: the run's row does not share the input's fields", round)
				}
			} else if n > 0 && !fast.identity && unsafe.SliceData(a.Fields) == &in[0] {
				t.Fatalf("round %d: %v: a copied row shares the input's fields", round, projs)
			}
		}
	}
	if shared < 1000 || kept < 2000 {
		t.Fatalf("only %d rows took the run path, %d kept", shared, kept)
	}
	// A row too short for the run: the general path's error.
	c := open(&calcSpec{projs: []expr.Expr{expr.Ref(5, types[5]), expr.Ref(6, types[6])}, inTypes: types})
	if _, _, err := c.apply(row.Row{Kind: row.Insert, Fields: make([]row.Value, 6)}, 0); err == nil {
		t.Fatal("a row too short for the run: no error")
	}
}
