package expr

import "github.com/weirstream/weir/row"

// MULTISET values (Flink's MultisetType) are maps of the distinct
// elements to their counts (INT NOT NULL); Flink's SQL builds them only
// with the COLLECT aggregate and reads them with UNNEST, CAST and the
// comparison operators (CARDINALITY and ELEMENT take arrays and maps
// only in Flink's code generator, and the MULTISET UNION/EXCEPT/INTERSECT
// operators are not in Flink's operator table).

// castMultiset casts the elements of a multiset with ef (Flink's
// MapToMapAndMultisetToMultisetCastRule). Two elements that cast to the
// same value become one, with the count of the later, as Flink's
// HashMap-built result keeps the last put.
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
		return row.Map(ks, vs), nil
	}
}
