package expr

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// plusOne is a hand-written ScalarFunction (no reflection).
type plusOne struct{}

func (plusOne) ResultType(args []row.Type) (row.Type, error) { return args[0], nil }
func (plusOne) Eval(args []row.Value) (row.Value, error) {
	if args[0].IsNull() {
		return row.Value{}, nil
	}
	return row.Int(args[0].Int() + 1), nil
}

// BenchmarkUserFunc compares a call of the built-in + with calls of
// user-defined functions doing the same: a ScalarFunction written by hand
// and a typed Go function (udf.Func1).
func BenchmarkUserFunc(b *testing.B) {
	typed, err := udf.Func1(func(x int64) (int64, error) { return x + 1, nil })
	if err != nil {
		b.Fatal(err)
	}
	x := Ref(0, row.BigInt())
	for _, bc := range []struct {
		name string
		call func() (Expr, error)
	}{
		{"builtin", func() (Expr, error) { return NewCall("+", x, Lit(row.Int(1), row.BigInt().NotNull())) }},
		{"interface", func() (Expr, error) { return NewUserFunc("plus_one", plusOne{}).Call(x) }},
		{"typed", func() (Expr, error) { return NewUserFunc("add_one", typed).Call(x) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := bc.call()
			if err != nil {
				b.Fatal(err)
			}
			ev, err := Compile(e)
			if err != nil {
				b.Fatal(err)
			}
			in := []row.Value{row.Int(41)}
			ctx := &EvalContext{}
			b.ReportAllocs()
			for b.Loop() {
				v, err := ev(ctx, in)
				if err != nil || v.Int() != 42 {
					b.Fatal(v, err)
				}
			}
		})
	}
}
