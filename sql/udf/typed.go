package udf

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/weirstream/weir/row"
)

// conv converts between a Go parameter or result type T and row values.
// The Go types accepted (by kind, so named types work too): bool
// (BOOLEAN), int32 (INT), int64 (BIGINT), float64 (DOUBLE), string
// (STRING), []byte (BYTES), and pointers to them (nullable: nil is NULL),
// and Multiset[E] (MULTISET<E>, nullable: nil is NULL; see multiset.go).
type conv[T any] struct {
	t       row.Type
	pointer bool                       // nullable: receives NULL as its zero value (nil)
	from    func(row.Value) (T, error) // v is not NULL
	to      func(T) (row.Value, bool, error)
}

// as reinterprets x as T; T has x's kind (checked by newConv), so their
// memory layouts are the same.
func as[T, X any](x X) T { return *(*T)(unsafe.Pointer(&x)) }

func newConv[T any]() (conv[T], error) {
	rt := reflect.TypeFor[T]()
	var c conv[T]
	if rt.Kind() == reflect.Map && rt.Implements(multisetKindType) {
		var zero T
		mc, err := any(zero).(multisetKind).multisetConvs()
		if err != nil {
			return c, err
		}
		c.t, c.pointer = mc.t, true
		c.from = func(v row.Value) (T, error) {
			x, err := mc.from(v)
			if err != nil {
				return zero, err
			}
			return x.(T), nil
		}
		c.to = func(x T) (row.Value, bool, error) {
			v, err := mc.to(x)
			return v, !v.IsNull(), err
		}
		return c, nil
	}
	base := rt
	if rt.Kind() == reflect.Pointer {
		c.pointer, base = true, rt.Elem()
	}
	switch base.Kind() {
	case reflect.Bool:
		c.t = row.Boolean()
	case reflect.Int32:
		c.t = row.IntType()
	case reflect.Int64:
		c.t = row.BigInt()
	case reflect.Float64:
		c.t = row.Double()
	case reflect.String:
		c.t = row.String()
	case reflect.Slice:
		if base.Elem().Kind() == reflect.Uint8 {
			c.t = row.BytesType()
			break
		}
		fallthrough
	default:
		if base.Kind() == reflect.Map && c.pointer {
			return c, fmt.Errorf("udf: Go type %v has no SQL type (a udf.Multiset[T] is nil for NULL: take it without a pointer)", rt)
		}
		if base.Kind() == reflect.Map {
			return c, fmt.Errorf("udf: Go type %v has no SQL type (a MULTISET is a udf.Multiset[T]; MAP is not taken by the typed helpers)", rt)
		}
		return c, fmt.Errorf("udf: Go type %v has no SQL type (use bool, int32, int64, float64, string, []byte, pointers to them or udf.Multiset[T])", rt)
	}
	if !c.pointer {
		c.t = c.t.NotNull()
	}
	k := base.Kind()
	if !c.pointer {
		c.from = func(v row.Value) (T, error) { return fromScalar[T](k, v), nil }
		c.to = func(x T) (row.Value, bool, error) { return toScalar(k, unsafe.Pointer(&x)), true, nil }
		return c, nil
	}
	c.from = func(v row.Value) (T, error) {
		switch k {
		case reflect.Bool:
			b := v.Bool()
			return as[T](&b), nil
		case reflect.Int32:
			i := int32(v.Int())
			return as[T](&i), nil
		case reflect.Int64:
			i := v.Int()
			return as[T](&i), nil
		case reflect.Float64:
			f := v.Float()
			return as[T](&f), nil
		case reflect.String:
			s := v.Str()
			return as[T](&s), nil
		}
		b := []byte(v.Str())
		return as[T](&b), nil
	}
	c.to = func(x T) (row.Value, bool, error) {
		p := *(*unsafe.Pointer)(unsafe.Pointer(&x))
		if p == nil {
			return row.Value{}, false, nil
		}
		return toScalar(k, p), true, nil
	}
	return c, nil
}

