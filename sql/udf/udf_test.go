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
	if !concat.(NullStrict).ReturnsNullOnNullInput() {
		t.Error("a non-pointer parameter must make the function strict")
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
	for _, bad := range []any{
		func(a int) (int64, error) { return 0, nil },      // int: no SQL type
		func(a int64) int64 { return 0 },                  // no error result
		func(a []string) (int64, error) { return 0, nil }, // []string
	} {
		if _, err := typed(bad); err == nil {
			t.Errorf("%T: accepted", bad)
		}
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
