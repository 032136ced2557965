package udf

import (
	"fmt"
	"reflect"

	"github.com/weirstream/weir/row"
)

// goType is how a Go parameter or result type maps to SQL.
type goType struct {
	t       row.Type
	pointer bool // *T: NULL is nil
	from    func(row.Value) reflect.Value
	to      func(reflect.Value) row.Value
}

// typeOf maps the Go types the typed helpers accept: bool (BOOLEAN),
// int32 (INT), int64 (BIGINT), float64 (DOUBLE), string (STRING), []byte
// (BYTES), and pointers to them (nullable: nil is NULL).
func typeOf(t reflect.Type) (goType, error) {
	var g goType
	base := t
	if t.Kind() == reflect.Pointer {
		g.pointer = true
		base = t.Elem()
	}
	switch base.Kind() {
	case reflect.Bool:
		g.t = row.Boolean()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf(v.Bool()).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Bool(v.Bool()) }
	case reflect.Int32:
		g.t = row.IntType()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf(int32(v.Int())).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Int(v.Int()) }
	case reflect.Int64:
		g.t = row.BigInt()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf(v.Int()).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Int(v.Int()) }
	case reflect.Float64:
		g.t = row.Double()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf(v.Float()).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Float(v.Float()) }
	case reflect.String:
		g.t = row.String()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf(v.Str()).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Str(v.String()) }
	case reflect.Slice:
		if base.Elem().Kind() != reflect.Uint8 {
			return g, fmt.Errorf("udf: Go type %v has no SQL type (use bool, int32, int64, float64, string, []byte or pointers to them)", t)
		}
		g.t = row.BytesType()
		g.from = func(v row.Value) reflect.Value { return reflect.ValueOf([]byte(v.Str())).Convert(base) }
		g.to = func(v reflect.Value) row.Value { return row.Bytes(v.Bytes()) }
	default:
		return g, fmt.Errorf("udf: Go type %v has no SQL type (use bool, int32, int64, float64, string, []byte or pointers to them)", t)
	}
	if !g.pointer {
		g.t = g.t.NotNull()
	}
	return g, nil
}

// typedFunc is a ScalarFunction over a plain Go function.
type typedFunc struct {
	fn     reflect.Value
	params []goType
	res    goType
	strict bool // a non-pointer parameter: NULL in, NULL out
}

func newTyped(fn any) (*typedFunc, error) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumOut() != 2 || t.Out(1) != reflect.TypeFor[error]() {
		return nil, fmt.Errorf("udf: %v is not a func(...) (R, error)", t)
	}
	f := &typedFunc{fn: v}
	for i := range t.NumIn() {
		g, err := typeOf(t.In(i))
		if err != nil {
			return nil, fmt.Errorf("udf: parameter %d: %w", i+1, err)
		}
		f.strict = f.strict || !g.pointer
		f.params = append(f.params, g)
	}
	res, err := typeOf(t.Out(0))
	if err != nil {
		return nil, fmt.Errorf("udf: result: %w", err)
	}
	f.res = res
	return f, nil
}

// ParamTypes implements Signature: the SQL types of the Go parameters.
func (f *typedFunc) ParamTypes() []row.Type {
	ts := make([]row.Type, len(f.params))
	for i, p := range f.params {
		ts[i] = p.t
	}
	return ts
}

// ResultType implements ScalarFunction: the SQL type of the Go result,
// nullable when it is a pointer or a parameter may be NULL.
func (f *typedFunc) ResultType(args []row.Type) (row.Type, error) {
	t := f.res.t
	for _, a := range args {
		if a.Nullable {
			t.Nullable = true
		}
	}
	return t, nil
}

// ReturnsNullOnNullInput implements NullStrict: true when a parameter is
// not a pointer (it cannot hold NULL). Pointer parameters get nil for
// NULL when every parameter is a pointer.
func (f *typedFunc) ReturnsNullOnNullInput() bool { return f.strict }

// Eval implements ScalarFunction.
func (f *typedFunc) Eval(args []row.Value) (row.Value, error) {
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		p := f.params[i]
		switch {
		case a.IsNull():
			in[i] = reflect.Zero(f.fn.Type().In(i))
		case p.pointer:
			x := reflect.New(f.fn.Type().In(i).Elem())
			x.Elem().Set(p.from(a))
			in[i] = x
		default:
			in[i] = p.from(a)
		}
	}
	out := f.fn.Call(in)
	if err, _ := out[1].Interface().(error); err != nil {
		return row.Value{}, err
	}
	r := out[0]
	if f.res.pointer {
		if r.IsNil() {
			return row.Value{}, nil
		}
		r = r.Elem()
	}
	return f.res.to(r), nil
}

// Func1 makes a scalar function of one argument from a Go function; the
// SQL types come from the Go types (see typeOf's list: bool, int32,
// int64, float64, string, []byte, and pointers to them for NULL).
func Func1[A, R any](fn func(A) (R, error)) (ScalarFunction, error) { return typed(fn) }

// Func2 is Func1 for two arguments.
func Func2[A, B, R any](fn func(A, B) (R, error)) (ScalarFunction, error) { return typed(fn) }

// Func3 is Func1 for three arguments.
func Func3[A, B, C, R any](fn func(A, B, C) (R, error)) (ScalarFunction, error) {
	return typed(fn)
}

func typed(fn any) (ScalarFunction, error) {
	f, err := newTyped(fn)
	if err != nil {
		return nil, err
	}
	return f, nil
}
