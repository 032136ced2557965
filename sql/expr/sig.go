package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// Signature helpers: most built-ins take a fixed list of parameters, each
// accepting a family of types and optionally coerced to one type.

type param struct {
	ok  func(row.Type) bool
	to  *row.Type // coerce the argument to this type (nullability kept)
	def row.Type  // the type an untyped NULL argument takes
	sym bool      // a Symbol argument
}

func isNullT(t row.Type) bool { return t.Root == row.TypeNull }

var (
	tString  = row.String()
	tDouble  = row.Double()
	tInt     = row.IntType()
	tBigInt  = row.BigInt()
	tBoolean = row.Boolean()
	tBytes   = row.BytesType()
	tTs3     = row.TimestampType(3)

	pString  = param{ok: func(t row.Type) bool { return t.IsString() }, def: tString}
	pStrCast = param{ok: func(t row.Type) bool { return t.IsString() }, def: tString, to: &tString}
	pNumber  = param{ok: func(t row.Type) bool { return t.IsNumeric() }, def: tInt}
	pDouble  = param{ok: func(t row.Type) bool { return t.IsNumeric() }, def: tDouble, to: &tDouble}
	pInt     = param{ok: func(t row.Type) bool { return t.IsInteger() }, def: tInt, to: &tInt}
	pBigInt  = param{ok: func(t row.Type) bool { return t.IsInteger() }, def: tBigInt, to: &tBigInt}
	pBool    = param{ok: func(t row.Type) bool { return t.Root == row.TypeBoolean }, def: tBoolean}
	pAny     = param{ok: func(row.Type) bool { return true }, def: tString}
	pBinStr  = param{ok: func(t row.Type) bool { return t.IsString() || t.IsBinary() }, def: tString}
	pTime    = param{ok: func(t row.Type) bool {
		return t.Root == row.TypeDate || t.Root == row.TypeTime || t.IsTimestamp()
	}, def: tTs3}
	pTs = param{ok: func(t row.Type) bool { return t.IsTimestamp() }, def: tTs3}
	// pTsOrString accepts a timestamp, a DATE (its midnight, as Flink
	// coerces it) or a string (parsed as one).
	pTsOrString = param{ok: func(t row.Type) bool { return t.IsTimestamp() || t.Root == row.TypeDate || t.IsString() }, def: tTs3}
	pSym        = param{sym: true}
)

// checkArgs applies params (the last minArgs..len(params) are optional)
// to args: it checks each family, coerces, and types NULL literals.
func checkArgs(f *Func, args []Expr, minArgs int, params ...param) ([]Expr, error) {
	if len(args) < minArgs || len(args) > len(params) {
		return nil, cannotApply(f, args)
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		p := params[i]
		if p.sym {
			if _, ok := a.(*Symbol); !ok {
				return nil, cannotApply(f, args)
			}
			out[i] = a
			continue
		}
		if _, ok := a.(*Symbol); ok {
			return nil, cannotApply(f, args)
		}
		t := a.Type()
		switch {
		case isNullT(t):
			to := p.def
			if p.to != nil {
				to = *p.to
			}
			out[i] = coerce(a, to)
		case !p.ok(t):
			return nil, cannotApply(f, args)
		case p.to != nil:
			out[i] = coerce(a, *p.to)
		default:
			out[i] = a
		}
	}
	return out, nil
}

// fixed makes a resolver over params whose result type is ret(args)
// made nullable when any argument is (strict functions: NULL in, NULL
// out). Pass minArgs < len(params) for optional trailing parameters.
func fixed(ret func(ts []row.Type) row.Type, minArgs int, params ...param) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		out, err := checkArgs(f, args, minArgs, params...)
		if err != nil {
			return nil, row.Type{}, err
		}
		ts := types(out)
		t := ret(ts)
		if anyNullable(ts...) {
			t.Nullable = true
		}
		return out, t, nil
	}
}

// all is fixed with every parameter p and at least min arguments.
func variadic(ret func(ts []row.Type) row.Type, minArgs int, p param) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		ps := make([]param, len(args))
		for i := range ps {
			ps[i] = p
		}
		if len(args) < minArgs {
			return nil, row.Type{}, cannotApply(f, args)
		}
		return fixed(ret, minArgs, ps...)(f, args)
	}
}

func types(es []Expr) []row.Type {
	ts := make([]row.Type, len(es))
	for i, e := range es {
		ts[i] = e.Type()
	}
	return ts
}

// constant result types.
func ret(t row.Type) func([]row.Type) row.Type {
	return func([]row.Type) row.Type { return t.NotNull() }
}

func retArg0(ts []row.Type) row.Type { return ts[0].NotNull() }

// Strict evaluation helpers: any NULL argument gives NULL without calling
// f. The argument buffer belongs to the closure (an Evaluator is used by
// one goroutine).

func strict1(s *site, f func(ctx *EvalContext, a row.Value) (row.Value, error)) Evaluator {
	a0 := s.args[0]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		a, err := a0(ctx, in)
		if err != nil || a.IsNull() {
			return row.Value{}, err
		}
		return f(ctx, a)
	}
}

func strict2(s *site, f func(ctx *EvalContext, a, b row.Value) (row.Value, error)) Evaluator {
	a0, a1 := s.args[0], s.args[1]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		a, err := a0(ctx, in)
		if err != nil || a.IsNull() {
			return row.Value{}, err
		}
		b, err := a1(ctx, in)
		if err != nil || b.IsNull() {
			return row.Value{}, err
		}
		return f(ctx, a, b)
	}
}

func strictN(s *site, f func(ctx *EvalContext, a []row.Value) (row.Value, error)) Evaluator {
	args := s.args
	buf := make([]row.Value, len(args))
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		for i, ev := range args {
			v, err := ev(ctx, in)
			if err != nil || v.IsNull() {
				return row.Value{}, err
			}
			buf[i] = v
		}
		return f(ctx, buf)
	}
}

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
