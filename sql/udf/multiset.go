package udf

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"unsafe"

	"github.com/weirstream/weir/row"
)

// Multiset is the Go form of a SQL MULTISET<T>: each distinct element
// with its count. It is what Flink hands a Java function for a MULTISET,
// a java.util.Map<T, Integer> (the conversion class of
// DataTypes.MULTISET). As in Flink, where a Map<T, Integer> parameter is a
// MAP unless a @DataTypeHint says MULTISET, the named type is the hint:
// the typed helpers (Func1, ...) map a Multiset[T] parameter or result to
// MULTISET<T>, and refuse a plain Go map.
//
// T is bool (BOOLEAN), int32 (INT), int64 (BIGINT), float64 (DOUBLE) or
// string (STRING), or a type of one of those kinds. A NULL multiset is a
// nil map, an empty one a non-nil empty map, so a Multiset parameter
// receives NULL (as a pointer parameter does) and a nil result is NULL.
// Counts are kept as they are, 0 and negative ones too (COLLECT over
// retractions produces them, as Flink's does); a result count must fit
// in an INT.
//
// A SQL multiset may hold NULL as an element (Flink's MultisetType has a
// nullable element type and a Java HashMap takes a null key); a Go map of
// a non-pointer T cannot, so such an argument fails the call with an
// error saying so (ErrMultisetNullElement), rather than dropping or
// renaming the element. Likewise for DOUBLE elements, which a Go map
// keys by ==: an argument holding both -0.0 and 0.0 (two elements in SQL
// and in Flink's Map<Double, Integer>, one Go key) fails with
// ErrMultisetMergedElements, and a result's NaN keys (each a new Go map
// entry) are one NaN element with the summed count.
type Multiset[T comparable] map[T]int

// ErrMultisetNullElement is the error of converting a multiset with a
// NULL element to a Multiset (wrapped, naming the Go type).
var ErrMultisetNullElement = fmt.Errorf("udf: the multiset holds a NULL element, which a Go Multiset cannot represent")

// ErrMultisetMergedElements is the error of converting a multiset with
// two elements that are one key of a Go map (DOUBLE -0.0 and 0.0, two
// elements in SQL as in Flink's Map<Double, Integer>) to a Multiset
// (wrapped, naming the elements): merging them would change the counts.
var ErrMultisetMergedElements = fmt.Errorf("udf: the multiset holds two elements that are one Go map key")

// multisetConvs converts between a Multiset[T] (as any) and row values.
type multisetConvs struct {
	t    row.Type // MULTISET<elem>, nullable
	from func(row.Value) (any, error)
	to   func(any) (row.Value, error)
}

// multisetKind is implemented by every Multiset[T]: the typed helpers
// find their conversions through it.
type multisetKind interface {
	multisetConvs() (multisetConvs, error)
}

var multisetKindType = reflect.TypeFor[multisetKind]()

func (Multiset[T]) multisetConvs() (multisetConvs, error) {
	var mc multisetConvs
	k, elem, err := multisetElem[T]()
	if err != nil {
		return mc, err
	}
	mc.t = row.MultisetType(elem)
	mc.from = func(v row.Value) (any, error) {
		m, err := multisetFrom[T](k, v)
		return m, err
	}
	mc.to = func(x any) (row.Value, error) { return multisetValue(k, elem, x.(Multiset[T])) }
	return mc, nil
}

// multisetElem returns the kind of T and the SQL element type of
// Multiset[T] (nullable), or an error for an element type without one.
func multisetElem[T comparable]() (reflect.Kind, row.Type, error) {
	k := reflect.TypeFor[T]().Kind()
	switch k {
	case reflect.Bool:
		return k, row.Boolean(), nil
	case reflect.Int32:
		return k, row.IntType(), nil
	case reflect.Int64:
		return k, row.BigInt(), nil
	case reflect.Float64:
		return k, row.Double(), nil
	case reflect.String:
		return k, row.String(), nil
	}
	return k, row.Type{}, fmt.Errorf("udf: %v: the element type must be bool, int32, int64, float64 or string (or a type of one of those kinds), not %v", reflect.TypeFor[Multiset[T]](), reflect.TypeFor[T]())
}

