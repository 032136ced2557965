package udf

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

func TestTypedFunctions(t *testing.T) {
	concat, err := Func2(func(a string, b *int64) (*string, error) {
		if b == nil {
			return nil, nil
		}
		s := a + strings.Repeat("!", int(*b))
		return &s, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sig := concat.(Signature).ParamTypes()
	if len(sig) != 2 || !sig[0].Equal(row.String().NotNull()) || !sig[1].Equal(row.BigInt()) {
		t.Errorf("parameter types %v", sig)
	}
	if concat.(NullStrict).ReturnsNullOnNullInput() {
		t.Error("a pointer parameter must receive nil: the function is not strict as a whole")
	}
	if v, err := concat.Eval([]row.Value{row.Null(), row.Int(1)}); err != nil || !v.IsNull() {
		t.Errorf("a NULL for the non-pointer parameter must make the call NULL, got %v, %v", v, err)
	}
	strict, err := Func2(func(a string, b int64) (int64, error) { return b, nil })
	if err != nil {
		t.Fatal(err)
	}
	if !strict.(NullStrict).ReturnsNullOnNullInput() {
		t.Error("a function without pointer parameters must be strict")
	}
	rt, _ := concat.ResultType([]row.Type{row.String().NotNull(), row.BigInt().NotNull()})
	if !rt.Nullable || rt.Root != row.TypeVarChar {
		t.Errorf("result type %v, want a nullable STRING (pointer result)", rt)
	}
	v, err := concat.Eval([]row.Value{row.Str("hi"), row.Int(2)})
	if err != nil || v.Str() != "hi!!" {
		t.Errorf("Eval = %q, %v", v.Str(), err)
	}
	v, err = concat.Eval([]row.Value{row.Str("hi"), row.Null()})
	if err != nil || !v.IsNull() {
		t.Errorf("a nil pointer result must be NULL, got %v, %v", v, err)
	}
	if _, err := Func1(func(a int) (int64, error) { return 0, nil }); err == nil {
		t.Error("int (no SQL type) accepted")
	}
	if _, err := Func1(func(a []string) (int64, error) { return 0, nil }); err == nil {
		t.Error("[]string accepted")
	}
	type myInt int64
	named, err := Func2(func(a myInt, b *bool) (float64, error) {
		if b != nil && *b {
			return float64(a) / 2, nil
		}
		return float64(a), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		b    row.Value
		want float64
	}{{row.Bool(true), 1.5}, {row.Bool(false), 3}, {row.Null(), 3}} {
		if v, err := named.Eval([]row.Value{row.Int(3), tc.b}); err != nil || v.Float() != tc.want {
			t.Errorf("named types: Eval(3, %v) = %v, %v; want %v", tc.b, v.Float(), err, tc.want)
		}
	}
	if v, _ := named.Eval([]row.Value{row.Null(), row.Bool(true)}); !v.IsNull() {
		t.Error("a NULL for a non-pointer parameter must give NULL")
	}
	bytesFn, err := Func1(func(b []byte) ([]byte, error) { return append(b, '!'), nil })
	if err != nil {
		t.Fatal(err)
	}
	if v, err := bytesFn.Eval([]row.Value{row.Bytes([]byte("ab"))}); err != nil || v.Str() != "ab!" {
		t.Errorf("bytes: %q, %v", v.Str(), err)
	}
}

func TestGuard(t *testing.T) {
	types := []row.Type{row.String(), row.IntType()}
	args := []row.Value{row.Str("it's"), row.Null()}
	err := Guard("f", args, types, func() error { panic("boom") })
	var ue *Error
	if !errors.As(err, &ue) || !ue.Panic || ue.Function != "f" {
		t.Fatalf("Guard of a panic: %v", err)
	}
	if want := "udf: function f panicked on arguments ('it''s', NULL): boom"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	cause := errors.New("bad")
	if err := Guard("g", nil, nil, func() error { return cause }); !errors.Is(err, cause) {
		t.Errorf("Guard must wrap the function's error: %v", err)
	}
	if err := Guard("h", nil, nil, func() error { return nil }); err != nil {
		t.Errorf("Guard of a success: %v", err)
	}
}

func TestNamedChecksNames(t *testing.T) {
	f, err := Func2(func(a int64, b *string) (int64, error) { return a, nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []Argument
		want string
	}{
		{[]Argument{{Name: "a"}, {Name: ""}}, "argument 2 has no name"},
		{[]Argument{{Name: "a"}, {Name: "A"}}, "argument name 'A' appears twice"},
		{[]Argument{{Name: "a"}}, "1 argument names for a function of 2 parameters"},
	} {
		if _, err := Named(f, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Named(%v): error %v, want %q", c.args, err, c.want)
		}
	}
	n, err := Named(f, Argument{Name: "a"}, Argument{Name: "b", Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Arguments(); len(got) != 2 || got[1].Name != "b" || !got[1].Optional {
		t.Errorf("Arguments() = %v", got)
	}
	// A pointer parameter beside a non-pointer one: not NullStrict, so
	// the NULL for b reaches the function; a NULL a is NULL.
	if s, ok := f.(NullStrict); !ok || s.ReturnsNullOnNullInput() {
		t.Errorf("Func2(int64, *string) is NullStrict")
	}
	if v, err := f.Eval([]row.Value{row.Int(7), row.Null()}); err != nil || v.IsNull() || v.Int() != 7 {
		t.Errorf("Eval(7, NULL) = %v, %v; want 7", v, err)
	}
	if v, err := f.Eval([]row.Value{row.Null(), row.Str("x")}); err != nil || !v.IsNull() {
		t.Errorf("Eval(NULL, 'x') = %v, %v; want NULL", v, err)
	}
}

// TestOverloadChecks: Overload refuses what calls could not choose from
// or bind: no function, mixed kinds, a function without
// declared parameter types, two with the same types (nullability aside),
// named or nested overloaded functions; Named refuses an overloaded one.
func TestOverloadChecks(t *testing.T) {
	i64, _ := Func1(func(x int64) (int64, error) { return x, nil })
	i64p, _ := Func1(func(x *int64) (int64, error) { return 0, nil })
	str, _ := Func1(func(x string) (string, error) { return x, nil })
	named, _ := Named(str, Argument{Name: "s"})
	ok, err := Overload(i64, str)
	if err != nil || len(ok.Functions()) != 2 {
		t.Fatalf("Overload(i64, str) = %v, %v", ok.Functions(), err)
	}
	for _, tc := range []struct {
		name string
		fns  []any
		want string
	}{
		{"none", nil, "at least one"},
		{"not a function", []any{i64, 3}, "is not a ScalarFunction"},
		{"same types but nullability", []any{i64, i64p}, "both take"},
		{"no signature", []any{i64, untyped{}}, "does not declare its parameter types"},
		{"named", []any{i64, named}, "named arguments"},
		{"nested", []any{ok, str}, "itself overloaded"},
	} {
		if _, err := Overload(tc.fns...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Overload error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Named(ok, Argument{Name: "x"}); err == nil || !strings.Contains(err.Error(), "by position only") {
		t.Errorf("Named(overloaded) error %v", err)
	}
}

// untyped is a scalar function without Signature.
type untyped struct{}

func (untyped) ResultType([]row.Type) (row.Type, error) { return row.String(), nil }
func (untyped) Eval([]row.Value) (row.Value, error)     { return row.Str(""), nil }
