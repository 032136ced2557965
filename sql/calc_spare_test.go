package sql

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestCalcSpareFields: a Calc over rows with spare capacity
// (calcSpec.spare, the source took connector.SpareFields) writes an
// output wider than its input over the input's fields, with the values
// the Calc computes into new rows; without spare, or when the row has
// no room, it takes new fields and leaves the input as it was.
func TestCalcSpareFields(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	gt, err := expr.NewCall(">", expr.Ref(0, types[0]), expr.Lit(row.Int(10), row.BigInt()))
	if err != nil {
		t.Fatal(err)
	}
	// Four outputs from two columns: the columns swapped, a computed
	// flag, a literal.
	projs := []expr.Expr{expr.Ref(1, types[1]), expr.Ref(0, types[0]), gt, expr.Lit(row.Int(7), row.BigInt())}
	open := func(spare bool) *calcOp {
		t.Helper()
		c := newCalcOp(&calcSpec{projs: projs, inPlace: true, spare: spare, inTypes: types}, "test", nil)
		if err := c.Open(nil); err != nil {
			t.Fatal(err)
		}
		return c
	}
	input := func(width int) row.Row {
		f := make([]row.Value, width)
		f[0], f[1] = row.Int(12), row.Str("x")
		return row.Row{Fields: f[:2]}
	}
	want := []row.Value{row.Str("x"), row.Int(12), row.Bool(true), row.Int(7)}
	check := func(name string, c *calcOp, in row.Row, over bool) {
		t.Helper()
		out, ok, err := c.apply(in, 0)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", name, ok, err)
		}
		if len(out.Fields) != len(want) || cap(out.Fields) != len(want) {
			t.Fatalf("%s: %d fields (cap %d), want %d", name, len(out.Fields), cap(out.Fields), len(want))
		}
		for i, w := range want {
			if out.Fields[i].IsNull() || !row.Equal(out.Fields[i], w, projs[i].Type()) {
				t.Errorf("%s: field %d = %v, want %v", name, i, out.Fields[i], w)
			}
		}
		if got := &out.Fields[0] == &in.Fields[0]; got != over {
			t.Errorf("%s: written over the input %v, want %v", name, got, over)
		}
		if !over && (in.Fields[0].Int() != 12 || in.Fields[1].Str() != "x") {
			t.Errorf("%s: the input changed: %v", name, in.Fields)
		}
	}
	check("spare, room", open(true), input(4), true)
	check("spare, more room", open(true), input(6), true)
	check("spare, no room", open(true), input(3), false)
	check("no spare", open(false), input(4), false)
}
