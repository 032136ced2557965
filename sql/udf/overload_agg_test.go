package udf

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestOverloadAggregates: Overload takes aggregate functions (each with
// its own accumulator type), and refuses one mixed with another kind,
// one without declared parameter types and two with the same types.
func TestOverloadAggregates(t *testing.T) {
	cnt, err := NewAggregate[int64](countOf{row.BigInt()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cntS, err := NewAggregate[[]string](collectOf{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cntNN, err := NewAggregate[int64](countOf{row.BigInt().NotNull()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	untypedAgg, err := NewAggregate[int64](untypedCount{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	scalar, _ := Func1(func(x int64) (int64, error) { return x, nil })
	ov, err := Overload(cnt, cntS)
	if err != nil || len(ov.Functions()) != 2 {
		t.Fatalf("Overload(aggregates) = %v, %v", ov.Functions(), err)
	}
	// Each implementation keeps its own accumulator.
	a, b := cnt.NewAccumulator(), cntS.NewAccumulator()
	if err := a.Accumulate([]row.Value{row.Int(1)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Accumulate([]row.Value{row.Str("x")}); err != nil {
		t.Fatal(err)
	}
	if va, _ := a.Value(); va.Int() != 1 {
		t.Errorf("count = %v", va)
	}
	if vb, _ := b.Value(); vb.Str() != "x" {
		t.Errorf("collect = %v", vb)
	}
	for _, tc := range []struct {
		name string
		fns  []any
		want string
	}{
		{"mixed kinds", []any{cnt, scalar}, "must be of one kind"},
		{"no signature", []any{cnt, untypedAgg}, "does not declare its parameter types"},
		{"same types but nullability", []any{cnt, cntNN}, "both take"},
	} {
		if _, err := Overload(tc.fns...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Overload error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// countOf counts the non-NULL values of one argument of type t.
type countOf struct{ t row.Type }

func (c countOf) ParamTypes() []row.Type                { return []row.Type{c.t} }
func (countOf) ResultType([]row.Type) (row.Type, error) { return row.BigInt().NotNull(), nil }
func (countOf) CreateAccumulator() int64                { return 0 }
func (countOf) Accumulate(acc *int64, args []row.Value) error {
	if !args[0].IsNull() {
		*acc++
	}
	return nil
}
func (countOf) GetValue(acc *int64) (row.Value, error) { return row.Int(*acc), nil }

// untypedCount is countOf without declared parameter types.
type untypedCount struct{}

func (untypedCount) ResultType([]row.Type) (row.Type, error) { return row.BigInt().NotNull(), nil }
func (untypedCount) CreateAccumulator() int64                { return 0 }
func (untypedCount) Accumulate(acc *int64, _ []row.Value) error {
	*acc++
	return nil
}
func (untypedCount) GetValue(acc *int64) (row.Value, error) { return row.Int(*acc), nil }

// collectOf joins the STRING values of one argument.
type collectOf struct{}

func (collectOf) ParamTypes() []row.Type                  { return []row.Type{row.String()} }
func (collectOf) ResultType([]row.Type) (row.Type, error) { return row.String(), nil }
func (collectOf) CreateAccumulator() []string             { return nil }
func (collectOf) Accumulate(acc *[]string, args []row.Value) error {
	if !args[0].IsNull() {
		*acc = append(*acc, args[0].Str())
	}
	return nil
}
func (collectOf) GetValue(acc *[]string) (row.Value, error) {
	return row.Str(strings.Join(*acc, ",")), nil
}
