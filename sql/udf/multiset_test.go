package udf_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// TestMultisetTypes checks the SQL types the typed helpers derive from
// udf.Multiset[T] and the Go types they refuse.
func TestMultisetTypes(t *testing.T) {
	f, err := udf.Func2(func(m udf.Multiset[float64], b udf.Multiset[bool]) (udf.Multiset[int32], error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	sig := f.(udf.Signature).ParamTypes()
	if got := sig[0].String() + ", " + sig[1].String(); got != "MULTISET<DOUBLE>, MULTISET<BOOLEAN>" {
		t.Errorf("parameters: %s", got)
	}
	if f.(udf.NullStrict).ReturnsNullOnNullInput() {
		t.Error("a Multiset parameter receives NULL as nil: the function must not be strict")
	}
	rt, err := f.ResultType(sig)
	if err != nil || rt.String() != "MULTISET<INT>" {
		t.Errorf("result: %s, %v", rt, err)
	}
	type word string
	if _, err := udf.Func1(func(m udf.Multiset[word]) (int64, error) { return int64(len(m)), nil }); err != nil {
		t.Errorf("a named string element type: %v", err)
	}
	for name, mk := range map[string]func() error{
		"map[string]int": func() error {
			_, err := udf.Func1(func(m map[string]int) (int64, error) { return 0, nil })
			return err
		},
		"Multiset[*string]": func() error {
			_, err := udf.Func1(func(m udf.Multiset[*string]) (int64, error) { return 0, nil })
			return err
		},
		"*Multiset[string]": func() error {
			_, err := udf.Func1(func(m *udf.Multiset[string]) (int64, error) { return 0, nil })
			return err
		},
		"Multiset[int]": func() error {
			_, err := udf.Func1(func(m int64) (udf.Multiset[int], error) { return nil, nil })
			return err
		},
	} {
		err := mk()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if name == "map[string]int" && !strings.Contains(err.Error(), "udf.Multiset[T]") {
			t.Errorf("%s: the error does not point to udf.Multiset: %v", name, err)
		}
	}
}

// TestMultisetConversions checks MultisetFrom and MultisetValue: NULL is
// nil, entries come out in element order, counts are kept as they are,
// a NULL element and an out-of-range count are errors.
func TestMultisetConversions(t *testing.T) {
	typ, err := udf.MultisetType[int64]()
	if err != nil {
		t.Fatal(err)
	}
	v, err := udf.MultisetValue(udf.Multiset[int64]{30: 1, -2: 0, 7: -1, 1: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Format(v, typ); got != "{-2=0, 1=4, 7=-1, 30=1}" {
		t.Errorf("value: %s", got)
	}
	m, err := udf.MultisetFrom[int64](v)
	if err != nil || len(m) != 4 || m[-2] != 0 || m[1] != 4 || m[7] != -1 || m[30] != 1 {
		t.Errorf("round trip: %v, %v", m, err)
	}
	if v, err := udf.MultisetValue[int64](nil); err != nil || !v.IsNull() {
		t.Errorf("nil: %v, %v", v, err)
	}
	if m, err := udf.MultisetFrom[int64](row.Null()); err != nil || m != nil {
		t.Errorf("NULL: %v, %v", m, err)
	}
	if e, err := udf.MultisetValue(udf.Multiset[string]{}); err != nil || e.IsNull() || len(e.MapOf().Keys) != 0 {
		t.Errorf("empty: %v, %v", e, err)
	}
	withNull := row.Map([]row.Value{row.Null()}, []row.Value{row.Int(1)})
	if _, err := udf.MultisetFrom[string](withNull); !errors.Is(err, udf.ErrMultisetNullElement) {
		t.Errorf("NULL element: %v", err)
	}
	if _, err := udf.MultisetValue(udf.Multiset[string]{"a": 1 << 31}); err == nil || !strings.Contains(err.Error(), "out of the INT range") {
		t.Errorf("count 2^31: %v", err)
	}
}