func fromScalar[T any](k reflect.Kind, v row.Value) T {
	switch k {
	case reflect.Bool:
		return as[T](v.Bool())
	case reflect.Int32:
		return as[T](int32(v.Int()))
	case reflect.Int64:
		return as[T](v.Int())
	case reflect.Float64:
		return as[T](v.Float())
	case reflect.String:
		return as[T](v.Str())
	}
	return as[T]([]byte(v.Str()))
}

// toScalar reads the value of kind k at p.
func toScalar(k reflect.Kind, p unsafe.Pointer) row.Value {
	switch k {
	case reflect.Bool:
		return row.Bool(*(*bool)(p))
	case reflect.Int32:
		return row.Int(int64(*(*int32)(p)))
	case reflect.Int64:
		return row.Int(*(*int64)(p))
	case reflect.Float64:
		return row.Float(*(*float64)(p))
	case reflect.String:
		return row.Str(*(*string)(p))
	}
	return row.Bytes(*(*[]byte)(p))
}

// typedBase holds what the typed functions share: the parameter and
// result types and strictness.
type typedBase struct {
	params   []row.Type
	pointers []bool
	res      row.Type
	strict   bool // no pointer parameter: any NULL in is NULL out
}

// ParamTypes implements Signature: the SQL types of the Go parameters.
func (f *typedBase) ParamTypes() []row.Type { return f.params }

// ResultType implements ScalarFunction: the SQL type of the Go result,
// nullable when it is a pointer or an argument may be NULL.
func (f *typedBase) ResultType(args []row.Type) (row.Type, error) {
	t := f.res
	for _, a := range args {
		if a.Nullable {
			t.Nullable = true
		}
	}
	return t, nil
}

// ReturnsNullOnNullInput implements NullStrict: true when no parameter is
// a pointer (none can hold NULL). With pointer parameters among others
// the function is called, and a NULL for a non-pointer parameter makes
// the call NULL there (nullCall), so that the pointer parameters still
// receive nil.
func (f *typedBase) ReturnsNullOnNullInput() bool { return f.strict }

// nullCall reports whether a call on args is NULL without calling the
// function: a NULL argument for a non-pointer parameter.
func (f *typedBase) nullCall(args []row.Value) bool {
	for i, a := range args {
		if a.IsNull() && !f.pointers[i] {
			return true
		}
	}
	return false
}

func (f *typedBase) add(t row.Type, pointer bool) {
	f.params = append(f.params, t)
	f.pointers = append(f.pointers, pointer)
	f.strict = !slices.Contains(f.pointers, true)
}

// arg converts argument i (0-based) of a call.
func arg[T any](c conv[T], v row.Value, i int) (T, error) {
	if v.IsNull() {
		var zero T
		return zero, nil
	}
	x, err := c.from(v)
	if err != nil {
		return x, fmt.Errorf("argument %d: %w", i+1, err)
	}
	return x, nil
}

func result[R any](c conv[R], r R, err error) (row.Value, error) {
	if err != nil {
		return row.Value{}, err
	}
	v, ok, err := c.to(r)
	if err != nil {
		return row.Value{}, fmt.Errorf("result: %w", err)
	}
	if !ok {
		return row.Value{}, nil
	}
	return v, nil
}

type func1[A, R any] struct {
	typedBase
	fn func(A) (R, error)
	a  conv[A]
	r  conv[R]
}

func (f *func1[A, R]) Eval(args []row.Value) (row.Value, error) {
	if f.nullCall(args) {
		return row.Value{}, nil
	}
	a, err := arg(f.a, args[0], 0)
	if err != nil {
		return row.Value{}, err
	}
	r, err := f.fn(a)
	return result(f.r, r, err)
}

type func2[A, B, R any] struct {
	typedBase
	fn func(A, B) (R, error)
	a  conv[A]
	b  conv[B]
	r  conv[R]
}

