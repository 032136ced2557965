package expr

import (
	"cmp"
	"slices"

	"github.com/weirstream/weir/row"
)

// MULTISET values (Flink's MultisetType) are maps of the distinct
// elements to their counts (INT NOT NULL); Flink's SQL builds them only
// with the COLLECT aggregate and reads them with UNNEST, CAST and the
// comparison operators (CARDINALITY and ELEMENT take arrays and maps
// only in Flink's code generator, and the MULTISET UNION/EXCEPT/INTERSECT
// operators are not in Flink's operator table).

// castMultiset casts the elements of a multiset with ef (Flink's
// MapToMapAndMultisetToMultisetCastRule). Two elements that cast to the
// same value become one, with the count of the later, as Flink's
// HashMap-built result keeps the last put. The entries are in ascending
// order of the cast elements.
func castMultiset(ef castFn, elem row.Type) castFn {
	return func(ctx *EvalContext, v row.Value) (row.Value, error) {
		m := v.MapOf()
		ks := make([]row.Value, 0, len(m.Keys))
		vs := make([]row.Value, 0, len(m.Values))
		at := map[string]int{}
		var key []byte
		for i, k := range m.Keys {
			var ck row.Value
			if !k.IsNull() {
				var err error
				if ck, err = ef(ctx, k); err != nil && err != errCastNull {
					return row.Value{}, err
				}
			}
			key = key[:0]
			if !ck.IsNull() {
				key = row.AppendValue(append(key, 1), ck, elem)
			}
			if j, ok := at[string(key)]; ok {
				vs[j] = m.Values[i]
				continue
			}
			at[string(key)] = len(ks)
			ks = append(ks, ck)
			vs = append(vs, m.Values[i])
		}
		// The cast elements may order differently (INT 9 < 10, STRING
		// '10' < '9'): keep the entries in ascending element order, as
		// COLLECT's, so that equal multisets are one GROUP BY key.
		order := make([]int, len(ks))
		for i := range order {
			order[i] = i
		}
		if slices.IsSortedFunc(order, func(i, j int) int { return row.Compare(ks[i], ks[j], elem) }) {
			return row.Map(ks, vs), nil
		}
		slices.SortFunc(order, func(i, j int) int { return row.Compare(ks[i], ks[j], elem) })
		sk := make([]row.Value, len(ks))
		sv := make([]row.Value, len(ks))
		for i, o := range order {
			sk[i], sv[i] = ks[o], vs[o]
		}
		return row.Map(sk, sv), nil
	}
}

// mergeMultiset is the common type of two MULTISET types (UNION, CASE,
// COALESCE, =): MULTISET of the elements' common type.
func mergeMultiset(a, b row.Type) (row.Type, bool) {
	e, ok := merge2(*a.Elem, *b.Elem)
	if !ok {
		return row.Type{}, false
	}
	e.Nullable = a.Elem.Nullable || b.Elem.Nullable
	return row.MultisetType(e).WithNullable(a.Nullable || b.Nullable), true
}

// multisetComparator compares two multisets for = and <> (multisets are
// not ordered): equal when they hold the same elements with the same
// counts, in whatever order (Flink's generateMapComparison, which
// ScalarOperatorGens uses for MULTISET too). Any other result is only
// "not equal".
func multisetComparator(t row.Type) func(a, b row.Value) int {
	elem, count := *t.Elem, *t.Value
	sorted := func(m *row.MapData) []int {
		order := make([]int, len(m.Keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return row.Compare(m.Keys[i], m.Keys[j], elem) })
		return order
	}
	return func(a, b row.Value) int {
		am, bm := a.MapOf(), b.MapOf()
		if c := cmp.Compare(len(am.Keys), len(bm.Keys)); c != 0 {
			return c
		}
		ao, bo := sorted(am), sorted(bm)
		for k := range ao {
			i, j := ao[k], bo[k]
			if c := row.Compare(am.Keys[i], bm.Keys[j], elem); c != 0 {
				return c
			}
			if c := row.Compare(am.Values[i], bm.Values[j], count); c != 0 {
				return c
			}
		}
		return 0
	}
}
