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
		// The argument slice is reused: udf.ScalarFunction.Eval may not
		// keep it (an Evaluator is used by one goroutine).
		args := make([]row.Value, len(evs))
		return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
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
			return callUser(name, f, args, ts)
		}, nil
	}
	return uf
}

// callUser calls f, turning its error or panic into a *udf.Error.
func callUser(name string, f udf.ScalarFunction, args []row.Value, ts []row.Type) (out row.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = row.Value{}, udf.Recovered(name, args, ts, p)
		}
	}()
	out, err = f.Eval(args)
	if err != nil {
		return row.Value{}, udf.Failed(name, args, ts, err)
	}
	return out, nil
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
