package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// NewUserFunc returns a Func calling the user-defined scalar function f
// under the SQL name name. Calls resolve through CoerceArgs when f
// declares its parameters (udf.Signature), then f.ResultType; evaluation
// passes NULL arguments to f unless f is udf.NullStrict, and turns an
// error or panic of f into a *udf.Error naming the function and the
// arguments.
func NewUserFunc(name string, f udf.ScalarFunction) *Func {
	uf := &Func{Name: name, Doc: "user-defined scalar function " + name}
	if d, ok := f.(udf.Deterministic); ok && !d.IsDeterministic() {
		uf.Volatile = true
	}
	strict := false
	if s, ok := f.(udf.NullStrict); ok {
		strict = s.ReturnsNullOnNullInput()
	}
	uf.resolve = func(fn *Func, args []Expr) ([]Expr, row.Type, error) {
		if sig, ok := f.(udf.Signature); ok {
			var err error
			if args, err = CoerceArgs(name, sig.ParamTypes(), args); err != nil {
				return nil, row.Type{}, err
			}
		}
		ts := types(args)
		t, err := f.ResultType(ts)
		if err != nil {
			return nil, row.Type{}, fmt.Errorf("expr: function %s(%s): %w", name, typeList(ts), err)
		}
		if strict && anyNullable(ts...) {
			t.Nullable = true
		}
		return args, t, nil
	}
	uf.build = func(s *site) (Evaluator, error) {
		evs, ts := s.args, s.argTypes
		return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
			// A fresh argument slice per call: the function may keep it.
			args := make([]row.Value, len(evs))
			for i, ev := range evs {
				v, err := ev(ctx, in)
				if err != nil {
					return row.Value{}, err
				}
				if strict && v.IsNull() {
					return row.Value{}, nil
				}
				args[i] = v
			}
			var out row.Value
			err := udf.Guard(name, args, ts, func() error {
				var err error
				out, err = f.Eval(args)
				return err
			})
			return out, err
		}, nil
	}
	return uf
}

// CoerceArgs checks the arguments of a call of the user-defined function
// name against its declared parameter types: the count must match, and
// each argument must have the parameter's type or one Flink casts to it
// implicitly (a narrower number, a shorter string, an untyped NULL); the
// error names the function and the argument. It returns the arguments
// with the implicit casts inserted.
func CoerceArgs(name string, params []row.Type, args []Expr) ([]Expr, error) {
	if len(args) != len(params) {
		return nil, fmt.Errorf("expr: invalid number of arguments to function '%s'. Was expecting %d arguments, got %d (%s)", name, len(params), len(args), typeList(types(args)))
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		p := params[i]
		at := a.Type()
		if _, ok := a.(*Symbol); ok {
			return nil, fmt.Errorf("expr: function %s: argument %d is a symbol, expected %s", name, i+1, p.WithNullable(true))
		}
		if isNullT(at) {
			out[i] = coerce(a, p)
			continue
		}
		lr, ok := LeastRestrictive(at.WithNullable(true), p.WithNullable(true))
		if !ok || !sameIgnoringNull(lr, p) {
			return nil, fmt.Errorf("expr: function %s: argument %d (%s) has type %s, the function expects %s", name, i+1, a, at.WithNullable(true), p.WithNullable(true))
		}
		out[i] = coerce(a, p)
	}
	return out, nil
}