func multisetFrom[T comparable](k reflect.Kind, v row.Value) (Multiset[T], error) {
	if v.IsNull() {
		return nil, nil
	}
	md := v.MapOf()
	m := make(Multiset[T], len(md.Keys))
	for i, e := range md.Keys {
		if e.IsNull() {
			return nil, fmt.Errorf("%w (%v)", ErrMultisetNullElement, reflect.TypeFor[Multiset[T]]())
		}
		x := fromScalar[T](k, e)
		if _, dup := m[x]; dup {
			return nil, fmt.Errorf("%w (%v: element %v twice)", ErrMultisetMergedElements, reflect.TypeFor[Multiset[T]](), x)
		}
		m[x] = int(md.Values[i].Int())
	}
	return m, nil
}

// multisetValue builds the row value of m, its entries in ascending
// order of the elements (as COLLECT's): a multiset has no order, and the
// same elements and counts must be one value wherever Weir compares
// encodings. Go map keys that are one SQL element (NaN, each NaN key
// being distinct in Go) are one entry with the summed count, as Flink's
// Map<Double, Integer> counts NaN under one key.
func multisetValue[T comparable](k reflect.Kind, elem row.Type, m Multiset[T]) (row.Value, error) {
	if m == nil {
		return row.Null(), nil
	}
	keys := make([]row.Value, 0, len(m))
	counts := make([]row.Value, 0, len(m))
	ns := make([]int, 0, len(m))
	for e, n := range m {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return row.Value{}, fmt.Errorf("udf: multiset count %d out of the INT range (element %v)", n, e)
		}
		keys = append(keys, toScalar(k, unsafe.Pointer(&e)))
		ns = append(ns, n)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return row.Compare(keys[i], keys[j], elem) })
	ks := make([]row.Value, 0, len(keys))
	for _, o := range order {
		if n := len(ks); n > 0 && row.Compare(ks[n-1], keys[o], elem) == 0 {
			// NaN again: add up (INT counts: no int64 overflow), then
			// check the sum.
			counts[n-1] = row.Int(counts[n-1].Int() + int64(ns[o]))
		} else {
			ks = append(ks, keys[o])
			counts = append(counts, row.Int(int64(ns[o])))
		}
	}
	for i, c := range counts {
		if n := c.Int(); n < math.MinInt32 || n > math.MaxInt32 { // summed NaN counts
			return row.Value{}, fmt.Errorf("udf: multiset count %d out of the INT range (element %s)", n, row.Format(ks[i], elem))
		}
	}
	return row.Map(ks, counts), nil
}

// MultisetType returns the SQL type of Multiset[T], MULTISET<T> (for the
// ResultType of functions written against row values: table functions,
// aggregate functions).
func MultisetType[T comparable]() (row.Type, error) {
	_, elem, err := multisetElem[T]()
	if err != nil {
		return row.Type{}, err
	}
	return row.MultisetType(elem), nil
}

// MultisetFrom converts a MULTISET value to a Multiset[T] (for functions
// written against row values: table functions, aggregate functions): NULL
// gives nil; a NULL element gives ErrMultisetNullElement. The value's
// element type must be T's SQL type.
func MultisetFrom[T comparable](v row.Value) (Multiset[T], error) {
	k, _, err := multisetElem[T]()
	if err != nil {
		return nil, err
	}
	return multisetFrom[T](k, v)
}

// MultisetValue converts m to a MULTISET value: nil gives NULL; the
// entries are in ascending order of the elements.
func MultisetValue[T comparable](m Multiset[T]) (row.Value, error) {
	k, elem, err := multisetElem[T]()
	if err != nil {
		return row.Value{}, err
	}
	return multisetValue(k, elem, m)
}