func (f *func2[A, B, R]) Eval(args []row.Value) (row.Value, error) {
	if f.nullCall(args) {
		return row.Value{}, nil
	}
	a, err := arg(f.a, args[0], 0)
	if err != nil {
		return row.Value{}, err
	}
	b, err := arg(f.b, args[1], 1)
	if err != nil {
		return row.Value{}, err
	}
	r, err := f.fn(a, b)
	return result(f.r, r, err)
}

type func3[A, B, C, R any] struct {
	typedBase
	fn func(A, B, C) (R, error)
	a  conv[A]
	b  conv[B]
	c  conv[C]
	r  conv[R]
}

func (f *func3[A, B, C, R]) Eval(args []row.Value) (row.Value, error) {
	if f.nullCall(args) {
		return row.Value{}, nil
	}
	a, err := arg(f.a, args[0], 0)
	if err != nil {
		return row.Value{}, err
	}
	b, err := arg(f.b, args[1], 1)
	if err != nil {
		return row.Value{}, err
	}
	c, err := arg(f.c, args[2], 2)
	if err != nil {
		return row.Value{}, err
	}
	r, err := f.fn(a, b, c)
	return result(f.r, r, err)
}

// Func1 makes a scalar function of one argument from a Go function; the
// SQL types come from the Go types: bool (BOOLEAN), int32 (INT), int64
// (BIGINT), float64 (DOUBLE), string (STRING), []byte (BYTES), and
// pointers to them, which receive and return NULL as nil; Multiset[E]
// is MULTISET<E> and also receives and returns NULL as nil. A NULL
// argument for a non-pointer parameter makes the call NULL without
// calling fn.
func Func1[A, R any](fn func(A) (R, error)) (ScalarFunction, error) {
	f := &func1[A, R]{fn: fn}
	var err error
	if f.a, err = newConv[A](); err != nil {
		return nil, fmt.Errorf("udf: parameter 1: %w", err)
	}
	if f.r, err = newConv[R](); err != nil {
		return nil, fmt.Errorf("udf: result: %w", err)
	}
	f.add(f.a.t, f.a.pointer)
	f.res = f.r.t
	return f, nil
}

// Func2 is Func1 for two arguments.
func Func2[A, B, R any](fn func(A, B) (R, error)) (ScalarFunction, error) {
	f := &func2[A, B, R]{fn: fn}
	var err error
	if f.a, err = newConv[A](); err != nil {
		return nil, fmt.Errorf("udf: parameter 1: %w", err)
	}
	if f.b, err = newConv[B](); err != nil {
		return nil, fmt.Errorf("udf: parameter 2: %w", err)
	}
	if f.r, err = newConv[R](); err != nil {
		return nil, fmt.Errorf("udf: result: %w", err)
	}
	f.add(f.a.t, f.a.pointer)
	f.add(f.b.t, f.b.pointer)
	f.res = f.r.t
	return f, nil
}

// Func3 is Func1 for three arguments.
func Func3[A, B, C, R any](fn func(A, B, C) (R, error)) (ScalarFunction, error) {
	f := &func3[A, B, C, R]{fn: fn}
	var err error
	if f.a, err = newConv[A](); err != nil {
		return nil, fmt.Errorf("udf: parameter 1: %w", err)
	}
	if f.b, err = newConv[B](); err != nil {
		return nil, fmt.Errorf("udf: parameter 2: %w", err)
	}
	if f.c, err = newConv[C](); err != nil {
		return nil, fmt.Errorf("udf: parameter 3: %w", err)
	}
	if f.r, err = newConv[R](); err != nil {
		return nil, fmt.Errorf("udf: result: %w", err)
	}
	f.add(f.a.t, f.a.pointer)
	f.add(f.b.t, f.b.pointer)
	f.add(f.c.t, f.c.pointer)
	f.res = f.r.t
	return f, nil
}
