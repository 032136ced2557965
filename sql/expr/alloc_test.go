package expr

import (
	"testing"

	"github.com/weirstream/weir/row"
)

// Compiled arithmetic and comparisons over BIGINT and DOUBLE columns
// allocate nothing per row.
func TestEvalAllocs(t *testing.T) {
	cols := []row.Type{row.BigInt(), row.Double(), row.BigInt().NotNull(), row.IntType()}
	in := []row.Value{row.Int(40), row.Float(2.5), row.Int(7), row.Int(3)}
	ref := func(i int) Expr { return Ref(i, cols[i]) }
	exprs := []Expr{
		MustCall("+", ref(0), MustCall("*", ref(2), Lit(row.Int(2), tInt.NotNull()))),
		MustCall("/", MustCall("-", ref(0), ref(2)), ref(3)),
		MustCall("*", ref(1), ref(0)), // BIGINT widened to DOUBLE
		MustCall(">", ref(1), Lit(row.Float(1.5), tDouble.NotNull())),
		MustCall("AND", MustCall("<=", ref(0), ref(2)), MustCall("IS NOT NULL", ref(1))),
		MustCall("BETWEEN", ref(0), ref(3), ref(2)),
		MustCall("COALESCE", ref(0), ref(2)),
		MustCall("ABS", MustCall("-", ref(1))),
		MustCall("IN", ref(0), ref(2), ref(3), Lit(row.Int(40), tBigInt.NotNull())),
	}
	c, err := NewCase([]Expr{MustCall("=", ref(0), ref(2))}, []Expr{ref(1)}, MustCall("+", ref(1), ref(1)))
	if err != nil {
		t.Fatal(err)
	}
	exprs = append(exprs, c)
	ctx := &EvalContext{}
	for _, e := range exprs {
		ev, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev(ctx, in); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		n := testing.AllocsPerRun(200, func() {
			if _, err := ev(ctx, in); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per row, want 0", e, n)
		}
	}
}

func BenchmarkEvalArith(b *testing.B) {
	cols := []row.Type{row.BigInt(), row.Double()}
	e := MustCall("AND",
		MustCall(">", MustCall("*", Ref(1, cols[1]), Ref(0, cols[0])), Lit(row.Float(10), tDouble.NotNull())),
		MustCall("<", MustCall("+", Ref(0, cols[0]), Lit(row.Int(1), tBigInt.NotNull())), Lit(row.Int(1000), tBigInt.NotNull())))
	ev, err := Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	in := []row.Value{row.Int(40), row.Float(2.5)}
	ctx := &EvalContext{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ev(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
